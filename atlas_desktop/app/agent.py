"""The headless agent: every enabled connection on its schedule, no window; SIGTERM stops it cleanly."""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Awaitable, Callable

from atlas_desktop.app.api import start_configured_servers
from atlas_desktop.app.engine_setup import build_engine
from atlas_desktop.app.gc_tuning import freeze_startup_heap, tune_gc
from atlas_desktop.app.services import Services
from atlas_desktop.domain.errors import AtlasDesktopError
from atlas_desktop.domain.model import Side
from atlas_desktop.engine.api import SyncType
from atlas_desktop.engine.scheduler import ChangeFeedTrigger, ScheduledConnection, SyncScheduler
from atlas_desktop.engine.service import EngineService
from atlas_desktop.store.enums import ConnectionStatus, WatermarkStream

log = logging.getLogger(__name__)


def scheduled_connections(services: Services) -> list[ScheduledConnection]:
    return [
        ScheduledConnection(summary.id, summary.sync_frequency_minutes)
        for summary in services.connections.list()
        if summary.sync_enabled and summary.status is not ConnectionStatus.PAUSED
    ]


async def run_agent_async(services: Services, stop: asyncio.Event | None = None) -> int:
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        try:
            loop.add_signal_handler(signum, stop.set)
        except (NotImplementedError, RuntimeError):  # Windows, or not the main thread
            pass
    engine = build_engine(services)

    async def run(connection_id: str, sync_type: SyncType) -> None:
        if sync_type is SyncType.RECONCILE:
            report = await engine.reconcile(connection_id)
            log.info("reconciliation of %s: %d key(s) drifted", connection_id, len(report.drift))
            return
        summary = await engine.sync(connection_id, sync_type=sync_type)
        log.info("%s sync of %s: %s", sync_type.value, connection_id, summary.status.value)

    scheduler = SyncScheduler(run, lambda: scheduled_connections(services))
    scheduler.start()
    triggers = await start_change_feed_triggers(engine, scheduled_connections(services), run)
    servers = await start_configured_servers(services, engine)
    for problem in servers.problems:
        print(f"warning: {problem}", flush=True)
    freeze_startup_heap()  # engine, scheduler and servers live until exit: no collection walks them again
    jobs = [job for job in scheduler.job_ids if job != "__watchdog__" and ":" not in job]
    log.info("agent started with %d scheduled connection(s)", len(jobs))
    print(f"agent running: {len(jobs)} connection(s) scheduled; stop with Ctrl+C or SIGTERM", flush=True)
    try:
        await stop.wait()
    finally:
        for trigger in triggers:
            await trigger.stop()
        await servers.stop()
        scheduler.shutdown()
        await engine.aclose()
    print("agent stopped", flush=True)
    return 0


async def start_change_feed_triggers(
    engine: EngineService,
    connections: list[ScheduledConnection],
    run: Callable[[str, SyncType], Awaitable[None]],
) -> list[ChangeFeedTrigger]:
    """Near-real-time runs: the Atlas change feed's long-poll (outbound only) asks for one on a change."""
    if not connections:
        return []
    try:
        atlas = await engine.atlas()
    except AtlasDesktopError as error:
        log.warning("no real-time updates from Atlas: %s", error.message)
        return []
    triggers = []
    for connection in connections:
        cursor = await engine.db(
            engine.repos.runs.get_watermark, connection.connection_id, Side.ATLAS, WatermarkStream.CHANGES
        )

        async def on_change(connection_id: str = connection.connection_id) -> None:
            await run(connection_id, SyncType.REAL_TIME)

        trigger = ChangeFeedTrigger(atlas, cursor, on_change)
        trigger.start()
        triggers.append(trigger)
    return triggers


def run_agent(services: Services) -> int:
    tune_gc()  # see gc_tuning: long syncs otherwise pay full collections every few seconds
    return asyncio.run(run_agent_async(services))
