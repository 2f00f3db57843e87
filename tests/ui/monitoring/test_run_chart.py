"""The card's run chart on the real widget: a time axis and a labelled duration scale, failures told by
shape (read from the marks it lists, not from pixels), and one slow run that cannot flatten the others."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from PySide6.QtWidgets import QApplication

from atlas_desktop.ui.monitoring.run_chart import RunBar, RunChart
from atlas_desktop.ui.theme import ThemeMode, apply_theme

NOW = datetime(2026, 12, 7, 18, 0, tzinfo=UTC)


def chart(qtbot: Any, bars: list[RunBar], width: int = 420, height: int = 110) -> RunChart:
    widget = RunChart(clock=lambda: NOW, tz=UTC)
    qtbot.addWidget(widget)
    widget.resize(width, height)
    widget.set_runs(bars)
    return widget


def hourly(count: int, seconds: float = 10.0, status: str = "success") -> list[RunBar]:
    return [RunBar(seconds, 0, status, NOW - timedelta(hours=count - i)) for i in range(count)]


def test_one_slow_run_is_capped_and_marked_and_the_others_stay_tall(qtbot: Any) -> None:
    bars = hourly(12)
    bars[5] = RunBar(900.0, 0, "success", bars[5].started_at)  # fifteen minutes, the rest ten seconds
    widget = chart(qtbot, bars)
    marks = widget.marks()
    assert len(marks) == 12
    capped = [m for m in marks if m.capped]
    assert len(capped) == 1 and capped[0].seconds == 900.0
    layout = widget.chart_layout()
    assert capped[0].top == layout.top  # at the scale's top, with a break drawn on it
    assert all(m.height > 25 for m in marks if not m.capped)  # a plain linear scale would give them 1 px
    assert "cut at the top" in widget.toolTip()


def test_failed_and_partial_runs_have_their_own_shapes(qtbot: Any) -> None:
    bars = hourly(6)
    bars[1] = RunBar(4.0, 0, "failed", bars[1].started_at)
    bars[3] = RunBar(8.0, 2, "partial", bars[3].started_at)
    shapes = [(m.outcome, m.shape, m.marker) for m in chart(qtbot, bars).marks()]
    assert shapes[1] == ("failed", "hatched", "cross")
    assert shapes[3] == ("partial", "bar", "triangle")
    assert {s for i, s in enumerate(shapes) if i not in (1, 3)} == {("ok", "bar", None)}


def test_the_axes_are_labelled_in_time_and_duration_over_the_last_days(qtbot: Any) -> None:
    bars = [RunBar(6.0, 0, "success", NOW - timedelta(hours=h)) for h in range(0, 24 * 5, 2)]
    widget = chart(qtbot, bars, width=520)
    layout = widget.chart_layout()
    assert layout.start == NOW - timedelta(days=3)  # runs older than the last days are left out
    assert sum(m.runs for m in widget.marks()) == len([b for b in bars if b.started_at >= layout.start])
    labels = [t.label for t in layout.time_ticks]
    assert "Sat 05" in labels and "Sun 06" in labels and "Mon 07" in labels, labels
    xs = [t.at for t in layout.time_ticks]
    assert xs == sorted(xs) and layout.left <= xs[0] and xs[-1] <= layout.right
    assert [t.label for t in layout.duration_ticks] == ["0", "5 s", "10 s"]


def test_runs_close_in_time_share_a_slot_and_show_the_worst(qtbot: Any) -> None:
    start = NOW - timedelta(days=3)
    bars = [RunBar(3.0, 0, "success", start + timedelta(minutes=m)) for m in range(0, 60 * 72, 5)]
    bars.append(RunBar(3.0, 0, "failed", start + timedelta(hours=36, minutes=1)))
    widget = chart(qtbot, bars)
    marks = widget.marks()
    assert len(marks) <= (widget.width() - 40) // 8  # a slot is at least 8 px wide
    assert sum(m.runs for m in marks) == len(bars)
    assert [m.outcome for m in marks].count("failed") == 1


def test_render_for_the_docs(qtbot: Any, qapp: Any) -> None:
    """A card's week-end: 30-minute runs of a few seconds, a failing night, partial runs, one slow full read.
    Written as PNG when ATLAS_SCREENSHOT_DIR names a folder."""
    bars = []
    for i in range(3 * 48):
        when = NOW - timedelta(days=3) + timedelta(minutes=30 * i + 3)
        seconds, failed, status = 2.0 + (i * 7 % 5), 0, "success"
        if 60 <= i < 66:
            status = "failed"
        elif i % 17 == 0:
            seconds, failed, status = seconds + 3, 2, "partial"
        if i == 100:
            seconds = 640.0  # a full read after the failures
        bars.append(RunBar(seconds, failed, status, when))
    apply_theme(qapp, ThemeMode.LIGHT)
    widget = chart(qtbot, bars, width=640, height=140)
    widget.show()
    QApplication.processEvents()
    image = widget.grab()
    assert image.width() == 640
    folder = os.environ.get("ATLAS_SCREENSHOT_DIR")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        assert image.save(str(Path(folder) / "monitoring-run-chart.png"))


def test_its_description_counts_runs_in_words(qtbot: Any) -> None:
    assert chart(qtbot, hourly(1)).toolTip().startswith("1 run: 0 failed")
    assert chart(qtbot, hourly(3)).toolTip().startswith("3 runs: ")
