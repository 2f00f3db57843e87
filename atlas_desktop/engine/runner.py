"""One sync run for one connection: finish old writes, pull, merge, preview or record, push, log.

Every step is resumable: decisions and their writes are committed before any write leaves, writes
left in doubt are settled first on the next run, and watermarks only move after what they cover is
stored. A crash at any point therefore loses nothing and posts nothing twice.
"""

from __future__ import annotations

import itertools
import logging
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from functools import partial
from typing import Any

from atlas_desktop.domain.audit_events import AuditEvent, AuditSource
from atlas_desktop.domain.change_window import ChangeWindow
from atlas_desktop.domain.connector import ErpConnector
from atlas_desktop.domain.drafts import DecisionDraft
from atlas_desktop.domain.enums import MappingStatus, OutboxStatus, SyncDirection, SyncLogStatus, SyncType
from atlas_desktop.domain.errors import AtlasDesktopError, ErrorKind, InvalidResponse
from atlas_desktop.domain.merge_rows import MergeRow
from atlas_desktop.domain.model import ErpType, Side
from atlas_desktop.domain.ownership import Double
from atlas_desktop.domain.quantity import ATLAS, erp_bounds, is_read_ref
from atlas_desktop.domain.refusals import Refusal
from atlas_desktop.domain.release import empty_gradually
from atlas_desktop.engine.api import (
    ConnectionAlert,
    EventBus,
    RunFinished,
    RunProgress,
    RunStarted,
    RunStatus,
    RunSummary,
    SyncPlan,
)
from atlas_desktop.engine.bounds import MAPPING_REF_PREFIX, WriteRefusal, within_bounds
from atlas_desktop.engine.changes import ChangeKind, PlanLedger, describe_order
from atlas_desktop.engine.names import plan_names
from atlas_desktop.engine.orders import OrderStats, OrderTransfer
from atlas_desktop.engine.plan import PlanCounts, flip_count, plan, product_master_drafts
from atlas_desktop.engine.ports import AtlasPort, EnginePorts
from atlas_desktop.engine.pull import Puller
from atlas_desktop.engine.push import Pusher, PushStats, Written

log = logging.getLogger(__name__)
_AUDIT_SOURCES = {
    SyncType.MANUAL: AuditSource.MANUAL,
    SyncType.FULL: AuditSource.MANUAL,
    SyncType.INCREMENTAL: AuditSource.MANUAL,
    SyncType.SCHEDULED: AuditSource.SCHEDULED,
    SyncType.REAL_TIME: AuditSource.REAL_TIME,
    SyncType.RECONCILE: AuditSource.SYSTEM,
}
RECORD_BATCH = 500
# Merge rows read and planned per DB-thread call. Small on purpose: while SQLite steps through rows the
# DB thread drops and retakes the GIL per row, and a thread waiting for the GIL (the GUI's) rarely wins
# that race, so the window waits as long as the whole call.
MERGE_CHUNK = 250
OPEN_OUTBOX = (OutboxStatus.PENDING, OutboxStatus.SENDING, OutboxStatus.IN_DOUBT)
AUDIT_CHUNK = 100
LOOP_GUARD_WINDOW = timedelta(hours=1)
MIN_ROWS_FOR_SHARE_CHECK = 20
CANCELLED_MESSAGE = "cancelled by the user; the next sync carries on from where this one stopped"


class RunCancelled(Exception):
    """Raised at a safe point of a run the user cancelled (SyncRunner.cancel); SyncRunner.run ends it.

    Safe points come after committed work only: a pulled page (rows and cursor stored), a merge chunk
    (its decisions recorded with their writes), a push wave (its outcomes recorded). What is left is
    what an interrupted run leaves anyway: pending writes the next run sends with the same keys, and
    reads it repeats. Never inside a wave, where writes are on the wire.
    """


