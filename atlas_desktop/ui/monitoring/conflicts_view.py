"""Open conflicts (field, base, Atlas, ERP, when) resolved one or many at a time, and their history."""

from __future__ import annotations

from html import escape
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    Qt,
    Signal,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QMessageBox,
    QPushButton,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from atlas_desktop.domain.enums import ConflictStatus, Resolution
from atlas_desktop.domain.ndc import display_ndc
from atlas_desktop.ui.monitoring.context import MonitoringContext
from atlas_desktop.ui.monitoring.location_names import LocationNames
from atlas_desktop.ui.monitoring.tasks import TaskGroup
from atlas_desktop.ui.monitoring.wording import item_words, plural
from atlas_desktop.ui.widgets.rows_model import RowsTableModel

AnyIndex = QModelIndex | QPersistentModelIndex
RESOLUTION_LABELS = {Resolution.TAKE_ATLAS: "took Atlas", Resolution.TAKE_ERP: "took ERP",
                     Resolution.VALUE: "entered a value", None: "both sides agreed"}  # fmt: skip


NO_NAME = "(no name)"


def _ids(conflict: Any) -> str:
    """The ids behind a conflict's item, for the Item tooltip (the cell shows its name)."""
    parts = [conflict.item_name or NO_NAME]
    if conflict.atlas_inventory_id:
        parts.append(f"Atlas inventory id: {conflict.atlas_inventory_id}")
    if conflict.erp_item_id:
        parts.append(f"ERP item id: {conflict.erp_item_id}")
    if conflict.erp_location_id:
        parts.append(f"ERP location id: {conflict.erp_location_id}")
    return "\n".join(parts)


def _when(moment: Any) -> str:
    return moment.astimezone().strftime("%Y-%m-%d %H:%M") if moment else ""


OPEN_COLUMNS: tuple[tuple[str, Any], ...] = (
    ("Item", lambda c: c.item_name or NO_NAME),
    ("NDC", lambda c: display_ndc(c.ndc_key or "")),
    ("Lot", lambda c: c.lot or ""),
    ("Field", lambda c: c.field),
    ("Base", lambda c: c.base_value or ""),
    ("Atlas", lambda c: c.atlas_value or ""),
    ("ERP", lambda c: c.erp_value or ""),
    ("Atlas changed", lambda c: _when(c.atlas_changed_at)),
    ("ERP changed", lambda c: _when(c.erp_changed_at)),
    ("Opened", lambda c: _when(c.created_at)),
    ("Why", lambda c: c.note or ""),
)
HISTORY_COLUMNS: tuple[tuple[str, Any], ...] = (
    *OPEN_COLUMNS[:7],
    ("Decision", lambda c: RESOLUTION_LABELS.get(c.resolution, str(c.resolution))),
    ("Kept value", lambda c: c.resolved_value or ""),
    ("Resolved", lambda c: _when(c.resolved_at)),
)


class ConflictTableModel(RowsTableModel):
    """A few hundred rows at most (the store pages them); UserRole is the conflict id."""

    def user_value(self, row: Any) -> Any:
        return row.id

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role == Qt.ItemDataRole.ToolTipRole and index.isValid() and index.column() == 0:
            return _ids(self.rows[index.row()]) if 0 <= index.row() < len(self.rows) else None
        return super().data(index, role)


def _table(model: QAbstractTableModel, name: str) -> tuple[QTableView, QSortFilterProxyModel]:
    proxy = QSortFilterProxyModel()  # small lists: sorting in Qt is the simple, fast choice here
    proxy.setSourceModel(model)
    table = QTableView()
    table.setModel(proxy)
    table.setSortingEnabled(True)
    table.setAccessibleName(name)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
    table.verticalHeader().setVisible(False)
    table.horizontalHeader().setStretchLastSection(True)
    # Names need the room; the values are fitted to their contents after each load (VALUE_COLUMNS).
    for column, width in enumerate((210, 100, 70, 65, 60, 60, 60, 120, 120, 120)):
        table.setColumnWidth(column, width)
    return table, proxy


