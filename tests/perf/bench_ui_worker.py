"""The desktop app in its own process, offscreen, a stall probe on its GUI thread (bench_ui.py drives it).

    python tests/perf/bench_ui_worker.py sync HOME CONNECTION_ID --out FILE [--settle-s 3]
    python tests/perf/bench_ui_worker.py start HOME --out FILE

Both start the app the way `atlas-desktop --home HOME` does (cli.main -> gui.run_gui: QApplication, theme,
one qasync loop, crash hooks, services, the engine from engine_setup, the real MainWindow with its
monitoring views). The only hook is a MainWindow subclass put in gui's namespace before the start; the
app's code is unchanged.
  sync   once the window has painted: a stall probe starts (a 5 ms precise QTimer and a 5 ms asyncio
         callback chain on the GUI thread, a watchdog thread sampling every thread's stack while a tick is
         more than 50 ms late), then engine.discover() and the first sync started as the wizard starts it
         (window.start_sync(FULL, approve=True)); after the run and `--settle-s` of the views reloading, the
         window closes and the figures are written.
  start  epoch timestamps of the startup steps up to the first paint of the main window and the first
         dashboard reload; the window then closes. bench_ui.py subtracts the time it exec'd the process.
"""

from __future__ import annotations

import time

STARTED = time.time()  # before any import of ours: the process's own start is measured by the parent

import argparse  # noqa: E402
import asyncio  # noqa: E402
import contextlib  # noqa: E402
import gc  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import sys  # noqa: E402
import threading  # noqa: E402
import traceback  # noqa: E402
from array import array  # noqa: E402
from collections import Counter  # noqa: E402
from collections.abc import Iterator  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402
from pathlib import Path  # noqa: E402
from types import FrameType  # noqa: E402
from typing import Any  # noqa: E402

from bench_memory import peak_rss_mb  # noqa: E402

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from PySide6.QtCore import Qt, QTimer  # noqa: E402

from atlas_desktop import cli  # noqa: E402
from atlas_desktop.app import gui  # noqa: E402
from atlas_desktop.domain.enums import SyncType  # noqa: E402

IMPORTED = time.time()
INTERVAL_MS = 5
# Stacks are sampled for gaps longer than this; ATLAS_BENCH_STALL_MS lowers it to see the near-misses.
STALL_MS = float(os.environ.get("ATLAS_BENCH_STALL_MS", "50"))
SAMPLE_EVERY_S = 0.01
# Steps of the engine (begin/end of the functions below, from any thread): each stall lists the steps in
# force while it lasted, so a stall with no stack sample (a thread held the GIL in C) still says where.
TRACED = (
    "atlas_desktop.engine.pull:Puller.pull_atlas", "atlas_desktop.engine.pull:Puller.pull_erp",
    "atlas_desktop.engine.service:EngineService._discover_from_mirrors",
    "atlas_desktop.engine.discovery:ProductIndex.__init__",
    "atlas_desktop.store.discovery_scratch:DiscoveryScratch._fill",
    "atlas_desktop.store.discovery_scratch:DiscoveryScratch.unclaimed",
    "atlas_desktop.store.mappings:MappingRepository.apply_discovery",
    "atlas_desktop.store.search_index:BulkIndexing.finish",
    "atlas_desktop.engine.runner:SyncRunner._pull_and_merge", "atlas_desktop.engine.runner:SyncRunner._push",
    "atlas_desktop.engine.runner:SyncRunner._audit", "atlas_desktop.engine.push:Pusher._record",
    "atlas_desktop.engine.runner:empty_gradually",
    "atlas_desktop.store.decisions:DecisionRepository.record",
)  # fmt: skip
STEPS: list[tuple[float, str]] = []  # (perf_counter, "begin name" / "end name")
SAMPLES_PER_STALL = 200
WORST_KEPT = 12
PROJECT = os.sep + "atlas_desktop" + os.sep
IDLE_FUNCTIONS = {"wait", "_wait_for_tstate_lock", "select", "poll", "get", "_worker", "acquire", "accept",
                  "_run_once", "run_forever", "serve_forever", "sleep"}  # fmt: skip


