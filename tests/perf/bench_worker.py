"""One engine action in its own process, so wall time and peak RSS are the app's alone (not the emulators').

    python tests/perf/bench_worker.py HOME CONNECTION_ID first|sync [--profile FILE] [--writes batch|single]

Prints one JSON object: wall_s, peak_rss_mb, and the run summary's fields.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import sys
import threading
import time
from pathlib import Path
from typing import Any

from bench_memory import peak_rss_mb
from bench_timeline import Timeline

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from atlas_desktop.app.engine_setup import build_engine  # noqa: E402
from atlas_desktop.app.paths import ProfilePaths  # noqa: E402
from atlas_desktop.app.services import open_services  # noqa: E402


class PhaseMemory:
    """The highest RSS seen in each phase of the run (BENCH_RSS_TRACE=1): where a peak comes from."""

    def __init__(self) -> None:
        self.phase = "start"
        self.peaks: dict[str, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def note(self, event: Any) -> None:
        phase = getattr(event, "phase", None) or type(event).__name__
        self.phase = f"discovery {phase}" if type(event).__name__ == "DiscoveryProgress" else str(phase)

    def _sample(self) -> None:
        status = Path("/proc/self/status")
        while not self._stop.wait(0.05):
            for line in status.read_text().splitlines():
                if line.startswith("VmRSS:"):
                    mb = int(line.split()[1]) / 1024
                    self.peaks[self.phase] = max(self.peaks.get(self.phase, 0.0), round(mb, 1))

    def __enter__(self) -> PhaseMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


async def act(home: Path, connection_id: str, action: str, writes: str = "batch") -> dict[str, object]:
    memory = PhaseMemory() if os.environ.get("BENCH_RSS_TRACE") else None
    timeline = Timeline() if os.environ.get("BENCH_TIMELINE") else None
    if timeline is not None:
        timeline.install()
        timeline.mark("start")
    with open_services(ProfilePaths(home)) as services:
        engine = build_engine(services)
        if timeline is not None:
            timeline.mark("engine built")
            engine.events.subscribe(timeline.note)
        if memory is not None:
            engine.events.subscribe(memory.note)
            memory.__enter__()
        try:
            if writes == "single":
                await one_per_change(engine, connection_id)
            start = time.perf_counter()
            discovered = None
            if action == "first":
                discovered = await engine.discover(connection_id)
                if timeline is not None:
                    timeline.mark("discovery done")
            summary = await engine.sync(connection_id, approve=True)
            wall = time.perf_counter() - start
            if timeline is not None:
                timeline.mark("sync done")
        finally:
            await engine.aclose()
            if memory is not None:
                memory.__exit__()
    if timeline is not None:  # stderr: the bench shows it (BENCH_TIMELINE=1)
        print(f"start-up CPU before the worker's first line: {timeline.marks[0].cpu:.2f} s", file=sys.stderr)
        print(timeline.table(), file=sys.stderr)
    return {
        "rss_by_phase_mb": memory.peaks if memory is not None else None,
        "wall_s": wall,
        "status": summary.status.value,
        "items_synced": summary.items_synced,
        "items_failed": summary.items_failed,
        "conflicts_opened": summary.conflicts_opened,
        "engine_api_calls": summary.api_calls_made,
        "error_message": summary.error_message,
        "matched": getattr(discovered, "matched", None),
    }


async def one_per_change(engine: Any, connection_id: str) -> None:
    """The baseline writer: one request per change on both sides, as against servers that take one at a
    time. Atlas: its single-row routes. The ERP: a connector that does not offer multi-change documents
    (the push looks for `adjust_stock_batches`, BatchedStockWriter), so each change is its own record."""
    (await engine.atlas()).batch_route = False
    erp = await engine.erp(connection_id)
    vars(erp)["adjust_stock_batches"] = None  # hides the class's method from the protocol check


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("home", type=Path)
    parser.add_argument("connection_id")
    parser.add_argument("action", choices=["first", "sync"])
    parser.add_argument("--profile", type=Path, help="write a pyinstrument HTML (or cProfile .prof) here")
    parser.add_argument("--writes", choices=["batch", "single"], default="batch")
    args = parser.parse_args()
    if args.profile is not None:
        result = _profiled(args)
    else:
        result = asyncio.run(act(args.home, args.connection_id, args.action, args.writes))
    result["peak_rss_mb"] = peak_rss_mb()
    usage = resource.getrusage(resource.RUSAGE_SELF)  # every thread of this process, imports included
    result["app_cpu_s"] = round(usage.ru_utime + usage.ru_stime, 2)
    print(json.dumps(result))
    return 0


def _profiled(args: argparse.Namespace) -> dict[str, object]:
    try:
        from pyinstrument import Profiler
    except ImportError:
        import cProfile

        profiler = cProfile.Profile()
        result = profiler.runcall(asyncio.run, act(args.home, args.connection_id, args.action, args.writes))
        profiler.dump_stats(str(args.profile.with_suffix(".prof")))
        return result
    profiler = Profiler(async_mode="enabled")
    profiler.start()
    result = asyncio.run(act(args.home, args.connection_id, args.action, args.writes))
    profiler.stop()
    args.profile.write_text(profiler.output_text(unicode=False, color=False, show_all=False))
    return result


if __name__ == "__main__":
    raise SystemExit(main())
