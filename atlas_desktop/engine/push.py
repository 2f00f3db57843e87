"""The push phase: drains the outbox, each write sent with its key, in-doubt writes looked up first.

A write is marked `sending` (durably) before it leaves. If the process dies, or no answer comes,
it is `in_doubt`: before it is sent again, the ERP is asked whether a write with its key exists
(`find_write`); the Atlas API replays the first answer for a repeated Idempotency-Key, so an Atlas
write is simply sent again with the same key. A pending write whose decision was planned again after
lost commits carries the key of a write that may have landed: NetSuite refuses that key (the connector
returns the existing record), and an ERP that would post it twice (SAP) is asked first, a wave at a
time (`posted_before`). Nothing is ever posted twice.

Writes go out in waves: the next write of every mapping at once (each connector keeps to its own
concurrency limit), so one mapping's writes stay in order while thousands of mappings move in
parallel; the outbox is updated once per wave, not once per write. A wave's Atlas writes go in
batch requests (500 per request, each write its own key and result: `_send_atlas_batch`).
Confirmations recorded late are safe: an unrecorded confirmed write is only ever looked up by its
key, never sent again.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from atlas_desktop.connectors.atlas.batch import AdjustOp, BatchOp, OpResult, UpdateOp
from atlas_desktop.domain.connector import ErpConnector
from atlas_desktop.domain.errors import AtlasDesktopError, Conflict, ConnectorError, NetworkError
from atlas_desktop.domain.model import Side, StockChange, StockKey
from atlas_desktop.domain.quantity import ATLAS
from atlas_desktop.engine.discovery import unambiguous_key
from atlas_desktop.engine.plan import ATLAS_ADJUST, ATLAS_SET_EXPIRY, ATLAS_SET_FIELDS, ERP_ADJUST
from atlas_desktop.store.enums import OutboxStatus

log = logging.getLogger(__name__)
Db = Callable[..., Awaitable[Any]]
Written = list[tuple[Any, str | None]]  # (outbox entry, remote id) of the writes a wave confirmed
WAVE_LIMIT = 500  # writes per wave: bounds the memory of results held before they are recorded
ATLAS_BATCHED = frozenset({ATLAS_ADJUST, ATLAS_SET_EXPIRY, ATLAS_SET_FIELDS})
PATCH_ATTEMPTS = 3  # a row that changed meanwhile (412) is updated again on its current version


@dataclass
class PushStats:
    done: int = 0
    failed: int = 0
    in_doubt: int = 0
    errors: list[tuple[Any, AtlasDesktopError]] = field(default_factory=list)  # (entry, error)


@dataclass
class _Outcome:
    entry: Any
    remote_id: str | None = None
    error: AtlasDesktopError | None = None
    atlas_row: Any = None  # the row an Atlas write returned: refreshes the mirror and the version


def _group_of(entry: Any) -> object:
    return entry.mapping_id if entry.mapping_id is not None else f"outbox-{entry.id}"


class Pusher:
    """Sends one connection's pending writes. Writes of one mapping go in order; mappings in parallel."""

    def __init__(
        self,
        db: Db,
        decisions: Any,
        mirrors: Any,
        connection_id: str,
        erp: ErpConnector,
        atlas: Any,
        *,
        parallel: int = 64,
        on_written: Callable[[Written], Awaitable[None]] | None = None,
        after_wave: Callable[[PushStats], None] | None = None,
        batch_atlas: bool = True,
    ) -> None:
        self.db = db
        self.decisions = decisions
        self.mirrors = mirrors
        self.connection_id = connection_id
        self.erp = erp
        self.atlas = atlas
        # Tasks in flight; the connectors' own limits decide how many requests really go out at once.
        self.parallel = parallel
        # Told each wave's confirmed writes (the audit trail), so a 100k-write drain holds none of them.
        self.on_written = on_written
        self.stats = PushStats()
        # Told after each wave is recorded (progress): the one point where a run may stop, as its raise
        # leaves no write on the wire and every outcome stored.
        self.after_wave = after_wave
        # False: every Atlas write through its own single-row call (`_execute`), as before batches.
        self.batch_atlas = batch_atlas
        self._versions: dict[str, int] = {}  # Atlas row id -> latest version seen in this drain

    async def drain(self) -> PushStats:
        blocked: set[object] = set()  # mappings whose write is left in doubt: later ones wait (order)
        after_id = 0
        while entries := await self.db(
            self.decisions.pending_writes, self.connection_id, limit=WAVE_LIMIT, after_id=after_id
        ):
            after_id = entries[-1].id
            queues: dict[object, list[Any]] = {}
            for entry in entries:
                group = _group_of(entry)
                if group not in blocked:
                    queues.setdefault(group, []).append(entry)
            while queues:
                wave = [queue.pop(0) for queue in queues.values()]
                for outcome in await self._wave(wave):
                    if outcome.error is not None and outcome.error.retryable:
                        blocked.add(_group_of(outcome.entry))
                if self.after_wave is not None:
                    self.after_wave(self.stats)
                queues = {g: q for g, q in queues.items() if q and g not in blocked}
        return self.stats

    async def _look_up(self, wave: list[Any]) -> tuple[list[_Outcome], list[Any]]:
        """The ERP writes of `wave` the ERP already holds (as outcomes), and the writes left to send.

        A write whose outcome is unknown (sending, in doubt) is looked up by its key. A write never sent
        as far as the outbox knows may still have landed, when a decision was planned again after its
        commits were lost (its keys are derived from it): an ERP that would post such a key twice is
        asked for the whole wave at once (`posted_before`).
        """
        outcomes: list[_Outcome] = []
        fresh = [e for e in wave if e.target is Side.ERP and e.status is OutboxStatus.PENDING]
        try:
            posted = await self.erp.posted_before([e.idempotency_key for e in fresh]) if fresh else {}
        except ConnectorError as error:
            outcomes += [_Outcome(entry, error=error) for entry in fresh]
            fresh_ids = {entry.id for entry in fresh}
            wave = [entry for entry in wave if entry.id not in fresh_ids]
            posted = {}
        to_send: list[Any] = []
        for entry in wave:
            found = posted.get(entry.idempotency_key) if entry.target is Side.ERP else None
            if entry.status in (OutboxStatus.SENDING, OutboxStatus.IN_DOUBT) and entry.target is Side.ERP:
                try:
                    found = await self.erp.find_write(entry.idempotency_key)
                except ConnectorError as error:
                    outcomes.append(_Outcome(entry, error=error))
                    continue
            if found is not None:
                outcomes.append(_Outcome(entry, remote_id=found.remote_id))
            else:
                to_send.append(entry)
        return outcomes, to_send

    async def _wave(self, wave: list[Any]) -> list[_Outcome]:
        outcomes, to_send = await self._look_up(wave)
        still_open = set(await self.db(self.decisions.mark_sending_many, [e.id for e in to_send]))
        sending = [e for e in to_send if e.id in still_open]
        outcomes += await self._send(sending)
        await self._record(outcomes)
        return outcomes

    async def _send(self, sending: list[Any]) -> list[_Outcome]:
        """The outcomes of a wave's writes, in the wave's order (the audit trail's order).

        The seam for batched writers: a kind of write a remote system takes many at a time is sent in
        groups here; everything else one request per write.
        """
        batched = [e for e in sending if self.batch_atlas and e.operation in ATLAS_BATCHED]
        if not batched:
            return await self._send_each(sending)
        ids = {entry.id for entry in batched}
        rest = [e for e in sending if e.id not in ids]
        outcomes = await asyncio.gather(self._send_atlas_batch(batched), self._send_each(rest))
        by_id = {outcome.entry.id: outcome for group in outcomes for outcome in group}
        return [by_id[entry.id] for entry in sending]

    async def _send_atlas_batch(self, entries: list[Any]) -> list[_Outcome]:
        """A wave's Atlas writes through the batch route, outcomes in the wave's order.

        Each write keeps its own outcome: a refused one fails alone, one without an answer is in doubt (sent
        again by the same key next time: Atlas replays it). An update is keyed by its write and the version
        it is made on, so a resend after a crash replays it, while a 412 (the row changed meanwhile: a
        sale) is retried on the row's current version, which the 412 carries, as `_patch_atlas` does.
        """
        outcomes: dict[int, _Outcome] = {}
        todo: list[tuple[Any, BatchOp]] = []
        for entry in entries:
            payload = entry.payload
            if entry.operation == ATLAS_ADJUST:
                todo.append(
                    (entry, AdjustOp(entry.idempotency_key, payload["row_id"], Decimal(payload["delta"])))
                )
                continue
            version = self._versions.get(payload["row_id"], payload.get("version"))
            try:
                todo.append((entry, await self._update_op(entry, version)))
            except ConnectorError as error:
                outcomes[entry.id] = _Outcome(entry, error=error)
        for _attempt in range(PATCH_ATTEMPTS):
            if not todo:
                break
            results = await self.atlas.batch([op for _, op in todo])
            conflicts: list[tuple[Any, BatchOp]] = []
            for (entry, op), result in zip(todo, results, strict=True):
                if isinstance(op, UpdateOp) and isinstance(result.error, Conflict):
                    current = getattr(result.error, "current", None)
                    try:
                        conflicts.append((entry, await self._update_op(entry, current and current.version)))
                    except ConnectorError as error:
                        outcomes[entry.id] = _Outcome(entry, error=error)
                    continue
                outcomes[entry.id] = self._atlas_outcome(entry, result)
            todo = conflicts
        for entry, _op in todo:
            outcomes[entry.id] = _Outcome(entry, error=_kept_changing())
        return [outcomes[entry.id] for entry in entries]

    async def _update_op(self, entry: Any, version: int | None) -> UpdateOp:
        payload = entry.payload
        row_id = payload["row_id"]
        if version is None:
            version = (await self.atlas.get_row(row_id)).version
        if entry.operation == ATLAS_SET_EXPIRY:
            fields: dict[str, Any] = {
                "expiry_date": date.fromisoformat(payload["expiry"]) if payload["expiry"] else None
            }
        else:
            fields = dict(payload["fields"])
        return UpdateOp(f"{entry.idempotency_key}.v{version}", row_id, int(version), fields)

    def _atlas_outcome(self, entry: Any, result: OpResult) -> _Outcome:
        if result.row is None:
            return _Outcome(entry, error=result.error)
        self._versions[result.row.id] = result.row.version
        return _Outcome(entry, remote_id=str(result.row.id), atlas_row=result.row)

    async def _send_each(self, sending: list[Any]) -> list[_Outcome]:
        results: list[_Outcome | None] = [None] * len(sending)
        queue = iter(enumerate(sending))

        async def send() -> None:
            for index, entry in queue:
                try:
                    results[index] = await self._execute(entry)
                except ConnectorError as error:
                    results[index] = _Outcome(entry, error=error)

        # `parallel` senders taking the next write as they finish, not one task per write of the wave
        # waiting on a semaphore: 500 tasks made at once held the window's thread (each task and wake-up
        # is a Qt timer under qasync).
        await asyncio.gather(*(send() for _ in range(min(self.parallel, len(sending)))))
        return [outcome for outcome in results if outcome is not None]

    async def _record(self, outcomes: list[_Outcome]) -> None:
        written: Written = [(o.entry, o.remote_id) for o in outcomes if o.error is None]
        # A row whose answer holds a quantity Atlas cannot hold (made so meanwhile by someone else) stays out
        # of the mirror like any refused read: the next read refuses and reports it (domain/quantity.py).
        rows = [o.atlas_row for o in outcomes if o.atlas_row is not None]
        rows = [row for row in rows if ATLAS.problem(row.quantity) is None]
        if rows:
            await self.db(self.mirrors.upsert_atlas_rows, self.connection_id, rows, unambiguous_key)
        if written:
            confirmed = [(entry.id, remote_id) for entry, remote_id in written]
            await self.db(self.decisions.mark_done_many, confirmed)
        self.stats.done += len(written)
        for outcome in outcomes:
            error = outcome.error
            if error is None:
                continue
            self.stats.errors.append((outcome.entry, error))
            if error.retryable:
                # No answer, throttled, or a server error after the HTTP layer's own retries: the write
                # may or may not have landed. It stays in the outbox, looked up by key next run.
                await self.db(self.decisions.mark_in_doubt, outcome.entry.id, error.message)
                self.stats.in_doubt += 1
            else:
                await self.db(self.decisions.mark_failed, outcome.entry.id, f"{error.message} — {error.fix}")
                self.stats.failed += 1
        if written and self.on_written is not None:
            await self.on_written(written)

    async def _execute(self, entry: Any) -> _Outcome:
        payload = entry.payload
        if entry.operation == ERP_ADJUST:
            key = StockKey(payload["item_id"], payload["location_id"], payload.get("lot"))
            expiry = date.fromisoformat(payload["expiry"]) if payload.get("expiry") else None
            change = StockChange(
                key,
                Decimal(payload["delta"]),
                payload.get("unit") or "EA",
                expiry,
                lot_ref=payload.get("lot_ref"),
            )
            result = await self.erp.adjust_stock(change, entry.idempotency_key)
            return _Outcome(entry, remote_id=result.remote_id)
        if entry.operation == ATLAS_ADJUST:
            row = await self.atlas.adjust(
                payload["row_id"], Decimal(payload["delta"]), key=entry.idempotency_key
            )
            self._versions[row.id] = row.version
            return _Outcome(entry, remote_id=str(row.id), atlas_row=row)
        if entry.operation == ATLAS_SET_EXPIRY:
            expiry = date.fromisoformat(payload["expiry"]) if payload["expiry"] else None
            row = await self._patch_atlas(entry, {"expiry_date": expiry})
            return _Outcome(entry, remote_id=str(row.id), atlas_row=row)
        if entry.operation == ATLAS_SET_FIELDS:
            row = await self._patch_atlas(entry, dict(payload["fields"]))
            return _Outcome(entry, remote_id=str(row.id), atlas_row=row)
        raise AssertionError(f"unknown outbox operation {entry.operation}")

    async def _patch_atlas(self, entry: Any, fields: dict[str, Any]) -> Any:
        """PATCH with the version we know (from this drain or the decision); on 412 the answer carries
        the current row, so a retry needs no extra read."""
        payload = entry.payload
        row_id = payload["row_id"]
        version = self._versions.get(row_id, payload.get("version"))
        for _attempt in range(3):
            if version is None:
                version = (await self.atlas.get_row(row_id)).version
            try:
                # No Idempotency-Key: a replayed 412 would block the retry; If-Match makes it safe.
                row = await self.atlas.update_row(row_id, fields, version=version, key=None)
            except Conflict as conflict:
                current = getattr(conflict, "current", None)
                version = current.version if current is not None else None
                continue  # changed meanwhile (a sale): set the date again on the current version
            self._versions[row_id] = row.version
            return row
        raise _kept_changing()


def _kept_changing() -> NetworkError:
    return NetworkError("Atlas: the row kept changing while it was being updated", in_doubt=False)
