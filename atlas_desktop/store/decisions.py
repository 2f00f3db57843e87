"""Merge decisions and their outbox writes: recorded atomically, drained, and applied to the base."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from atlas_desktop.domain.errors import AtlasDesktopError, ErrorKind
from atlas_desktop.domain.model import Side
from atlas_desktop.store.db import Store
from atlas_desktop.store.enums import ConflictStatus, DecisionStatus, OutboxStatus, Resolution
from atlas_desktop.store.models import OutboxRow, SyncBaseRow, SyncDecisionRow
from atlas_desktop.store.snapshots import BaseValues
from atlas_desktop.store.sqlutil import IN_CHUNK, chunked, decimal_text, require_connection, utc_text
from atlas_desktop.store.types import utcnow

ERROR_TEXT_LIMIT = 2000
OPEN_STATUSES = (OutboxStatus.PENDING, OutboxStatus.SENDING, OutboxStatus.IN_DOUBT)
CLOSED_STATUSES = (OutboxStatus.DONE, OutboxStatus.FAILED, OutboxStatus.CANCELLED)


@dataclass(frozen=True, slots=True)
class WriteDraft:
    """One remote write a decision needs. `payload` must be JSON-safe (decimals as str)."""

    target: Side
    operation: str
    payload: Mapping[str, Any]
    idempotency_key: str
    quantity_delta: Decimal | None = None  # the quantity change it makes, if any (see OutboxRow)


@dataclass(frozen=True, slots=True)
class ConflictDraft:
    field: str
    base_value: str | None
    atlas_value: str | None
    erp_value: str | None
    atlas_changed_at: datetime | None
    erp_changed_at: datetime | None
    status: ConflictStatus = ConflictStatus.OPEN
    resolution: Resolution | None = None
    note: str | None = None  # why the merge could not settle it


@dataclass(frozen=True, slots=True)
class DecisionDraft:
    """What the merge decided for one mapping: the writes to make and the base once they are done.

    `new_base` None leaves the base as it is (e.g. a decision that only records a conflict).
    """

    mapping_id: int
    new_base: BaseValues | None
    writes: tuple[WriteDraft, ...] = ()
    conflicts: tuple[ConflictDraft, ...] = field(default=())


@dataclass(frozen=True, slots=True)
class OutboxEntry:
    id: int
    mapping_id: int | None
    decision_id: int | None
    target: Side
    operation: str
    payload: dict[str, Any]
    idempotency_key: str
    status: OutboxStatus
    attempts: int
    remote_id: str | None
    last_error: str | None = None
    quantity_delta: Decimal | None = None


class OutboxEntryClosed(AtlasDesktopError):
    """A write already done, failed or cancelled was asked to move on: it must not be sent."""

    kind = ErrorKind.CONFLICT
    default_fix = "Nothing to do: the write was settled meanwhile (for example cancelled by the user)."


class OutboxEntryNotFound(AtlasDesktopError):
    kind = ErrorKind.NOT_FOUND
    default_fix = "Reload the pending writes; this one no longer exists."


class DuplicateWrite(AtlasDesktopError):
    """Two writes share an idempotency key: the record was refused as a whole."""

    kind = ErrorKind.CONFLICT
    default_fix = "Nothing was recorded. Report this to Atlas support: the merge built a key twice."


def _payload_json(payload: Mapping[str, Any], key: str) -> str:
    try:
        return json.dumps(dict(payload), sort_keys=True)
    except (TypeError, ValueError) as error:
        raise ValueError(
            f"the payload of write {key} is not JSON-safe ({error}); pass decimals as str"
        ) from None


def _clip(error: str) -> str:
    return error if len(error) <= ERROR_TEXT_LIMIT else error[: ERROR_TEXT_LIMIT - 1] + "…"


_BASE_UPSERT = (
    "INSERT INTO sync_bases (mapping_id, quantity, unit, expiry, lot, attributes, atlas_version, "
    "erp_version, updated_at) "
    "SELECT m.id, :quantity, :unit, :expiry, m.lot, '{}', CAST(a.version AS TEXT), s.version, :now "
    "FROM erp_inventory_mappings m "
    "LEFT JOIN atlas_rows a ON a.connection_id = m.connection_id AND a.atlas_id = m.atlas_inventory_id "
    "LEFT JOIN erp_stock s ON s.connection_id = m.connection_id AND s.item_id = m.erp_item_id "
    "AND s.location_id = m.erp_location_id AND s.lot = coalesce(m.lot, '') "
    "WHERE m.id = :mapping_id "
    "ON CONFLICT (mapping_id) DO UPDATE SET quantity = excluded.quantity, unit = excluded.unit, "
    "expiry = excluded.expiry, lot = excluded.lot, atlas_version = excluded.atlas_version, "
    "erp_version = excluded.erp_version, updated_at = excluded.updated_at"
)
_SYNCED = "UPDATE erp_inventory_mappings SET last_synced_at = :now WHERE id = :mapping_id"


def _base_params(mapping_id: int, base: Mapping[str, Any], now: str | None) -> dict[str, Any]:
    values = BaseValues.from_json(dict(base))  # validates what goes in
    return {
        "mapping_id": mapping_id,
        "quantity": decimal_text(values.quantity),
        "unit": values.unit,
        "expiry": values.expiry.isoformat() if values.expiry else None,
        "now": now,
    }


def _apply_base(session: Session, mapping_id: int | None, new_base: Mapping[str, Any] | None) -> None:
    """base := new_base (with both mirrors' current versions) and the mapping marked synced now."""
    if mapping_id is None or new_base is None:
        return
    params = _base_params(mapping_id, new_base, utc_text(utcnow()))
    connection = session.connection()
    connection.exec_driver_sql(_BASE_UPSERT, params)
    connection.exec_driver_sql(_SYNCED, params)


def _shift_base(session: Session, mapping_id: int | None, deltas: Iterable[Decimal | None]) -> None:
    """Move the base by writes that went through under a cancelled decision.

    With one base for both sides the next merge computes atlas + erp - base; a write that landed on one
    side would otherwise count again as a change of that side.
    """
    total = sum((d for d in deltas if d is not None), Decimal(0))
    if mapping_id is None or total == 0:
        return
    base = session.get(SyncBaseRow, mapping_id)
    if base is not None and base.quantity is not None:
        base.quantity = base.quantity + total
        base.updated_at = utcnow()


def _done_deltas(session: Session, decision_id: int) -> list[Decimal | None]:
    return list(
        session.scalars(
            sa.select(OutboxRow.quantity_delta).where(
                OutboxRow.decision_id == decision_id, OutboxRow.status == OutboxStatus.DONE
            )
        )
    )


def cancel_decision(session: Session, decision: SyncDecisionRow) -> int:
    """Cancel a pending decision and its unsent writes; writes already through move the base."""
    if decision.status is not DecisionStatus.PENDING:
        return 0
    decision.status = DecisionStatus.CANCELLED
    result = session.execute(
        sa.update(OutboxRow)
        .where(OutboxRow.decision_id == decision.id, OutboxRow.status == OutboxStatus.PENDING)
        .values(status=OutboxStatus.CANCELLED, updated_at=utcnow())
    )
    _shift_base(session, decision.mapping_id, _done_deltas(session, decision.id))
    return result.rowcount


def cancel_pending_writes(session: Session, mapping_id: int) -> int:
    """Cancel the pending decisions of a mapping and their unsent writes (writes in flight go on)."""
    cancelled = 0
    decisions = session.scalars(
        sa.select(SyncDecisionRow).where(
            SyncDecisionRow.mapping_id == mapping_id, SyncDecisionRow.status == DecisionStatus.PENDING
        )
    ).all()
    for decision in decisions:
        cancelled += cancel_decision(session, decision)
    # Writes with no decision (recorded before decisions existed) are cancelled on their own.
    result = session.execute(
        sa.update(OutboxRow)
        .where(
            OutboxRow.mapping_id == mapping_id,
            OutboxRow.decision_id.is_(None),
            OutboxRow.status == OutboxStatus.PENDING,
        )
        .values(status=OutboxStatus.CANCELLED, updated_at=utcnow())
    )
    return cancelled + result.rowcount


_DECISION_INSERT = (
    "INSERT INTO sync_decisions (connection_id, mapping_id, new_base, status, sync_log_id, created_at, "
    "applied_at) VALUES (?, ?, ?, ?, ?, ?, ?)"
)
_OUTBOX_INSERT = (
    "INSERT INTO outbox (connection_id, mapping_id, target, operation, payload, idempotency_key, status, "
    "attempts, sync_log_id, decision_id, quantity_delta, created_at, updated_at) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, 0, ?, ?, ?, ?, ?)"
)
_CONFLICT_INSERT = (
    "INSERT INTO conflicts (connection_id, mapping_id, field, base_value, atlas_value, erp_value, "
    "atlas_changed_at, erp_changed_at, status, resolution, resolved_at, created_at, note) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)


class DecisionRepository:
    """The outbox and its decisions: a base changes only when every write of its decision is done."""

    def __init__(self, store: Store) -> None:
        self._store = store

    def record(
        self, connection_id: str, sync_log_id: int | None, decisions: Sequence[DecisionDraft]
    ) -> list[int]:
        """Store decisions with their writes and conflicts in ONE transaction; returns the decision ids.

        A decision with no writes is settled at once: its new base (if any) is applied.
        """
        now = utc_text(utcnow())
        ids: list[int] = []
        with self._store.session() as session:
            require_connection(session, connection_id)
            # One DBAPI cursor inside the session's transaction: per-row SQLAlchemy overhead would cost
            # more than SQLite on a first sync's 100k decisions.
            cursor = session.connection().connection.cursor()
            try:
                outbox: list[tuple[Any, ...]] = []
                conflicts: list[tuple[Any, ...]] = []
                settled: list[dict[str, Any]] = []
                for draft in decisions:
                    base = draft.new_base.to_json() if draft.new_base is not None else None
                    immediate = not draft.writes
                    cursor.execute(
                        _DECISION_INSERT,
                        (
                            connection_id,
                            draft.mapping_id,
                            json.dumps(base) if base is not None else None,
                            (DecisionStatus.APPLIED if immediate else DecisionStatus.PENDING).value,
                            sync_log_id,
                            now,
                            now if immediate else None,
                        ),
                    )
                    decision_id = cursor.lastrowid
                    ids.append(decision_id)
                    if immediate and base is not None:
                        settled.append(_base_params(draft.mapping_id, base, now))
                    for write in draft.writes:
                        outbox.append(
                            (
                                connection_id,
                                draft.mapping_id,
                                Side(write.target).value,
                                write.operation,
                                _payload_json(write.payload, write.idempotency_key),
                                write.idempotency_key,
                                OutboxStatus.PENDING.value,
                                sync_log_id,
                                decision_id,
                                decimal_text(write.quantity_delta),
                                now,
                                now,
                            )
                        )
                    for conflict in draft.conflicts:
                        status = ConflictStatus(conflict.status)
                        conflicts.append(
                            (
                                connection_id,
                                draft.mapping_id,
                                conflict.field,
                                conflict.base_value,
                                conflict.atlas_value,
                                conflict.erp_value,
                                utc_text(conflict.atlas_changed_at),
                                utc_text(conflict.erp_changed_at),
                                status.value,
                                Resolution(conflict.resolution).value if conflict.resolution else None,
                                now if status is ConflictStatus.RESOLVED else None,
                                now,
                                conflict.note,
                            )
                        )
                for batch in chunked(outbox, 2000):
                    try:
                        cursor.executemany(_OUTBOX_INSERT, batch)
                    except sqlite3.IntegrityError as error:
                        if "idempotency_key" in str(error):
                            raise DuplicateWrite(
                                "two writes share one idempotency key; nothing was recorded"
                            ) from None
                        raise
                for batch in chunked(conflicts, 2000):
                    cursor.executemany(_CONFLICT_INSERT, batch)
                for batch in chunked(settled, 2000):
                    cursor.executemany(_BASE_UPSERT, batch)
                    cursor.executemany(_SYNCED, batch)
            finally:
                cursor.close()
        return ids

    def pending_writes(self, connection_id: str, *, limit: int = 500, after_id: int = 0) -> list[OutboxEntry]:
        """Writes still to send or to check (pending, sending, in_doubt), oldest first."""
        with self._store.session() as session:
            rows = session.scalars(
                sa.select(OutboxRow)
                .where(
                    OutboxRow.connection_id == connection_id,
                    OutboxRow.status.in_(OPEN_STATUSES),
                    OutboxRow.id > after_id,
                )
                .order_by(OutboxRow.id)
                .limit(limit)
            ).all()
            return [_entry(row) for row in rows]

    def get(self, outbox_id: int) -> OutboxEntry:
        with self._store.session() as session:
            return _entry(self._open_row(session, outbox_id, allow_closed=True))

    @staticmethod
    def _open_row(session: Session, outbox_id: int, *, allow_closed: bool = False) -> OutboxRow:
        row = session.get(OutboxRow, outbox_id)
        if row is None:
            raise OutboxEntryNotFound(f"there is no outbox entry {outbox_id}")
        if not allow_closed and row.status in CLOSED_STATUSES:
            raise OutboxEntryClosed(f"outbox entry {outbox_id} is already {row.status.value}")
        return row

    def mark_sending(self, outbox_id: int) -> None:
        """About to send: attempts += 1. OutboxEntryClosed if it was settled meanwhile: do not send."""
        with self._store.session() as session:
            row = self._open_row(session, outbox_id)
            row.status = OutboxStatus.SENDING
            row.attempts += 1
            row.updated_at = utcnow()

    def mark_in_doubt(self, outbox_id: int, error: str) -> None:
        """The outcome is unknown (timeout): look it up by its key before sending it again."""
        with self._store.session() as session:
            row = self._open_row(session, outbox_id)
            row.status = OutboxStatus.IN_DOUBT
            row.last_error = _clip(error)
            row.updated_at = utcnow()

    def mark_failed(self, outbox_id: int, error: str) -> None:
        """Refused for good: the decision is cancelled with its unsent writes; the base stays."""
        with self._store.session() as session:
            row = self._open_row(session, outbox_id)
            row.status = OutboxStatus.FAILED
            row.last_error = _clip(error)
            row.updated_at = utcnow()
            session.flush()
            if row.decision_id is not None:
                decision = session.get(SyncDecisionRow, row.decision_id)
                if decision is not None:
                    cancel_decision(session, decision)

    def mark_done(
        self,
        outbox_id: int,
        remote_id: str | None,
        *,
        mirror_update: Callable[[Session], None] | None = None,
    ) -> bool:
        """Confirmed by the remote, in ONE transaction with `mirror_update` (our write into the mirror).

        When this was the last open write of its decision, base := the decision's new base and the
        decision is applied: returns True. A second call for the same entry changes nothing (False).
        """
        with self._store.session() as session:
            if mirror_update is not None:
                mirror_update(session)
            return _mark_done(session, outbox_id, remote_id)

    def mark_done_many(self, confirmed: Sequence[tuple[int, str | None]]) -> int:
        """Several confirmed writes in one transaction (a wave of the push); returns decisions applied."""
        with self._store.session() as session:
            return sum(_mark_done(session, outbox_id, remote_id) for outbox_id, remote_id in confirmed)

    def mark_sending_many(self, outbox_ids: Sequence[int]) -> list[int]:
        """About to send these (attempts += 1), in one transaction. Returns the ids still open: the
        others were settled meanwhile and must not be sent."""
        now = utcnow()
        still_open: list[int] = []
        with self._store.session() as session:
            for outbox_id in outbox_ids:
                row = session.get(OutboxRow, outbox_id)
                if row is None or row.status in CLOSED_STATUSES:
                    continue
                row.status = OutboxStatus.SENDING
                row.attempts += 1
                row.updated_at = now
                still_open.append(outbox_id)
        return still_open

    def cancel_pending(self, connection_id: str, mapping_id: int) -> int:
        """Withdraw a mapping's unsent writes and their decisions. Returns how many writes were cancelled."""
        with self._store.session() as session:
            require_connection(session, connection_id)
            return cancel_pending_writes(session, mapping_id)

    def counts(self, connection_id: str) -> dict[str, int]:
        """Outbox entries per status (every status present, 0 when none)."""
        with self._store.session() as session:
            rows = session.execute(
                sa.select(OutboxRow.status, sa.func.count())
                .where(OutboxRow.connection_id == connection_id)
                .group_by(OutboxRow.status)
            ).all()
        found = {status.value: count for status, count in rows}
        return {status.value: found.get(status.value, 0) for status in OutboxStatus}

    def recent_base_quantities(
        self, connection_id: str, since: datetime, *, min_decisions: int
    ) -> dict[int, list[Decimal]]:
        """Per mapping with at least `min_decisions` decisions since `since`: the quantities those
        decisions set as base, oldest first (the loop guard looks for values that keep coming back)."""
        decisions = SyncDecisionRow.__table__
        busy = (
            sa.select(decisions.c.mapping_id)
            .where(decisions.c.connection_id == connection_id, decisions.c.created_at >= since)
            .group_by(decisions.c.mapping_id)
            .having(sa.func.count() >= min_decisions)
        )
        query = (
            sa.select(decisions.c.mapping_id, decisions.c.new_base)
            .where(
                decisions.c.connection_id == connection_id,
                decisions.c.created_at >= since,
                decisions.c.mapping_id.in_(busy),
                decisions.c.new_base.is_not(None),
            )
            .order_by(decisions.c.mapping_id, decisions.c.id)
        )
        found: dict[int, list[Decimal]] = {}
        with self._store.engine.connect() as conn:
            for mapping_id, new_base in conn.execute(query):
                data = json.loads(new_base) if isinstance(new_base, str) else new_base
                if isinstance(data, dict) and data.get("quantity") is not None:
                    found.setdefault(mapping_id, []).append(Decimal(str(data["quantity"])))
        return found

    def decision_status(self, decision_ids: Iterable[int]) -> dict[int, DecisionStatus]:
        """The current status of each decision (for the engine's run summary and tests)."""
        result: dict[int, DecisionStatus] = {}
        with self._store.session() as session:
            for batch in chunked(list(decision_ids), IN_CHUNK):
                rows = session.execute(
                    sa.select(SyncDecisionRow.id, SyncDecisionRow.status).where(SyncDecisionRow.id.in_(batch))
                )
                result.update({decision_id: status for decision_id, status in rows})
        return result


def _entry(row: OutboxRow) -> OutboxEntry:
    return OutboxEntry(
        id=row.id,
        mapping_id=row.mapping_id,
        decision_id=row.decision_id,
        target=Side(row.target),
        operation=row.operation,
        payload=dict(row.payload),
        idempotency_key=row.idempotency_key,
        status=row.status,
        attempts=row.attempts,
        remote_id=row.remote_id,
        last_error=row.last_error,
        quantity_delta=row.quantity_delta,
    )


def _mark_done(session: Session, outbox_id: int, remote_id: str | None) -> bool:
    """The body of mark_done inside a caller's transaction."""
    row = session.get(OutboxRow, outbox_id)
    if row is None:
        raise OutboxEntryNotFound(f"there is no outbox entry {outbox_id}")
    if row.status is OutboxStatus.DONE:
        return False
    # Done wins over failed/cancelled: the remote says it happened, and the base must know.
    row.status = OutboxStatus.DONE
    row.remote_id = remote_id
    row.updated_at = utcnow()
    session.flush()
    if row.decision_id is None:
        return False
    decision = session.get(SyncDecisionRow, row.decision_id)
    if decision is None:
        return False
    if decision.status is DecisionStatus.CANCELLED:
        _shift_base(session, decision.mapping_id, [row.quantity_delta])
        return False
    if decision.status is not DecisionStatus.PENDING:
        return False
    open_writes = session.scalar(
        sa.select(sa.func.count())
        .select_from(OutboxRow)
        .where(OutboxRow.decision_id == decision.id, OutboxRow.status != OutboxStatus.DONE)
    )
    if open_writes:
        return False
    _apply_base(session, decision.mapping_id, decision.new_base)
    decision.status = DecisionStatus.APPLIED
    decision.applied_at = utcnow()
    return True
