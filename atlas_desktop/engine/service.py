"""The engine facade (SyncEngine): one object the UI, the CLI and the agent talk to.

It owns one ERP connector and one Atlas client per connection (one HTTP client each), a single
database thread (SQLite writes serialised off the event loop), and one lock per connection so runs
never overlap: a "Sync now" during a run waits for that run and returns its result. Across processes
the profile's run lock (handed in) does the same: a run another process holds is refused with
RunInProgress after a short wait.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from atlas_desktop.connectors.atlas import SyncLogSummary
from atlas_desktop.domain.conflict_view import ConflictView
from atlas_desktop.domain.connection import ConnectionSpec
from atlas_desktop.domain.connection_summary import ConnectionSummary
from atlas_desktop.domain.connector import ErpConnector
from atlas_desktop.domain.discovery_counts import DiscoveryCounts
from atlas_desktop.domain.drafts import DecisionDraft
from atlas_desktop.domain.enums import Resolution, SyncLogStatus, SyncType
from atlas_desktop.domain.errors import AtlasDesktopError, ConfigError
from atlas_desktop.domain.merge_rows import MergeRow
from atlas_desktop.domain.model import ConnectionReport, Side, utc_now
from atlas_desktop.domain.snapshots import BaseValues
from atlas_desktop.engine.api import (
    ConnectionAlert,
    DiscoveryProgress,
    DiscoverySummary,
    EventBus,
    RunStatus,
    RunSummary,
    SyncPlan,
)
from atlas_desktop.engine.changes import OPERATION_KINDS, ChangeLabel, PlannedChange, describe_write
from atlas_desktop.engine.discovery import LocationResolver, identify_ndc
from atlas_desktop.engine.discovery_source import discover_in_memory, discover_in_scratch
from atlas_desktop.engine.health import health_report
from atlas_desktop.engine.merge import MergeDecision, SideValue
from atlas_desktop.engine.plan import writes_for
from atlas_desktop.engine.ports import AtlasPort, EnginePorts, StoreThread
from atlas_desktop.engine.pull import Puller
from atlas_desktop.engine.run_lock import DEFAULT_WAIT_S, RunGate, RunLocks
from atlas_desktop.engine.runner import RunOptions, SyncRunner, report_doubles
from atlas_desktop.engine.unmatched import UnmatchedRow, count_reasons
from atlas_desktop.engine.unmatched import explain as explain_unmatched

log = logging.getLogger(__name__)
ALERT_AFTER_FAILURES = 3


@dataclass
class ReconcileReport:
    sync_log_id: int
    keys_checked: int
    drift: list[dict[str, Any]]
    fix: RunSummary | None = None


class EngineService:
    def __init__(
        self,
        ports: EnginePorts,
        *,
        connection_spec: Callable[[str], ConnectionSpec],
        connection_summary: Callable[[str], ConnectionSummary],
        activate_connection: Callable[[str], None] | None = None,
        erp_factory: Callable[[ConnectionSpec], ErpConnector],
        atlas_factory: Callable[[], AtlasPort],
        max_change_share: float = 0.5,
        run_locks: RunLocks | None = None,
        run_lock_wait: float = DEFAULT_WAIT_S,
        on_tested: Callable[[str, ConnectionReport], None] | None = None,
    ) -> None:
        self.ports = ports
        self._on_tested = on_tested  # keeps the latest test for support's diagnostics bundle
        self.events = EventBus()
        self._connection_spec = connection_spec
        self._connection_summary = connection_summary
        self._activate_connection = activate_connection
        self._erp_factory = erp_factory
        self._atlas_factory = atlas_factory
        self._max_change_share = max_change_share
        self._erp: dict[str, ErpConnector] = {}
        self._erp_built_from: dict[str, ConnectionSpec] = {}  # the stored connection each one was made of
        self._atlas: AtlasPort | None = None
        self._gate = RunGate(
            run_locks, wait=run_lock_wait, name_of=self._name, on_taken=self._close_interrupted
        )
        self._running: dict[str, asyncio.Task[RunSummary]] = {}
        self._runners: dict[str, SyncRunner] = {}  # the run going on per connection, for cancel()
        self._cancel_asked: weakref.WeakSet[asyncio.Task[RunSummary]] = weakref.WeakSet()

    @property
    def db(self) -> StoreThread:
        """The DB thread, for callers that read the store beside the engine (the window, the CLI)."""
        return self.ports.thread

    # -- connectors -------------------------------------------------------------------------------
    def _build_erp(self, connection_id: str) -> tuple[ConnectionSpec, ErpConnector]:
        spec = self._connection_spec(connection_id)
        return spec, self._erp_factory(spec)

    async def erp(self, connection_id: str) -> ErpConnector:
        if connection_id not in self._erp:
            # Built on the DB thread, like the Atlas client: loading the CA bundle and making the HTTP
            # client is slow enough to freeze the window if done on the event loop.
            spec, built = await self.ports.thread(self._build_erp, connection_id)
            connector = self._erp.setdefault(connection_id, built)
            if connector is built:
                self._erp_built_from[connection_id] = spec
            else:  # another caller built one meanwhile: keep theirs
                await built.aclose()
        return self._erp[connection_id]

    async def _current_erp(self, connection_id: str) -> ErpConnector:
        """The cached connector, or a new one if the stored connection changed since it was built.

        Another process cannot reach this cache (the CLI renewing a certificate or replacing credentials
        while the agent runs): the store is what they share, so each run compares it with what the
        connector was made of."""
        built_from = self._erp_built_from.get(connection_id)
        if built_from is not None and connection_id in self._erp:
            stored = await self.ports.thread(self._connection_spec, connection_id)
            if stored != built_from:
                log.info("the stored credentials or settings of %s changed: a new connector", connection_id)
                await self.forget_connector(connection_id)
        return await self.erp(connection_id)

    async def atlas(self) -> AtlasPort:
        if self._atlas is None:
            self._atlas = await self.ports.thread(self._atlas_factory)
        return self._atlas

    async def test_spec(self, spec: ConnectionSpec) -> ConnectionReport:
        """A connection test of credentials not stored yet (replacing a connection's): a connector of its
        own, built like the cached ones (same network options) and closed after."""
        connector = await self.ports.thread(self._erp_factory, spec)
        try:
            report: ConnectionReport = await connector.test_connection()
        finally:
            await connector.aclose()
        return report

    async def forget_connector(self, connection_id: str) -> None:
        """Credentials or settings changed: close the cached connector; the next use builds a new one."""
        connector = self._erp.pop(connection_id, None)
        self._erp_built_from.pop(connection_id, None)
        if connector is not None:
            await connector.aclose()

    def _exclusive(self, connection_id: str) -> AbstractAsyncContextManager[None]:
        """Held by everything that changes a connection's sync state (RunInProgress if another process
        still runs it after the short wait)."""
        return self._gate.hold(connection_id)

    def exclusive(self, connection_id: str) -> AbstractAsyncContextManager[None]:
        """Hold a connection as a run does, for work that must not overlap one (removing it). Refuses at
        once, instead of queueing, when this process is running the connection."""
        return self._gate.hold(connection_id, queue_here=False)

    async def _close_interrupted(self, connection_id: str) -> None:
        # Nobody else runs this connection now, so a run still marked running died with its process.
        left = await self.ports.runs.mark_interrupted(connection_id)
        if left:
            log.info("%d run(s) of %s left running by a stopped process: interrupted", left, connection_id)

    async def _name(self, connection_id: str) -> str:
        try:
            return (await self.ports.thread(self._connection_summary, connection_id)).name
        except AtlasDesktopError:
            return connection_id

    async def aclose(self) -> None:
        for task in self._running.values():
            task.cancel()
        for connector in self._erp.values():
            await connector.aclose()
        if self._atlas is not None:
            await self._atlas.aclose()
        self.ports.thread.close()

    # -- SyncEngine -------------------------------------------------------------------------------
    async def test_connection(self, connection_id: str) -> ConnectionReport:
        report: ConnectionReport = await (await self.erp(connection_id)).test_connection()
        if self._on_tested is not None:
            await self.ports.thread(self._on_tested, connection_id, report)
        return report

    async def discover(self, connection_id: str) -> DiscoverySummary:
        """Read both sides, then pair Atlas rows with ERP stock by NDC, lot and location."""
        async with self._exclusive(connection_id):
            erp, atlas = await self._current_erp(connection_id), await self.atlas()

            def progress(phase: str, done: int) -> None:
                self.events.publish(DiscoveryProgress(connection_id, done, phase=phase))

            puller = Puller(
                self.ports.mirrors, self.ports.runs, connection_id, erp, atlas, progress=progress
            )
            await puller.pull_both()
            locations = await erp.locations()
            spec = await self.ports.thread(self._connection_spec, connection_id)
            resolver = LocationResolver(locations, spec.settings.get("location_map") or {})
            self.events.publish(DiscoveryProgress(connection_id, 0, phase="match"))
            counts = await self.ports.thread(self._discover_from_mirrors, connection_id, resolver)
            notes = await self.ports.mappings.unmatched_atlas_notes(connection_id)
        if counts.new_doubles:
            report_doubles(self.events, connection_id, counts.new_doubles)
        return DiscoverySummary(
            matched=counts.matched,
            ambiguous=counts.ambiguous,
            unmatched_atlas=counts.unmatched_atlas,
            unmatched_erp=counts.unmatched_erp,
            mapped_elsewhere=counts.mapped_elsewhere,
            doubles=counts.doubles,
            unmatched_reasons=count_reasons(notes),
        )

    async def unmatched_atlas(self, connection_id: str, limit: int = 5000) -> list[UnmatchedRow]:
        """The Atlas rows discovery found no ERP position for, each with why and what to do."""
        rows = await self.ports.mappings.unmatched_atlas_rows(connection_id, limit)
        return explain_unmatched(rows)

    def _discover_from_mirrors(self, connection_id: str, resolver: LocationResolver) -> DiscoveryCounts:
        """Discovery on the DB thread, streamed: the Atlas rows are read a chunk at a time and the drafts
        written in batches as they come; the ERP side stays in scratch tables when the store has them."""
        apply = self.ports.merge_reads.apply_discovery
        try:
            if self.ports.discovery is None:
                in_memory = discover_in_memory(self.ports.mirror_reads, connection_id, resolver)
                return apply(connection_id, in_memory)
            with discover_in_scratch(self.ports.discovery, connection_id, resolver) as drafts:
                return apply(connection_id, drafts)
        finally:
            identify_ndc.cache_clear()  # only worth its memory while one discovery runs

    async def run_changes(self, sync_log_id: int) -> list[PlannedChange]:
        """What run `sync_log_id` changed, one line per write it got done (from its outbox records)."""
        writes = await self.ports.runs.run_writes(sync_log_id)
        labels = await self.ports.mappings.labels([w.mapping_id for w in writes if w.mapping_id is not None])
        unknown = ("(mapping removed since)", "", "")
        changes = [
            describe_write(w.operation, w.payload, ChangeLabel(*labels.get(w.mapping_id or 0, unknown)),
                           w.mapping_id)
            for w in writes
            if w.operation in OPERATION_KINDS
        ]  # fmt: skip
        details = (await self.ports.runs.get(sync_log_id)).error_details
        orders = details.get("orders", []) if isinstance(details, dict) else []
        return changes + [PlannedChange.from_json(order) for order in orders]

    async def preview(self, connection_id: str) -> SyncPlan:
        summary = await self.sync(connection_id, sync_type=SyncType.MANUAL, approve=False, force_preview=True)
        return summary.plan or SyncPlan(0, 0, 0, 0, 0, reason="nothing to change")

    async def sync(
        self,
        connection_id: str,
        *,
        sync_type: SyncType = SyncType.MANUAL,
        approve: bool = False,
        full: bool = False,
        force_preview: bool = False,
        full_merge: bool = False,
    ) -> RunSummary:
        running = self._running.get(connection_id)
        if running is not None and not running.done():
            if running not in self._cancel_asked:
                return await asyncio.shield(running)  # "Sync now" during a run joins it
            # ...but not a run being cancelled: its outcome is not what this caller asked for.
            await asyncio.wait([running])
            running = self._running.get(connection_id)
            if running is not None and not running.done():  # another caller started one meanwhile
                return await asyncio.shield(running)
        task = asyncio.ensure_future(
            self._run(connection_id, sync_type, approve, full, force_preview, full_merge)
        )
        self._running[connection_id] = task
        return await asyncio.shield(task)

    def cancel(self, connection_id: str) -> bool:
        """Stop the connection's run at its next safe point: it ends as cancelled, with what it did kept
        (engine/runner.RunCancelled). A run still waiting for the connection's lock is simply dropped.
        False when this process runs nothing for it."""
        task = self._running.get(connection_id)
        if task is None or task.done():
            return False
        self._cancel_asked.add(task)
        runner = self._runners.get(connection_id)
        if runner is not None:
            runner.cancel()
        else:
            task.cancel()  # still waiting for the lock: nothing was read or written yet
        return True

    async def _run(
        self,
        connection_id: str,
        sync_type: SyncType,
        approve: bool,
        full: bool,
        force_preview: bool,
        full_merge: bool,
    ) -> RunSummary:
        async with self._exclusive(connection_id):
            summary_row = await self.ports.thread(self._connection_summary, connection_id)
            options = RunOptions(
                sync_type=sync_type,
                approve=approve and not force_preview,
                preview_only=force_preview,
                full=full,
                full_merge=full_merge
                or full
                or force_preview
                or sync_type in (SyncType.RECONCILE, SyncType.FULL),
                max_change_share=0.0 if force_preview else self._max_change_share,
                initial_source=Side(summary_row.settings.get("initial_source", Side.ERP.value)),
                direction=summary_row.sync_direction,
                transactions=bool(summary_row.sync_scopes.get("transactions", False)),
                product_master=bool(summary_row.sync_scopes.get("product_master", True)),
                erp_type=summary_row.erp_type,
            )
            runner = SyncRunner(
                self.ports,
                connection_id,
                await self._current_erp(connection_id),
                await self.atlas(),
                self.events,
            )
            self._runners[connection_id] = runner
            try:
                summary = await runner.run(options)
            finally:
                self._runners.pop(connection_id, None)
            if options.approve and summary.status in (RunStatus.SUCCESS, RunStatus.PARTIAL):
                # The user has seen and approved the first plan: from now on the schedule may run it.
                if self._activate_connection is not None and not summary_row.sync_enabled:
                    await self.ports.thread(self._activate_connection, connection_id)
        await self._report(connection_id, summary, summary_row)
        await self._alerts(connection_id, summary)
        return summary

    async def _report(self, connection_id: str, summary: RunSummary, info: ConnectionSummary) -> None:
        """The run's summary to the Atlas cloud, for support staff (best effort, never a credential)."""
        # A cancelled run is not a run's outcome (the contract knows none for it) and changes no state.
        if summary.status in (RunStatus.PREVIEW, RunStatus.CANCELLED):
            return
        started = summary.started_at or utc_now()
        try:
            atlas = await self.atlas()
            await atlas.upload_sync_log(
                connection_id,
                SyncLogSummary(
                    sync_type=summary.sync_type.value,
                    direction=info.sync_direction.value,
                    status=summary.status.value,
                    started_at=started,
                    completed_at=utc_now(),
                    duration_seconds=Decimal(str(summary.duration_seconds)),
                    items_synced=summary.items_synced,
                    items_failed=summary.items_failed,
                    items_skipped=summary.items_skipped,
                    api_calls_made=summary.api_calls_made,
                    api_errors=summary.api_errors,
                    conflicts_opened=summary.conflicts_opened,
                    in_doubt=summary.in_doubt,
                    error_message=summary.error_message,
                ),
                # A run id is used again after lost commits: the start time keeps two runs apart.
                key=f"sync-log-{connection_id}-{summary.sync_log_id}-{started:%Y%m%d%H%M%S%f}",
            )
            if self.ports.counts is not None:
                counts = await self.ports.counts.counts(connection_id)
                fresh = await self.ports.thread(self._connection_summary, connection_id)
                await atlas.report_health(connection_id, health_report(fresh, counts))
        except AtlasDesktopError as error:
            log.info("sync log / health not sent to Atlas: %s", error.message)

    async def reconcile(self, connection_id: str, *, fix: bool = True) -> ReconcileReport:
        """Read both sides whole, independent of watermarks, and report drift: keys whose values the
        incremental reads had missed (writes still in the outbox explain theirs, so they are left out).
        With `fix`, a normal run then merges what was found, through the usual merge path."""
        async with self._exclusive(connection_id):
            erp, atlas = await self._current_erp(connection_id), await self.atlas()
            info = await self.ports.thread(self._connection_summary, connection_id)
            log_id = await self.ports.runs.start(connection_id, SyncType.RECONCILE, info.sync_direction)
            before = await self.ports.thread(self._key_values, connection_id)
            puller = Puller(self.ports.mirrors, self.ports.runs, connection_id, erp, atlas, log_id=log_id)
            try:
                await puller.pull_atlas_full()
                await puller.pull_erp(full=True)
            except AtlasDesktopError as error:
                await self._finish_reconcile(
                    log_id, SyncLogStatus.FAILED, [], f"{error.message} — {error.fix}"
                )
                raise
            after = await self.ports.thread(self._key_values, connection_id)
            drift = [
                {"mapping_id": mapping_id, "was": list(before[mapping_id]), "now": list(values)}
                for mapping_id, values in after.items()
                if before.get(mapping_id) is not None and before[mapping_id] != values
            ]
            message = f"{len(drift)} item(s) had changed unseen by the incremental reads" if drift else None
            status = SyncLogStatus.PARTIAL if drift else SyncLogStatus.SUCCESS
            await self._finish_reconcile(log_id, status, drift, message)
        report = ReconcileReport(log_id, len(after), drift)
        if fix and drift:
            report.fix = await self.sync(connection_id, sync_type=SyncType.RECONCILE)
        return report

    async def _finish_reconcile(
        self, log_id: int, status: SyncLogStatus, drift: list[dict[str, Any]], message: str | None
    ) -> None:
        await self.ports.runs.finish(
            log_id,
            status=status,
            items_synced=0,
            items_failed=0,
            items_skipped=len(drift),
            api_calls_made=0,
            api_errors=0,
            conflicts_opened=0,
            in_doubt=0,
            error_message=message,
            error_details={"drift": drift[:1000]} if drift else None,
        )

    def _key_values(self, connection_id: str) -> dict[int, tuple[str, ...]]:
        """Each matched key's values on both sides as the mirrors hold them (writes in flight left out)."""
        values: dict[int, tuple[str, ...]] = {}
        for row in self.ports.merge_reads.merge_inputs(connection_id):
            if row.has_pending_decision or row.atlas is None or row.erp is None:
                continue
            values[row.mapping_id] = (
                str(row.atlas.quantity),
                str(row.atlas.expiry),
                str(row.erp.quantity),
                str(row.erp.expiry),
            )
        return values

    async def replay_failed(self, connection_id: str) -> RunSummary:
        """Try failed items again: the merge re-derives every write that did not land (bases only moved
        by what did), so a replay is a run after marking the errors as replayed."""
        errors = await self.ports.runs.unreplayed_errors(connection_id)
        await self.ports.runs.mark_replayed([error.id for error in errors])
        return await self.sync(connection_id, sync_type=SyncType.MANUAL, full_merge=True)

    async def resolve_conflict(
        self, conflict_id: int, resolution: Resolution, value: str | None
    ) -> RunSummary:
        return await ConflictResolver(self).resolve(conflict_id, resolution, value)

    async def _failing_streak(self, connection_id: str) -> int:
        """How many of the latest runs in a row failed or had failed items (previews do not count)."""
        streak = 0
        for run in await self.ports.runs.recent(connection_id, 2 * ALERT_AFTER_FAILURES + 10):
            if run.status in (SyncLogStatus.PREVIEW, SyncLogStatus.RUNNING):
                continue
            if run.status is not SyncLogStatus.FAILED and not run.items_failed:
                break
            streak += 1
        return streak

    async def _alerts(self, connection_id: str, summary: RunSummary) -> None:
        info = await self.ports.thread(self._connection_summary, connection_id)
        failures = info.consecutive_failures
        if summary.status is RunStatus.FAILED and failures >= ALERT_AFTER_FAILURES:
            reason = f"{failures} syncs failed in a row"
            self.events.publish(ConnectionAlert(connection_id, reason, failures, kind="failures"))
        elif summary.items_failed:
            # A run that gets through resets the failure count, so items failing run after run (a refused
            # quantity, a refused order) would never alert: count the runs with failed items instead.
            streak = await self._failing_streak(connection_id)
            if streak >= ALERT_AFTER_FAILURES:
                reason = f"items failed in {streak} syncs in a row ({summary.items_failed} in the last)"
                self.events.publish(ConnectionAlert(connection_id, reason, streak, kind="item_failures"))
        if conflicts := summary.conflicts_opened:
            reason = f"{conflicts} conflict needs" if conflicts == 1 else f"{conflicts} conflicts need"
            self.events.publish(ConnectionAlert(connection_id, reason + " a decision", kind="conflicts"))
        if in_doubt := summary.in_doubt:
            reason = f"{in_doubt} write is" if in_doubt == 1 else f"{in_doubt} writes are"
            self.events.publish(ConnectionAlert(connection_id, reason + " in doubt", kind="in_doubt"))


