"""Pick the ERP stock position an unmatched Atlas row should be paired with, by searching the ERP mirror."""

from __future__ import annotations

from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QLabel,
    QLineEdit,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from atlas_desktop.store.explain import ErpCandidate
from atlas_desktop.store.mappings import MappingView
from atlas_desktop.ui.monitoring.context import MonitoringContext
from atlas_desktop.ui.monitoring.tasks import TaskGroup

HEADERS = ("Name", "SKU", "NDC", "Item", "Location", "Lot", "Qty", "")


class MapDialog(QDialog):
    """Non-modal use: `open()`, then `chosen(candidate)` fires when the person confirms a row."""

    chosen = Signal(object)  # ErpCandidate
    searched = Signal()

    def __init__(self, ctx: MonitoringContext, mapping: MappingView, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.mapping = mapping
        self.candidates: list[ErpCandidate] = []
        self.setWindowTitle("Map to an ERP item")
        self.resize(760, 420)
        who = mapping.item_name or mapping.atlas_inventory_id or ""
        intro = QLabel(
            f"Pair the Atlas row <b>{who}</b> (lot {mapping.lot or '—'}) with an ERP stock position:"
        )
        intro.setWordWrap(True)
        self.search = QLineEdit()
        self.search.setPlaceholderText("Search the ERP by name, SKU, NDC (any format), item id or lot")
        self.search.setClearButtonEnabled(True)
        self.search.setAccessibleName("Search ERP items")
        self.table = QTableWidget(0, len(HEADERS))
        self.table.setHorizontalHeaderLabels(HEADERS)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Map")
        self.buttons.accepted.connect(self.on_buttons_accepted)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        for widget in (intro, self.search, self.table, self.message, self.buttons):
            layout.addWidget(widget)
        self.tasks = TaskGroup(self.message.setText)
        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(250)
        self._debounce.timeout.connect(self.run_search)
        self.search.textChanged.connect(lambda _text: self._debounce.start())
        self.table.itemSelectionChanged.connect(self._update_ok)
        self.table.doubleClicked.connect(lambda _index: self.on_buttons_accepted())
        self.search.setText(mapping.ndc_text_atlas or mapping.item_name or "")
        self._update_ok()

    def run_search(self) -> None:
        self.tasks.start(self._search(self.search.text()))

    async def _search(self, text: str) -> None:
        found = await self.ctx.db(self.ctx.explain.erp_candidates, self.mapping.connection_id, text)
        self.show_candidates(found)

    def show_candidates(self, candidates: list[ErpCandidate]) -> None:
        self.candidates = candidates
        self.table.setRowCount(len(candidates))
        for row, c in enumerate(candidates):
            values = (c.name, c.sku, c.ndc_text, c.item_id, c.location_id, c.lot, c.quantity,
                      "already mapped" if c.mapped else "")  # fmt: skip
            for column, value in enumerate(values):
                self.table.setItem(row, column, QTableWidgetItem("" if value is None else str(value)))
        self.message.setText("" if candidates else "No ERP stock position matches.")
        self._update_ok()
        self.searched.emit()

    def selected(self) -> ErpCandidate | None:
        rows = self.table.selectionModel().selectedRows()
        return self.candidates[rows[0].row()] if rows else None

    def _update_ok(self) -> None:
        candidate = self.selected()
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(
            candidate is not None and not candidate.mapped
        )

    def on_buttons_accepted(self) -> None:
        candidate = self.selected()
        if candidate is None or candidate.mapped:
            return
        self.chosen.emit(candidate)
        self.accept()