VALUE_COLUMNS = (1, 2, 3, 4, 5, 6)  # NDC .. ERP: shown whole ("2027-03-31", not "2027-…")
OVERWRITES = {Resolution.TAKE_ATLAS: ("Atlas", "ERP"), Resolution.TAKE_ERP: ("ERP", "Atlas")}


class ConflictsView(QWidget):
    resolved = Signal(int)  # how many were resolved

    def __init__(self, ctx: MonitoringContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.connection_id: str | None = None
        self.location_names: dict[str, str] = {}  # ERP location id -> its name, once the ERP said
        self.open_model = ConflictTableModel(OPEN_COLUMNS, self)
        self.history_model = ConflictTableModel(HISTORY_COLUMNS, self)
        self.table, self.proxy = _table(self.open_model, "Open conflicts")
        self.history_table, self.history_proxy = _table(self.history_model, "Resolved conflicts")
        self.take_atlas = QPushButton("Take Atlas")
        self.take_erp = QPushButton("Take ERP")
        self.enter_value = QPushButton("Enter a value…")
        self.message = QLabel()
        self.message.setWordWrap(True)
        # The selected conflict's values and why it opened, whole and always in view (the table cuts them).
        self.details = QLabel()
        self.details.setWordWrap(True)
        self.details.setAccessibleName("Selected conflict")
        self.details.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.empty = QLabel(
            "No conflicts. A conflict opens when the ERP and Atlas change the same value in ways that cannot "
            "both be kept (for example both sold the last units); it waits here for your choice."
        )
        self.empty.setWordWrap(True)
        self.confirm_box: QMessageBox | None = None
        self.tasks = TaskGroup(self.message.setText, on_idle=self._update_buttons)
        self.value_dialog: QInputDialog | None = None
        buttons = QHBoxLayout()
        buttons.addWidget(QLabel("Resolve the selected conflicts:"))
        for button in (self.take_atlas, self.take_erp, self.enter_value):
            buttons.addWidget(button)
        buttons.addStretch(1)
        open_tab = QWidget()
        open_layout = QVBoxLayout(open_tab)
        open_layout.addWidget(self.empty)
        open_layout.addWidget(self.table, 1)
        open_layout.addWidget(self.details)
        open_layout.addLayout(buttons)
        open_layout.addWidget(self.message)
        self.tabs = QTabWidget()
        self.tabs.addTab(open_tab, "Open")
        self.tabs.addTab(self.history_table, "History")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.tabs)
        self.take_atlas.clicked.connect(lambda: self.confirm_overwrite(Resolution.TAKE_ATLAS))
        self.take_erp.clicked.connect(lambda: self.confirm_overwrite(Resolution.TAKE_ERP))
        self.enter_value.clicked.connect(self.on_enter_value_clicked)
        self.table.selectionModel().selectionChanged.connect(lambda *_: self._update_buttons())
        self.table.selectionModel().currentRowChanged.connect(lambda *_: self._show_details())
        self.open_model.modelReset.connect(self._update_buttons)
        self._update_buttons()

    def set_connection(self, connection_id: str | None) -> None:
        self.connection_id = connection_id
        self.location_names = {}
        self.reload()
        if connection_id is not None:  # on their own: an offline ERP must not hold the conflicts
            self.tasks.start(self._read_location_names(connection_id))

    async def _read_location_names(self, connection_id: str) -> None:
        names = await self.ctx.locations.names(connection_id)
        if connection_id == self.connection_id:
            self.location_names = names
            self._show_details()

    def reload(self) -> None:
        self.tasks.start(self._reload())

    async def _reload(self) -> None:
        if self.connection_id is None:
            self.open_model.set_rows([])
            self.history_model.set_rows([])
            return
        conflicts = self.ctx.repos.conflicts
        opened = await self.ctx.db(conflicts.open_conflicts, self.connection_id, limit=1000)
        history = await self.ctx.db(conflicts.history, self.connection_id, None, 500)
        self.open_model.set_rows(opened)
        self.history_model.set_rows([c for c in history if c.status is ConflictStatus.RESOLVED])
        for table in (self.table, self.history_table):
            table.resizeRowsToContents()  # long names and the "why" wrap instead of being cut (<= 1,500 rows)
            for column in VALUE_COLUMNS:
                table.resizeColumnToContents(column)
        self.tabs.setTabText(0, f"Open ({len(opened):,})")
        self.empty.setVisible(not opened)
        self.table.setVisible(bool(opened))
        self._show_details()

    def _show_details(self) -> None:
        index = self.table.selectionModel().currentIndex()
        if not index.isValid():
            index = self.proxy.index(0, 0)  # nothing chosen yet: the first conflict's "why" is in view
        if not index.isValid():
            self.details.clear()
            return
        conflict = self.open_model.rows[self.proxy.mapToSource(index).row()]
        where = LocationNames.word(self.location_names, conflict.erp_location_id)
        item = item_words(conflict.item_name or NO_NAME, conflict.lot, where)
        self.details.setText(
            f"<b>{escape(item)}</b> — {escape(conflict.field)}: "
            f"base {escape(conflict.base_value or '—')}, Atlas {escape(conflict.atlas_value or '—')}, "
            f"ERP {escape(conflict.erp_value or '—')}<br><b>Why:</b> {escape(conflict.note or '—')}"
        )

    def selected_ids(self) -> list[int]:
        rows = self.table.selectionModel().selectedRows()
        return sorted(self.proxy.mapToSource(index).data(Qt.ItemDataRole.UserRole) for index in rows)

    def _update_buttons(self) -> None:
        any_selected = bool(self.table.selectionModel().selectedRows())
        for button in (self.take_atlas, self.take_erp, self.enter_value):
            button.setEnabled(any_selected and not self.tasks.busy)

    def confirm_overwrite(self, resolution: Resolution) -> QMessageBox | None:
        """Taking one side overwrites the other: say which, and how many, before doing it."""
        ids = self.selected_ids()
        if not ids:
            return None
        kept, lost = OVERWRITES[resolution]
        box = QMessageBox(
            QMessageBox.Icon.Question,
            "Overwrite?",
            f"Keep the {kept} value for {plural(len(ids), 'conflict')} and overwrite the {lost} value? "
            f"The change is sent to {lost} at the next sync.",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
            self,
        )
        box.button(QMessageBox.StandardButton.Yes).setText(f"Overwrite {lost}")
        box.accepted.connect(lambda: self.resolve_selected(resolution))
        self.confirm_box = box
        box.open()  # no nested event loop
        return box

    def on_enter_value_clicked(self) -> None:
        dialog = QInputDialog(self)
        dialog.setWindowTitle("Enter the value to keep")
        dialog.setLabelText(
            "The value both sides should hold (e.g. a quantity counted on the shelf). It overwrites the "
            "Atlas and the ERP value at the next sync:"
        )
        dialog.textValueSelected.connect(lambda text: self.resolve_selected(Resolution.VALUE, text))
        self.value_dialog = dialog
        dialog.open()  # no nested event loop

    def resolve_selected(self, resolution: Resolution, value: str | None = None) -> None:
        ids = self.selected_ids()
        if ids:
            self.tasks.start(self.resolve(ids, resolution, value))
            self._update_buttons()

    async def resolve(self, ids: list[int], resolution: Resolution, value: str | None = None) -> int:
        """Each choice goes through the engine (outbox, then a sync); one refusal does not stop the rest."""
        done, refused = 0, []
        self.message.setText(f"Resolving {plural(len(ids), 'conflict')}…")
        for conflict_id in ids:
            try:
                await self.ctx.engine.resolve_conflict(conflict_id, resolution, value)
                done += 1
            except Exception as error:  # noqa: BLE001 - shown below, the others go on
                refused.append(str(error))
        text = f"{plural(done, 'conflict')} resolved."
        if refused:
            text += " Not resolved: " + "; ".join(refused[:3])
        self.message.setText(text)
        await self._reload()
        self._update_buttons()
        self.resolved.emit(done)
        return done