@dataclass(frozen=True)
class RunOptions:
    sync_type: SyncType = SyncType.MANUAL
    approve: bool = False  # the user approved the preview of this run
    full: bool = False  # ignore watermarks: read everything again
    full_merge: bool = False  # merge every mapped key, not only those touched since the last run
    preview_only: bool = False  # compute the plan and stop: nothing is written, whatever it holds
    max_change_share: float = 0.5
    initial_source: Side = Side.ERP
    direction: SyncDirection = SyncDirection.BIDIRECTIONAL
    transactions: bool = False  # confirmed Atlas orders -> ERP purchase orders
    product_master: bool = True  # item names ERP -> Atlas
    actor: str = "user"  # who asked for the run, for the audit trail
    loop_guard_flips: int = 3  # more A -> B -> A flips than this within LOOP_GUARD_WINDOW: quarantine
    erp_type: ErpType = ErpType.NETSUITE


def report_doubles(events: EventBus, connection_id: str, doubles: Sequence[Double]) -> None:
    """Doubles are told once, when they are first marked: a warning in the log and a connection alert."""
    by_other: dict[str, int] = {}
    for double in doubles:
        by_other[double.other.connection_name] = by_other.get(double.other.connection_name, 0) + 1
    for other, count in sorted(by_other.items()):
        reason = (
            f"{count} Atlas row(s) are also mapped by connection '{other}': neither connection syncs them "
            "until you unmap them in one of the two (mapping review, Conflict filter)"
        )
        log.warning("connection %s: %s", connection_id, reason)
        events.publish(ConnectionAlert(connection_id, reason, kind="doubles"))


def _plan_next(
    rows: Iterator[MergeRow], size: int, planner: Callable[[list[MergeRow]], list[DecisionDraft]]
) -> list[DecisionDraft] | None:
    """The drafts of the next `size` merge rows; None once the rows are exhausted."""
    chunk = list(itertools.islice(rows, size))
    return planner(chunk) if chunk else None


def _without(
    rows: Iterator[MergeRow], frozen: set[int], later: set[int], counts: PlanCounts
) -> Iterator[MergeRow]:
    """`rows` less the frozen keys (counted as skipped) and those merged `later` in the run."""
    for row in rows:
        if row.mapping_id in frozen:
            counts.rows += 1
            counts.skip_busy(row.mapping_id)
        elif row.mapping_id not in later:
            yield row


def _then_settled(
    rows: Iterator[MergeRow], settled: list[int], frozen: set[int], later: set[int], counts: PlanCounts
) -> Iterator[MergeRow]:
    """`rows`, then the keys the lookup left out as settled counted as merging them would have: unchanged,
    or skipped when frozen (those merged `later` in the run are counted there). So a preview's counts and
    its change-share check are those of merging every changed key."""
    yield from rows
    for mapping_id in settled:
        if mapping_id in later:
            continue
        counts.rows += 1
        if mapping_id in frozen:
            counts.skip_busy(mapping_id)
        else:
            counts.unchanged += 1


