"""The list of what a sync will change (a preview) or did change (a run): searchable, exportable to CSV."""

from __future__ import annotations

import csv
from collections.abc import Mapping, Sequence
from decimal import Decimal, InvalidOperation
from html import escape
from pathlib import Path

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QSortFilterProxyModel, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from atlas_desktop.engine.changes import KIND_LABELS, ChangeKind, PlannedChange
from atlas_desktop.ui.monitoring.wording import plural
from atlas_desktop.ui.widgets.rows_model import RowsTableModel

HEADERS = ("Change", "Item", "Lot", "Location", "Direction", "Old", "New")
COLUMNS = tuple((title, lambda c, i=i: c.as_row()[i]) for i, title in enumerate(HEADERS))
WIDTHS = (280, 260, 100, 80, 110, 130, 130)
MIN_ITEM = 220  # Item stretches; the rest start wide enough to read
ITEM_COLUMN = 1
ROW_HEIGHT = 24

AnyIndex = QModelIndex | QPersistentModelIndex


def counts_html(kinds: Mapping[str, int]) -> str:
    """The counts per kind as a small table (kinds with nothing to do left out, "already the same" kept)."""
    rows = [
        (KIND_LABELS[ChangeKind(kind)], count)
        for kind, count in kinds.items()
        if count or kind == ChangeKind.ALREADY_SAME
    ]
    cells = "".join(
        f"<tr><td style='padding-right:16px'>{escape(label)}</td><td align='right'><b>{count:,}</b></td></tr>"
        for label, count in rows
    )
    return f"<table>{cells}</table>"


def _cell(value: str) -> str:
    """A name from the ERP or Atlas must not run as a spreadsheet formula (CSV injection); a signed
    number ("+5", "-3") stays a number."""
    first = value[:1]
    if first in ("=", "@", "\t", "\r") or (first in ("+", "-") and not _number(value)):
        return "'" + value
    return value


def _number(value: str) -> bool:
    try:
        Decimal(value)
    except InvalidOperation:
        return False
    return True


class _TextFilter(QSortFilterProxyModel):
    """Keeps rows whose text holds what was typed (any column, any case; "atlas → erp" is a direction):
    one lowercase string per row, made once, so a keystroke over 20,000 rows never asks the model for
    140,000 cells."""

    def __init__(self, model: RowsTableModel) -> None:
        super().__init__()
        self.setSourceModel(model)
        self._texts = [" ".join(row.as_row()).casefold() for row in model.rows]
        self._phrase = ""

    def set_phrase(self, text: str) -> None:
        phrase = " ".join(text.casefold().split())
        if not hasattr(self, "beginFilterChange"):  # Qt before 6.10
            self._phrase = phrase
            self.invalidateFilter()
            return
        self.beginFilterChange()  # 6.10 deprecates invalidateFilter() for this pair
        self._phrase = phrase
        self.endFilterChange(QSortFilterProxyModel.Direction.Rows)

    def filterAcceptsRow(self, source_row: int, source_parent: AnyIndex) -> bool:  # noqa: N802 - Qt override
        return self._phrase in self._texts[source_row]