class ConflictResolver:
    """Turns a person's choice on a conflict into a decision written through the outbox like any other."""

    def __init__(self, engine: EngineService) -> None:
        self.engine = engine

    async def resolve(self, conflict_id: int, resolution: Resolution, value: str | None) -> RunSummary:
        engine = self.engine
        ports = engine.ports
        conflict = await ports.conflicts.get(conflict_id)
        async with engine._exclusive(conflict.connection_id):
            rows = await ports.mappings.merge_rows(conflict.connection_id, [conflict.mapping_id])
            if not rows or rows[0].atlas is None or rows[0].erp is None:
                raise ConfigError(
                    "conflict_id",
                    "the item is no longer on both sides",
                    fix="Refresh the mappings, then retry.",
                )
            draft = decision_for_resolution(rows[0], conflict, resolution, value)
            await ports.conflicts.resolve(conflict_id, resolution, value)
            if ports.audit is not None:
                await ports.audit.append(
                    "conflict_resolved",
                    actor="user",
                    source="manual",
                    connection_id=conflict.connection_id,
                    subject=str(conflict_id),
                    details={"field": conflict.field, "resolution": resolution.value, "value": value},
                )
            await ports.outbox.record(conflict.connection_id, None, [draft])
        # The run settles the new writes first (outbox), then reads and merges as usual.
        return await engine.sync(conflict.connection_id, sync_type=SyncType.MANUAL)


