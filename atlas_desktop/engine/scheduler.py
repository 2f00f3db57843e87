"""Scheduled and near-real-time runs: APScheduler jobs per connection, plus the Atlas long-poll trigger.

APScheduler 3 (AsyncIOScheduler) runs coroutine jobs on our loop. Jobs are rebuilt from our own
tables at start and whenever they may have changed (no pickled job store), `coalesce` +
`max_instances=1` so a slow run is not stacked, and a listener logs job errors (APScheduler swallows
them). A watchdog compares the wall clock with the loop's monotonic clock: after a sleep/resume gap it
runs every connection at once instead of waiting for the next interval.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from apscheduler.events import EVENT_JOB_ERROR, JobExecutionEvent
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from atlas_desktop.domain.enums import SyncType
from atlas_desktop.domain.errors import AtlasDesktopError, AuthFailed
from atlas_desktop.engine.api import RunInProgress
from atlas_desktop.engine.ports import ChangeFeed

log = logging.getLogger(__name__)
WATCHDOG_SECONDS = 30
RECONCILE_HOUR = 2  # local time: the nightly full comparison runs when nobody works
SLEEP_GAP_SECONDS = 120
REAL_TIME_DEBOUNCE_S = 1.0
FIRST_RUN_DELAY_S = 5.0  # a connection's first run after start or after it joins the schedule


@dataclass(frozen=True)
class ScheduledConnection:
    connection_id: str
    frequency_minutes: int


RunSync = Callable[[str, SyncType], Awaitable[object]]


class SyncScheduler:
    def __init__(
        self,
        run_sync: RunSync,
        connections: Callable[[], Iterable[ScheduledConnection]],
        *,
        first_delay: float = FIRST_RUN_DELAY_S,
    ) -> None:
        self._run_sync = run_sync
        self._connections = connections
        self._first_delay = timedelta(seconds=first_delay)
        self._scheduler = AsyncIOScheduler(timezone=UTC)
        self._scheduler.add_listener(self._on_job_error, EVENT_JOB_ERROR)
        self._wall = time.time()
        self._mono = time.monotonic()

    @property
    def job_ids(self) -> list[str]:
        return [job.id for job in self._scheduler.get_jobs()]

    @property
    def connection_ids(self) -> list[str]:
        """The connections with a scheduled job (not the watchdog, not the nightly reconciliations)."""
        return [job_id for job_id in self.job_ids if job_id != "__watchdog__" and ":" not in job_id]

    def next_run(self, connection_id: str) -> datetime | None:
        job = self._scheduler.get_job(connection_id)
        return job.next_run_time if job else None

    def start(self) -> None:
        """Must be called inside the running loop."""
        self.reload()
        self._scheduler.add_job(
            self._watchdog,
            "interval",
            seconds=WATCHDOG_SECONDS,
            id="__watchdog__",
            coalesce=True,
            max_instances=1,
        )
        self._scheduler.start()

    def reload(self) -> None:
        """Rebuild the per-connection jobs from the connections table.

        Called again whenever connections may have changed: a job whose frequency is unchanged keeps its
        next run time (a reload must not make every connection run at once); a new one runs soon.
        """
        wanted = {c.connection_id: c for c in self._connections()}
        for job in self._scheduler.get_jobs():
            if job.id != "__watchdog__" and ":" not in job.id and job.id not in wanted:
                job.remove()
        for job in self._scheduler.get_jobs():
            if job.id.startswith("reconcile:") and job.id.removeprefix("reconcile:") not in wanted:
                job.remove()
        now = datetime.now(UTC)
        local_zone = datetime.now().astimezone().tzinfo
        for connection in wanted.values():
            minutes = max(1, connection.frequency_minutes)
            existing = self._scheduler.get_job(connection.connection_id)
            if existing is not None and existing.trigger.interval == timedelta(minutes=minutes):
                continue
            if self._scheduler.get_job(f"reconcile:{connection.connection_id}") is None:
                self._scheduler.add_job(
                    self._scheduled_run,
                    "cron",
                    hour=RECONCILE_HOUR,
                    minute=30,
                    timezone=local_zone,
                    args=[connection.connection_id, SyncType.RECONCILE],
                    id=f"reconcile:{connection.connection_id}",
                    coalesce=True,
                    max_instances=1,
                    misfire_grace_time=6 * 3600,
                )
            # A new connection, or one whose frequency changed, runs soon and then at its interval.
            self._scheduler.add_job(
                self._scheduled_run,
                "interval",
                minutes=minutes,
                args=[connection.connection_id],
                id=connection.connection_id,
                replace_existing=True,
                coalesce=True,
                max_instances=1,
                misfire_grace_time=None,
                next_run_time=now + self._first_delay,
            )

    async def _scheduled_run(self, connection_id: str, sync_type: SyncType = SyncType.SCHEDULED) -> None:
        try:
            await self._run_sync(connection_id, sync_type)
        except RunInProgress as busy:
            # Another process (the window, the agent, a command) is on it: its run carries the changes.
            log.info("%s run of %s skipped: %s", sync_type.value, connection_id, busy.message)

    async def _watchdog(self) -> None:
        wall, mono = time.time(), time.monotonic()
        gap = (wall - self._wall) - (mono - self._mono)
        self._wall, self._mono = wall, mono
        if gap > SLEEP_GAP_SECONDS:
            log.info("the computer slept for about %.0f s: catching up every connection", gap)
            for job_id in self.connection_ids:
                self._scheduler.modify_job(job_id, next_run_time=datetime.now(UTC))

    def _on_job_error(self, event: JobExecutionEvent) -> None:
        log.error("scheduled sync %s failed: %r", event.job_id, event.exception)

    def shutdown(self) -> None:
        if self._scheduler.running:
            self._scheduler.shutdown(wait=False)


class ChangeFeedTrigger:
    """Listens to the Atlas change feed (long-poll, outbound only) and asks for a real-time run.

    It never commits a cursor: the run reads the changes through its own durable cursor. A burst of
    changes is debounced into one run.
    """

    def __init__(
        self, atlas: ChangeFeed, cursor: str | None, on_change: Callable[[], Awaitable[object]]
    ) -> None:
        self._atlas = atlas
        self._cursor = cursor
        self._on_change = on_change
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.ensure_future(self._follow())

    async def _follow(self) -> None:
        try:
            async for batch in self._atlas.follow_changes(since=self._cursor, wait=30):
                self._cursor = batch.cursor
                if batch.changes or batch.rejected:  # a refused row is reported by a run, at once
                    await asyncio.sleep(REAL_TIME_DEBOUNCE_S)
                    await self._run()
        except AuthFailed as error:
            log.warning("Atlas change feed stopped: %s", error.message)
        except AtlasDesktopError as error:  # pragma: no cover - follow_changes reconnects by itself
            log.warning("Atlas change feed stopped: %s", error.message)

    async def _run(self) -> None:
        """One real-time run; a run that cannot start now never stops the feed (the next change or the
        schedule brings it)."""
        try:
            await self._on_change()
        except RunInProgress as busy:
            log.info("real-time run skipped: %s", busy.message)
        except AtlasDesktopError as error:
            log.warning("real-time run not started: %s", error.message)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