class ChangesDialog(QDialog):
    """Non-modal: `open()`. The person filters by typing and saves what is shown as CSV. With
    `approve_text`, a button of that name emits `approved` and closes: the caller runs the plan."""

    approved = Signal()

    def __init__(
        self,
        changes: Sequence[PlannedChange],
        *,
        title: str,
        kinds: Mapping[str, int] | None = None,
        left_out: int = 0,
        approve_text: str | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.resize(1280, 560)
        self.model = RowsTableModel(COLUMNS, self)
        self.model.set_rows(changes)
        self.proxy = _TextFilter(self.model)
        self.proxy.setParent(self)
        summary = QLabel(counts_html(kinds) if kinds else "")
        summary.setTextFormat(Qt.TextFormat.RichText)
        summary.setVisible(bool(kinds))
        self.filter = QLineEdit()
        self.filter.setPlaceholderText("Filter: item, lot, location, direction or value")
        self.filter.setClearButtonEnabled(True)
        self.filter.setAccessibleName("Filter changes")
        self.count_label = QLabel()
        self.table = QTableView()
        self.table.setModel(self.proxy)
        self.table.setAccessibleName("Changes")
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(-1, Qt.SortOrder.AscendingOrder)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setWordWrap(False)
        self.table.setAlternatingRowColors(True)
        vertical = self.table.verticalHeader()
        vertical.setVisible(False)
        vertical.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)  # never measures 20,000 rows
        vertical.setDefaultSectionSize(ROW_HEIGHT)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        for column, width in enumerate(WIDTHS):
            self.table.setColumnWidth(column, width)
        header.setSectionResizeMode(ITEM_COLUMN, QHeaderView.ResizeMode.Stretch)
        others = sum(w for column, w in enumerate(WIDTHS) if column != ITEM_COLUMN)
        self.table.setMinimumWidth(others + MIN_ITEM + 4)  # the stretched Item column never a sliver
        self.note = QLabel(
            f"{left_out:,} more changes are not listed here; they are counted above." if left_out else ""
        )
        self.note.setVisible(bool(left_out))
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.export_button = QPushButton("Export CSV…")
        self.export_button.setAccessibleName("Export the changes shown as CSV")
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        close.rejected.connect(self.reject)
        self.approve_button: QPushButton | None = None
        if approve_text:
            self.approve_button = close.addButton(approve_text, QDialogButtonBox.ButtonRole.AcceptRole)
            close.accepted.connect(self.on_approve_clicked)
        top = QHBoxLayout()
        top.addWidget(self.filter, 1)
        top.addWidget(self.count_label)
        bottom = QHBoxLayout()
        bottom.addWidget(self.export_button)
        bottom.addWidget(self.message, 1)
        bottom.addWidget(close)
        layout = QVBoxLayout(self)
        layout.addWidget(summary)
        layout.addLayout(top)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.note)
        layout.addLayout(bottom)
        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(200)
        self._debounce.timeout.connect(self.apply_filter)
        self.filter.textChanged.connect(lambda _text: self._debounce.start())
        self.file_dialog: QFileDialog | None = None
        self.export_button.clicked.connect(self.on_export_button_clicked)
        self._show_count()

    def on_approve_clicked(self) -> None:
        self.approved.emit()
        self.accept()

    def apply_filter(self) -> None:
        self.proxy.set_phrase(self.filter.text())
        self._show_count()

    def _show_count(self) -> None:
        shown, total = self.proxy.rowCount(), self.model.rowCount()
        self.count_label.setText(f"{shown:,} of {total:,}" if shown != total else plural(total, "change"))
        self.export_button.setEnabled(shown > 0)

    def shown(self) -> list[PlannedChange]:
        """The rows the table shows now, in its order (filtered and sorted)."""
        rows = self.model.rows
        return [
            rows[self.proxy.mapToSource(self.proxy.index(r, 0)).row()] for r in range(self.proxy.rowCount())
        ]

    def on_export_button_clicked(self) -> QFileDialog:
        # open() and a signal, not getSaveFileName(): no nested event loop under qasync.
        chooser = QFileDialog(
            self, "Export changes", str(Path.home() / "atlas-changes.csv"), "CSV files (*.csv)"
        )
        chooser.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
        chooser.setDefaultSuffix("csv")
        chooser.fileSelected.connect(lambda path: self.export(Path(path)))
        self.file_dialog = chooser
        chooser.open()
        return chooser

    def export(self, path: Path) -> int:
        """Write the rows shown as CSV (UTF-8 with a BOM, so spreadsheet programs read the arrows)."""
        rows = self.shown()
        try:
            with path.open("w", newline="", encoding="utf-8-sig") as out:
                writer = csv.writer(out)
                writer.writerow(HEADERS)
                writer.writerows([_cell(value) for value in change.as_row()] for change in rows)
        except OSError as error:
            self.message.setText(f"Not saved: {error.strerror or error}. Choose another folder.")
            return 0
        self.message.setText(f"Saved {plural(len(rows), 'row')} to {path}")
        return len(rows)
