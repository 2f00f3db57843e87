"""Sync history: runs with counts and errors, each failed item with the remote message and the fix, replay."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from atlas_desktop.domain.enums import SyncLogStatus
from atlas_desktop.store.runs import INTERRUPTED_MESSAGE, RunView
from atlas_desktop.ui.monitoring.context import MonitoringContext
from atlas_desktop.ui.monitoring.location_names import LocationNames
from atlas_desktop.ui.monitoring.tasks import TaskGroup
from atlas_desktop.ui.monitoring.wording import item_words, operation_words, plural, sync_type_words
from atlas_desktop.ui.widgets.changes_dialog import ChangesDialog
from atlas_desktop.ui.widgets.rows_model import RowsTableModel

AnyIndex = QModelIndex | QPersistentModelIndex


def _when(moment: datetime | None) -> str:
    return moment.astimezone().strftime("%Y-%m-%d %H:%M:%S") if moment else ""


@dataclass(frozen=True)
class ItemError:
    id: int
    mapping_id: int | None
    item_ref: str
    message: str
    fix: str | None
    remote_code: str | None
    remote_message: str | None
    replayed_at: datetime | None
    item: str = ""  # the item in words (name, lot, location); item_ref stays for the tooltip


def _item_from_ref(ref: str) -> str:
    """An item error with no mapping left: "erp_adjust 399" reads "ERP stock adjustment (item 399)"."""
    operation, _, rest = ref.partition(" ")
    worded = operation_words(operation)
    if worded != operation.replace("_", " ") and rest:
        return f"{worded} (item {rest})"
    return ref


def item_text(error: ItemError) -> str:
    return error.item or _item_from_ref(error.item_ref)


def _result(run: RunView) -> str:
    # A run whose process died is closed as failed by the next run; say what happened to it.
    return "interrupted" if run.error_message == INTERRUPTED_MESSAGE else str(run.status)


def _duration(run: RunView) -> str:
    if run.duration_seconds is not None:
        return f"{run.duration_seconds:.1f} s"
    return "running" if run.status is SyncLogStatus.RUNNING else "—"  # interrupted: never measured


# The counts people compare and the error come first: at 1024 px the table shows them without scrolling;
# the figures for support (API calls, duration) follow, reached by scrolling.
RUN_COLUMNS: tuple[tuple[str, Any], ...] = (
    ("Started", lambda r: _when(r.started_at)),
    ("Type", lambda r: sync_type_words(r.sync_type)),
    ("Result", _result),
    ("Synced", lambda r: r.items_synced),
    ("Failed", lambda r: r.items_failed),
    ("Conflicts", lambda r: r.conflicts_opened),
    ("In doubt", lambda r: r.in_doubt),
    ("Error", lambda r: r.error_message or ""),
    ("Skipped", lambda r: r.items_skipped),
    ("Duration", _duration),
    ("API calls", lambda r: r.api_calls_made),
    ("API errors", lambda r: r.api_errors),
)
RUN_WIDTHS = (130, 105, 70, 55, 50, 65, 60, 200, 60, 70, 65, 70)  # the error elides; whole on hover
ERROR_COLUMNS: tuple[tuple[str, Any], ...] = (
    ("Item", item_text),
    ("What happened", lambda e: e.message),
    ("ERP/Atlas said", lambda e: " ".join(x for x in (e.remote_code, e.remote_message) if x)),
    ("In plain words: what to do", lambda e: e.fix or ""),
    ("Replayed", lambda e: _when(e.replayed_at) or "no"),
)


class RunsTableModel(RowsTableModel):
    """Runs (the latest 50) or one run's item errors; failed ones in red."""

    def foreground(self, row: Any) -> QColor | None:
        failed = getattr(row, "status", None) == "failed" or getattr(row, "items_failed", 0)
        return QColor("#cf222e") if failed else None

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        # The item's words are shown; its reference (ids, operation) stays at hand for support, on hover.
        if role == Qt.ItemDataRole.ToolTipRole and index.isValid() and index.column() == 0:
            row = self.rows[index.row()] if index.row() < len(self.rows) else None
            if isinstance(row, ItemError):
                return f"{item_text(row)}\n{row.item_ref}"
        return super().data(index, role)


ROWS_MEASURED = 200  # a bad run can fail thousands of items: measuring that many rows would stall the window


def _table(model: QAbstractTableModel, name: str, multi: bool) -> QTableView:
    table = QTableView()
    table.setModel(model)
    table.setAccessibleName(name)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    mode = QAbstractItemView.SelectionMode
    table.setSelectionMode(mode.ExtendedSelection if multi else mode.SingleSelection)
    table.verticalHeader().setVisible(False)
    table.horizontalHeader().setStretchLastSection(True)
    table.setWordWrap(False)
    return table


