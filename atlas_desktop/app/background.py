"""The profile's background work (schedule, change-feed triggers, local servers), one process at a time."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

from atlas_desktop.app.api import ServerSet, start_configured_servers
from atlas_desktop.app.api.server import Wanted, wanted_servers
from atlas_desktop.app.services import Services
from atlas_desktop.domain.enums import ConnectionStatus, SyncType, WatermarkStream
from atlas_desktop.domain.errors import AtlasDesktopError
from atlas_desktop.domain.model import Side
from atlas_desktop.engine.scheduler import (
    FIRST_RUN_DELAY_S,
    ChangeFeedTrigger,
    ScheduledConnection,
    SyncScheduler,
)
from atlas_desktop.engine.service import EngineService

log = logging.getLogger(__name__)

_HOLDERS = {"agent": "the agent", "window": "an Atlas Desktop window"}


def scheduled_connections(services: Services) -> list[ScheduledConnection]:
    return [
        ScheduledConnection(summary.id, summary.sync_frequency_minutes)
        for summary in services.connections.list()
        if summary.sync_enabled and summary.status is not ConnectionStatus.PAUSED
    ]


@dataclass(frozen=True)
class BackgroundTiming:
    first_run_s: float = FIRST_RUN_DELAY_S  # a connection's first scheduled run once the work runs here
    takeover_s: float = 15.0  # how often a process without the schedule tries to take it over
    reload_s: float = 30.0  # how often connections changed elsewhere (CLI, API, another process) are read


@dataclass(frozen=True)
class ScheduleOwner:
    """Which process runs the profile's schedule, as this process sees it."""

    here: bool
    pid: int | None = None
    role: str | None = None  # "window" or "agent" when the holder said so

    def describe(self) -> str:
        if self.here:
            return "Scheduled syncs run here."
        who = _HOLDERS.get(self.role or "", "another Atlas Desktop process")
        return f"Scheduled syncs run by {who}" + (f" (process {self.pid})." if self.pid else ".")