def decision_for_resolution(
    row: MergeRow, conflict: ConflictView, resolution: Resolution, value: str | None
) -> DecisionDraft:
    """The writes that make both sides hold the chosen value *as of the conflict the person saw*.

    Deltas are taken from the values recorded with the conflict, and applied relatively: a sale or a
    receipt that happened after the conflict was recorded is kept on top of the chosen value.
    """
    assert row.atlas is not None and row.erp is not None  # checked by the caller: on both sides
    unit = row.erp.unit or row.atlas.unit or "EA"
    if conflict.field == "expiry":
        if resolution is not Resolution.TAKE_ERP:
            raise ConfigError(
                "resolution",
                "the expiry date is kept in the ERP (it is printed on the packs)",
                fix="Correct the lot's expiry in the ERP if it is wrong, then choose 'Take ERP'.",
            )
        # Only the date is settled here; the quantities merge against the kept base on the next run.
        base_quantity = row.base.quantity if row.base else row.erp.quantity
        decision = MergeDecision(
            atlas_expiry=row.erp.expiry,
            set_atlas_expiry=True,
            new_base=SideValue(base_quantity, row.erp.expiry),
        )
    else:
        seen_atlas = Decimal(conflict.atlas_value) if conflict.atlas_value is not None else row.atlas.quantity
        seen_erp = Decimal(conflict.erp_value) if conflict.erp_value is not None else row.erp.quantity
        if resolution is Resolution.TAKE_ATLAS:
            target = seen_atlas
        elif resolution is Resolution.TAKE_ERP:
            target = seen_erp
        else:
            try:
                target = Decimal(str(value))
            except (InvalidOperation, ValueError):
                raise ConfigError(
                    "value", f"'{value}' is not a number", fix="Enter a quantity, e.g. 120."
                ) from None
            if not target.is_finite() or target < 0:
                raise ConfigError("value", "must be zero or more", fix="Enter a quantity, e.g. 120.")
        decision = MergeDecision(
            atlas_delta=target - seen_atlas,
            erp_delta=target - seen_erp,
            new_base=SideValue(target + (row.erp.quantity - seen_erp) + (row.atlas.quantity - seen_atlas),
                               row.erp.expiry),
        )  # fmt: skip
    assert decision.new_base is not None
    new_base = BaseValues(decision.new_base.quantity, decision.new_base.expiry, unit)
    return DecisionDraft(row.mapping_id, new_base, writes_for(row, decision), ())
