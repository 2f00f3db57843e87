"""The system tray entry: a badge for the most urgent state, a menu per connection, notices when needed."""

from __future__ import annotations

import time
from collections.abc import Mapping

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMenu, QSystemTrayIcon

from atlas_desktop.engine.api import ConnectionAlert
from atlas_desktop.engine.health import HealthKind, HealthState, worst
from atlas_desktop.ui.monitoring.tray_icon import tray_icon

REPEAT_AFTER_S = 15 * 60  # the same alert for the same connection is not repeated sooner


class TrayController(QObject):
    """Fed by the dashboard (states) and the bridge (alerts); `notified` mirrors every notification.

    The menu: one status line per connection ("Name — state", disabled), Sync now, Pause/Resume syncing
    (whichever the connections' states call for), Open, Quit. The window does what they ask: this
    module knows no engine.
    """

    notified = Signal(str, str)  # title, text
    show_window_requested = Signal()
    sync_requested = Signal()  # every connection that is not paused nor syncing
    pause_requested = Signal(bool)  # True: pause every connection; False: resume them
    quit_requested = Signal()

    def __init__(self, names: Mapping[str, str] | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.names: dict[str, str] = dict(names or {})
        self.health: HealthKind | None = None
        self.states: dict[str, HealthState] = {}
        self.icon = QSystemTrayIcon(tray_icon(None), self)
        self.icon.setToolTip("Atlas Desktop — no connection")
        self.menu = QMenu()
        self.menu.setAccessibleName("Atlas Desktop tray menu")
        self._status_actions: list[QAction] = []
        self._status_end = self.menu.addSeparator()
        self.sync_action = self.menu.addAction("Sync now")
        self.pause_action = self.menu.addAction("Pause syncing")
        self.menu.addSeparator()
        self.open_action = self.menu.addAction("Open Atlas Desktop")
        self.quit_action = self.menu.addAction("Quit Atlas Desktop")
        self.sync_action.triggered.connect(self.sync_requested)
        self.pause_action.triggered.connect(lambda: self.pause_requested.emit(not self._all_paused()))
        self.open_action.triggered.connect(self.show_window_requested)
        self.quit_action.triggered.connect(self.quit_requested)
        self.icon.setContextMenu(self.menu)
        self.icon.activated.connect(self._on_icon_activated)
        self._last: dict[tuple[str, str], float] = {}
        self.notifications: list[tuple[str, str]] = []
        self._update_menu()

    @staticmethod
    def available() -> bool:
        """Whether the desktop shows tray icons at all (some Linux sessions do not)."""
        return QSystemTrayIcon.isSystemTrayAvailable()

    def show(self) -> None:
        if self.available():
            self.icon.show()

    def hide(self) -> None:
        self.icon.hide()

    def _on_icon_activated(self, reason: QSystemTrayIcon.ActivationReason) -> None:
        # The context menu has its own reason; a click or double click opens the window.
        if reason is not QSystemTrayIcon.ActivationReason.Context:
            self.show_window_requested.emit()

    def set_states(self, states: Mapping[str, HealthState], names: Mapping[str, str] | None = None) -> None:
        """The dashboard's states (engine/health.py's rule): the badge shows the most urgent one."""
        if names:
            self.names.update(names)
        self.states = dict(states)
        health = worst([state.kind for state in states.values()]) if states else None
        if health is not self.health or self.icon.icon().isNull():  # progress comes ~10 times a second
            self.icon.setIcon(tray_icon(health))
        self.health = health
        lines = [
            f"{self.names.get(cid, cid)}: {state.words()}"
            for cid, state in states.items()
            if state.kind is not HealthKind.IN_SYNC
        ]
        label = next((s.label for s in states.values() if s.kind is self.health), "no connection")
        self.icon.setToolTip("\n".join([f"Atlas Desktop — {label}", *lines]))
        self._update_menu()

    def _all_paused(self) -> bool:
        return bool(self.states) and all(s.kind is HealthKind.PAUSED for s in self.states.values())

    def _update_menu(self) -> None:
        for action in self._status_actions:
            self.menu.removeAction(action)
            action.deleteLater()
        self._status_actions = []
        lines = [f"{self.names.get(cid, cid)} — {state.label}" for cid, state in self.states.items()]
        for text in lines or ["No connection yet"]:
            action = QAction(text, self.menu)
            action.setEnabled(False)  # a status line, not a command
            self.menu.insertAction(self._status_end, action)
            self._status_actions.append(action)
        idle = [s for s in self.states.values() if s.kind not in (HealthKind.PAUSED, HealthKind.SYNCING)]
        self.sync_action.setEnabled(bool(idle))
        self.pause_action.setText("Resume syncing" if self._all_paused() else "Pause syncing")
        self.pause_action.setEnabled(bool(self.states))

    def on_bridge_connection_alerted(self, alert: ConnectionAlert) -> None:
        """The engine raises alerts after 3 failed runs in a row, and for conflicts / in-doubt writes."""
        key = (alert.connection_id, alert.kind or alert.reason)
        now = time.monotonic()
        if now - self._last.get(key, -REPEAT_AFTER_S) < REPEAT_AFTER_S:
            return
        self._last[key] = now
        name = self.names.get(alert.connection_id, "A connection")
        self.notify(f"{name} needs attention", alert.reason.capitalize() + ". Open Atlas Desktop to review.")

    def notify(self, title: str, text: str) -> None:
        """An alert: a person is needed."""
        self._show(title, text, QSystemTrayIcon.MessageIcon.Warning, 10_000)

    def tell(self, title: str, text: str) -> None:
        """A notice, not an alert (e.g. that closing the window keeps syncs running)."""
        self._show(title, text, QSystemTrayIcon.MessageIcon.Information, 8_000)

    def _show(self, title: str, text: str, kind: QSystemTrayIcon.MessageIcon, ms: int) -> None:
        self.notifications.append((title, text))
        if self.icon.isVisible() and QSystemTrayIcon.supportsMessages():
            self.icon.showMessage(title, text, kind, ms)
        self.notified.emit(title, text)