class BackgroundWork:
    """Start/stop of what runs without anyone clicking: the window and the agent use the same one.

    Only the process holding the profile's scheduler lock runs it; another one tries again every
    `takeover_s` and takes over when the holder exits (the OS frees the lock even after a kill).
    """

    def __init__(
        self,
        services: Services,
        engine: EngineService,
        *,
        role: str,
        timing: BackgroundTiming | None = None,
        on_change: Callable[[BackgroundWork], None] | None = None,
    ) -> None:
        self.owner = ScheduleOwner(here=False)
        self.problems: list[str] = []  # servers that could not start (port taken), in plain words
        self._services = services
        self._engine = engine
        self._role = role
        self._timing = timing or BackgroundTiming()
        self._on_change = on_change
        self._lock = services.locks.scheduler()
        self._owner_file = services.locks.folder / "scheduler.owner"
        self._scheduler: SyncScheduler | None = None
        self._wanted: list[ScheduledConnection] = []
        self._triggers: dict[str, ChangeFeedTrigger] = {}
        self._atlas_problem: str | None = None
        self._servers: ServerSet | None = None
        self._servers_wanted: Wanted | None = None
        self._runs: set[asyncio.Task[Any]] = set()
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    @property
    def running(self) -> bool:
        """True while this process runs the schedule."""
        return self._scheduler is not None

    @property
    def scheduled(self) -> list[str]:
        return self._scheduler.connection_ids if self._scheduler is not None else []

    @property
    def urls(self) -> list[str]:
        """Where the local API and webhook receivers listen, while they run here."""
        return [server.url for server in self._servers.servers] if self._servers is not None else []

    async def start(self) -> None:
        """Runs the work here if no other process does (known on return), else keeps trying to."""
        await self._round()
        self._task = asyncio.ensure_future(self._supervise())

    def request_reload(self) -> None:
        """Connections or settings were edited in this process: read them again now, not at the next round."""
        self._wake.set()

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await self._stop_work()

    # ---- who runs the schedule ----------------------------------------------------------------------
    async def _supervise(self) -> None:
        while True:
            delay = self._timing.reload_s if self.running else self._timing.takeover_s
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), delay)
            self._wake.clear()
            await self._round()

    async def _round(self) -> None:
        try:
            if self.running:
                await self._reload()
            else:
                await self._take_over_or_wait()
        except Exception:  # one failed round (the database busy, a port) must not end the schedule
            log.exception("background work: this round failed; the next one tries again")

    async def _take_over_or_wait(self) -> None:
        # File-system calls, quick but off the window's thread all the same.
        if await asyncio.to_thread(self._acquire):
            await self._start_work()
            self._set_owner(self._here())
        else:
            self._set_owner(await asyncio.to_thread(self._holder))

    def _here(self) -> ScheduleOwner:
        return ScheduleOwner(True, os.getpid(), self._role)

    def _acquire(self) -> bool:
        if not self._lock.acquire():
            return False
        with contextlib.suppress(OSError):
            self._owner_file.write_text(f"{self._role} {os.getpid()}", encoding="ascii")
        return True

    def _holder(self) -> ScheduleOwner:
        pid = self._lock.holder_pid()
        try:
            role, _, said_pid = self._owner_file.read_text(encoding="ascii").partition(" ")
        except OSError:
            role, said_pid = "", ""
        # The file may still name the previous holder for a moment: trust it only for the same pid.
        return ScheduleOwner(False, pid, role if pid is not None and said_pid == str(pid) else None)

    def _release(self) -> None:
        with contextlib.suppress(OSError):
            self._owner_file.unlink()
        self._lock.release()

    def _set_owner(self, owner: ScheduleOwner) -> None:
        if owner == self.owner:
            return
        self.owner = owner
        log.info("%s (this is the %s, process %d)", owner.describe(), self._role, os.getpid())
        if self._on_change is not None:
            self._on_change(self)

    # ---- the work itself ----------------------------------------------------------------------------
    async def _start_work(self) -> None:
        self._wanted = await self._engine.db(scheduled_connections, self._services)
        scheduler = SyncScheduler(self._job, lambda: self._wanted, first_delay=self._timing.first_run_s)
        scheduler.start()
        self._scheduler = scheduler
        await self._follow_changes()
        await self._serve()

    async def _reload(self) -> None:
        self._wanted = await self._engine.db(scheduled_connections, self._services)
        if self._scheduler is not None:
            self._scheduler.reload()
        await self._follow_changes()
        await self._serve()
        self._set_owner(self._here())  # if an earlier round failed half-way through starting

    async def _follow_changes(self) -> None:
        """One Atlas change-feed trigger per scheduled connection: near-real-time runs on a sale."""
        wanted = {connection.connection_id for connection in self._wanted}
        for connection_id in [cid for cid in self._triggers if cid not in wanted]:
            await self._triggers.pop(connection_id).stop()
        missing = sorted(wanted - set(self._triggers))
        if not missing:
            return
        try:
            atlas = await self._engine.atlas()
        except AtlasDesktopError as error:
            if error.message != self._atlas_problem:  # said once, not at every reload
                log.warning("no real-time updates from Atlas: %s", error.message)
            self._atlas_problem = error.message
            return
        self._atlas_problem = None
        for connection_id in missing:
            runs = self._engine.ports.runs
            cursor = await runs.get_watermark(connection_id, Side.ATLAS, WatermarkStream.CHANGES)
            trigger = ChangeFeedTrigger(atlas, cursor, partial(self._run, connection_id, SyncType.REAL_TIME))
            trigger.start()
            self._triggers[connection_id] = trigger

    async def _serve(self) -> None:
        """The management API and webhook receivers as configured, following a change at once when the API
        makes it (a webhook enabled on a new address) and at the next round otherwise."""
        wanted = await wanted_servers(self._services, self._engine)
        if wanted == self._servers_wanted:
            return
        self._servers_wanted = wanted
        if self._servers is None:
            self._servers = await start_configured_servers(
                self._services, self._engine, on_change=self.request_reload, wanted=wanted
            )
        else:  # only what changed starts or stops: the API answering this change keeps running
            await self._servers.follow(self._services, self._engine, wanted)
        self.problems = list(self._servers.problems)

    async def _job(self, connection_id: str, sync_type: SyncType) -> None:
        """A scheduled job: the run is a task of ours, so stopping cancels it without a job-error trace."""
        task = asyncio.ensure_future(self._run(connection_id, sync_type))
        self._runs.add(task)
        task.add_done_callback(self._runs.discard)
        with contextlib.suppress(asyncio.CancelledError):  # cancelled by stop(): the job just ends
            await asyncio.shield(task)

    async def _run(self, connection_id: str, sync_type: SyncType) -> None:
        try:
            if sync_type is SyncType.RECONCILE:
                report = await self._engine.reconcile(connection_id)
                log.info("reconciliation of %s: %d key(s) drifted", connection_id, len(report.drift))
                return
            summary = await self._engine.sync(connection_id, sync_type=sync_type)
            log.info("%s sync of %s: %s", sync_type.value, connection_id, summary.status.value)
        except AtlasDesktopError as error:
            # Expected (e.g. the connection runs in another process): a line, not a job-error traceback.
            log.warning("%s sync of %s not run: %s", sync_type.value, connection_id, error.message)

    async def _stop_work(self) -> None:
        if self._scheduler is not None:
            self._scheduler.shutdown()  # no new runs from here on
            self._scheduler = None
        for trigger in self._triggers.values():
            await trigger.stop()
        self._triggers.clear()
        if self._servers is not None:
            await self._servers.stop()
            self._servers, self._servers_wanted = None, None
        runs = list(self._runs)
        for task in runs:
            task.cancel()
        await asyncio.gather(*runs, return_exceptions=True)
        if self._lock.held:
            await asyncio.to_thread(self._release)
        self.owner = ScheduleOwner(here=False)