def where(frame: FrameType) -> str:
    path = frame.f_code.co_filename
    index = path.rfind(PROJECT)
    if index >= 0:
        path = path[index + 1 :]
    elif "site-packages" in path:
        path = path.split("site-packages" + os.sep, 1)[1]
    else:
        path = os.path.basename(path)
    return f"{path}:{frame.f_lineno} {frame.f_code.co_name}"


def stack(frame: FrameType | None, limit: int = 8) -> list[str]:
    """The innermost frame, then the project frames (innermost first), each with the library function it
    called (e.g. `httpx/_client.py:... __init__ <- atlas_desktop/connectors/http.py:175 __init__`)."""
    if frame is None:
        return []
    lines = [where(frame)]
    callee: FrameType = frame
    current: FrameType | None = frame.f_back
    while current is not None and len(lines) < limit:
        if PROJECT in current.f_code.co_filename:
            if callee is not frame and PROJECT not in callee.f_code.co_filename:
                lines.append(where(callee))
            lines.append(where(current))
        callee, current = current, current.f_back
    return lines[:limit]


def looks_idle(frame: FrameType) -> bool:
    path = frame.f_code.co_filename
    waiting = frame.f_code.co_name in IDLE_FUNCTIONS
    return waiting and PROJECT not in path


@dataclass
class Stall:
    at_s: float  # since the probe started
    phase: str
    ms: float
    samples: list[dict[str, Any]] = field(default_factory=list)
    gc_ms: float = 0.0
    gc_generation: int = -1  # the oldest generation collected during the gap
    gui_cpu_ms: float = 0.0  # CPU the GUI thread used during the gap
    process_cpu_ms: float = 0.0  # CPU all the app's threads used: far below `ms`, the OS ran others
    steps: list[str] = field(default_factory=list)  # engine steps in force during the gap (TRACED)


