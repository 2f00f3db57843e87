"""Merge decisions and their outbox writes: recorded atomically, drained, and applied to the base."""

from __future__ import annotations

import json
import sqlite3
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from atlas_desktop.domain.drafts import DecisionDraft
from atlas_desktop.domain.enums import ConflictStatus, DecisionStatus, OutboxStatus, Resolution
from atlas_desktop.domain.errors import AtlasDesktopError, ErrorKind
from atlas_desktop.domain.model import Side
from atlas_desktop.domain.outbox import BATCH_SENDING, OutboxEntry
from atlas_desktop.domain.snapshots import BaseValues
from atlas_desktop.store.confirmed_stock import carry_confirmed_erp_writes
from atlas_desktop.store.db import Store
from atlas_desktop.store.models import OutboxRow, SyncBaseRow, SyncDecisionRow, WriteBatchRow
from atlas_desktop.store.sent_mark import Witness, note_sent
from atlas_desktop.store.sqlutil import (
    IN_CHUNK,
    affected_rows,
    chunked,
    decimal_text,
    flat_json,
    require_connection,
    same_lot_sql,
    utc_text,
)
from atlas_desktop.store.types import utcnow

ERROR_TEXT_LIMIT = 2000
OPEN_STATUSES = (OutboxStatus.PENDING, OutboxStatus.SENDING, OutboxStatus.IN_DOUBT)
CLOSED_STATUSES = (OutboxStatus.DONE, OutboxStatus.FAILED, OutboxStatus.CANCELLED)
_NO_WITNESS = Witness(0, "", 0)


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


def key_scope_sql(mapping: str = "m") -> str:
    """SQL text for what the write keys of a mapping's next decision derive from (engine/keys.py): the
    connection, the mapping's id and creation time, and the id of its last recorded decision (0: none).

    Recording any decision for the mapping changes it, so two decisions never share it; a decision
    whose commit was lost leaves it as it was, so planning that decision again finds the same one.
    One index seek per decision status (index mapping_id, status), not a walk over all its decisions.
    """
    last = ", ".join(
        f"coalesce((SELECT max(d.id) FROM sync_decisions d WHERE d.mapping_id = {mapping}.id "
        f"AND d.status = '{status}'), 0)"
        for status in DecisionStatus
    )
    return (
        f"{mapping}.connection_id || '/' || {mapping}.id || '/' || coalesce({mapping}.created_at, '') "
        f"|| '/' || max({last}, 0)"
    )


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
    "erp_version, updated_at, decided_in) "
    "SELECT m.id, :quantity, :unit, :expiry, m.lot, '{}', CAST(a.version AS TEXT), s.version, :now, :run "
    "FROM erp_inventory_mappings m "
    "LEFT JOIN atlas_rows a ON a.connection_id = m.connection_id AND a.atlas_id = m.atlas_inventory_id "
    "LEFT JOIN erp_stock s ON s.connection_id = m.connection_id AND s.item_id = m.erp_item_id "
    f"AND s.location_id = m.erp_location_id AND {same_lot_sql('m', 's')} "
    "WHERE m.id = :mapping_id "
    "ON CONFLICT (mapping_id) DO UPDATE SET quantity = excluded.quantity, unit = excluded.unit, "
    "expiry = excluded.expiry, lot = excluded.lot, atlas_version = excluded.atlas_version, "
    "erp_version = excluded.erp_version, updated_at = excluded.updated_at, decided_in = excluded.decided_in"
)
_SYNCED = "UPDATE erp_inventory_mappings SET last_synced_at = :now WHERE id = :mapping_id"
_DONE_UPDATE = "UPDATE outbox SET status = ?, remote_id = ?, updated_at = ? WHERE id = ?"
_APPLIED_UPDATE = "UPDATE sync_decisions SET status = ?, applied_at = ? WHERE id = ?"
# A base moved by a cancelled decision's write was moved by no merge (decided_in).
_SHIFT_UPDATE = "UPDATE sync_bases SET quantity = ?, updated_at = ?, decided_in = NULL WHERE mapping_id = ?"
_OUTBOX = OutboxRow.__table__
# A marked write as the sent mark records it (store/sent_mark.py).
_MARKED = (_OUTBOX.c.id, _OUTBOX.c.connection_id, _OUTBOX.c.idempotency_key, _OUTBOX.c.attempts)
_DECISIONS = SyncDecisionRow.__table__
_BASES = SyncBaseRow.__table__


