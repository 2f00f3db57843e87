"""The card's run chart, drawn with QPainter: the last days of runs on a time axis, duration as height on a
labelled scale; failures are told by shape as well as colour (a hatched bar under a cross; a triangle over a
partial run), and a run beyond the scale is cut at its top with a break, so it cannot flatten the rest."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime, tzinfo

from PySide6.QtCore import QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QBrush, QColor, QPainter, QPaintEvent, QPen, QPolygonF
from PySide6.QtWidgets import QWidget

from atlas_desktop.ui.monitoring.run_chart_layout import (
    ChartLayout,
    Mark,
    RunBar,
    layout,
    outcome,
    seconds_label,
)
from atlas_desktop.ui.monitoring.wording import plural

__all__ = ["RunBar", "RunChart"]

COLOURS = {"ok": QColor("#2da44e"), "partial": QColor("#d4a72c"), "failed": QColor("#cf222e"),
           "stopped": QColor("#8c959f")}  # fmt: skip
MARKER_PX = 4.0  # half the width of a cross or a triangle


def _round(seconds: float) -> float:
    """Two significant figures: 640 s reads "11 min", 75 s "1.2 min"."""
    unit = 3600 if seconds >= 3600 else 60 if seconds >= 60 else 1
    return float(f"{seconds / unit:.2g}") * unit


class RunChart(QWidget):
    def __init__(
        self,
        parent: QWidget | None = None,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        tz: tzinfo | None = None,  # the axis's time zone; None: this computer's
    ) -> None:
        super().__init__(parent)
        self.bars: list[RunBar] = []
        self.clock = clock
        self.tz = tz
        self.setMinimumSize(220, 84)
        self.setAccessibleName("Recent runs")

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt override
        return QSize(360, 96)

    def set_runs(self, bars: Sequence[RunBar]) -> None:
        self.bars = list(bars)
        self.setToolTip(self._summary())
        self.update()

    def chart_layout(self) -> ChartLayout:
        """Where everything goes at the current size: what paintEvent draws, and what tests read."""
        return layout(self.bars, self.width(), self.height(), self.clock(), self.tz)

    def marks(self) -> list[Mark]:
        return self.chart_layout().marks

    def _summary(self) -> str:
        if not self.bars:
            return "No runs yet"
        kinds = [outcome(b) for b in self.bars]
        chart = self.chart_layout()
        text = (
            f"{plural(len(self.bars), 'run')}: {kinds.count('failed')} failed (✕), "
            f"{kinds.count('partial')} with failed items (▲). Height = duration; the scale's top is "
            f"{seconds_label(chart.scale_seconds)}"
        )
        longest = max(b.seconds for b in self.bars)
        if longest > chart.scale_seconds:
            text += f"; a longer run ({longest:.0f} s) is cut at the top, marked with a break"
        return text + "."

    # ---- painting -------------------------------------------------------------------------------------
    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 - Qt override
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        chart = self.chart_layout()
        self._axes(painter, chart)
        if not self.bars:
            painter.setPen(self.palette().placeholderText().color())
            plot = QRectF(chart.left, chart.top, chart.right - chart.left, chart.baseline - chart.top)
            painter.drawText(plot, Qt.AlignmentFlag.AlignCenter, "no runs yet")
            return
        for mark in chart.marks:
            self._mark(painter, mark)

    def _axes(self, painter: QPainter, chart: ChartLayout) -> None:
        grid, text = self.palette().mid().color(), self.palette().text().color()
        font = painter.font()
        font.setPointSizeF(max(font.pointSizeF() * 0.8, 6.5))
        painter.setFont(font)
        for tick in chart.duration_ticks:
            style = Qt.PenStyle.SolidLine if tick.label == "0" else Qt.PenStyle.DotLine
            painter.setPen(QPen(grid, 0.6, style))
            painter.drawLine(QPointF(chart.left, tick.at), QPointF(chart.right, tick.at))
            painter.setPen(text)
            box = QRectF(0, tick.at - 7, chart.left - 4, 14)
            painter.drawText(box, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, tick.label)
        for tick in chart.time_ticks:
            painter.setPen(QPen(grid, 0.8))
            painter.drawLine(QPointF(tick.at, chart.baseline), QPointF(tick.at, chart.baseline + 3))
            painter.setPen(text)
            box = QRectF(tick.at - 30, chart.baseline + 2, 60, 14)
            painter.drawText(box, Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop, tick.label)

    def _mark(self, painter: QPainter, mark: Mark) -> None:
        colour = COLOURS[mark.outcome]
        rect = QRectF(mark.x, mark.top, mark.width, mark.height)
        if mark.shape == "hatched":
            painter.setPen(QPen(colour, 1.0))
            painter.setBrush(QBrush(colour, Qt.BrushStyle.BDiagPattern))
        else:
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(colour)
        painter.drawRect(rect)
        if mark.capped:  # a break across the top: the bar goes on beyond the scale
            painter.setPen(QPen(self.palette().base().color(), 2.0))
            for dy in (4.0, 8.0):
                painter.drawLine(QPointF(rect.left() - 1, rect.top() + dy + 2),
                                 QPointF(rect.right() + 1, rect.top() + dy - 2))  # fmt: skip
            # and its real length beside it, where the scale cannot say it
            painter.setPen(self.palette().text().color())
            note = QRectF(rect.right() + 3, rect.top(), 60, 12)
            painter.drawText(note, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop,
                             seconds_label(_round(mark.seconds)))  # fmt: skip
        centre, above = rect.center().x(), rect.top() - MARKER_PX - 2
        if mark.marker == "cross":
            painter.setPen(QPen(colour, 2.0))
            painter.drawLine(QPointF(centre - MARKER_PX, above - MARKER_PX),
                             QPointF(centre + MARKER_PX, above + MARKER_PX))  # fmt: skip
            painter.drawLine(QPointF(centre - MARKER_PX, above + MARKER_PX),
                             QPointF(centre + MARKER_PX, above - MARKER_PX))  # fmt: skip
        elif mark.marker == "triangle":
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(colour)
            painter.drawPolygon(QPolygonF([
                QPointF(centre, above - MARKER_PX), QPointF(centre - MARKER_PX, above + MARKER_PX),
                QPointF(centre + MARKER_PX, above + MARKER_PX),
            ]))  # fmt: skip
