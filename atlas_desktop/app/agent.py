"""The headless agent: every enabled connection on its schedule, no window; SIGTERM stops it cleanly."""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Callable

from atlas_desktop.app.background import BackgroundTiming, BackgroundWork
from atlas_desktop.app.engine_setup import build_engine
from atlas_desktop.app.gc_tuning import freeze_startup_heap, tune_gc
from atlas_desktop.app.services import Services
from atlas_desktop.ui.monitoring.wording import plural

log = logging.getLogger(__name__)

_STOP_HINT = "stop with Ctrl+C or SIGTERM"


def _announcer() -> Callable[[BackgroundWork], None]:
    """Prints who runs the schedule: at start ("agent running: ..."), then at every change."""
    first = True

    def announce(work: BackgroundWork) -> None:
        nonlocal first
        if work.owner.here:
            for problem in work.problems:
                print(f"warning: {problem}", flush=True)
            count = f"{plural(len(work.scheduled), 'connection')} scheduled"
            if first:
                line = f"agent running: {count}; {_STOP_HINT}"
            else:
                line = f"agent now runs the schedule: {count}"
        else:
            # The window (or another agent) on this profile runs it; two schedules would run everything twice.
            waiting = f"waiting: {work.owner.describe()} This agent takes over when that process ends"
            line = f"agent running, {waiting}; {_STOP_HINT}" if first else f"agent {waiting}"
        first = False
        print(line, flush=True)

    return announce


async def run_agent_async(
    services: Services, stop: asyncio.Event | None = None, *, timing: BackgroundTiming | None = None
) -> int:
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        try:
            loop.add_signal_handler(signum, stop.set)
        except (NotImplementedError, RuntimeError):  # Windows, or not the main thread
            pass
    engine = build_engine(services)
    work = BackgroundWork(services, engine, role="agent", timing=timing, on_change=_announcer())
    try:
        await work.start()
        freeze_startup_heap()  # engine, scheduler and servers live until exit: no collection walks them again
        log.info("agent started; %s", work.owner.describe())
        await stop.wait()
    finally:
        await work.stop()
        await engine.aclose()
    print("agent stopped", flush=True)
    return 0


def run_agent(services: Services) -> int:
    tune_gc()  # see gc_tuning: long syncs otherwise pay full collections every few seconds
    return asyncio.run(run_agent_async(services))
