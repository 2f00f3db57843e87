"""The push phase: drains the outbox, each write sent with its key, in-doubt writes looked up first.

A write is marked `sending` (durably) before it leaves. If the process dies, or no answer comes,
it is `in_doubt`: before it is sent again, the ERP is asked whether a write with its key exists
(`find_write`); the Atlas API replays the first answer for a repeated Idempotency-Key, so an Atlas
write is simply sent again with the same key. A write still pending never left: the commit that marks a
wave sending (and every one before it: the decisions) is in the database file before the wave leaves,
or the wave does not leave, so a power cut cannot turn a write that landed into a pending one and a
pending write is sent without asking the ERP, unless the run found the database older than the writes
already sent (restored from a copy): then every pending ERP write is asked for first (`ask_pending`).
Nothing is ever posted twice.

Writes go out in waves: the next write of every mapping at once (each connector keeps to its own
concurrency limit), so one mapping's writes stay in order while thousands of mappings move in
parallel; the outbox is updated once per wave, not once per write. A wave's Atlas writes go in
batch requests (500 per request, each write its own key and result: `_send_atlas_batch`).
Confirmations recorded late are safe: an unrecorded confirmed write is only ever looked up by its
key, never sent again.

A connector that posts many stock changes as one document (BatchedStockWriter) gets the wave's ERP stock
changes in batches; each batch's key is recorded with its writes (and made durable) before it leaves, so
a batch left in doubt is settled by one lookup of that key, whatever the next run's batches look like.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass, field
from typing import Any, assert_never

from atlas_desktop.connectors.atlas.batch import AdjustOp, BatchOp, OpResult, UpdateOp
from atlas_desktop.domain.connector import BatchedStockWriter, ErpConnector
from atlas_desktop.domain.enums import OutboxStatus
from atlas_desktop.domain.errors import (
    AtlasDesktopError,
    Conflict,
    ConnectorError,
    NetworkError,
    ValidationFailed,
)
from atlas_desktop.domain.model import AtlasInventoryRow, Side, StockChange, WriteResult
from atlas_desktop.domain.operations import AtlasAdjust, AtlasSetExpiry, AtlasSetFields, ErpAdjust
from atlas_desktop.domain.outbox import BATCH_IN_DOUBT, BATCH_POSTED, BATCH_REFUSED, OutboxEntry
from atlas_desktop.domain.quantity import ATLAS
from atlas_desktop.engine.discovery import unambiguous_key
from atlas_desktop.engine.keys import batch_key
from atlas_desktop.engine.ports import AtlasPort, MirrorsPort, OutboxPort

log = logging.getLogger(__name__)
Written = list[tuple[OutboxEntry, str | None]]  # (outbox entry, remote id) of the writes a wave confirmed
WAVE_LIMIT = 500  # writes per wave: bounds the memory of results held before they are recorded
WAVE_MAX = 5_000  # writes per wave at most, however many documents the ERP posts at once
PAGE_WAVES = 4  # outbox writes read at a time, in waves' worth
AtlasUpdate = AtlasSetExpiry | AtlasSetFields  # updates of an Atlas row, made on its version
PATCH_ATTEMPTS = 3  # a row that changed meanwhile (412) is updated again on its current version


@dataclass
class PushStats:
    done: int = 0
    failed: int = 0
    in_doubt: int = 0
    errors: list[tuple[OutboxEntry, AtlasDesktopError]] = field(default_factory=list)  # (entry, error)


@dataclass
class _Outcome:
    entry: OutboxEntry
    remote_id: str | None = None
    error: AtlasDesktopError | None = None
    atlas_row: AtlasInventoryRow | None = (
        None  # the row an Atlas write returned: refreshes the mirror and the version
    )


async def _nothing() -> list[_Outcome]:
    return []


def _stock_change(entry: OutboxEntry) -> StockChange:
    op = entry.op
    if not isinstance(op, ErpAdjust):
        raise TypeError(f"write {entry.idempotency_key} is not an ERP stock change: {op!r}")
    return op.stock_change()


def _update(entry: OutboxEntry) -> AtlasUpdate:
    op = entry.op
    if not isinstance(op, AtlasUpdate):
        raise TypeError(f"write {entry.idempotency_key} is not an Atlas row update: {op!r}")
    return op


def _refused_whole(entry: OutboxEntry) -> ValidationFailed:
    # A connector answers a one-change document's refusal with its error; this only guards the loop.
    return ValidationFailed(f"The ERP refused the stock change (write {entry.idempotency_key}).")


def _fullest(queues: dict[object, list[OutboxEntry]], limit: int) -> list[list[OutboxEntry]]:
    """The queues the next wave takes a write from, in the outbox's order: all of them, or the `limit`
    longest (the writes of a page then fill the fewest waves; the rest wait one wave)."""
    if len(queues) <= limit:
        return list(queues.values())
    longest = sorted(queues, key=lambda group: len(queues[group]), reverse=True)[:limit]
    chosen = set(longest)
    return [queue for group, queue in queues.items() if group in chosen]


def _group_of(entry: OutboxEntry) -> object:
    return entry.mapping_id if entry.mapping_id is not None else f"outbox-{entry.id}"


class Pusher:
    """Sends one connection's pending writes. Writes of one mapping go in order; mappings in parallel."""

    def __init__(
        self,
        outbox: OutboxPort,
        mirrors: MirrorsPort,
        connection_id: str,
        erp: ErpConnector,
        atlas: AtlasPort,
        *,
        parallel: int = 64,
        on_written: Callable[[Written], Awaitable[None]] | None = None,
        after_wave: Callable[[PushStats], None] | None = None,
        batch_atlas: bool = True,
        ask_pending: bool = False,
    ) -> None:
        self.outbox = outbox
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
        # False: every Atlas write through its own single-row call (`_execute`).
        self.batch_atlas = batch_atlas
        # True: pending ERP writes are asked for too (`posted_before`), as the database may be older than
        # what was sent (restored from a copy: store/sent_mark.py), so a pending write may have landed.
        self.ask_pending = ask_pending
        self._versions: dict[str, int] = {}  # Atlas row id -> latest version seen in this drain
        self._found: dict[str, WriteResult | ConnectorError | None] = {}  # lookups by key in this drain
        # A wave may fill every document the ERP posts at once (a smaller one leaves its slots idle).
        filled = erp.batch_limit * erp.parallel_documents if isinstance(erp, BatchedStockWriter) else 0
        self.wave_limit = min(max(WAVE_LIMIT, filled), WAVE_MAX)

    async def drain(self) -> PushStats:
        blocked: set[object] = set()  # mappings whose write is left in doubt: later ones wait (order)
        after_id = 0
        # Several writes of one mapping go in successive waves: a page of several waves' worth keeps the
        # waves (and so the Atlas batch requests) full, where a page of one wave would leave them part full.
        while entries := await self.outbox.pending_writes(
            self.connection_id,
            limit=PAGE_WAVES * self.wave_limit,
            after_id=after_id,
        ):
            after_id = entries[-1].id
            queues: dict[object, list[OutboxEntry]] = {}
            for entry in entries:
                group = _group_of(entry)
                if group not in blocked:
                    queues.setdefault(group, []).append(entry)
            while queues:
                wave = [queue.pop(0) for queue in _fullest(queues, self.wave_limit)]
                for outcome in await self._wave(wave):
                    if outcome.error is not None and outcome.error.retryable:
                        blocked.add(_group_of(outcome.entry))
                if self.after_wave is not None:
                    self.after_wave(self.stats)
                queues = {g: q for g, q in queues.items() if q and g not in blocked}
        return self.stats

    async def _look_up(self, wave: list[OutboxEntry]) -> tuple[list[_Outcome], list[OutboxEntry]]:
        """The ERP writes of `wave` the ERP already holds (as outcomes), and the writes left to send.

        A write whose outcome is unknown (sending, in doubt) is looked up by its key (its batch's, if it
        went batched). A write still pending never left: its sending mark, and the decision it belongs to,
        are in the database file before it may leave (mark_sending_many), so no lost commit can turn a
        write that landed back into a pending one. It goes without asking, unless `ask_pending` (the
        whole database may have been put back to an older copy).
        """
        outcomes: list[_Outcome] = []
        # Writes marked sending without a batch key (a run stopped before their batch was frozen, or older
        # than batches) are also asked for in documents' items and lines, by their own keys: only a
        # stopped run leaves such writes, so this costs nothing in a run that follows a clean one.
        unbatched = [
            e
            for e in wave
            if e.target is Side.ERP
            and (e.batch_key is None if e.status is not OutboxStatus.PENDING else self.ask_pending)
        ]
        try:
            posted = await self.erp.posted_before([e.idempotency_key for e in unbatched]) if unbatched else {}
        except ConnectorError as error:
            outcomes += [_Outcome(entry, error=error) for entry in unbatched]
            asked = {entry.id for entry in unbatched}
            wave = [entry for entry in wave if entry.id not in asked]
            posted = {}
        to_send: list[OutboxEntry] = []
        for entry in wave:
            found = posted.get(entry.idempotency_key) if entry.target is Side.ERP else None
            unsure = entry.status in (OutboxStatus.SENDING, OutboxStatus.IN_DOUBT)
            if found is None and unsure and entry.target is Side.ERP:
                try:
                    found = await self._find(entry.batch_key or entry.idempotency_key)
                except ConnectorError as error:
                    outcomes.append(_Outcome(entry, error=error))
                    continue
            if found is not None:
                outcomes.append(_Outcome(entry, remote_id=found.remote_id))
            else:
                to_send.append(entry)
        return outcomes, to_send

    async def _find(self, key: str) -> WriteResult | None:
        """The write or batch document under `key`. A batch's entries are settled by one lookup of its
        key for the whole drain: found, they all landed with it; not found, none did (a record posts
        whole), and they are batched again freely."""
        if key not in self._found:
            try:
                self._found[key] = await self.erp.find_write(key)
            except ConnectorError as error:
                self._found[key] = error
        found = self._found[key]
        if isinstance(found, ConnectorError):
            raise found
        return found

    async def _wave(self, wave: list[OutboxEntry]) -> list[_Outcome]:
        outcomes, to_send = await self._look_up(wave)
        still_open = set(await self.outbox.mark_sending_many([e.id for e in to_send]))
        sending = [e for e in to_send if e.id in still_open]
        outcomes += await self._send(sending)
        await self._record(outcomes)
        return outcomes

    async def _send(self, sending: list[OutboxEntry]) -> list[_Outcome]:
        """The outcomes of a wave's writes, in the wave's order (the audit trail's order).

        The seam for batched writers: a kind of write a remote system takes many at a time is sent in
        groups here; everything else one request per write.
        """
        atlas = [e for e in sending if self.batch_atlas and e.op.target is Side.ATLAS]
        erp = [e for e in sending if isinstance(e.op, ErpAdjust)] if self._erp_batches else []
        if not atlas and not erp:
            return await self._send_each(sending)
        grouped = {entry.id for entry in [*atlas, *erp]}
        groups = await asyncio.gather(
            self._send_atlas_batch(atlas) if atlas else _nothing(),
            self._send_erp_batch(erp) if erp else _nothing(),
            self._send_each([e for e in sending if e.id not in grouped]),
        )
        by_id = {outcome.entry.id: outcome for group in groups for outcome in group}
        return [by_id[entry.id] for entry in sending if entry.id in by_id]

    @property
    def _erp_batches(self) -> bool:
        return isinstance(self.erp, BatchedStockWriter)

    async def _send_erp_batch(self, entries: list[OutboxEntry]) -> list[_Outcome]:
        """ERP stock changes, many to a document: grouped by what a document shares, at most the
        connector's limit each. Every batch's key is frozen with its entries before any leaves; changes
        a refusal left unposted go again as new batches (without the refused line, or halved)."""
        erp: BatchedStockWriter = self.erp  # type: ignore[assignment]
        changes = {entry.id: _stock_change(entry) for entry in entries}
        groups: dict[Hashable, list[OutboxEntry]] = {}
        for entry in entries:
            # A batch looked up and not found goes again as it was, under the same key, not mixed with
            # fresh changes: were it still committing, NetSuite refuses the key a second time.
            groups.setdefault((erp.batch_group(changes[entry.id]), entry.batch_key), []).append(entry)
        limit = max(1, erp.batch_limit)
        parts = [group[i : i + limit] for group in groups.values() for i in range(0, len(group), limit)]
        outcomes: dict[int, _Outcome] = {}
        while parts:
            keyed = [(batch_key([e.idempotency_key for e in part]), part) for part in parts]
            frozen = await self.outbox.freeze_batches(
                self.connection_id,
                Side.ERP,
                [(key, [e.id for e in part]) for key, part in keyed],
            )
            keyed = [
                (key, [e for e in part if e.id in still_open])
                for (key, part), still_open in zip(keyed, map(set, frozen), strict=True)
            ]
            keyed = [(key, part) for key, part in keyed if part]
            if not keyed:
                break
            try:
                answers = await erp.adjust_stock_batches(
                    [([(changes[e.id], e.idempotency_key) for e in part], key) for key, part in keyed]
                )
            except ConnectorError as error:
                answers = [[error] * len(part) for _key, part in keyed]
            parts, settled = [], []
            for (key, part), results in zip(keyed, answers, strict=True):
                parts += self._take_answers(part, results, outcomes)
                posted = next((r.remote_id for r in results if isinstance(r, WriteResult)), None)
                retryable = any(isinstance(r, AtlasDesktopError) and r.retryable for r in results)
                settled.append(
                    (key, BATCH_POSTED if posted else BATCH_IN_DOUBT if retryable else BATCH_REFUSED, posted)
                )
            await self.outbox.settle_batches(settled)
        return [outcomes[entry.id] for entry in entries if entry.id in outcomes]

    @staticmethod
    def _take_answers(
        part: list[OutboxEntry],
        results: list[WriteResult | AtlasDesktopError | None],
        outcomes: dict[int, _Outcome],
    ) -> list[list[OutboxEntry]]:
        """Record a document's outcomes; returns the batches its unposted changes go again in."""
        again = []
        for entry, result in zip(part, results, strict=True):
            if isinstance(result, WriteResult):
                outcomes[entry.id] = _Outcome(entry, remote_id=result.remote_id)
            elif result is not None:
                outcomes[entry.id] = _Outcome(entry, error=result)
            else:
                again.append(entry)
        if len(again) == 1 and len(part) == 1:
            outcomes[part[0].id] = _Outcome(part[0], error=_refused_whole(part[0]))
            return []
        if again and len(again) == len(part):
            middle = len(again) // 2  # refused without naming a line: halve until the line is alone
            return [again[:middle], again[middle:]]
        return [again] if again else []

    async def _send_atlas_batch(self, entries: list[OutboxEntry]) -> list[_Outcome]:
        """A wave's Atlas writes through the batch route, outcomes in the wave's order.

        Each write keeps its own outcome: a refused one fails alone, one without an answer is in doubt (sent
        again by the same key next time: Atlas replays it). An update is keyed by its write and the version
        it is made on, so a resend after a crash replays it (`_on_current_versions` retries a 412).
        """
        outcomes = await self._on_current_versions(entries, self._batch_once)
        return [outcomes[entry.id] for entry in entries]

    async def _batch_once(self, todo: list[tuple[OutboxEntry, int | None]]) -> list[_Outcome | Conflict]:
        answers: list[_Outcome | Conflict | None] = [None] * len(todo)
        sent: list[tuple[int, BatchOp]] = []
        for index, (entry, version) in enumerate(todo):
            write = entry.op
            try:
                op: BatchOp = (
                    AdjustOp(entry.idempotency_key, write.row_id, write.delta)
                    if isinstance(write, AtlasAdjust)
                    else await self._update_op(entry, version)
                )
            except ConnectorError as error:
                answers[index] = _Outcome(entry, error=error)
                continue
            sent.append((index, op))
        results = await self.atlas.batch([op for _, op in sent]) if sent else []
        for (index, op), result in zip(sent, results, strict=True):
            if isinstance(op, UpdateOp) and isinstance(result.error, Conflict):
                answers[index] = result.error
            else:
                answers[index] = self._atlas_outcome(todo[index][0], result)
        return [answer for answer in answers if answer is not None]

    async def _patch_once(self, todo: list[tuple[OutboxEntry, int | None]]) -> list[_Outcome | Conflict]:
        ((entry, version),) = todo
        op = await self._update_op(entry, version)
        try:
            # No Idempotency-Key: a replayed 412 would block the retry; If-Match makes it safe.
            row = await self.atlas.update_row(op.row_id, dict(op.changes), version=op.version, key=None)
        except Conflict as conflict:
            return [conflict]
        self._versions[row.id] = row.version
        return [_Outcome(entry, remote_id=str(row.id), atlas_row=row)]

    async def _on_current_versions(
        self,
        entries: list[OutboxEntry],
        attempt: Callable[[list[tuple[OutboxEntry, int | None]]], Awaitable[list[_Outcome | Conflict]]],
    ) -> dict[int, _Outcome]:
        """Atlas writes sent by `attempt` (batched or one row), each update on the version we know (from
        this drain or the decision). One refused with 412 (the row changed meanwhile: a sale) goes again
        on the row's current version, which the 412 carries, so a retry needs no extra read; at most
        PATCH_ATTEMPTS sends."""
        todo = [(entry, self._known_version(entry)) for entry in entries]
        outcomes: dict[int, _Outcome] = {}
        for _attempt in range(PATCH_ATTEMPTS):
            if not todo:
                break
            again: list[tuple[OutboxEntry, int | None]] = []
            for (entry, _version), answer in zip(todo, await attempt(todo), strict=True):
                if isinstance(answer, Conflict):
                    current = getattr(answer, "current", None)
                    again.append((entry, current.version if current is not None else None))
                else:
                    outcomes[entry.id] = answer
            todo = again
        for entry, _version in todo:
            outcomes[entry.id] = _Outcome(entry, error=_kept_changing())
        return outcomes

    def _known_version(self, entry: OutboxEntry) -> int | None:
        """The version of the row an Atlas write is made on, as far as this drain or its decision knows
        (an adjustment is relative: it carries none)."""
        match op := entry.op:
            case AtlasAdjust():
                return self._versions.get(op.row_id)
            case AtlasSetExpiry() | AtlasSetFields():
                return self._versions.get(op.row_id, op.version)
            case ErpAdjust():
                raise TypeError(f"write {entry.idempotency_key} is not an Atlas write: {op!r}")
            case _:
                assert_never(op)

    async def _update_op(self, entry: OutboxEntry, version: int | None) -> UpdateOp:
        op = _update(entry)
        if version is None:
            version = (await self.atlas.get_row(op.row_id)).version
        match op:
            case AtlasSetExpiry():
                fields: dict[str, Any] = {"expiry_date": op.expiry}
            case AtlasSetFields():
                fields = dict(op.fields)
        return UpdateOp(f"{entry.idempotency_key}.v{version}", op.row_id, int(version), fields)

    def _atlas_outcome(self, entry: OutboxEntry, result: OpResult) -> _Outcome:
        if result.row is None:
            return _Outcome(entry, error=result.error)
        self._versions[result.row.id] = result.row.version
        return _Outcome(entry, remote_id=str(result.row.id), atlas_row=result.row)

    async def _send_each(self, sending: list[OutboxEntry]) -> list[_Outcome]:
        results: list[_Outcome | None] = [None] * len(sending)
        queue = iter(enumerate(sending))

        async def send() -> None:
            for index, entry in queue:
                try:
                    results[index] = await self._execute(entry)
                except ConnectorError as error:
                    results[index] = _Outcome(entry, error=error)

        # `parallel` senders taking the next write as they finish, not one task per write of the wave
        # waiting on a semaphore: a wave's worth of tasks made at once would hold the window's thread
        # (each task and wake-up is a Qt timer under qasync).
        await asyncio.gather(*(send() for _ in range(min(self.parallel, len(sending)))))
        return [outcome for outcome in results if outcome is not None]

    async def _record(self, outcomes: list[_Outcome]) -> None:
        written: Written = [(o.entry, o.remote_id) for o in outcomes if o.error is None]
        # A row whose answer holds a quantity Atlas cannot hold (made so meanwhile by someone else) stays out
        # of the mirror like any refused read: the next read refuses and reports it (domain/quantity.py).
        rows = [o.atlas_row for o in outcomes if o.atlas_row is not None]
        rows = [row for row in rows if ATLAS.problem(row.quantity) is None]
        if rows:
            await self.mirrors.upsert_atlas_rows(self.connection_id, rows, unambiguous_key)
        if written:
            confirmed = [(entry.id, remote_id) for entry, remote_id in written]
            await self.outbox.mark_done_many(confirmed)
        self.stats.done += len(written)
        for outcome in outcomes:
            error = outcome.error
            if error is None:
                continue
            self.stats.errors.append((outcome.entry, error))
            if error.retryable:
                # No answer, throttled, or a server error after the HTTP layer's own retries: the write
                # may or may not have landed. It stays in the outbox, looked up by key next run.
                await self.outbox.mark_in_doubt(outcome.entry.id, error.message)
                self.stats.in_doubt += 1
            else:
                await self.outbox.mark_failed(outcome.entry.id, f"{error.message} — {error.fix}")
                self.stats.failed += 1
        if written and self.on_written is not None:
            await self.on_written(written)

    async def _execute(self, entry: OutboxEntry) -> _Outcome:
        op = entry.op
        match op:
            case ErpAdjust():
                result = await self.erp.adjust_stock(op.stock_change(), entry.idempotency_key)
                return _Outcome(entry, remote_id=result.remote_id)
            case AtlasAdjust():
                row = await self.atlas.adjust(op.row_id, op.delta, key=entry.idempotency_key)
                self._versions[row.id] = row.version
                return _Outcome(entry, remote_id=str(row.id), atlas_row=row)
            case AtlasSetExpiry() | AtlasSetFields():
                return (await self._on_current_versions([entry], self._patch_once))[entry.id]
            case _:
                assert_never(op)


def _kept_changing() -> NetworkError:
    return NetworkError("Atlas: the row kept changing while it was being updated", in_doubt=False)