class SyncRunner:
    def __init__(
        self,
        ports: EnginePorts,
        connection_id: str,
        erp: ErpConnector,
        atlas: AtlasPort,
        events: EventBus,
    ) -> None:
        self.ports = ports
        self.connection_id = connection_id
        self.erp = erp
        self.atlas = atlas
        self.events = events
        # Items this run refused for their quantity (read, or merged out of bounds): failed items.
        self.refused = 0
        self.doubles_found = 0  # pairs this run found another connection maps too (item errors)
        self._cancelled = False
        self._push_stats: list[PushStats] = []  # every drain's, so a cancelled run still counts its writes
        self._ask_pending = False  # the database is older than what was sent: pending ERP writes are asked

    def cancel(self) -> None:
        """Stop at the next safe point (see RunCancelled); the run ends as CANCELLED with what it did."""
        self._cancelled = True

    def _checkpoint(self) -> None:
        if self._cancelled:
            raise RunCancelled

    def _progress(self, phase: str, done: int, total: int | None = None) -> None:
        """Told after each page, merge chunk and push wave: also where a cancel takes effect."""
        self.events.publish(RunProgress(self.connection_id, phase, done, total))
        self._checkpoint()

    async def run(self, options: RunOptions) -> RunSummary:
        started = time.monotonic()
        started_at = datetime.now(UTC)
        calls_before = self.erp.api_calls + self.atlas.api_calls
        errors_before = self.erp.api_errors + self.atlas.api_errors
        log_id = await self.ports.runs.start(self.connection_id, options.sync_type, options.direction)
        self.events.publish(RunStarted(self.connection_id, options.sync_type))
        status, plan_shown, error_message = RunStatus.SUCCESS, None, None
        entered: list[dict[str, Any]] = []  # purchase orders entered: the run's list shows them (run_changes)
        counts, pushed, failed, in_doubt = PlanCounts(), 0, 0, 0
        try:
            if not options.preview_only:
                await self._check_rewound()
            # Writes decided by an earlier run (crash, timeout) are settled before anything is read.
            earlier = PushStats() if options.preview_only else await self._push(options, log_id)
            pusher_stats = await self._pull_and_merge(options, counts, log_id)
            if isinstance(pusher_stats, SyncPlan):
                status, plan_shown = RunStatus.PREVIEW, pusher_stats
            else:
                pushed = earlier.done + pusher_stats.done
                if options.preview_only:  # pragma: no cover - a preview returns its plan above
                    raise AssertionError("a preview must not write")
                failed = earlier.failed + pusher_stats.failed + self.doubles_found
                in_doubt = pusher_stats.in_doubt
                if options.transactions:
                    orders = await self._orders(options, log_id)
                    pushed += orders.created
                    entered = [describe_order(order).as_json() for order in orders.entered]
                    failed += len(orders.failed)
                if failed or in_doubt or self.refused:
                    status = RunStatus.PARTIAL
                if self._ask_pending:
                    assert self.ports.sent_mark is not None  # set only where it is kept
                    await self.ports.sent_mark.settle(self.connection_id)
        except AtlasDesktopError as error:
            status, error_message = RunStatus.FAILED, f"{error.message} — {error.fix}"
            log.warning("sync of %s failed: %s", self.connection_id, error_message)
        except RunCancelled:
            status, error_message = RunStatus.CANCELLED, CANCELLED_MESSAGE
            pushed = sum(stats.done for stats in self._push_stats)
            failed = sum(stats.failed for stats in self._push_stats) + self.doubles_found
            in_doubt = sum(stats.in_doubt for stats in self._push_stats)
            log.info("sync of %s cancelled by the user", self.connection_id)
        summary = RunSummary(
            sync_log_id=log_id,
            connection_id=self.connection_id,
            sync_type=options.sync_type,
            status=status,
            items_synced=pushed,
            items_failed=failed + self.refused,
            items_skipped=counts.skipped_busy + counts.skipped_missing,
            api_calls_made=self.erp.api_calls + self.atlas.api_calls - calls_before,
            api_errors=self.erp.api_errors + self.atlas.api_errors - errors_before,
            conflicts_opened=counts.conflicts,
            in_doubt=in_doubt,
            duration_seconds=round(time.monotonic() - started, 3),
            started_at=started_at,
            plan=plan_shown,
            error_message=error_message,
        )
        await self.ports.runs.finish(
            log_id,
            status=SyncLogStatus(status.value),
            items_synced=summary.items_synced,
            items_failed=summary.items_failed,
            items_skipped=summary.items_skipped,
            api_calls_made=summary.api_calls_made,
            api_errors=summary.api_errors,
            conflicts_opened=summary.conflicts_opened,
            in_doubt=summary.in_doubt,
            error_message=error_message,
            error_details=(
                {"plan": plan_shown.as_json()} if plan_shown else {"orders": entered} if entered else None
            ),
        )
        await self._audit(options, summary)
        self.events.publish(RunFinished(summary))
        return summary

    async def _audit(self, options: RunOptions, summary: RunSummary) -> None:
        """The run itself, appended to the tamper-evident audit trail after its writes (see _audit_writes)."""
        if self.ports.audit is not None:
            await self.ports.audit.append_many(self._audit_events(options, [], summary))

    async def _audit_writes(self, options: RunOptions, written: Written) -> None:
        """A push wave's confirmed writes, appended to the audit trail as the wave is recorded."""
        if self.ports.audit is None:
            return
        # AUDIT_CHUNK writes per call: each entry is cleaned, hashed and stored on the DB thread, and one
        # call for a first sync's thousands of writes would keep the window waiting for the GIL.
        for start in range(0, len(written), AUDIT_CHUNK):
            await self.ports.audit.append_many(
                self._audit_events(options, written[start : start + AUDIT_CHUNK])
            )

    def _audit_events(
        self,
        options: RunOptions,
        written: Written,
        summary: RunSummary | None = None,
    ) -> Iterator[AuditEvent]:
        """Made as the audit trail takes them, so on the DB thread with the cleaning and hashing."""
        source = _AUDIT_SOURCES.get(options.sync_type, AuditSource.SYSTEM)
        kept = ("delta", "expiry", "item_id", "row_id", "lot")
        for entry, remote_id in written:
            yield AuditEvent(
                "write",
                options.actor,
                source,
                self.connection_id,
                entry.idempotency_key,
                {"operation": entry.operation, "remote_id": remote_id, "mapping_id": entry.mapping_id,
                 **{k: v for k, v in entry.payload.items() if k in kept}},
            )  # fmt: skip
        if summary is not None:
            yield AuditEvent(
                "sync_run",
                options.actor,
                source,
                self.connection_id,
                str(summary.sync_log_id),
                {"status": summary.status.value, "sync_type": summary.sync_type.value,
                 "items_synced": summary.items_synced, "items_failed": summary.items_failed,
                 "conflicts_opened": summary.conflicts_opened, "in_doubt": summary.in_doubt},
            )  # fmt: skip

    async def _pull_and_merge(
        self, options: RunOptions, counts: PlanCounts, log_id: int
    ) -> SyncPlan | PushStats:
        await self._settle_doubles(log_id)
        puller = Puller(
            self.ports.mirrors, self.ports.runs, self.connection_id, self.erp, self.atlas,
            progress=lambda phase, done: self._progress(phase, done), log_id=log_id,
        )  # fmt: skip
        self._checkpoint()  # a cancel during the settling push waits no longer than its wave
        await puller.pull_both(full=options.full)
        await puller.carry_refusals()
        self.refused = puller.stats.refused
        atlas_has_rows, erp_has_stock = await self.ports.mirrors.sides_with_stock(self.connection_id)
        mapped = await self.ports.mappings.any_matched(self.connection_id)
        if mapped and not (atlas_has_rows and erp_has_stock):
            # An empty listing is a broken read, not "everything was deleted".
            raise InvalidResponse(
                "one side returned no stock at all while items are mapped; nothing was changed",
                fix="Check the connection test; if the side is really empty, remove the mappings first.",
            )
        # What this run read until now, it merges now: the next run looks at what is read after this.
        await self.ports.runs.reads_done(log_id, datetime.now(UTC))
        flipping = await self._flipping(options)
        since = None if options.full_merge else await self._change_window(log_id)
        # Product master diffs leave out keys with a pending decision: read them before this run records any.
        product_drafts: list[DecisionDraft] = []
        if options.product_master and options.direction is not SyncDirection.ATLAS_TO_ERP:
            product_drafts = await self.ports.thread(
                self._product_master_drafts, counts, options.erp_type, since
            )
        # Every kind of change, counted on the drafts as they will be recorded (an approved run lists none).
        ledger = PlanLedger(listing=not options.approve)
        frozen, remerge, earlier_refusals = await self._refusal_sets()
        rows = await self.ports.thread(self._merge_rows, since, frozen, remerge, counts)
        # Every matched key is merged when there is no earlier run to start from (a first sync): then the
        # total is known and the window shows "N of M"; an incremental run's share is not known ahead.
        merge_total = None
        if since is None:
            merge_total = await self.ports.mappings.count(self.connection_id, status=MappingStatus.MATCHED)
        # An approved run is recorded whatever the plan says, so its decisions are stored as they are
        # planned: a first sync's drafts never sit in memory together. Otherwise they wait for the
        # preview check.
        drafts: list[DecisionDraft] = []
        # plan() is pure but not cheap on many rows: it runs on the DB thread right after its rows
        # are read, so the event loop (the window) stays free. `counts` is only touched there meanwhile.
        merge = partial(plan, counts=counts, initial_source=options.initial_source, flipping=flipping)
        # No decision is recorded whose quantities a side cannot hold: it becomes an item error instead.
        write_refusals: list[WriteRefusal] = []
        bounds = (ATLAS, erp_bounds(options.erp_type))

        reads = self.ports.merge_reads

        def planner(chunk: list[MergeRow]) -> list[DecisionDraft]:
            kept = within_bounds(merge(chunk), *bounds, counts, write_refusals)
            ledger.add(kept, reads.labels(ledger.to_label(kept)) if ledger.listing else {})
            return kept

        while (planned := await self.ports.thread(_plan_next, rows, MERGE_CHUNK, planner)) is not None:
            drafts.extend(planned)
            if options.approve and len(drafts) >= RECORD_BATCH:
                await self._record(log_id, drafts)
            self._progress("merge", counts.rows, merge_total)
        labels = await self.ports.mappings.labels(ledger.to_label(product_drafts))
        ledger.add(product_drafts, labels)
        drafts.extend(product_drafts)
        # `drafts` holds them now and is emptied gradually. Left to the frame's end, this list would free
        # the product drafts all at once on the loop's thread.
        del product_drafts
        if merge_total is None:
            merge_total = await self.ports.mappings.count(self.connection_id, status=MappingStatus.MATCHED)
        reason = self._preview_reason(counts, options, merge_total)
        if options.preview_only:
            reason = reason or "preview asked for"
        if reason and not options.approve:
            await self.ports.thread(empty_gradually, drafts)
            if options.transactions:  # the run enters these as purchase orders after the push
                ledger.add_orders(await self._transfer(options).pending())
            kinds = ledger.counts(counts.unchanged)
            return SyncPlan(
                to_atlas=counts.to_atlas,
                to_erp=counts.to_erp,
                conflicts=counts.conflicts,
                creates_on_atlas=kinds[ChangeKind.NEW_LISTING],
                unchanged=counts.unchanged,
                reason=reason,
                kinds=kinds,
                changes=tuple(ledger.changes),
                left_out=ledger.left_out,
            )
        await self._record(log_id, drafts)
        await self._record_write_refusals(log_id, write_refusals, earlier_refusals)
        await self.ports.outbox.touch_bases(counts.waiting)
        return await self._push(options, log_id)

    async def _refusal_sets(self) -> tuple[set[int], list[int], list[int]]:
        """From the open refusals: (mappings frozen because a side's value was refused at the door,
        mappings whose merged value was refused and are merged again now, the ids of those refusals)."""
        frozen: set[int] = set()
        remerge: set[int] = set()
        earlier: list[int] = []
        for view in await self.ports.runs.open_refusals(self.connection_id):
            if view.mapping_id is None:
                continue
            if is_read_ref(view.item_ref):
                frozen.add(view.mapping_id)
            elif view.item_ref.startswith(MAPPING_REF_PREFIX):
                remerge.add(view.mapping_id)
                earlier.append(view.id)
        return frozen, sorted(remerge - frozen), earlier

    def _merge_rows(
        self, since: ChangeWindow | None, frozen: set[int], remerge: list[int], counts: PlanCounts
    ) -> Iterator[MergeRow]:
        """The merge rows of this run: keys with a refused value are left out (neither merged nor written
        until the value is corrected); keys whose merged value was refused are merged again."""
        mappings = self.ports.merge_reads
        settled: list[int] = []  # filled when the lookup runs, before the first row
        rows: Iterator[MergeRow] = iter(
            mappings.merge_inputs(self.connection_id, changed_since=since, batch=MERGE_CHUNK, settled=settled)
        )
        if frozen or remerge:
            rows = _without(rows, frozen, set(remerge), counts)
        rows = _then_settled(rows, settled, frozen, set(remerge), counts)
        if remerge:
            again = mappings.merge_inputs(self.connection_id, mapping_ids=remerge, batch=MERGE_CHUNK)
            rows = itertools.chain(rows, again)
        return rows

    async def _record_write_refusals(
        self, log_id: int, refused: list[WriteRefusal], earlier: list[int]
    ) -> None:
        """This run's refused merges as its item errors; the earlier ones (merged again) closed."""
        if refused or earlier:
            found = [Refusal(r.ref, r.error.as_dict(), mapping_id=r.mapping_id) for r in refused]
            await self.ports.runs.record_refusals(log_id, self.connection_id, found, close=earlier)
        self.refused += len(refused)

    async def _settle_doubles(self, log_id: int) -> None:
        """An Atlas row belongs to one connection. A pair another connection also maps (made before that
        was checked) is marked and skipped, by both connections, until the user unmaps one side: an item
        error and an alert the first time, the mapping review's Conflict filter until then."""
        found: list[Double] = await self.ports.mappings.settle_doubles(self.connection_id)
        self.doubles_found = len(found)
        for double in found:
            error = {
                "kind": ErrorKind.CONFLICT.value,
                "message": double.message,
                "fix": "An Atlas row belongs to one connection: unmap it in one of them (mapping review, "
                "Conflict filter). Until then neither connection syncs it; nothing is lost meanwhile.",
            }
            ref = f"mapping {double.mapping_id} (Atlas row {double.atlas_inventory_id})"
            await self.ports.runs.add_item_error(log_id, self.connection_id, double.mapping_id, ref, error)
        if found:
            report_doubles(self.events, self.connection_id, found)

    async def _record(self, log_id: int, drafts: list[DecisionDraft]) -> None:
        """Store `drafts` in transactions of RECORD_BATCH decisions, emptying the list."""
        for start in range(0, len(drafts), RECORD_BATCH):
            await self.ports.outbox.record(self.connection_id, log_id, drafts[start : start + RECORD_BATCH])
        await self.ports.thread(empty_gradually, drafts)

    def _product_master_drafts(
        self, counts: PlanCounts, erp_type: ErpType, since: ChangeWindow | None
    ) -> list[DecisionDraft]:
        reads = self.ports.merge_reads
        diffs = reads.product_master_diffs(self.connection_id, changed_since=since)
        names = plan_names(diffs, erp_type)
        reads.note_erp_names(names.seen)
        return product_master_drafts(names.carry, counts)

    async def _change_window(self, log_id: int) -> ChangeWindow | None:
        """Only keys touched since the last run that merged and recorded need a decision (an idle run
        merges nothing). A preview or a failed run may have read changes it never merged, so they do
        not count; None — merge every key — when no such run is recent."""
        recent = await self.ports.runs.recent(self.connection_id, 10)
        merged = (SyncLogStatus.SUCCESS, SyncLogStatus.PARTIAL)
        earlier = [
            run
            for run in recent
            if run.id != log_id and run.status in merged and run.sync_type != SyncType.RECONCILE.value
        ]
        if not earlier:
            return None
        last = max(earlier, key=lambda run: run.started_at)
        if last.reads_done_at is None:  # a run from before the marks: everything since its start
            return ChangeWindow.since(last.started_at)
        return ChangeWindow(last.started_at, last.reads_done_at, last.id)

    async def _flipping(self, options: RunOptions) -> dict[int, int]:
        """The loop guard: keys whose agreed value ping-ponged more than allowed in the window."""
        since = datetime.now(UTC) - LOOP_GUARD_WINDOW
        recent = await self.ports.outbox.recent_base_quantities(
            self.connection_id, since, min_decisions=options.loop_guard_flips + 2
        )
        flips = {mapping_id: flip_count(bases) for mapping_id, bases in recent.items()}
        return {mapping_id: n for mapping_id, n in flips.items() if n > options.loop_guard_flips}

    @staticmethod
    def _preview_reason(counts: PlanCounts, options: RunOptions, mapped: int) -> str:
        skipped = counts.skipped_busy + counts.skipped_missing
        considered = counts.rows - skipped
        if considered and counts.first_sync == considered:
            return "first sync: nothing has been synced for these items yet"
        changed = counts.to_atlas + counts.to_erp
        # The share is of every mapped item: a run merges only the keys whose inputs moved, and nearly all
        # of those change, so a share of the merged keys would hold back any run that merges few.
        of_items = max(mapped - skipped, considered)
        if of_items >= MIN_ROWS_FOR_SHARE_CHECK and changed > options.max_change_share * of_items:
            share = Decimal(changed) / Decimal(of_items)
            return f"{share:.0%} of the mapped items would change (more than {options.max_change_share:.0%})"
        return ""

    def _transfer(self, options: RunOptions) -> OrderTransfer:
        return OrderTransfer(
            self.ports.thread, self.ports.mirror_reads, self.ports.runs, self.connection_id,
            options.erp_type, self.erp, self.atlas,
        )  # fmt: skip

    async def _orders(self, options: RunOptions, log_id: int) -> OrderStats:
        stats = await self._transfer(options).run()
        for order, error in stats.failed:
            ref = f"order {order.number} ({order.atlas_order_id})"
            await self.ports.runs.add_item_error(log_id, self.connection_id, None, ref, error.as_dict())
        return stats

    async def _check_rewound(self) -> None:
        """Before anything is planned (new writes would hide it): is the database older than the writes
        this machine sent? Then every pending ERP write is asked for, until a run drains them all."""
        if self.ports.sent_mark is None:
            return
        self._ask_pending = await self.ports.sent_mark.rewound(self.connection_id)
        if self._ask_pending:
            log.warning(
                "connection %s: the profile database is older than the writes this machine has sent "
                "(restored from a copy?): every pending ERP write is checked with the ERP before it is sent",
                self.connection_id,
            )

    async def _push(self, options: RunOptions, log_id: int) -> PushStats:
        open_writes = await self.ports.outbox.counts(self.connection_id)
        total = sum(open_writes.get(status.value, 0) for status in OPEN_OUTBOX)

        def after_wave(stats: PushStats) -> None:
            self._progress("push", stats.done + stats.failed + stats.in_doubt, total or None)

        pusher = Pusher(
            self.ports.outbox, self.ports.mirrors, self.connection_id, self.erp, self.atlas,
            on_written=partial(self._audit_writes, options), after_wave=after_wave,
            ask_pending=self._ask_pending,
        )  # fmt: skip
        self._push_stats.append(pusher.stats)
        try:
            return await pusher.drain()
        finally:  # a cancelled drain's refused writes are item errors of the run too
            await self._record_push_errors(pusher.stats, log_id)

    async def _record_push_errors(self, stats: PushStats, log_id: int) -> None:
        for entry, error in stats.errors:
            ref = f"{entry.operation} {entry.payload.get('row_id') or entry.payload.get('item_id')}"
            await self.ports.runs.add_item_error(
                log_id, self.connection_id, entry.mapping_id, ref, error.as_dict()
            )
