"""Refused quantities as item errors: open until the item reads clean again, recorded by each run meanwhile.

A refusal is a sync_item_errors row of kind `out_of_bounds` (domain/quantity.py). It stays open
(`replayed_at` NULL) while the remote still holds the value: each run records it again as its own item
error and closes the previous row, so a run always names what it could not sync, and the failures repeat
until someone corrects the value. A clean read of the item closes it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from atlas_desktop.domain.enums import MappingStatus
from atlas_desktop.domain.errors import ErrorKind
from atlas_desktop.domain.refusals import Refusal
from atlas_desktop.store.db import Store
from atlas_desktop.store.models import InventoryMappingRow, SyncItemErrorRow
from atlas_desktop.store.sqlutil import IN_CHUNK, chunked, no_lot, same_lot
from atlas_desktop.store.types import utcnow


def open_refusals(store: Store, connection_id: str) -> list[SyncItemErrorRow]:
    with store.session() as session:
        rows = session.scalars(
            sa.select(SyncItemErrorRow)
            .where(
                SyncItemErrorRow.connection_id == connection_id,
                SyncItemErrorRow.replayed_at.is_(None),
                SyncItemErrorRow.error_kind == ErrorKind.OUT_OF_BOUNDS.value,
            )
            .order_by(SyncItemErrorRow.id)
        ).all()
        session.expunge_all()
        return list(rows)


def _mapping_id(session: Session, connection_id: str, refusal: Refusal) -> int | None:
    if refusal.mapping_id is not None:
        return refusal.mapping_id
    m = InventoryMappingRow
    if refusal.key is not None:
        where = [
            m.erp_item_id == refusal.key.item_id,
            m.erp_location_id == refusal.key.location_id,
            same_lot(m.lot, no_lot(refusal.key.lot)),
        ]
    elif refusal.atlas_id is not None:
        where = [m.atlas_inventory_id == refusal.atlas_id]
    else:
        return None
    # A matched mapping first: it is the one the merge would have used.
    found = session.scalar(
        sa.select(m.id)
        .where(m.connection_id == connection_id, *where)
        .order_by((m.status == MappingStatus.MATCHED).desc(), m.id)
        .limit(1)
    )
    return int(found) if found is not None else None


def record_refusals(
    store: Store,
    sync_log_id: int,
    connection_id: str,
    refusals: Sequence[Refusal],
    *,
    close: Iterable[int] = (),
    add: Any,
) -> int:
    """Record `refusals` as item errors of the run and close the errors `close` names, in one transaction
    (so a crash leaves either the old rows open or the new ones, never neither). `add` builds the row
    (RunRepository's, so texts are cut the same way as every item error's)."""
    with store.session() as session:
        for refusal in refusals:
            mapping_id = _mapping_id(session, connection_id, refusal)
            session.add(add(sync_log_id, connection_id, mapping_id, refusal))
        _close(session, close)
    return len(refusals)


def close_refusals(store: Store, ids: Iterable[int]) -> None:
    with store.session() as session:
        _close(session, ids)


def _close(session: Session, ids: Iterable[int]) -> None:
    now = utcnow()
    for batch in chunked(list(ids), IN_CHUNK):
        session.execute(
            sa.update(SyncItemErrorRow)
            .where(SyncItemErrorRow.id.in_(batch), SyncItemErrorRow.replayed_at.is_(None))
            .values(replayed_at=now)
        )
