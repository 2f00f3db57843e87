"""Read-only views for the monitoring screens: counts per connection, one mapping's writes, ERP candidates."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from atlas_desktop.domain.enums import ConflictStatus, MappingStatus, OutboxStatus
from atlas_desktop.domain.model import Side
from atlas_desktop.domain.review_rows import ErpCandidate
from atlas_desktop.store.change_records import RunWrite, run_writes
from atlas_desktop.store.db import Store
from atlas_desktop.store.mapping_search import search_text
from atlas_desktop.store.models import (
    ConflictRow,
    ErpProductRow,
    ErpStockRow,
    InventoryMappingRow,
    OutboxRow,
    SyncItemErrorRow,
)
from atlas_desktop.store.sqlutil import LIKE_ESCAPE, digits_only, like_pattern, lot_or_none, same_lot


@dataclass(frozen=True, slots=True)
class ConnectionCounts:
    """What a dashboard card shows besides the connection row itself."""

    mappings: dict[MappingStatus, int]
    open_conflicts: int
    in_doubt_writes: int
    pending_writes: int  # decided, not sent yet: a sale on its way
    failing_items: int  # item errors not replayed yet

    @property
    def mapped(self) -> int:
        return self.mappings.get(MappingStatus.MATCHED, 0) + self.mappings.get(MappingStatus.CONFLICT, 0)

    @property
    def ambiguous(self) -> int:
        """Atlas rows that match more than one ERP item: a person must choose."""
        return self.mappings.get(MappingStatus.AMBIGUOUS, 0)

    @property
    def erp_only(self) -> int:
        """ERP stock positions with no Atlas row: information (not listed on Atlas), never a failure."""
        return self.mappings.get(MappingStatus.UNMATCHED_ERP, 0)

    @property
    def atlas_only(self) -> int:
        return self.mappings.get(MappingStatus.UNMATCHED_ATLAS, 0)

    @property
    def unmapped(self) -> int:
        return sum(
            self.mappings.get(status, 0)
            for status in (
                MappingStatus.UNMATCHED_ATLAS,
                MappingStatus.UNMATCHED_ERP,
                MappingStatus.AMBIGUOUS,
            )
        )


@dataclass(frozen=True, slots=True)
class WriteView:
    """One outbox write, as the explain view lists it."""

    id: int
    target: Side
    operation: str
    payload: dict[str, Any]
    idempotency_key: str
    status: OutboxStatus
    attempts: int
    remote_id: str | None
    last_error: str | None
    quantity_delta: Decimal | None
    sync_log_id: int | None
    created_at: datetime
    batch_key: str | None = None  # the document's key when it went batched (write_batches)


@dataclass(frozen=True, slots=True)
class ItemLabel:
    """The words that name one mapped item: its name, lot and where the ERP holds it."""

    name: str | None
    lot: str | None
    erp_item_id: str | None
    erp_location_id: str | None
    atlas_inventory_id: str | None


class ExplainRepository:
    def __init__(self, store: Store) -> None:
        self._store = store

    @property
    def store(self) -> Store:
        return self._store

    def counts(self, connection_id: str) -> ConnectionCounts:
        m, c, o, e = (
            InventoryMappingRow.__table__,
            ConflictRow.__table__,
            OutboxRow.__table__,
            SyncItemErrorRow.__table__,
        )
        with self._store.session() as session:
            by_status = session.execute(
                sa.select(m.c.status, sa.func.count())
                .where(m.c.connection_id == connection_id)
                .group_by(m.c.status)
            ).all()
            conflicts = session.scalar(
                sa.select(sa.func.count())
                .select_from(c)
                .where(c.c.connection_id == connection_id, c.c.status == ConflictStatus.OPEN)
            )
            outbox: dict[OutboxStatus, int] = dict(
                session.execute(
                    sa.select(o.c.status, sa.func.count())
                    .where(o.c.connection_id == connection_id)
                    .group_by(o.c.status)
                ).all()
            )
            failing = session.scalar(
                sa.select(sa.func.count())
                .select_from(e)
                .where(e.c.connection_id == connection_id, e.c.replayed_at.is_(None))
            )
        return ConnectionCounts(
            mappings={MappingStatus(status): count for status, count in by_status},
            open_conflicts=conflicts or 0,
            in_doubt_writes=outbox.get(OutboxStatus.IN_DOUBT, 0) + outbox.get(OutboxStatus.SENDING, 0),
            pending_writes=outbox.get(OutboxStatus.PENDING, 0),
            failing_items=failing or 0,
        )

    def writes_for_mapping(self, mapping_id: int, limit: int = 200) -> list[WriteView]:
        """The writes made (or tried) for one mapping, newest first, with their idempotency keys."""
        with self._store.session() as session:
            rows = session.scalars(
                sa.select(OutboxRow)
                .where(OutboxRow.mapping_id == mapping_id)
                .order_by(OutboxRow.id.desc())
                .limit(limit)
            ).all()
            return [
                WriteView(
                    id=row.id,
                    target=Side(row.target),
                    operation=row.operation,
                    payload=dict(row.payload),
                    idempotency_key=row.idempotency_key,
                    status=row.status,
                    attempts=row.attempts,
                    remote_id=row.remote_id,
                    last_error=row.last_error,
                    quantity_delta=row.quantity_delta,
                    sync_log_id=row.sync_log_id,
                    created_at=row.created_at,
                    batch_key=row.batch_key,
                )
                for row in rows
            ]

    def run_writes(self, sync_log_id: int) -> list[RunWrite]:
        """What run `sync_log_id` wrote (done writes, recorded order), for the history's list of changes."""
        return run_writes(self._store, sync_log_id)

    def item_errors(
        self, connection_id: str, *, sync_log_id: int | None = None, limit: int = 500
    ) -> list[tuple[int, int | None, str, str, str | None, str | None, str | None, datetime | None]]:
        """Per-item errors, newest first: (id, mapping_id, item_ref, message, fix, remote_code,
        remote_message, replayed_at). Replayed ones included (the history shows them)."""
        e = SyncItemErrorRow
        query = sa.select(
            e.id, e.mapping_id, e.item_ref, e.message, e.fix, e.remote_code, e.remote_message, e.replayed_at
        ).where(e.connection_id == connection_id)
        if sync_log_id is not None:
            query = query.where(e.sync_log_id == sync_log_id)
        with self._store.session() as session:
            return [tuple(row) for row in session.execute(query.order_by(e.id.desc()).limit(limit))]  # type: ignore[misc]

    def item_labels(self, mapping_ids: list[int]) -> dict[int, ItemLabel]:
        """What names an item for a person, per mapping: the history shows these, not ids."""
        m = InventoryMappingRow.__table__
        wanted = sorted(set(mapping_ids))
        found: dict[int, ItemLabel] = {}
        columns = (m.c.item_name, m.c.lot, m.c.erp_item_id, m.c.erp_location_id, m.c.atlas_inventory_id)
        with self._store.session() as session:
            for start in range(0, len(wanted), 500):  # SQLite's bound-parameter limit
                query = sa.select(m.c.id, *columns).where(m.c.id.in_(wanted[start : start + 500]))
                for row in session.execute(query):
                    found[row[0]] = ItemLabel(*row[1:])
        return found

    def erp_candidates(self, connection_id: str, search: str, limit: int = 50) -> list[ErpCandidate]:
        """ERP stock positions whose item matches `search` (name, SKU, NDC in any format, item id, lot)."""
        text = search_text(search)
        if not text:
            return []
        s, p, m = ErpStockRow.__table__, ErpProductRow.__table__, InventoryMappingRow.__table__
        pattern = like_pattern(text)
        conditions = [
            column.like(pattern, escape=LIKE_ESCAPE)
            for column in (p.c.name, p.c.sku, p.c.ndc_text, p.c.ndc_key, s.c.item_id, s.c.lot)
        ]
        digits = digits_only(text)
        if len(digits) >= 3:
            conditions.append(p.c.ndc_key.like(like_pattern(digits), escape=LIKE_ESCAPE))
        held = (
            sa.select(sa.literal(1))
            .where(
                m.c.connection_id == s.c.connection_id,
                m.c.erp_item_id == s.c.item_id,
                m.c.erp_location_id == s.c.location_id,
                same_lot(m.c.lot, s.c.lot),
                m.c.status.in_([MappingStatus.MATCHED, MappingStatus.CONFLICT]),
            )
            .exists()
        )
        query = (
            sa.select(
                s.c.item_id, s.c.location_id, s.c.lot, p.c.sku, p.c.name, p.c.ndc_text, s.c.quantity, held
            )
            .select_from(
                s.outerjoin(p, sa.and_(p.c.connection_id == s.c.connection_id, p.c.item_id == s.c.item_id))
            )
            .where(s.c.connection_id == connection_id, sa.or_(*conditions))
            .order_by(held, p.c.name, s.c.item_id, s.c.location_id, s.c.lot)
            .limit(max(limit, 0))
        )
        with self._store.session() as session:
            return [
                ErpCandidate(item, location, lot_or_none(lot), sku, name, ndc, quantity, bool(mapped))
                for item, location, lot, sku, name, ndc, quantity, mapped in session.execute(query)
            ]
