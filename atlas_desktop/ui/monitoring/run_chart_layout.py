"""Where the run chart's marks and axis ticks go (pure arithmetic, no painting): runs placed by time over the
last days, the duration scale capped so one slow run cannot flatten the rest."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from statistics import median

HISTORY = timedelta(days=3)  # what the card shows at most: the last days at a glance
MIN_SPAN = timedelta(hours=1)  # a new connection's few runs are not squeezed into one slot
SLOT_PX = 8.0  # one slot (a bar and its gap); runs closer in time than a slot share it
CAP_FACTOR = 3  # the scale's top: three times the typical (median) run, when the longest is beyond it
MARGIN_LEFT, MARGIN_TOP, MARGIN_BOTTOM, MARGIN_RIGHT = 40.0, 12.0, 16.0, 6.0
MIN_BAR_PX = 2.0  # a very quick run still shows
_NICE_SECONDS = (1, 2, 5, 10, 20, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200, 14400, 28800, 86400)
_TICK_STEPS = (300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400)
MIN_TICK_GAP_PX = 56.0


@dataclass(frozen=True)
class RunBar:
    seconds: float  # only drawn: a float is fine for a pixel height
    failed_items: int
    status: str  # success / partial / failed / preview / running / cancelled
    started_at: datetime | None = None  # None: placed in order, without a time axis


@dataclass(frozen=True)
class Mark:
    """One slot's mark: `shape` "bar" (solid) or "hatched" (failed), `marker` None, "triangle" (partial) or
    "cross" (failed) above it, `capped` when its run is longer than the scale (a break is drawn on it)."""

    outcome: str  # ok / partial / failed: the worst run in the slot
    shape: str
    marker: str | None
    capped: bool
    x: float
    width: float
    top: float  # y of the bar's top; the bar stands on `ChartLayout.baseline`
    height: float
    runs: int
    seconds: float  # the longest run in the slot


@dataclass(frozen=True)
class Tick:
    at: float  # x for the time axis, y for the duration axis
    label: str


@dataclass(frozen=True)
class ChartLayout:
    marks: list[Mark]
    time_ticks: list[Tick]
    duration_ticks: list[Tick]
    scale_seconds: float  # the duration at the top of the plot
    left: float
    right: float
    top: float
    baseline: float
    start: datetime | None
    end: datetime | None


def outcome(bar: RunBar) -> str:
    if bar.status == "failed":
        return "failed"
    if bar.status == "cancelled":  # stopped by the user: neither a success nor a failure
        return "stopped"
    return "partial" if bar.status == "partial" or bar.failed_items else "ok"


_RANK = {"stopped": 0, "ok": 1, "partial": 2, "failed": 3}


def nice_ceiling(seconds: float) -> float:
    return float(next((n for n in _NICE_SECONDS if n >= seconds), math.ceil(seconds / 86400) * 86400))


def scale_top(durations: Sequence[float]) -> float:
    """The scale's top, in seconds: the longest run, unless it is far beyond the typical one."""
    positive = [d for d in durations if d > 0]
    if not positive:
        return 1.0
    longest, typical = max(positive), median(positive)
    return nice_ceiling(min(longest, max(CAP_FACTOR * typical, 1.0)))


def seconds_label(seconds: float) -> str:
    if seconds == 0:
        return "0"
    if seconds < 60:
        return f"{seconds:g} s"
    if seconds < 3600:
        return f"{seconds / 60:g} min"
    return f"{seconds / 3600:g} h"


def layout(
    bars: Sequence[RunBar], width: float, height: float, now: datetime, tz: tzinfo | None = None
) -> ChartLayout:
    """Oldest on the left, `now` at the right edge; `tz` is the time zone the axis is labelled in."""
    left, right = MARGIN_LEFT, max(width - MARGIN_RIGHT, MARGIN_LEFT + 1)
    top, baseline = MARGIN_TOP, max(height - MARGIN_BOTTOM, MARGIN_TOP + 1)
    plot_w, plot_h = right - left, baseline - top
    scale = scale_top([b.seconds for b in bars])
    slots = max(int(plot_w // SLOT_PX), 1)
    timed = bool(bars) and all(b.started_at is not None for b in bars)
    start = end = None
    grouped: dict[int, list[RunBar]] = {}
    if timed:
        end = now
        oldest = min(b.started_at for b in bars if b.started_at is not None)
        start = min(max(oldest, now - HISTORY), now - MIN_SPAN)
        span = (end - start).total_seconds()
        for bar in bars:
            assert bar.started_at is not None
            offset = (bar.started_at - start).total_seconds()
            if offset >= 0:  # older than the window: not shown
                grouped.setdefault(min(int(offset / span * slots), slots - 1), []).append(bar)
    else:
        slots = max(slots if not bars else min(slots, max(len(bars), 10)), 1)
        for index, bar in enumerate(bars[-slots:]):
            grouped[index] = [bar]
    slot_w = plot_w / slots
    marks = []
    for slot, runs in sorted(grouped.items()):
        worst = max((outcome(r) for r in runs), key=_RANK.__getitem__)
        longest = max(r.seconds for r in runs)
        capped = longest > scale
        bar_h = max(plot_h * min(longest / scale, 1.0), MIN_BAR_PX)
        marks.append(Mark(
            outcome=worst, shape="hatched" if worst == "failed" else "bar",
            marker={"failed": "cross", "partial": "triangle"}.get(worst), capped=capped,
            x=left + slot * slot_w + 1, width=max(slot_w - 2, 1.0), top=baseline - bar_h, height=bar_h,
            runs=len(runs), seconds=longest,
        ))  # fmt: skip
    duration_ticks = [Tick(baseline - plot_h * f, seconds_label(scale * f)) for f in (0.0, 0.5, 1.0)]
    time_ticks = _time_ticks(start, end, left, plot_w, tz) if start and end else []
    return ChartLayout(marks, time_ticks, duration_ticks, scale, left, right, top, baseline, start, end)


def _time_ticks(start: datetime, end: datetime, left: float, plot_w: float, tz: tzinfo | None) -> list[Tick]:
    span = (end - start).total_seconds()
    step = next(
        (s for s in _TICK_STEPS if plot_w * s / span >= MIN_TICK_GAP_PX), _TICK_STEPS[-1]
    )
    local_start = start.astimezone(tz)
    offset = (local_start.utcoffset() or timedelta()).total_seconds()
    # Ticks on round local times (whole hours, local midnights), not on the window's odd start.
    first = math.ceil((start.timestamp() + offset) / step) * step - offset
    ticks = []
    moment = first
    while moment <= end.timestamp():
        when = datetime.fromtimestamp(moment, tz=start.tzinfo).astimezone(tz)
        midnight = when.hour == 0 and when.minute == 0
        label = when.strftime("%a %d") if step >= 86400 or (midnight and span > 86400) else when.strftime(
            "%H:%M")
        ticks.append(Tick(left + plot_w * (moment - start.timestamp()) / span, label))
        moment += step
    return ticks
