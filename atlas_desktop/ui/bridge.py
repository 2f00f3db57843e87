"""Engine events (plain dataclasses on the EventBus) re-emitted as Qt signals; progress at most ~10/s."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, Qt, QTimer, Signal

from atlas_desktop.engine.api import (
    ConnectionAlert,
    DiscoveryProgress,
    EngineEvent,
    EventBus,
    RunFinished,
    RunProgress,
    RunStarted,
)

PROGRESS_INTERVAL_MS = 100


class EngineBridge(QObject):
    """Subscribes to the bus; safe to publish from any thread (a queued hop onto the GUI thread).

    Progress events are coalesced: only the latest per (connection, kind) goes out, at most every 100 ms;
    before any other event of a connection, its pending progress is flushed, so order is kept.
    """

    run_started = Signal(object)  # RunStarted
    run_progressed = Signal(object)  # RunProgress
    run_finished = Signal(object)  # RunFinished
    discovery_progressed = Signal(object)  # DiscoveryProgress
    connection_alerted = Signal(object)  # ConnectionAlert
    _received = Signal(object)

    def __init__(self, bus: EventBus, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._pending: dict[tuple[str, type], RunProgress | DiscoveryProgress] = {}
        self._timer = QTimer(self)
        self._timer.setInterval(PROGRESS_INTERVAL_MS)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self.flush)
        self._received.connect(self._on_received, Qt.ConnectionType.AutoConnection)
        self._unsubscribe: Callable[[], None] | None = bus.subscribe(self._received.emit)

    def close(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        self._timer.stop()

    def _on_received(self, event: EngineEvent) -> None:
        if isinstance(event, RunProgress | DiscoveryProgress):
            self._pending[(event.connection_id, type(event))] = event
            if not self._timer.isActive():
                self._timer.start()
            return
        connection_id = event.summary.connection_id if isinstance(event, RunFinished) else event.connection_id
        self.flush(connection_id)
        if isinstance(event, RunStarted):
            self.run_started.emit(event)
        elif isinstance(event, RunFinished):
            self.run_finished.emit(event)
        elif isinstance(event, ConnectionAlert):
            self.connection_alerted.emit(event)

    def flush(self, connection_id: str | None = None) -> None:
        for key in [k for k in self._pending if connection_id is None or k[0] == connection_id]:
            event = self._pending.pop(key)
            if isinstance(event, RunProgress):
                self.run_progressed.emit(event)
            else:
                self.discovery_progressed.emit(event)