class HistoryView(QWidget):
    explain_requested = Signal(int)  # mapping id
    replayed = Signal(object)  # the RunSummary of the replay sync

    def __init__(self, ctx: MonitoringContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.connection_id: str | None = None
        self.runs_model = RunsTableModel(RUN_COLUMNS, self)
        self.errors_model = RunsTableModel(ERROR_COLUMNS, self)
        self.runs = _table(self.runs_model, "Sync runs", multi=False)
        self.errors = _table(self.errors_model, "Failed items", multi=True)
        for column, width in enumerate(RUN_WIDTHS):
            self.runs.setColumnWidth(column, width)
        # The start time whole (its seconds tell two close runs apart), whatever the font: cell padding added.
        started = self.runs.fontMetrics().horizontalAdvance("2026-12-31 23:59:59") + 16
        self.runs.setColumnWidth(0, max(RUN_WIDTHS[0], started))
        self.runs.horizontalHeader().setStretchLastSection(False)
        self.runs.setTextElideMode(Qt.TextElideMode.ElideRight)
        for column, width in enumerate((120, 300, 200, 380)):
            self.errors.setColumnWidth(column, width)
        self.errors.setWordWrap(True)  # the cause and the fix are sentences: shown whole, not elided
        self.errors_label = QLabel("Failed items of the selected run:")
        self.replay_button = QPushButton("Replay failed items")
        self.explain_button = QPushButton("Explain…")
        self.changes_button = QPushButton("What it changed…")
        self.changes_button.setToolTip("Every change the selected run wrote: item, lot, location, old → new")
        self.changes_dialog: ChangesDialog | None = None
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.tasks = TaskGroup(self.message.setText)
        lower = QWidget()
        lower_layout = QVBoxLayout(lower)
        lower_layout.setContentsMargins(0, 0, 0, 0)
        lower_layout.addWidget(self.errors_label)
        lower_layout.addWidget(self.errors, 1)
        buttons = QHBoxLayout()
        buttons.addWidget(self.replay_button)
        buttons.addWidget(self.explain_button)
        buttons.addWidget(self.changes_button)
        buttons.addStretch(1)
        lower_layout.addLayout(buttons)
        lower_layout.addWidget(self.message)
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(self.runs)
        splitter.addWidget(lower)
        splitter.setSizes([240, 260])
        self.empty_label = QLabel()
        self.empty_label.setWordWrap(True)
        self.empty_label.setAccessibleName("History is empty")
        self.empty_label.setVisible(False)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.empty_label)
        layout.addWidget(splitter)
        self.runs.selectionModel().selectionChanged.connect(lambda *_: self.on_runs_selection_changed())
        self.errors.selectionModel().selectionChanged.connect(lambda *_: self._update_buttons())
        self.errors_model.modelReset.connect(self._update_buttons)
        self.replay_button.clicked.connect(self.on_replay_button_clicked)
        self.explain_button.clicked.connect(self.on_explain_button_clicked)
        self.changes_button.clicked.connect(self.on_changes_button_clicked)
        self._update_buttons()

    def set_connection(self, connection_id: str | None) -> None:
        self.connection_id = connection_id
        self.reload()

    def reload(self) -> None:
        self.tasks.start(self._reload())

    async def _reload(self) -> None:
        runs: list[RunView] = []
        if self.connection_id is not None:
            runs = await self.ctx.db(self.ctx.repos.runs.recent, self.connection_id, 50)
        self.runs_model.set_rows(runs)
        self.empty_label.setText(self._empty_text())
        self.empty_label.setVisible(not runs)
        if runs:
            self.runs.selectRow(0)  # the latest run's failed items show at once
        else:
            self.errors_model.set_rows([])

    def _empty_text(self) -> str:
        if self.connection_id is None:
            return "No connection yet — add one with <b>Add connection</b>; its syncs will be listed here."
        return (
            "No sync has run yet for this connection — click <b>Sync now</b> (Ctrl+R) or wait for the "
            "schedule. Each run will be listed here with its counts, and any failed items below it."
        )

    def selected_run(self) -> RunView | None:
        rows = self.runs.selectionModel().selectedRows()
        return self.runs_model.rows[rows[0].row()] if rows else None

    def on_runs_selection_changed(self) -> None:
        run = self.selected_run()
        if run is not None:
            self.tasks.start(self._load_errors(run))
        self._update_buttons()

    async def _load_errors(self, run: RunView) -> None:
        rows = await self.ctx.db(self.ctx.explain.item_errors, run.connection_id, sync_log_id=run.id)
        errors = [ItemError(*row) for row in rows]
        mapping_ids = [e.mapping_id for e in errors if e.mapping_id is not None]
        labels = await self.ctx.db(self.ctx.explain.item_labels, mapping_ids) if mapping_ids else {}
        self._show_errors([self._worded(e, labels, {}) for e in errors])
        self.errors_label.setText(
            f"Failed items of the run started {_when(run.started_at)}: {plural(len(rows), 'item')}"
        )
        if labels:  # location names need the ERP: asked after the list shows, never holding it back
            names = await self.ctx.locations.names(run.connection_id)
            if names and self.selected_run() is run:
                self._show_errors([self._worded(e, labels, names) for e in errors])

    def _show_errors(self, errors: list[ItemError]) -> None:
        self.errors_model.set_rows(errors)
        if len(errors) <= ROWS_MEASURED:
            self.errors.resizeRowsToContents()

    @staticmethod
    def _worded(error: ItemError, labels: dict[int, Any], names: dict[str, str]) -> ItemError:
        label = labels.get(error.mapping_id) if error.mapping_id is not None else None
        if label is None:
            return error
        location = LocationNames.word(names, label.erp_location_id)
        fallback = f"item {label.erp_item_id}" if label.erp_item_id else (label.atlas_inventory_id or "")
        return replace(error, item=item_words(label.name, label.lot, location, fallback))

    def selected_errors(self) -> list[ItemError]:
        return [self.errors_model.rows[i.row()] for i in self.errors.selectionModel().selectedRows()]

    def _update_buttons(self) -> None:
        chosen = self.selected_errors()
        self.replay_button.setEnabled(any(e.replayed_at is None for e in self.errors_model.rows))
        self.replay_button.setText("Replay selected items" if chosen else "Replay failed items")
        self.explain_button.setEnabled(len(chosen) == 1 and chosen[0].mapping_id is not None)
        run = self.selected_run()
        self.changes_button.setEnabled(run is not None)
        preview = run is not None and run.status is SyncLogStatus.PREVIEW
        self.changes_button.setText("Review and approve…" if preview else "What it changed…")

    def on_changes_button_clicked(self) -> None:
        run = self.selected_run()
        if run is not None and run.status is SyncLogStatus.PREVIEW:
            self.tasks.start(self.review_preview(run.connection_id))
        elif run is not None:
            self.tasks.start(self.show_changes(run))

    async def review_preview(self, connection_id: str) -> ChangesDialog:
        """A run that stopped at a preview (a first sync, an unusually large change): what it would do
        now, worked out again by the engine as the approved run will, with the button that runs it."""
        self.message.setText("Working out what the sync would change…")
        plan = await self.ctx.engine.preview(connection_id)
        self.message.setText(plan.reason)
        self.changes_dialog = ChangesDialog(
            plan.changes, title="What the sync will change", kinds=plan.kinds, left_out=plan.left_out,
            approve_text="Approve and sync", parent=self,
        )  # fmt: skip
        self.changes_dialog.approved.connect(lambda: self.tasks.start(self.approve(connection_id)))
        self.changes_dialog.open()
        await self._reload()  # the preview is a run of its own
        return self.changes_dialog

    async def approve(self, connection_id: str) -> Any:
        self.message.setText("Syncing what you approved…")
        summary = await self.ctx.engine.sync(connection_id, approve=True)
        done = f"{summary.items_synced} synced, {summary.items_failed} failed"
        self.message.setText(f"Sync {summary.status}: {done}.")
        await self._reload()
        self.replayed.emit(summary)  # the window refreshes its views after a run started here
        return summary

    async def show_changes(self, run: RunView) -> ChangesDialog | None:
        """The selected run's list of what it changed, read from its records (the writes it got done)."""
        changes = await self.ctx.engine.run_changes(run.id)
        if not changes:
            self.message.setText(f"The run started {_when(run.started_at)} changed nothing.")
            return None
        self.changes_dialog = ChangesDialog(
            changes, title=f"What the run started {_when(run.started_at)} changed", parent=self
        )
        self.changes_dialog.open()
        return self.changes_dialog

    def on_explain_button_clicked(self) -> None:
        chosen = self.selected_errors()
        if len(chosen) == 1 and chosen[0].mapping_id is not None:
            self.explain_requested.emit(chosen[0].mapping_id)

    def on_replay_button_clicked(self) -> None:
        chosen = self.selected_errors() or list(self.errors_model.rows)
        ids = [e.id for e in chosen if e.replayed_at is None]
        if ids and self.connection_id is not None:
            self.tasks.start(self.replay(self.connection_id, ids))

    async def replay(self, connection_id: str, error_ids: list[int]) -> Any:
        """Mark the items replayed, then sync: a failed write left its base as it was, so the merge
        decides the same change again and sends it under a new key."""
        self.replay_button.setEnabled(False)
        await self.ctx.db(self.ctx.repos.runs.mark_replayed, error_ids)
        self.message.setText(f"Replaying {plural(len(error_ids), 'item')}…")
        summary = await self.ctx.engine.sync(connection_id)
        self.message.setText(
            f"Replay finished: {summary.status}, {plural(summary.items_synced, 'item')} synced, "
            f"{summary.items_failed:,} failed."
        )
        await self._reload()
        self.replayed.emit(summary)
        return summary
