"""The tray icon: the product's icon with a badge whose SHAPE says the state (colour only helps).

A check, sync arrows, pause bars, a cross, an exclamation mark, a question mark, three dots or an empty
ring: told apart in a grey screenshot, by colour-blind people and on monochrome tray themes.
"""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QIcon, QPainter, QPainterPath, QPen, QPixmap

from atlas_desktop.engine.health import HealthKind
from atlas_desktop.ui.monitoring.health import COLOURS
from atlas_desktop.ui.theme import app_icon

SIZES = (16, 22, 24, 32, 48, 64)


def tray_icon(health: HealthKind | None) -> QIcon:
    """Every tray size of the badged icon; the bare product icon when there is no connection yet."""
    icon = QIcon()
    for size in SIZES:
        icon.addPixmap(badged_pixmap(health, size))
    return icon


def badged_pixmap(health: HealthKind | None, size: int) -> QPixmap:
    pixmap = QPixmap(size, size)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    product = app_icon().pixmap(size, size)
    if not product.isNull():
        painter.drawPixmap(0, 0, product)
    else:  # resources/ missing (a broken install): a plain disc keeps the tray entry visible
        painter.setBrush(QColor("#57606a"))
        painter.setPen(Qt.PenStyle.NoPen)
        painter.drawEllipse(QRectF(0, 0, size, size))
    if health is not None:
        _badge(painter, health, size)
    painter.end()
    return pixmap


def _badge(painter: QPainter, health: HealthKind, size: int) -> None:
    """A disc in the lower right (60 % of the icon: readable at 16 px) with the state's glyph in white."""
    side = size * 0.6
    box = QRectF(size - side, size - side, side, side)
    painter.setPen(QPen(QColor("white"), max(1.0, size / 32)))  # a rim, so it stands out on any icon
    painter.setBrush(QColor(COLOURS[health]))
    painter.drawEllipse(box.adjusted(0.5, 0.5, -0.5, -0.5))
    glyph = QPen(QColor("white"), max(1.5, side * 0.14))
    glyph.setCapStyle(Qt.PenCapStyle.RoundCap)
    glyph.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
    painter.setPen(glyph)
    painter.setBrush(Qt.BrushStyle.NoBrush)
    x, y, s = box.x(), box.y(), side

    def at(fx: float, fy: float) -> QPointF:
        return QPointF(x + fx * s, y + fy * s)

    if health is HealthKind.IN_SYNC:
        painter.drawPolyline([at(0.28, 0.52), at(0.44, 0.68), at(0.72, 0.34)])
    elif health is HealthKind.FAILING:
        painter.drawLine(at(0.32, 0.32), at(0.68, 0.68))
        painter.drawLine(at(0.68, 0.32), at(0.32, 0.68))
    elif health is HealthKind.PAUSED:
        painter.drawLine(at(0.40, 0.30), at(0.40, 0.70))
        painter.drawLine(at(0.60, 0.30), at(0.60, 0.70))
    elif health is HealthKind.DEGRADED:
        painter.drawLine(at(0.5, 0.25), at(0.5, 0.56))
        painter.drawPoint(at(0.5, 0.74))
    elif health is HealthKind.SYNCING:
        _arrows(painter, QRectF(at(0.26, 0.26), at(0.74, 0.74)))
    elif health is HealthKind.PENDING:
        for fx in (0.30, 0.5, 0.70):
            painter.drawPoint(at(fx, 0.5))
    elif health is HealthKind.NOT_YET_SYNCED:
        painter.drawEllipse(QRectF(at(0.34, 0.34), at(0.66, 0.66)))
    elif health is HealthKind.NEEDS_CHOICE:
        font = QFont()
        font.setBold(True)
        font.setPixelSize(max(6, int(s * 0.72)))
        painter.setFont(font)
        painter.drawText(box, Qt.AlignmentFlag.AlignCenter, "?")


def _arrows(painter: QPainter, ring: QRectF) -> None:
    """Two arcs chasing each other, each with an arrow head: the usual "sync" sign."""
    for start in (30, 210):
        path = QPainterPath()
        path.arcMoveTo(ring, start)
        path.arcTo(ring, start, 120)
        painter.drawPath(path)
        end = path.currentPosition()
        radius = ring.width() / 2
        rx, ry = (end.x() - ring.center().x()) / radius, (end.y() - ring.center().y()) / radius
        tx, ty = ry, -rx  # the direction of travel at the end: counter-clockwise on screen
        head = radius * 0.55
        for side in (0.6, -0.6):
            tip = QPointF(end.x() - tx * head + rx * head * side, end.y() - ty * head + ry * head * side)
            painter.drawLine(end, tip)
