"""Reads behind the lists of changes people open: how a mapped key is named, and what a run wrote."""

from __future__ import annotations

from collections.abc import Collection

import sqlalchemy as sa

from atlas_desktop.domain.enums import OutboxStatus
from atlas_desktop.domain.run_log import RunWrite
from atlas_desktop.store.db import Store
from atlas_desktop.store.models import InventoryMappingRow, OutboxRow
from atlas_desktop.store.sqlutil import IN_CHUNK, chunked

_MAP = InventoryMappingRow.__table__
_OUT = OutboxRow.__table__




def mapping_labels(store: Store, mapping_ids: Collection[int]) -> dict[int, tuple[str, str, str]]:
    """(item name, lot, ERP location) per mapping id: what a person recognises a key by."""
    labels: dict[int, tuple[str, str, str]] = {}
    columns = (_MAP.c.id, _MAP.c.item_name, _MAP.c.atlas_inventory_id, _MAP.c.erp_item_id, _MAP.c.lot,
               _MAP.c.erp_location_id)  # fmt: skip
    with store.session() as session:
        for chunk in chunked(sorted(set(mapping_ids)), IN_CHUNK):
            for mapping_id, name, atlas_id, item_id, lot, location in session.execute(
                sa.select(*columns).where(_MAP.c.id.in_(chunk))
            ):
                labels[mapping_id] = (name or atlas_id or item_id or "", lot or "", location or "")
    return labels


def run_writes(store: Store, sync_log_id: int) -> list[RunWrite]:
    """The writes run `sync_log_id` decided and got done, in the order they were recorded."""
    query = (
        sa.select(_OUT.c.mapping_id, _OUT.c.operation, _OUT.c.payload)
        .where(_OUT.c.sync_log_id == sync_log_id, _OUT.c.status == OutboxStatus.DONE)
        .order_by(_OUT.c.id)
    )
    with store.session() as session:
        return [RunWrite(mapping_id, op, dict(payload)) for mapping_id, op, payload in session.execute(query)]
