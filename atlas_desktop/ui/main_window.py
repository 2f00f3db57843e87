"""The main window: connections on the side; Dashboard, Mappings, Conflicts, History tabs; the log."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction, QCloseEvent, QGuiApplication, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFileDialog,
    QHeaderView,
    QLabel,
    QMainWindow,
    QPlainTextEdit,
    QProgressBar,
    QSplitter,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from atlas_desktop.domain.enums import ConnectionStatus, MappingStatus, SyncType
from atlas_desktop.domain.errors import AtlasDesktopError
from atlas_desktop.engine.api import RunFinished, RunProgress, RunStarted, SyncEngine
from atlas_desktop.engine.health import HealthKind
from atlas_desktop.store.repositories import ConnectionSummary
from atlas_desktop.ui.bridge import EngineBridge
from atlas_desktop.ui.connections_model import ConnectionsTableModel
from atlas_desktop.ui.help import HelpMenu
from atlas_desktop.ui.monitoring.conflicts_view import ConflictsView
from atlas_desktop.ui.monitoring.connection_dialog import ConnectionDialog
from atlas_desktop.ui.monitoring.context import MonitoringContext
from atlas_desktop.ui.monitoring.credentials_dialog import CredentialsDialog
from atlas_desktop.ui.monitoring.dashboard import DashboardView
from atlas_desktop.ui.monitoring.explain_dialog import ExplainDialog
from atlas_desktop.ui.monitoring.history_view import HistoryView
from atlas_desktop.ui.monitoring.mapping_view import MappingsView
from atlas_desktop.ui.monitoring.remove_connection import RemoveConnectionDialog
from atlas_desktop.ui.monitoring.settings_dialog import SettingsDialog, StartAtLogin
from atlas_desktop.ui.monitoring.tray import TrayController
from atlas_desktop.ui.monitoring.wording import phase_words, run_start_words, run_words
from atlas_desktop.ui.widgets.banner import SandboxBanner
from atlas_desktop.ui.wizard.wizard import SetupWizard

log = logging.getLogger(__name__)


class ConnectionList(Protocol):
    def list(self) -> list[ConnectionSummary]: ...


@dataclass(frozen=True)
class DiagnosticsActions:
    """How the window writes a diagnostics bundle: given by the app, so the UI never imports it."""

    default_name: Callable[[], str]
    build: Callable[[Path, str | None], Any]  # (zip path, connection id or None) -> bundle summary


class MainWindow(QMainWindow):
    closed = Signal()
    # A connection was added, activated, paused, resumed or edited here, or the settings saved: the
    # schedule (run by the app, which the UI does not import) reads them again.
    connections_changed = Signal()
    # How often the dashboard (and the tray) read the store again for what other processes did.
    FOLLOW_MS = 15_000

    def __init__(
        self,
        connections: ConnectionList,
        engine: SyncEngine | None,
        wizard_factory: Callable[[], SetupWizard],
        *,
        sandbox: bool = False,
        vault_description: str = "",
        monitoring: MonitoringContext | None = None,
        services: Any = None,
        diagnostics: DiagnosticsActions | None = None,
        start_at_login: StartAtLogin | None = None,
    ) -> None:
        super().__init__()
        self.connections = connections
        self.engine = engine
        self.wizard_factory = wizard_factory
        self.wizard: SetupWizard | None = None
        self.monitoring = monitoring
        self.services = services  # for the settings
        self.diagnostics = diagnostics  # the bundle builder, handed in by the composition root
        self.start_at_login = start_at_login  # likewise, for the settings dialog
        self.dialogs: list[Any] = []
        self._tasks: set[asyncio.Task[Any]] = set()
        self._quitting = False  # only Quit ends the app; closing the window hides it to the tray
        self._tray_notice_shown = False  # kept in the settings when there are any
        self.setWindowTitle("Atlas Desktop" + (" — sandbox" if sandbox else ""))
        self.resize(1280, 800)

        self.model = ConnectionsTableModel(self)
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        if monitoring is not None:
            # A narrow sidebar: the cards carry the details; the table picks the connection to review.
            for column in range(1, self.model.columnCount()):
                self.table.setColumnHidden(column, True)
            self.table.setMaximumWidth(240)
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
        self.tabs = QTabWidget()
        self.dashboard: DashboardView | None = None
        self.mappings: MappingsView | None = None
        self.conflicts: ConflictsView | None = None
        self.history: HistoryView | None = None
        self.tray: TrayController | None = None
        splitter = QSplitter()
        splitter.setOrientation(Qt.Orientation.Vertical)
        if monitoring is not None:
            self._build_monitoring(monitoring)
            upper = QSplitter()
            upper.addWidget(self.table)
            upper.addWidget(self.tabs)
            upper.setStretchFactor(1, 1)
            upper.setSizes([200, 1080])
            splitter.addWidget(upper)
            splitter.addWidget(self.activity)
            splitter.setSizes([620, 120])
        else:
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
        self.diagnostics_action = QAction("&Diagnostics bundle…", self)
        self.settings_action = QAction("S&ettings…", self)
        self.settings_action.setShortcut(QKeySequence.StandardKey.Preferences)
        self.diagnostics_action.triggered.connect(self.on_diagnostics_action_triggered)
        self.settings_action.triggered.connect(self.on_settings_action_triggered)
        self.diagnostics_action.setEnabled(diagnostics is not None)
        self.settings_action.setEnabled(services is not None)
        file_menu = self.menuBar().addMenu("&File")
        file_menu.addAction(self.add_action)
        file_menu.addAction(self.sync_action)
        file_menu.addSeparator()
        file_menu.addAction(self.diagnostics_action)
        file_menu.addAction(self.settings_action)
        file_menu.addSeparator()
        quit_action = file_menu.addAction("&Quit")
        quit_action.setShortcut(QKeySequence.StandardKey.Quit)
        quit_action.triggered.connect(self.quit_app)
        self._build_connection_menu()
        status = vault_description and f"Credentials kept in: {vault_description}"
        self.statusBar().showMessage(status or "Ready")
        self.schedule_label = QLabel()  # which process runs the scheduled syncs: see show_schedule_owner
        self.schedule_label.setAccessibleName("Scheduled syncs")
        self.statusBar().addPermanentWidget(self.schedule_label)
        self.help_menu = HelpMenu(
            self,
            topic_of_page=self.help_topic,
            data_dir=services.paths.root if services is not None else None,
            diagnostics=self.diagnostics_action,
        )

        self.bridge: EngineBridge | None = None
        if engine is not None:
            self.bridge = EngineBridge(engine.events, self)
            self.bridge.run_started.connect(self.on_bridge_run_started)
            self.bridge.run_progressed.connect(self.on_bridge_run_progressed)
            self.bridge.run_finished.connect(self.on_bridge_run_finished)
            self.bridge.connection_alerted.connect(
                lambda alert: self.log_line(f"Needs attention: {alert.reason}")
            )
            if self.tray is not None:
                self.bridge.connection_alerted.connect(self.tray.on_bridge_connection_alerted)
            if self.dashboard is not None:  # the cards say "Syncing" with the run's phase and progress
                self.bridge.run_started.connect(self.dashboard.on_bridge_run_started)
                self.bridge.run_progressed.connect(self.dashboard.on_bridge_run_progressed)
                self.bridge.run_finished.connect(self.dashboard.on_bridge_run_finished)
        self.table.selectionModel().selectionChanged.connect(lambda *_: self.on_table_selection_changed())
        self.refresh()

    # ---- monitoring -------------------------------------------------------------------------------
    def _build_monitoring(self, ctx: MonitoringContext) -> None:
        self.dashboard = DashboardView(ctx)
        self.mappings = MappingsView(ctx)
        self.conflicts = ConflictsView(ctx)
        self.history = HistoryView(ctx)
        self.tabs.addTab(self.dashboard, "Dashboard")
        self.tabs.addTab(self.mappings, "Mappings")
        self.tabs.addTab(self.conflicts, "Conflicts")
        self.tabs.addTab(self.history, "History")
        # The mapping table reads only while its tab is shown (see MappingsView.set_active).
        self.tabs.currentChanged.connect(lambda _index: self._on_tab_changed())
        self._on_tab_changed()
        self.dashboard.sync_requested.connect(lambda cid: self.start_sync(cid))
        self.dashboard.edit_requested.connect(self.open_connection_dialog)
        self.dashboard.pause_changed.connect(lambda _cid, _paused: self.connections_changed.emit())
        self.mappings.explain_requested.connect(self.open_explain)
        self.history.explain_requested.connect(self.open_explain)
        self.mappings.changed.connect(self.refresh_monitoring)
        self.conflicts.resolved.connect(lambda _n: self.refresh_monitoring())
        self.history.replayed.connect(lambda _s: self.refresh_monitoring())
        self.tray = TrayController(parent=self)
        self.tray.show_window_requested.connect(self.show_and_raise)
        self.tray.sync_requested.connect(self.on_tray_sync_requested)
        self.tray.pause_requested.connect(self.on_tray_pause_requested)
        self.tray.quit_requested.connect(self.quit_app)
        self.dashboard.cancel_requested.connect(self.cancel_sync)
        self.dashboard.states_changed.connect(self._on_dashboard_reloaded)
        self.dashboard.review_requested.connect(self.open_review)
        self.dashboard.follow(self.FOLLOW_MS)
        self.dashboard.runs_changed_elsewhere.connect(self._refresh_lists)
        self.tray.show()

    def help_topic(self) -> str:
        """The help topic of what is on screen (F1): the current monitoring tab, else the overview."""
        current = self.tabs.currentWidget()
        pages = {"dashboard": self.dashboard, "mappings": self.mappings, "conflicts": self.conflicts,
                 "history": self.history}  # fmt: skip
        shown = [name for name, page in pages.items() if page is not None and page is current]
        return shown[0] if shown else "overview"

    def _on_tab_changed(self) -> None:
        if self.mappings is not None:
            self.mappings.set_active(self.tabs.currentWidget() is self.mappings)

    def _on_dashboard_reloaded(self) -> None:
        if self.tray is not None and self.dashboard is not None:
            names = {s.summary.id: s.summary.name for s in self.dashboard.snapshots}
            self.tray.set_states(self.dashboard.states(), names)

    def open_review(self, connection_id: str, what: str) -> None:
        """A card's "N items … choose" or "N conflicts" link, or the wizard's "Review the mappings…": that
        connection's list, filtered to them (`what`: a mapping status or "conflicts")."""
        if connection_id not in (self.model.connection_id(r) for r in range(self.model.rowCount())):
            self.refresh(dashboard=False)  # a connection the wizard is still setting up
        for row in range(self.model.rowCount()):
            if self.model.connection_id(row) == connection_id:
                self.table.selectRow(row)  # the views follow the selection (on_table_selection_changed)
        if what in tuple(MappingStatus) and self.mappings is not None:
            self.mappings.show_status(MappingStatus(what))
            self.tabs.setCurrentWidget(self.mappings)
        elif what == "conflicts" and self.conflicts is not None:
            self.conflicts.tabs.setCurrentIndex(0)  # the open ones
            self.tabs.setCurrentWidget(self.conflicts)

    def on_tray_sync_requested(self) -> None:
        """The tray's Sync now: every connection that is neither paused nor syncing already."""
        if self.dashboard is None:
            return
        for snapshot in self.dashboard.snapshots:
            if snapshot.health not in (HealthKind.PAUSED, HealthKind.SYNCING):
                self.start_sync(snapshot.summary.id)

    def on_tray_pause_requested(self, paused: bool) -> None:
        """The tray's Pause / Resume syncing: every connection not in that state yet (stored, then the
        schedule reads them again through `pause_changed`)."""
        if self.dashboard is None:
            return
        for snapshot in self.dashboard.snapshots:
            if (snapshot.summary.status is ConnectionStatus.PAUSED) is not paused:
                self.dashboard.on_card_pause_toggled(snapshot.summary.id, paused)

    def cancel_sync(self, connection_id: str) -> None:
        """A card's Cancel: the run stops at its next safe point and ends as cancelled."""
        if self.engine is not None and self.engine.cancel(connection_id):
            self.log_line("Cancelling the sync; what it wrote so far is kept, the next sync carries on.")

    def show_and_raise(self) -> None:
        self.showNormal()
        self.raise_()
        self.activateWindow()

    def on_table_selection_changed(self) -> None:
        connection_id = self.selected_connection()
        for view in (self.mappings, self.conflicts, self.history):
            if view is not None and view.connection_id != connection_id:
                view.set_connection(connection_id)

    def refresh_monitoring(self) -> None:
        """After a run or an action: cards, counts and lists read again (on the DB thread)."""
        if self.dashboard is not None:
            self.dashboard.reload()
        self._refresh_lists()

    def _refresh_lists(self) -> None:
        """The mappings, conflicts and history (the dashboard reloads itself)."""
        if self.mappings is not None and self.mappings.connection_id is not None:
            self.mappings.refresh()
        for view in (self.conflicts, self.history):
            if view is not None and view.connection_id is not None:
                view.reload()

    def open_connection_dialog(self, connection_id: str) -> None:
        if self.monitoring is None:
            return
        try:
            summary = self.monitoring.connections.summary(connection_id)  # one row: cheap enough
        except AtlasDesktopError as error:
            self.log_line(str(error))
            return
        dialog = ConnectionDialog(self.monitoring, summary, self)
        dialog.saved.connect(self.on_connection_dialog_saved)
        self._keep(dialog)
        dialog.open()

    def on_connection_dialog_saved(self, _connection_id: str) -> None:
        self.refresh(dashboard=False)
        self.refresh_monitoring()
        self.connections_changed.emit()  # the frequency may have changed

    def open_explain(self, mapping_id: int) -> ExplainDialog | None:
        if self.monitoring is None:
            return None
        dialog = ExplainDialog(self.monitoring, mapping_id, self)
        self._keep(dialog)
        dialog.open()
        return dialog

    def _keep(self, dialog: Any) -> None:
        self.dialogs.append(dialog)
        dialog.finished.connect(lambda _r, d=dialog: self.dialogs.remove(d) if d in self.dialogs else None)

    # ---- menu: the selected connection (also the connections table's context menu) ----------------------
    def _build_connection_menu(self) -> None:
        self.remove_action = QAction("&Remove connection…", self)
        self.credentials_action = QAction("Replace &credentials…", self)
        self.remove_action.triggered.connect(self.open_remove_dialog)
        self.credentials_action.triggered.connect(self.open_credentials_dialog)
        menu = self.menuBar().addMenu("&Connection")
        self.table.setContextMenuPolicy(Qt.ContextMenuPolicy.ActionsContextMenu)
        for action in (self.credentials_action, self.remove_action):
            action.setEnabled(False)  # until there is a connection (refresh)
            menu.addAction(action)
            self.table.addAction(action)

    def _selected_summary(self) -> ConnectionSummary | None:
        connection_id = self.selected_connection()
        if self.monitoring is None or connection_id is None:
            return None
        try:
            return self.monitoring.connections.summary(connection_id)
        except AtlasDesktopError as error:
            self.log_line(str(error))
            return None

    def open_remove_dialog(self) -> RemoveConnectionDialog | None:
        summary = self._selected_summary()
        if summary is None or self.monitoring is None:
            return None
        dialog = RemoveConnectionDialog(self.monitoring, summary, self)
        dialog.removed.connect(lambda _cid, name=summary.name: self.on_connection_removed(name))
        self._keep(dialog)
        dialog.open()
        return dialog

    def on_connection_removed(self, name: str) -> None:
        self.log_line(f"Connection '{name}' removed.")
        self.refresh()
        self.on_table_selection_changed()  # the views leave the removed connection
        self.connections_changed.emit()  # and so does the schedule

    def open_credentials_dialog(self) -> CredentialsDialog | None:
        summary = self._selected_summary()
        if summary is None or self.monitoring is None:
            return None
        dialog = CredentialsDialog(self.monitoring, summary, self)
        replaced = f"Credentials of '{summary.name}' replaced; the next sync uses them."
        dialog.saved.connect(lambda _cid: self.log_line(replaced))
        self._keep(dialog)
        dialog.open()
        return dialog

    # ---- menu: diagnostics and settings -------------------------------------------------------------
    def on_settings_action_triggered(self) -> SettingsDialog | None:
        if self.services is None:
            return None
        dialog = SettingsDialog(
            self.services.settings, self.services.paths.root, self, start_at_login=self.start_at_login
        )
        dialog.saved.connect(
            lambda: self.log_line("Settings saved; network changes apply to new connections.")
        )
        dialog.saved.connect(self.connections_changed)  # the local API may have been switched on or off
        self._keep(dialog)
        dialog.open()
        return dialog

    def on_diagnostics_action_triggered(self) -> None:
        if self.diagnostics is None:
            return
        default_name = self.diagnostics.default_name()
        dialog = QFileDialog(self, "Save diagnostics bundle", str(Path.home() / default_name),
                             "Zip files (*.zip)")  # fmt: skip
        dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
        dialog.fileSelected.connect(lambda path: self._start(self.save_diagnostics(Path(path))))
        self._keep(dialog)
        dialog.open()

    async def save_diagnostics(self, out: Path) -> Any:
        """The redacted bundle, built on a worker thread."""
        if self.diagnostics is None:
            return None
        connection_id = self.selected_connection()
        try:
            summary = await asyncio.to_thread(self.diagnostics.build, out, connection_id)
        except AtlasDesktopError as error:
            self.log_line(f"Diagnostics bundle not written: {error}")
            return None
        self.log_line(
            f"Diagnostics bundle written: {summary.path} ({summary.bytes:,} bytes, secrets removed)."
        )
        return summary

    def _start(self, coro: Any) -> asyncio.Task[Any]:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    # ---- connections ------------------------------------------------------------------------------
    def refresh(self, *, dashboard: bool = True) -> None:
        """The connections list (and, unless the caller reloads it anyway, the dashboard)."""
        try:
            rows = self.connections.list()
        except AtlasDesktopError as error:
            self.log_line(f"Could not read the connections: {error.message}")
            rows = []
        self.model.set_connections(rows)
        self.empty_label.setVisible(not rows)
        self.sync_action.setEnabled(bool(rows) and self.engine is not None)
        for action in (self.remove_action, self.credentials_action):
            action.setEnabled(bool(rows) and self.monitoring is not None)
        if rows and not self.table.selectionModel().hasSelection():
            self.table.selectRow(0)
        if dashboard and self.dashboard is not None:
            self.dashboard.reload()

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
        wizard.mapping_review_requested.connect(self.open_review)
        wizard.finished.connect(lambda _result: self.refresh())
        self.wizard = wizard
        wizard.open()  # window-modal, no nested event loop
        return wizard

    def on_wizard_setup_finished(self, connection_id: str) -> None:
        self.refresh()
        self.connections_changed.emit()  # the new connection joins the schedule
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
        self._start(self._sync(connection_id, sync_type, approve))

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
        self.log_line(run_start_words(event.sync_type))

    def on_bridge_run_progressed(self, event: RunProgress) -> None:
        if event.total:
            self.progress.setRange(0, event.total)
            self.progress.setValue(min(event.done, event.total))
        self.progress_label.setText(phase_words(event.phase, event.done, event.total))

    def on_bridge_run_finished(self, event: RunFinished) -> None:
        summary = event.summary
        self.progress.setVisible(False)
        self.progress_label.setText("")
        line = run_words(
            summary.status, summary.items_synced, summary.items_failed, summary.conflicts_opened,
            summary.duration_seconds,
        )  # fmt: skip
        if summary.error_message:
            line += f" {summary.error_message}"
        self.log_line(line)
        self.refresh(dashboard=False)  # refresh_monitoring reloads it: once is enough after a run
        self.refresh_monitoring()

    def show_schedule_owner(self, text: str) -> None:
        """Where scheduled syncs run (this window or the agent), in the app's words."""
        self.schedule_label.setText(text)

    def log_line(self, text: str) -> None:
        self.activity.appendPlainText(f"{datetime.now().strftime('%H:%M:%S')}  {text}")

    # ---- closing ----------------------------------------------------------------------------------
    def _tell_once_about_the_tray(self) -> None:
        settings = getattr(self.services, "settings", None)
        if self._tray_notice_shown or (settings is not None and settings.get("tray_notice_shown")):
            return
        self._tray_notice_shown = True
        if settings is not None:
            settings.set("tray_notice_shown", True)
        assert self.tray is not None
        self.tray.tell(
            "Atlas Desktop keeps syncing",
            "The window is closed, but scheduled syncs go on. Open it again from this icon; "
            "choose Quit in its menu to stop.",
        )

    async def aclose(self) -> None:
        """Async clean-up before Qt quits: stop the syncs this window started."""
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        if self.dashboard is not None:
            self.dashboard.stop_following()
        for view in (self.dashboard, self.mappings, self.conflicts, self.history):
            if view is not None:
                await view.tasks.aclose()
        if self.tray is not None:
            self.tray.hide()
        if self.bridge is not None:
            self.bridge.close()

    def quit_app(self) -> None:
        """Quit (the menu, the tray): closes for good; run_app then stops the background work cleanly."""
        self._quitting = True
        self.close()

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt override
        # The OS ending the session (log out, shut down) closes for good: a hidden window would hold it up.
        app = QGuiApplication.instance()
        ending = isinstance(app, QGuiApplication) and app.isSavingSession()
        if not (self._quitting or ending) and self.tray is not None and self.tray.available():
            # The close button and Alt+F4 hide the window to the tray: scheduled and real-time syncs go
            # on, since run_app waits for `closed`, which only Quit emits. With no system tray (some Linux
            # sessions) nothing could bring a hidden window back, so closing quits.
            event.ignore()
            self.hide()
            self._tell_once_about_the_tray()
            return
        if self.wizard is not None:
            self.wizard.close()
        super().closeEvent(event)
        self.closed.emit()
