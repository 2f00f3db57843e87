"""The main window: connections, "Sync now", the running sync's progress and an activity log."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any, Protocol

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLabel,
    QMainWindow,
    QPlainTextEdit,
    QProgressBar,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from atlas_desktop.domain.errors import AtlasDesktopError
from atlas_desktop.engine.api import RunFinished, RunProgress, RunStarted, SyncEngine, SyncType
from atlas_desktop.store.repositories import ConnectionSummary
from atlas_desktop.ui.bridge import EngineBridge
from atlas_desktop.ui.connections_model import ConnectionsTableModel
from atlas_desktop.ui.widgets.banner import SandboxBanner
from atlas_desktop.ui.wizard.wizard import SetupWizard

log = logging.getLogger(__name__)


class ConnectionList(Protocol):
    def list(self) -> list[ConnectionSummary]: ...


class MainWindow(QMainWindow):
    closed = Signal()

    def __init__(
        self,
        connections: ConnectionList,
        engine: SyncEngine | None,
        wizard_factory: Callable[[], SetupWizard],
        *,
        sandbox: bool = False,
        vault_description: str = "",
    ) -> None:
        super().__init__()
        self.connections = connections
        self.engine = engine
        self.wizard_factory = wizard_factory
        self.wizard: SetupWizard | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self.setWindowTitle("Atlas Desktop" + (" — sandbox" if sandbox else ""))
        self.resize(960, 640)

        self.model = ConnectionsTableModel(self)
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.table.verticalHeader().setVisible(False)
        self.table.setAccessibleName("Connections")
        self.progress = QProgressBar()
        self.progress.setAccessibleName("Sync progress")
        self.progress.setVisible(False)
        self.progress_label = QLabel()
        self.activity = QPlainTextEdit()
        self.activity.setReadOnly(True)
        self.activity.setAccessibleName("Activity")
        self.activity.setMaximumBlockCount(2000)
        self.empty_label = QLabel("No connection yet. Click <b>Add connection</b> to connect your ERP.")

        central = QWidget()
        layout = QVBoxLayout(central)
        if sandbox:
            layout.addWidget(SandboxBanner())
        layout.addWidget(self.empty_label)
        splitter = QSplitter()
        splitter.setOrientation(Qt.Orientation.Vertical)
        splitter.addWidget(self.table)
        splitter.addWidget(self.activity)
        splitter.setSizes([260, 200])
        layout.addWidget(splitter, 1)
        layout.addWidget(self.progress_label)
        layout.addWidget(self.progress)
        self.setCentralWidget(central)

        self.add_action = QAction("&Add connection…", self)
        self.add_action.setShortcut(QKeySequence.StandardKey.New)
        self.sync_action = QAction("&Sync now", self)
        self.sync_action.setShortcut(QKeySequence("Ctrl+R"))
        toolbar = self.addToolBar("Main")
        toolbar.setObjectName("mainToolbar")
        toolbar.addAction(self.add_action)
        toolbar.addAction(self.sync_action)
        self.add_action.triggered.connect(self.open_wizard)
        self.sync_action.triggered.connect(self.on_sync_action_triggered)
        status = vault_description and f"Credentials kept in: {vault_description}"
        self.statusBar().showMessage(status or "Ready")

        self.bridge: EngineBridge | None = None
        if engine is not None:
            self.bridge = EngineBridge(engine.events, self)
            self.bridge.run_started.connect(self.on_bridge_run_started)
            self.bridge.run_progressed.connect(self.on_bridge_run_progressed)
            self.bridge.run_finished.connect(self.on_bridge_run_finished)
            self.bridge.connection_alerted.connect(
                lambda alert: self.log_line(f"Needs attention: {alert.reason}")
            )
        self.refresh()

    # ---- connections ------------------------------------------------------------------------------
    def refresh(self) -> None:
        try:
            rows = self.connections.list()
        except AtlasDesktopError as error:
            self.log_line(f"Could not read the connections: {error.message}")
            rows = []
        self.model.set_connections(rows)
        self.empty_label.setVisible(not rows)
        self.sync_action.setEnabled(bool(rows) and self.engine is not None)
        if rows and not self.table.selectionModel().hasSelection():
            self.table.selectRow(0)

    def selected_connection(self) -> str | None:
        rows = self.table.selectionModel().selectedRows()
        return self.model.connection_id(rows[0].row()) if rows else self.model.connection_id(0)

    # ---- the wizard -------------------------------------------------------------------------------
    def open_wizard(self) -> SetupWizard:
        if self.wizard is not None and self.wizard.isVisible():
            self.wizard.raise_()
            return self.wizard
        wizard = self.wizard_factory()
        wizard.setup_finished.connect(self.on_wizard_setup_finished)
        wizard.finished.connect(lambda _result: self.refresh())
        self.wizard = wizard
        wizard.open()  # window-modal, no nested event loop
        return wizard

    def on_wizard_setup_finished(self, connection_id: str) -> None:
        self.refresh()
        self.log_line("Setup finished; the first sync starts now.")
        self.start_sync(connection_id, sync_type=SyncType.FULL, approve=True)

    # ---- syncing ----------------------------------------------------------------------------------
    def on_sync_action_triggered(self) -> None:
        connection_id = self.selected_connection()
        if connection_id is not None:
            self.start_sync(connection_id)

    def start_sync(
        self, connection_id: str, *, sync_type: SyncType = SyncType.MANUAL, approve: bool = False
    ) -> None:
        if self.engine is None:
            self.log_line("The sync engine is not available in this build.")
            return
        task = asyncio.ensure_future(self._sync(connection_id, sync_type, approve))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _sync(self, connection_id: str, sync_type: SyncType, approve: bool) -> None:
        assert self.engine is not None
        try:
            await self.engine.sync(connection_id, sync_type=sync_type, approve=approve)
        except AtlasDesktopError as error:
            # Expected failures go to the activity log with their fix, never a surprise modal.
            self.log_line(f"Sync failed: {error.message} — {error.fix}")
        finally:
            self.refresh()

    def on_bridge_run_started(self, event: RunStarted) -> None:
        self.progress.setRange(0, 0)
        self.progress.setVisible(True)
        self.progress_label.setText("Syncing…")
        self.log_line(f"Sync started ({event.sync_type}).")

    def on_bridge_run_progressed(self, event: RunProgress) -> None:
        if event.total:
            self.progress.setRange(0, event.total)
            self.progress.setValue(min(event.done, event.total))
        total = f" of {event.total:,}" if event.total else ""
        self.progress_label.setText(f"{event.phase.capitalize()}: {event.done:,}{total}")

    def on_bridge_run_finished(self, event: RunFinished) -> None:
        summary = event.summary
        self.progress.setVisible(False)
        self.progress_label.setText("")
        line = (
            f"Sync {summary.status}: {summary.items_synced:,} items synced, {summary.items_failed:,} failed, "
            f"{summary.conflicts_opened:,} conflicts, {summary.duration_seconds:.1f} s."
        )
        if summary.error_message:
            line += f" {summary.error_message}"
        self.log_line(line)
        self.refresh()

    def log_line(self, text: str) -> None:
        self.activity.appendPlainText(f"{datetime.now().strftime('%H:%M:%S')}  {text}")

    # ---- closing ----------------------------------------------------------------------------------
    async def aclose(self) -> None:
        """Async clean-up before Qt quits: stop the syncs this window started."""
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        if self.bridge is not None:
            self.bridge.close()

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt override
        if self.wizard is not None:
            self.wizard.close()
        super().closeEvent(event)
        self.closed.emit()
