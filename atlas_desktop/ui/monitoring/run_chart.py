"""A small bar chart of recent runs drawn with QPainter: bar height = duration, failed runs in red."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QColor, QPainter, QPaintEvent
from PySide6.QtWidgets import QWidget

OK, PARTIAL, FAILED = QColor("#2da44e"), QColor("#d4a72c"), QColor("#cf222e")
STOPPED = QColor("#8c959f")  # cancelled by the user: neither a success nor a failure


@dataclass(frozen=True)
class RunBar:
    seconds: float
    failed_items: int
    status: str  # success / partial / failed / preview / running / cancelled


class RunChart(QWidget):
    """Oldest run on the left. A failed run is a full-height red bar; partial runs are amber."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.bars: list[RunBar] = []
        self.setMinimumSize(160, 44)
        self.setAccessibleName("Recent runs")

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt override
        return QSize(240, 48)

    def set_runs(self, bars: Sequence[RunBar]) -> None:
        self.bars = list(bars)
        failed = sum(1 for bar in self.bars if bar.status == "failed")
        self.setToolTip(f"{len(self.bars)} recent runs, {failed} failed" if self.bars else "No runs yet")
        self.update()

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 - Qt override
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        area = QRectF(self.rect()).adjusted(1, 1, -1, -1)
        painter.setPen(self.palette().mid().color())
        painter.drawLine(area.bottomLeft(), area.bottomRight())
        if not self.bars:
            painter.setPen(self.palette().placeholderText().color())
            painter.drawText(area, Qt.AlignmentFlag.AlignCenter, "no runs yet")
            return
        slot = area.width() / max(len(self.bars), 10)
        longest = max((bar.seconds for bar in self.bars), default=0.0) or 1.0
        painter.setPen(Qt.PenStyle.NoPen)
        for i, bar in enumerate(self.bars):
            if bar.status == "failed":
                share, colour = 1.0, FAILED
            else:
                # At least a sliver so a very quick run still shows.
                share = max(bar.seconds / longest, 0.08)
                colour = bar_colour(bar)
            height = (area.height() - 2) * share
            rect = QRectF(area.left() + i * slot + 1, area.bottom() - height, max(slot - 2, 1), height)
            painter.setBrush(colour)
            painter.drawRect(rect)


def bar_colour(bar: RunBar) -> QColor:
    """A run that got through: green, amber with failed items; grey when the user cancelled it."""
    if bar.status == "cancelled":
        return STOPPED
    return PARTIAL if bar.status == "partial" or bar.failed_items else OK