class StallProbe:
    """Gaps between 5 ms ticks on the GUI thread; stacks of all threads sampled while a tick is late."""

    def __init__(self) -> None:
        self.loop = asyncio.get_running_loop()
        self.gui_ident = threading.get_ident()
        self.timer = QTimer()
        self.timer.setTimerType(Qt.TimerType.PreciseTimer)
        self.timer.setInterval(INTERVAL_MS)
        self.timer.timeout.connect(self._tick)
        self.late_ms = array("d")  # per tick: gap minus the interval
        self.async_late_ms = array("d")
        self.max_by_phase: dict[str, float] = {}
        self.stalls: list[Stall] = []
        self.gc_pauses: list[tuple[float, float, int]] = []  # (start, ms, generation)
        self.phase = "idle"
        self.t0 = time.perf_counter()
        self.last_tick = self.t0
        self._samples: dict[float, list[dict[str, Any]]] = {}
        self._stop = threading.Event()
        self._watchdog = threading.Thread(target=self._watch, name="stall-watchdog", daemon=True)
        self._async_due = 0.0
        self._async_handle: asyncio.TimerHandle | None = None
        self._gc_started = 0.0
        self._cpu = (0.0, 0.0)

    def start(self) -> None:
        self.t0 = self.last_tick = time.perf_counter()
        self._cpu = (time.thread_time(), time.process_time())
        self.timer.start()
        self._async_due = time.perf_counter() + INTERVAL_MS / 1000
        self._async_handle = self.loop.call_later(INTERVAL_MS / 1000, self._async_tick)
        gc.callbacks.append(self._on_gc)
        self._watchdog.start()

    def stop(self) -> None:
        self.timer.stop()
        if self._async_handle is not None:
            self._async_handle.cancel()
        gc.callbacks.remove(self._on_gc)
        self._stop.set()
        self._watchdog.join()

    def _tick(self) -> None:
        now = time.perf_counter()
        cpu = (time.thread_time(), time.process_time())
        late = (now - self.last_tick) * 1000 - INTERVAL_MS
        previous, (gui_before, process_before), self._cpu = self.last_tick, self._cpu, cpu
        self.last_tick = now
        self.late_ms.append(late)
        if late > self.max_by_phase.get(self.phase, -1.0):
            self.max_by_phase[self.phase] = late
        samples = self._samples.pop(previous, [])
        if late > STALL_MS:
            stall = Stall(round(previous - self.t0, 3), self.phase, round(late, 1), samples)
            collections = [(ms, gen) for start, ms, gen in self.gc_pauses if previous <= start <= now]
            stall.gc_ms = round(sum(ms for ms, _ in collections), 1)
            stall.gc_generation = max((gen for _, gen in collections), default=-1)
            stall.gui_cpu_ms = round((cpu[0] - gui_before) * 1000, 1)
            stall.process_cpu_ms = round((cpu[1] - process_before) * 1000, 1)
            stall.steps = steps_during(previous, now)
            self.stalls.append(stall)

    def _async_tick(self) -> None:
        now = time.perf_counter()
        self.async_late_ms.append((now - self._async_due) * 1000)
        self._async_due = now + INTERVAL_MS / 1000
        self._async_handle = self.loop.call_later(INTERVAL_MS / 1000, self._async_tick)

    def _on_gc(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._gc_started = time.perf_counter()
            return
        ms = (time.perf_counter() - self._gc_started) * 1000
        if ms >= 5:
            self.gc_pauses.append((self._gc_started, ms, int(info.get("generation", -1))))

    def _watch(self) -> None:
        me = threading.get_ident()
        while not self._stop.wait(SAMPLE_EVERY_S):
            last = self.last_tick
            if (time.perf_counter() - last) * 1000 <= STALL_MS:
                continue
            frames = sys._current_frames()
            names = {thread.ident: thread.name for thread in threading.enumerate()}
            others = {}
            for ident, frame in frames.items():
                if ident in (me, self.gui_ident) or looks_idle(frame):
                    continue
                others[names.get(ident, str(ident))] = stack(frame, limit=4)
            bucket = self._samples.setdefault(last, [])
            if len(bucket) < SAMPLES_PER_STALL:
                bucket.append({"gui": stack(frames.get(self.gui_ident)), "others": others})

    # -- the figures --------------------------------------------------------------------------------------
    def summary(self) -> dict[str, Any]:
        late = sorted(self.late_ms)
        async_late = sorted(self.async_late_ms)
        worst = sorted(self.stalls, key=lambda s: s.ms, reverse=True)[:WORST_KEPT]
        hot: Counter[str] = Counter()
        busy: Counter[str] = Counter()
        for stall in self.stalls:
            for sample in stall.samples:
                hot[" <- ".join(sample["gui"][:3])] += 1
                for name, lines in sample["others"].items():
                    busy[f"[{name}] " + " <- ".join(lines[:2])] += 1
        causes: dict[str, dict[str, Any]] = {}
        for stall in self.stalls:
            entry = causes.setdefault(stall_cause(stall), {"stalls": 0, "total_ms": 0.0, "max_ms": 0.0,
                                                           "phases": Counter()})  # fmt: skip
            entry["stalls"] += 1
            entry["total_ms"] = round(entry["total_ms"] + stall.ms, 1)
            entry["max_ms"] = max(entry["max_ms"], stall.ms)
            entry["phases"][stall.phase] += 1
        by_phase: dict[str, int] = Counter(stall.phase for stall in self.stalls)
        return {
            "max_loop_stall_ms": round(late[-1], 1) if late else None,
            "p99_loop_stall_ms": round(percentile(late, 0.99), 1),
            "p999_loop_stall_ms": round(percentile(late, 0.999), 1),
            "stalls_over_50ms": sum(1 for x in late if x > 50),
            "stalls_over_100ms": sum(1 for x in late if x > 100),
            "stalls_over_250ms": sum(1 for x in late if x > 250),
            "stalled_s": round(sum(x for x in late if x > 50) / 1000, 2),
            "ticks": len(late),
            "async_max_late_ms": round(async_late[-1], 1) if async_late else None,
            "async_p99_late_ms": round(percentile(async_late, 0.99), 1),
            "max_stall_by_phase_ms": {k: round(v, 1) for k, v in self.max_by_phase.items()},
            "gc_max_ms": round(max((ms for _, ms, _ in self.gc_pauses), default=0.0), 1),
            "gc_pauses_over_50ms": sum(1 for _, ms, _ in self.gc_pauses if ms > 50),
            "worst_stalls": [
                {"at_s": s.at_s, "phase": s.phase, "ms": s.ms, "gc_ms": s.gc_ms, "samples": len(s.samples),
                 "gui_cpu_ms": s.gui_cpu_ms, "process_cpu_ms": s.process_cpu_ms, "cause": stall_cause(s),
                 "steps": s.steps,
                 "gui": most_common([" <- ".join(x["gui"]) for x in s.samples]),
                 "others": most_common([" | ".join(f"[{n}] {' <- '.join(v[:2])}"
                                                   for n, v in x["others"].items()) for x in s.samples])}
                for s in worst
            ],  # fmt: skip
            "stalls_over_50ms_by_phase": dict(by_phase),
            "stall_causes": sorted(
                ({"cause": cause, **entry, "phases": dict(entry["phases"])}
                 for cause, entry in causes.items()),
                key=lambda entry: entry["total_ms"], reverse=True,
            ),  # fmt: skip
            "stalls": [(s.at_s, s.phase, s.ms, s.gc_ms, s.gui_cpu_ms, s.process_cpu_ms, stall_cause(s))
                       for s in self.stalls[:5000]],
            "hot_gui_frames": hot.most_common(15),  # samples (~10 ms each) during stalls > 50 ms
            "busy_other_threads": busy.most_common(10),
        }


SHELL = ("atlas_desktop/app/gui.py", "atlas_desktop/app/commands.py", "atlas_desktop/cli.py")


def sample_cause(sample: dict[str, Any]) -> str:
    """The GUI thread's three innermost project functions; or, in the Qt loop, who else was busy."""
    frames = [x for x in sample["gui"] if x.startswith("atlas_desktop/") and not x.startswith(SHELL)]
    if frames:
        path = frames[0].split(":", 1)[0]
        return path + ": " + " < ".join(line.rsplit(" ", 1)[1] for line in frames[:3])
    busy = "; ".join(f"[{name}] {lines[0]}" for name, lines in sorted(sample["others"].items()))
    return "in the Qt loop (C++ or waiting for the GIL)" + (f" while {busy}" if busy else "")


def stall_cause(stall: Stall) -> str:
    if stall.gc_ms >= stall.ms / 2:
        return f"garbage collection (generation {stall.gc_generation})"
    if stall.process_cpu_ms < stall.ms / 3:
        return "the app's process hardly ran (the CPU went to other processes: machine load)"
    if not stall.samples:
        if stall.gui_cpu_ms >= stall.ms / 2:
            return "no sample: the GUI thread held the GIL in C code"
        return "no sample: another thread held the GIL (C code)"
    return Counter(sample_cause(sample) for sample in stall.samples).most_common(1)[0][0]


def steps_during(start: float, end: float) -> list[str]:
    """The last step begun or ended before `start`, then those between `start` and `end` (ms offsets)."""
    before = [label for at, label in STEPS if at < start][-1:]
    during = [f"+{(at - start) * 1000:.0f}ms {label}" for at, label in STEPS if start <= at <= end]
    return before + during[:10]


def trace(target: str) -> None:
    """Wraps `module:Class.function` (plain, coroutine or generator) to log its begin and end in STEPS."""
    import functools
    import importlib
    import inspect

    module_name, _, qualname = target.partition(":")
    *outer, name = qualname.split(".")
    try:
        owner: Any = importlib.import_module(module_name)
        for part in outer:
            owner = getattr(owner, part)
        function = getattr(owner, name)
    except (ImportError, AttributeError):  # renamed since: the figures come without that step
        return
    label = qualname

    if inspect.iscoroutinefunction(function):

        @functools.wraps(function)
        async def wrapped(*args: Any, **kwargs: Any) -> Any:
            STEPS.append((time.perf_counter(), "begin " + label))
            try:
                return await function(*args, **kwargs)
            finally:
                STEPS.append((time.perf_counter(), "end " + label))

    else:

        @functools.wraps(function)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            STEPS.append((time.perf_counter(), "begin " + label))
            try:
                return function(*args, **kwargs)
            finally:
                STEPS.append((time.perf_counter(), "end " + label))

    setattr(owner, name, wrapped)


def percentile(ordered: Any, q: float) -> float:
    return float(ordered[min(len(ordered) - 1, int(q * len(ordered)))]) if len(ordered) else 0.0


def most_common(items: list[str]) -> list[tuple[str, int]]:
    return Counter(items).most_common(3)


# ---- the hook: a MainWindow that reports its first paint and runs the benchmark ------------------------
MARKS: dict[str, float] = {"worker_started": STARTED, "imported": IMPORTED}
RESULT: dict[str, Any] = {}


class Bench:
    mode = "start"
    connection_id = ""
    settle_s = 3.0
    idle_s = 1.0


def patch_services() -> None:
    real = gui.open_services

    @contextlib.contextmanager
    def timed(*args: Any, **kwargs: Any) -> Iterator[Any]:
        MARKS["services_opening"] = time.time()
        with real(*args, **kwargs) as services:
            MARKS["services_open"] = time.time()
            yield services

    gui.open_services = timed  # type: ignore[assignment]


class ProbedMainWindow(gui.MainWindow):  # type: ignore[misc, valid-type]
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        MARKS["window_init"] = time.time()
        super().__init__(*args, **kwargs)
        MARKS["window_ready"] = time.time()
        self._painted = False
        if self.dashboard is not None:
            self.dashboard.reloaded.connect(self._on_first_reload)

    def _on_first_reload(self) -> None:
        MARKS.setdefault("dashboard_loaded", time.time())

    def paintEvent(self, event: Any) -> None:  # noqa: N802 - Qt override
        super().paintEvent(event)
        if self._painted:
            return
        self._painted = True
        MARKS["first_paint"] = time.time()
        QTimer.singleShot(0, lambda: MARKS.setdefault("first_paint_done", time.time()))
        if Bench.mode == "sync":
            asyncio.ensure_future(self._guarded(self._bench_sync()))
        else:
            asyncio.ensure_future(self._guarded(self._after_start()))

    async def _guarded(self, coro: Any) -> None:
        try:
            await coro
        except BaseException as error:  # noqa: BLE001 - reported to the parent, then the app closes
            RESULT["error"] = "".join(traceback.format_exception(error))[-4000:]
        finally:
            self.close()

    async def _after_start(self) -> None:
        deadline = time.perf_counter() + 30
        while "dashboard_loaded" not in MARKS and time.perf_counter() < deadline:
            await asyncio.sleep(0.01)

    async def _bench_sync(self) -> None:
        engine, cid = self.engine, Bench.connection_id
        assert engine is not None and self.bridge is not None
        probe = StallProbe()
        probe.start()
        try:
            await asyncio.sleep(Bench.idle_s)  # the probe's noise floor with the window idle
            finished: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
            self.bridge.run_finished.connect(lambda e: finished.done() or finished.set_result(e))
            start = time.perf_counter()
            probe.phase = "discover"
            discovered = await engine.discover(cid)
            discover_s = time.perf_counter() - start
            probe.phase = "sync"
            self.start_sync(cid, sync_type=SyncType.FULL, approve=True)  # as the wizard's finish starts it
            event = await finished
            while self._tasks:  # the run's report to Atlas and the window's refresh
                await asyncio.sleep(0.005)
            wall = time.perf_counter() - start
            probe.phase = "settle"
            await asyncio.sleep(Bench.settle_s)  # dashboard, mappings count, history reload after the run
        finally:
            probe.stop()
        summary = event.summary
        RESULT.update(
            wall_s=wall, discover_s=discover_s, sync_s=wall - discover_s, status=summary.status.value,
            matched=discovered.matched, items_synced=summary.items_synced, items_failed=summary.items_failed,
            engine_api_calls=summary.api_calls_made, error_message=summary.error_message,
            **probe.summary(),
        )  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=["sync", "start"])
    parser.add_argument("home", type=Path)
    parser.add_argument("connection_id", nargs="?", default="")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--settle-s", type=float, default=3.0)
    args = parser.parse_args()
    Bench.mode, Bench.connection_id, Bench.settle_s = args.mode, args.connection_id, args.settle_s
    patch_services()
    for target in TRACED:
        trace(target)
    gui.MainWindow = ProbedMainWindow  # type: ignore[misc]
    code = cli.main(["--home", str(args.home)])
    RESULT["exit_code"] = code
    RESULT["marks"] = MARKS
    RESULT["peak_rss_mb"] = peak_rss_mb()  # this process's own peak, not the bench's (bench_memory)
    args.out.write_text(json.dumps(RESULT, default=str))
    return 0 if "error" not in RESULT else 1


if __name__ == "__main__":
    raise SystemExit(main())
