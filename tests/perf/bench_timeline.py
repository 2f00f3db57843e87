"""Where a run's wall time goes (BENCH_TIMELINE=1): phases with wall, CPU per thread and requests.

The bench worker marks the run's edges; the engine's progress events mark the phases in between (an event
is told after the work it reports, so a segment is named by the event that ends it). Every request the
connectors send is timed (HttpClient.request), so each segment shows how many requests it sent, their
summed time and the time at least one was in flight: summed / in flight is how many overlapped on
average, in flight / wall how much of the segment waited on the network at all. `emu s` is the CPU of
the parent process (the bench, whose threads serve the emulators) meanwhile.
"""

from __future__ import annotations

import functools
import os
import resource
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

TICK = os.sysconf("SC_CLK_TCK")


def _process_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _emulator_cpu() -> float:
    """CPU seconds of the process that started this one: the bench, whose threads run the emulators."""
    try:
        fields = Path(f"/proc/{os.getppid()}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICK


def _thread_cpu() -> dict[str, float]:
    """CPU seconds of each Python thread of this process, by thread name (the DB thread, the loop...)."""
    names = {t.native_id: t.name for t in threading.enumerate()}
    found: dict[str, float] = {}
    for task in Path("/proc/self/task").iterdir():
        try:
            fields = (task / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        name = names.get(int(task.name), "other")
        found[name] = found.get(name, 0.0) + (int(fields[11]) + int(fields[12])) / TICK
    return found


@dataclass
class Mark:
    label: str
    at: float
    cpu: float
    threads: dict[str, float]
    emulators: float


@dataclass
class Request:
    system: str
    what: str
    start: float
    end: float


@dataclass
class Timeline:
    marks: list[Mark] = field(default_factory=list)
    requests: list[Request] = field(default_factory=list)

    def mark(self, label: str) -> None:
        if self.marks and self.marks[-1].label == label:
            self.marks.pop()  # the same phase again: it goes on until now
        self.marks.append(Mark(label, time.perf_counter(), _process_cpu(), _thread_cpu(), _emulator_cpu()))

    def note(self, event: Any) -> None:
        kind = type(event).__name__
        phase = getattr(event, "phase", None)
        self.mark(f"discovery {phase}" if kind == "DiscoveryProgress" else str(phase or kind))

    def install(self) -> None:
        """Times every request of every connector (one class: connectors/http.HttpClient)."""
        from atlas_desktop.connectors.http import HttpClient

        original = HttpClient.request
        requests = self.requests

        @functools.wraps(original)
        async def timed(client: Any, method: str, url: str, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return await original(client, method, url, **kwargs)
            finally:
                path = url.split("?", 1)[0].rsplit("/", 2)
                requests.append(
                    Request(client.settings.system or "?", f"{method} {'/'.join(path[-2:])}", start,
                            time.perf_counter())
                )  # fmt: skip

        HttpClient.request = timed  # type: ignore[method-assign]

    def table(self) -> str:
        lines = [
            f"{'segment (ends at)':34} {'wall s':>7} {'CPU s':>6} {'emu s':>6}  {'threads CPU s':40} "
            f"{'reqs':>4} {'req s':>6} {'busy s':>6} {'overlap':>7}  routes"
        ]
        for before, mark in zip(self.marks, self.marks[1:], strict=False):
            wall, cpu = mark.at - before.at, mark.cpu - before.cpu
            threads = {
                name: mark.threads.get(name, 0.0) - before.threads.get(name, 0.0) for name in mark.threads
            }
            busiest = sorted(threads.items(), key=lambda item: -item[1])
            shown = " ".join(f"{name[:10]}={seconds:.2f}" for name, seconds in busiest if seconds)
            inside = [r for r in self.requests if before.at <= r.start < mark.at]
            summed = sum(r.end - r.start for r in inside)
            busy = _union(inside)
            routes: dict[str, int] = {}
            for r in inside:
                routes[f"{r.system}:{r.what}"] = routes.get(f"{r.system}:{r.what}", 0) + 1
            overlap = f"{summed / busy:7.2f}" if busy else "      -"
            lines.append(
                f"{mark.label[:34]:34} {wall:7.3f} {cpu:6.2f} {mark.emulators - before.emulators:6.2f}  "
                f"{shown[:40]:40} {len(inside):4} {summed:6.2f} "
                f"{busy:6.2f} {overlap}  {', '.join(f'{k} x{v}' for k, v in routes.items())[:160]}"
            )
        first, last = self.marks[0], self.marks[-1]
        lines.append(
            f"{'total':34} {last.at - first.at:7.3f} {last.cpu - first.cpu:6.2f} "
            f"{last.emulators - first.emulators:6.2f}"
        )
        return "\n".join(lines)


def _union(requests: list[Request]) -> float:
    total, end = 0.0, float("-inf")
    for r in sorted(requests, key=lambda r: r.start):
        if r.start > end:
            total += r.end - r.start
            end = r.end
        elif r.end > end:
            total += r.end - end
            end = r.end
    return total
