"""The Atlas rows discovery found no ERP position for, with the note saying why (mappings + Atlas mirror)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from atlas_desktop.domain.enums import MappingStatus
from atlas_desktop.domain.review_rows import UnmatchedAtlasRow
from atlas_desktop.store.db import Store
from atlas_desktop.store.models import AtlasMirrorRow, InventoryMappingRow

_M, _A = InventoryMappingRow.__table__, AtlasMirrorRow.__table__


def _query(connection_id: str) -> sa.Select[*tuple[Any, ...]]:
    joined = _M.outerjoin(
        _A, sa.and_(_A.c.connection_id == _M.c.connection_id, _A.c.atlas_id == _M.c.atlas_inventory_id)
    )
    return (
        sa.select(
            _M.c.id,
            _M.c.atlas_inventory_id,
            sa.func.coalesce(_A.c.name, _M.c.item_name),
            sa.func.coalesce(_A.c.ndc_text, _M.c.ndc_text_atlas),
            _M.c.lot,
            _A.c.location,
            _M.c.note,
        )  # fmt: skip
        .select_from(joined)
        .where(_M.c.connection_id == connection_id, _M.c.status == MappingStatus.UNMATCHED_ATLAS)
    )


def unmatched_atlas_notes(store: Store, connection_id: str) -> list[str]:
    """Every unmatched Atlas row's note (one short text each): discovery counts them by reason."""
    query = sa.select(sa.func.coalesce(_M.c.note, "")).where(
        _M.c.connection_id == connection_id, _M.c.status == MappingStatus.UNMATCHED_ATLAS
    )
    with store.session() as session:
        return list(session.scalars(query))


def unmatched_atlas_rows(store: Store, connection_id: str, limit: int = 5000) -> list[UnmatchedAtlasRow]:
    """The unmatched Atlas rows, by name, with where they are and the note (at most `limit`)."""
    query = _query(connection_id).order_by(_M.c.item_name, _M.c.id).limit(limit)
    with store.session() as session:
        return [
            UnmatchedAtlasRow(
                int(i),
                str(a or ""),
                str(n or ""),
                str(ndc or ""),
                str(lot or ""),
                str(loc or ""),
                str(note or ""),
            )  # fmt: skip
            for i, a, n, ndc, lot, loc, note in session.execute(query)
        ]
