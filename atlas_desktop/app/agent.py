"""The headless agent: every enabled connection on its schedule, no window; SIGTERM stops it cleanly."""

from __future__ import annotations

import asyncio
import logging
import signal

from atlas_desktop.app.engine_setup import build_engine
from atlas_desktop.app.services import Services
from atlas_desktop.engine.api import SyncType
from atlas_desktop.engine.scheduler import ScheduledConnection, SyncScheduler
from atlas_desktop.store.enums import ConnectionStatus

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
        summary = await engine.sync(connection_id, sync_type=sync_type)
        log.info("%s sync of %s: %s", sync_type.value, connection_id, summary.status.value)

    scheduler = SyncScheduler(run, lambda: scheduled_connections(services))
    scheduler.start()
    jobs = [job for job in scheduler.job_ids if job != "__watchdog__"]
    log.info("agent started with %d scheduled connection(s)", len(jobs))
    print(f"agent running: {len(jobs)} connection(s) scheduled; stop with Ctrl+C or SIGTERM", flush=True)
    try:
        await stop.wait()
    finally:
        scheduler.shutdown()
        await engine.aclose()
    print("agent stopped", flush=True)
    return 0


def run_agent(services: Services) -> int:
    return asyncio.run(run_agent_async(services))