def _base_params(
    mapping_id: int, base: Mapping[str, Any], now: str | None, run: int | None
) -> dict[str, Any]:
    """The base upsert's parameters for a stored decision's base; `run` is the run whose decision it is."""
    return _settled_params(mapping_id, BaseValues.from_json(dict(base)), now, run)  # validates what goes in


def _settled_params(mapping_id: int, base: BaseValues, now: str | None, run: int | None) -> dict[str, Any]:
    """The base upsert's parameters for a base the merge built (no JSON round trip)."""
    return {
        "mapping_id": mapping_id,
        "quantity": decimal_text(base.quantity),
        "unit": str(base.unit or ""),
        "expiry": base.expiry.isoformat() if base.expiry else None,
        "now": now,
        "run": run,
    }


def _shift_total(deltas: Iterable[Decimal | None]) -> Decimal:
    """How far writes that went through under a cancelled decision move the base: their summed deltas.

    With one base for both sides the next merge computes atlas + erp - base; a write that landed on one
    side would otherwise count again as a change of that side.
    """
    return sum((d for d in deltas if d is not None), Decimal(0))


def _shift_base(session: Session, mapping_id: int | None, deltas: Iterable[Decimal | None]) -> None:
    """Move the base by writes that went through under a cancelled decision (see _shift_total)."""
    total = _shift_total(deltas)
    if mapping_id is None or total == 0:
        return
    base = session.get(SyncBaseRow, mapping_id)
    if base is not None and base.quantity is not None:
        base.quantity = base.quantity + total
        base.updated_at = utcnow()
        base.decided_in = None


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
    return affected_rows(result)


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
    return cancelled + affected_rows(result)


