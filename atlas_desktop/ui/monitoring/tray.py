"""The system tray icon: it follows the most urgent connection state; notifies when a person is needed."""

from __future__ import annotations

import time
from collections.abc import Mapping

from PySide6.QtCore import QObject, QRectF, Qt, Signal
from PySide6.QtGui import QAction, QColor, QIcon, QPainter, QPixmap
from PySide6.QtWidgets import QMenu, QSystemTrayIcon

from atlas_desktop.engine.api import ConnectionAlert
from atlas_desktop.engine.health import HealthKind, HealthState, worst
from atlas_desktop.ui.monitoring.health import COLOURS

REPEAT_AFTER_S = 15 * 60  # the same alert for the same connection is not repeated sooner


def health_icon(health: HealthKind | None, size: int = 64) -> QIcon:
    """A filled circle in the state's colour (grey when there is no connection): no image files needed."""
    pixmap = QPixmap(size, size)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(QColor(COLOURS.get(health, "#8c959f") if health else "#8c959f"))
    margin = size * 0.08
    painter.drawEllipse(QRectF(margin, margin, size - 2 * margin, size - 2 * margin))
    painter.end()
    return QIcon(pixmap)


class TrayController(QObject):
    """Fed by the dashboard (healths) and the bridge (alerts); `notified` mirrors every notification."""

    notified = Signal(str, str)  # title, text
    show_window_requested = Signal()

    def __init__(self, names: Mapping[str, str] | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.names: dict[str, str] = dict(names or {})
        self.health: HealthKind | None = None
        self.icon = QSystemTrayIcon(health_icon(None), self)
        self.icon.setToolTip("Atlas Desktop")
        menu = QMenu()
        open_action = QAction("Open Atlas Desktop", menu)
        open_action.triggered.connect(self.show_window_requested)
        menu.addAction(open_action)
        self._menu = menu
        self.icon.setContextMenu(menu)
        self.icon.activated.connect(lambda _reason: self.show_window_requested.emit())
        self._last: dict[tuple[str, str], float] = {}
        self.notifications: list[tuple[str, str]] = []

    def show(self) -> None:
        if QSystemTrayIcon.isSystemTrayAvailable():
            self.icon.show()

    def hide(self) -> None:
        self.icon.hide()

    def set_states(self, states: Mapping[str, HealthState], names: Mapping[str, str] | None = None) -> None:
        """The dashboard's states (engine/health.py's rule): the icon shows the most urgent one."""
        if names:
            self.names.update(names)
        health = worst([state.kind for state in states.values()])
        if health is not self.health or self.icon.icon().isNull():  # progress comes ~10 times a second
            self.icon.setIcon(health_icon(health))
        self.health = health
        lines = [
            f"{self.names.get(cid, cid)}: {state.words()}"
            for cid, state in states.items()
            if state.kind is not HealthKind.IN_SYNC
        ]
        label = next((s.label for s in states.values() if s.kind is self.health), "no connection")
        self.icon.setToolTip("\n".join([f"Atlas Desktop — {label}", *lines]))

    def on_bridge_connection_alerted(self, alert: ConnectionAlert) -> None:
        """The engine raises alerts after 3 failed runs in a row, and for conflicts / in-doubt writes."""
        kind = "failures" if alert.consecutive_failures else alert.reason.split(" ", 1)[-1]
        key = (alert.connection_id, kind)
        now = time.monotonic()
        if now - self._last.get(key, -REPEAT_AFTER_S) < REPEAT_AFTER_S:
            return
        self._last[key] = now
        name = self.names.get(alert.connection_id, "A connection")
        self.notify(f"{name} needs attention", alert.reason.capitalize() + ". Open Atlas Desktop to review.")

    def notify(self, title: str, text: str) -> None:
        self.notifications.append((title, text))
        if self.icon.isVisible() and QSystemTrayIcon.supportsMessages():
            self.icon.showMessage(title, text, QSystemTrayIcon.MessageIcon.Warning, 10_000)
        self.notified.emit(title, text)
