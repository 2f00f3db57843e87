"""The Atlas rows discovery did not find in the ERP, one per line: why, and what to do about it."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QHeaderView, QLabel, QTableView, QVBoxLayout, QWidget

from atlas_desktop.engine.unmatched import UnmatchedRow
from atlas_desktop.ui.monitoring.wording import ndc_text_words
from atlas_desktop.ui.widgets.rows_model import RowsTableModel

COLUMNS = (
    ("Item", lambda r: r.item),
    ("NDC", lambda r: ndc_text_words(r.ndc)),  # 5-4-2 when it is one NDC; else as Atlas holds it
    ("Lot", lambda r: r.lot),
    ("Location", lambda r: r.location),
    ("Why", lambda r: r.reason),
    ("In detail", lambda r: r.note),
    ("What to do", lambda r: r.fix),
)
WIDTHS = (220, 110, 80, 80, 200, 250)
ROWS_MEASURED = 200  # word-wrapped rows are measured only for short lists: measuring 5,000 stalls


class UnmatchedDialog(QDialog):
    def __init__(self, rows: Sequence[UnmatchedRow], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("On Atlas, not found in the ERP")
        self.resize(1360, 480)
        self.model = RowsTableModel(COLUMNS, self)
        self.model.set_rows(rows)
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setAccessibleName("Atlas rows not found in the ERP")
        self.table.verticalHeader().setVisible(False)
        self.table.setWordWrap(False)
        self.table.setAlternatingRowColors(True)
        for column, width in enumerate(WIDTHS):
            self.table.setColumnWidth(column, width)
        self.table.horizontalHeader().setSectionResizeMode(len(COLUMNS) - 1, QHeaderView.ResizeMode.Stretch)
        # The reasons and fixes are sentences: shown whole in a short list, measured once laid out.
        self.table.setWordWrap(len(rows) <= ROWS_MEASURED)
        intro = QLabel(
            "These listings stay on Atlas as they are; nothing is synced for them until they are paired "
            "(Mappings, Map to ERP item…) or the cause is fixed and discovery runs again."
        )
        intro.setWordWrap(True)
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        close.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.table, 1)
        layout.addWidget(close)

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 - Qt override
        super().showEvent(event)
        if self.table.wordWrap():
            self.table.resizeRowsToContents()