_NEXT_DECISION_ID = "SELECT coalesce(max(id), 0) + 1 FROM sync_decisions"
_DECISION_INSERT = (
    "INSERT INTO sync_decisions (id, connection_id, mapping_id, new_base, status, sync_log_id, created_at, "
    "applied_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
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
        pending, applied, unsent = (
            DecisionStatus.PENDING.value,
            DecisionStatus.APPLIED.value,
            OutboxStatus.PENDING.value,
        )
        with self._store.session() as session:
            require_connection(session, connection_id)
            # One DBAPI cursor inside the session's transaction: per-row SQLAlchemy overhead would cost
            # more than SQLite on a first sync's 100k decisions.
            cursor = session.connection().connection.cursor()
            try:
                # The ids SQLite would give them one by one (no AUTOINCREMENT: the highest id + 1), known
                # up front so that the decisions go in by executemany too.
                (first_id,) = cursor.execute(_NEXT_DECISION_ID).fetchone()
                ids = list(range(first_id, first_id + len(decisions)))
                rows: list[tuple[Any, ...]] = []
                outbox: list[tuple[Any, ...]] = []
                conflicts: list[tuple[Any, ...]] = []
                settled: list[dict[str, Any]] = []
                for decision_id, draft in zip(ids, decisions, strict=True):
                    new_base = draft.new_base
                    immediate = not draft.writes
                    rows.append(
                        (
                            decision_id,
                            connection_id,
                            draft.mapping_id,
                            flat_json(new_base.to_json()) if new_base is not None else None,
                            applied if immediate else pending,
                            sync_log_id,
                            now,
                            now if immediate else None,
                        )
                    )
                    if immediate and new_base is not None:
                        settled.append(_settled_params(draft.mapping_id, new_base, now, sync_log_id))
                    for write in draft.writes:
                        outbox.append(
                            (
                                connection_id,
                                draft.mapping_id,
                                Side(write.target).value,
                                write.operation,
                                _payload_json(write.payload, write.idempotency_key),
                                write.idempotency_key,
                                unsent,
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
                for batch in chunked(rows, 2000):
                    cursor.executemany(_DECISION_INSERT, batch)
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
                for bases in chunked(settled, 2000):
                    cursor.executemany(_BASE_UPSERT, bases)
                    cursor.executemany(_SYNCED, bases)
            finally:
                cursor.close()
        return ids

    def touch_bases(self, mapping_ids: Sequence[int]) -> None:
        """Keys a run considered but could not merge (a write in flight, a conflict open, a value refused):
        their bases count as moved, so the runs after it look at them again until they are merged."""
        with self._store.session() as session:
            touch_bases(session.connection(), mapping_ids)

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
            return _confirm(session, [(outbox_id, remote_id)]) > 0

    def mark_done_many(self, confirmed: Sequence[tuple[int, str | None]]) -> int:
        """Several confirmed writes in one transaction (a wave of the push); returns decisions applied.

        The outcome is that of mark_done for each in order; OutboxEntryNotFound (nothing changed) if an
        id does not exist.
        """
        with self._store.session() as session:
            return _confirm(session, confirmed)

    def freeze_batches(
        self, connection_id: str, target: Side, batches: Sequence[tuple[str, Sequence[int]]]
    ) -> list[list[int]]:
        """Record that each (key, outbox ids) leaves as one document under its key, before any leaves.

        In one transaction: each batch's row (state sending) and its key on every entry still open
        (marked sending); returns, per batch, those ids in the order given. Like mark_sending_many it
        returns once the commit is in the database file: a crash after the documents left is settled by
        one lookup of each key, whatever the next run's batches look like; raises NotDurable (nothing may
        leave) if it cannot be.
        """
        now = utcnow()
        frozen: list[list[int]] = []
        with self._store.session() as session:
            connection = session.connection()
            for batch_key, outbox_ids in batches:
                opened: set[int] = set()
                for chunk in chunked(list(outbox_ids), IN_CHUNK):
                    result = connection.execute(
                        sa.update(_OUTBOX)
                        .where(_OUTBOX.c.id.in_(chunk), _OUTBOX.c.status.not_in(CLOSED_STATUSES))
                        .values(status=OutboxStatus.SENDING, batch_key=batch_key, updated_at=now)
                        .returning(_OUTBOX.c.id)
                    )
                    opened.update(result.scalars())
                batch = session.get(WriteBatchRow, batch_key)
                if batch is None:
                    session.add(
                        WriteBatchRow(
                            key=batch_key,
                            connection_id=connection_id,
                            target=target,
                            state=BATCH_SENDING,
                            entries=len(opened),
                        )
                    )
                else:  # the same writes batched again after a lookup found the first send absent
                    batch.state, batch.entries, batch.remote_id = BATCH_SENDING, len(opened), None
                session.flush()
                frozen.append([outbox_id for outbox_id in outbox_ids if outbox_id in opened])
        self._store.make_durable()
        return frozen

    def settle_batches(self, answers: Sequence[tuple[str, str, str | None]]) -> None:
        """Batches' answers (key, state, document): posted, refused or in doubt. Their entries' own
        outcomes are recorded with them (mark_done_many and friends)."""
        with self._store.session() as session:
            for batch_key, state, remote_id in answers:
                batch = session.get(WriteBatchRow, batch_key)
                if batch is not None:
                    batch.state = state
                    batch.remote_id = remote_id if remote_id is not None else batch.remote_id

    def mark_sending_many(self, outbox_ids: Sequence[int]) -> list[int]:
        """About to send these (attempts += 1), in one transaction. Returns the ids still open, in the
        order given: the others were settled meanwhile (or do not exist) and must not be sent.

        Returns once this commit and every earlier one (the decisions and writes recorded) is in the
        database file (Store.checkpoint): no power cut can lose the record of a write that leaves, so the
        next run looks it up by its key instead of planning it again. Raises NotDurable if it cannot be:
        then nothing of the wave may leave. So a write still pending in the outbox never left.
        """
        now = utcnow()
        # An id given twice counts two attempts, as two mark_sending calls would.
        by_times: dict[int, list[int]] = {}
        for outbox_id, times in Counter(outbox_ids).items():
            by_times.setdefault(times, []).append(outbox_id)
        opened: set[int] = set()
        witnesses: dict[str, Witness] = {}  # per connection: its highest write marked
        with self._store.session() as session:
            connection = session.connection()
            for times, ids in by_times.items():
                for batch in chunked(ids, IN_CHUNK):
                    result = connection.execute(
                        sa.update(_OUTBOX)
                        .where(_OUTBOX.c.id.in_(batch), _OUTBOX.c.status.not_in(CLOSED_STATUSES))
                        .values(
                            status=OutboxStatus.SENDING, attempts=_OUTBOX.c.attempts + times, updated_at=now
                        )
                        .returning(*_MARKED)
                    )
                    for row in result:
                        opened.add(row.id)
                        if row.id > witnesses.get(row.connection_id, _NO_WITNESS).outbox_id:
                            witnesses[row.connection_id] = Witness(row.id, row.idempotency_key, row.attempts)
        if opened:
            self._store.make_durable()
            # Outside the database, so a copy of it put back later is told by this wave (store/sent_mark).
            note_sent(self._store.path, witnesses)
        return [outbox_id for outbox_id in outbox_ids if outbox_id in opened]

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
        found: dict[int, list[Decimal]] = {}
        with self._store.engine.connect() as conn:
            for mapping_id, new_base in conn.execute(recent_bases_query(connection_id, since, min_decisions)):
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


def recent_bases_query(connection_id: str, since: datetime, min_decisions: int) -> sa.Select[Any]:
    """The bases of the decisions since `since` of the mappings with at least `min_decisions` of them."""
    decisions = SyncDecisionRow.__table__
    busy = (
        sa.select(decisions.c.mapping_id)
        .where(decisions.c.connection_id == connection_id, decisions.c.created_at >= since)
        .group_by(decisions.c.mapping_id)
        .having(sa.func.count() >= min_decisions)
    )
    return (
        sa.select(decisions.c.mapping_id, decisions.c.new_base)
        .where(
            decisions.c.connection_id == connection_id,
            decisions.c.created_at >= since,
            decisions.c.mapping_id.in_(busy),
            decisions.c.new_base.is_not(None),
        )
        .order_by(decisions.c.mapping_id, decisions.c.id)
    )


def touch_bases(connection: sa.Connection, mapping_ids: Sequence[int]) -> None:
    """Mark these keys' bases moved, by no merge (decided_in NULL): the next run looks at them."""
    now = utc_text(utcnow())
    for batch in chunked(mapping_ids, 2000):
        connection.exec_driver_sql(
            "UPDATE sync_bases SET updated_at = ?, decided_in = NULL WHERE mapping_id = ?",
            [(now, mapping_id) for mapping_id in batch],
        )


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
        batch_key=row.batch_key,
    )


@dataclass(frozen=True, slots=True)
class _Decision:
    id: int
    mapping_id: int | None
    status: DecisionStatus
    new_base: dict[str, Any] | None
    sync_log_id: int | None


def _confirm(session: Session, confirmed: Sequence[tuple[int, str | None]]) -> int:
    """Writes confirmed by the remote, inside the caller's transaction; returns the decisions applied.

    The outcome is that of confirming them one at a time in the given order (an id given twice counts
    once, with its first remote id), in a few statements per batch rather than several per write:
    - a write already done stays as it is; any other becomes done. Done wins over failed/cancelled: the
      remote says it happened, and the base must know;
    - an ERP quantity write moves the ERP stock mirror by its delta (store/confirmed_stock.py);
    - a write of a cancelled decision moves that decision's base by its quantity delta;
    - a pending decision whose writes are now all done is applied: base := its new base (with both
      mirrors' current versions), the mapping marked synced.
    OutboxEntryNotFound if an id does not exist (raised before anything changed).
    """
    remote_ids: dict[int, str | None] = {}
    for outbox_id, remote_id in confirmed:
        remote_ids.setdefault(outbox_id, remote_id)  # the second time round the write is already done
    if not remote_ids:
        return 0
    session.flush()  # ORM changes made earlier in this transaction (a mirror update) go first
    connection = session.connection()
    writes: dict[int, tuple[OutboxStatus, int | None, Decimal | None]] = {}
    columns = (_OUTBOX.c.id, _OUTBOX.c.status, _OUTBOX.c.decision_id, _OUTBOX.c.quantity_delta)
    for batch in chunked(remote_ids, IN_CHUNK):
        for outbox_id, status, decision_id, delta in connection.execute(
            sa.select(*columns).where(_OUTBOX.c.id.in_(batch))
        ):
            writes[outbox_id] = (status, decision_id, delta)
    for outbox_id in remote_ids:
        if outbox_id not in writes:
            raise OutboxEntryNotFound(f"there is no outbox entry {outbox_id}")
    newly_done = [i for i in remote_ids if writes[i][0] is not OutboxStatus.DONE]
    if not newly_done:
        return 0
    now = utc_text(utcnow())
    connection.exec_driver_sql(
        _DONE_UPDATE, [(OutboxStatus.DONE.value, remote_ids[i], now, i) for i in newly_done]
    )
    carry_confirmed_erp_writes(connection, newly_done)  # the review shows what was written at once

    decisions = _load_decisions(connection, {d for i in newly_done if (d := writes[i][1]) is not None})
    pending = [d.id for d in decisions.values() if d.status is DecisionStatus.PENDING]
    unfinished = _with_open_writes(connection, pending)
    completed = {d for d in pending if d not in unfinished}
    # Replaying the base moves in confirmation order keeps the one-by-one outcome when one mapping's base
    # moves more than once: a new base replaces whatever came before it, shifts add up on top of it.
    new_bases: dict[int, dict[str, Any]] = {}  # mapping -> the upsert's parameters
    shifts: dict[int, list[Decimal]] = {}
    for outbox_id in newly_done:
        _, decision_id, delta = writes[outbox_id]
        decision = decisions.get(decision_id) if decision_id is not None else None
        if decision is None or decision.mapping_id is None:
            continue
        if decision.status is DecisionStatus.CANCELLED:
            step = _shift_total([delta])
            if step != 0:
                shifts.setdefault(decision.mapping_id, []).append(step)
        elif decision.id in completed and decision.new_base is not None:
            # A decision completes at its last write of the batch: each of its writes sets the base again.
            new_bases[decision.mapping_id] = _base_params(
                decision.mapping_id, decision.new_base, now, decision.sync_log_id
            )
            shifts.pop(decision.mapping_id, None)
    if new_bases:
        params = list(new_bases.values())
        connection.exec_driver_sql(_BASE_UPSERT, params)
        connection.exec_driver_sql(_SYNCED, params)
    if shifts:
        _apply_shifts(connection, shifts, now)
    if completed:
        connection.exec_driver_sql(
            _APPLIED_UPDATE, [(DecisionStatus.APPLIED.value, now, decision_id) for decision_id in completed]
        )
    return len(completed)


def _load_decisions(connection: sa.Connection, decision_ids: Iterable[int]) -> dict[int, _Decision]:
    found: dict[int, _Decision] = {}
    columns = (
        _DECISIONS.c.id, _DECISIONS.c.mapping_id, _DECISIONS.c.status, _DECISIONS.c.new_base,
        _DECISIONS.c.sync_log_id,
    )  # fmt: skip
    for batch in chunked(decision_ids, IN_CHUNK):
        for row in connection.execute(sa.select(*columns).where(_DECISIONS.c.id.in_(batch))):
            found[row.id] = _Decision(row.id, row.mapping_id, row.status, row.new_base, row.sync_log_id)
    return found


def _with_open_writes(connection: sa.Connection, decision_ids: Sequence[int]) -> set[int]:
    """The decisions among these with a write not done yet."""
    found: set[int] = set()
    for batch in chunked(decision_ids, IN_CHUNK):
        found.update(
            connection.scalars(
                sa.select(_OUTBOX.c.decision_id)
                .where(_OUTBOX.c.decision_id.in_(batch), _OUTBOX.c.status != OutboxStatus.DONE)
                .distinct()
            )
        )
    return found


def _apply_shifts(
    connection: sa.Connection, shifts: Mapping[int, Sequence[Decimal]], now: str | None
) -> None:
    """Add each mapping's shifts, one after the other, to its base quantity (a base without one stays)."""
    quantities: dict[int, Decimal] = {}
    for batch in chunked(shifts, IN_CHUNK):
        rows = connection.execute(
            sa.select(_BASES.c.mapping_id, _BASES.c.quantity).where(
                _BASES.c.mapping_id.in_(batch), _BASES.c.quantity.is_not(None)
            )
        )
        quantities.update((mapping_id, quantity) for mapping_id, quantity in rows)
    updates = []
    for mapping_id, quantity in quantities.items():
        for step in shifts[mapping_id]:
            quantity = quantity + step
        updates.append((decimal_text(quantity), now, mapping_id))
    if updates:
        connection.exec_driver_sql(_SHIFT_UPDATE, updates)
