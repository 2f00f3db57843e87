"""The SAP preferences' location names: one row per plant / storage location, its name editable.

No SAP API lists plant or storage-location names, so without this every view would say
"Plant 1010, storage location 0001". The names go to the connection's `location_names` setting, which the
SAP connector's `locations()` reads; views that show location names get them from there.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QGroupBox,
    QHeaderView,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
)

from atlas_desktop.domain.model import Location

COL_CODE, COL_ATLAS, COL_NAME = 0, 1, 2
_READ_ONLY = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable


class LocationNamesBox(QGroupBox):
    """`changed` carries {"1010/0001": "Main warehouse", …}: the names given (blank ones left out)."""

    changed = Signal(dict)

    def __init__(self) -> None:
        super().__init__("Plant and storage location names")
        note = QLabel(
            "SAP does not list names for plants and storage locations: give each one a name, and the "
            "app shows it instead of the codes."
        )
        note.setWordWrap(True)
        self.table = QTableWidget(0, 3)
        self.table.setObjectName("locationNames")
        self.table.setAccessibleName("Plant and storage location names")
        self.table.setHorizontalHeaderLabels(["Plant / storage location", "Atlas location", "Name"])
        self.table.verticalHeader().setVisible(False)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(COL_CODE, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(COL_ATLAS, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(COL_NAME, QHeaderView.ResizeMode.Stretch)
        layout = QVBoxLayout(self)
        layout.addWidget(note)
        layout.addWidget(self.table)
        self.table.itemChanged.connect(self._on_item_changed)
        self._filling = False

    def show_locations(self, locations: Iterable[Location], known: Mapping[str, str]) -> None:
        """One row per location; the Name is the one already given, blank when none is known."""
        self._filling = True
        self.table.setRowCount(0)
        for location in locations:
            row = self.table.rowCount()
            self.table.insertRow(row)
            code = QTableWidgetItem(location.id)
            code.setFlags(_READ_ONLY)
            atlas = QTableWidgetItem(location.code or "—")
            atlas.setFlags(_READ_ONLY)
            atlas.setToolTip("The Atlas location code stocked here (the connection's location map)")
            name = QTableWidgetItem(known.get(location.id, ""))
            name.setToolTip(f"The name shown for {location.id}; double-click to edit")
            self.table.setItem(row, COL_CODE, code)
            self.table.setItem(row, COL_ATLAS, atlas)
            self.table.setItem(row, COL_NAME, name)
        self._filling = False
        # As tall as its rows (up to five): no blank box under two locations.
        shown = min(max(self.table.rowCount(), 1), 5)
        frame = 2 * self.table.frameWidth()
        self.table.setFixedHeight(
            self.table.horizontalHeader().sizeHint().height()
            + shown * self.table.verticalHeader().defaultSectionSize()
            + frame
        )
        self.setVisible(self.table.rowCount() > 0)

    def names(self) -> dict[str, str]:
        found: dict[str, str] = {}
        for row in range(self.table.rowCount()):
            code, name = self.table.item(row, COL_CODE), self.table.item(row, COL_NAME)
            if code is not None and name is not None and name.text().strip():
                found[code.text()] = name.text().strip()
        return found

    def set_name(self, location_id: str, name: str) -> None:
        """As a user typing the name (tests and the screenshot use it)."""
        for row in range(self.table.rowCount()):
            code = self.table.item(row, COL_CODE)
            if code is not None and code.text() == location_id:
                item = self.table.item(row, COL_NAME)
                assert item is not None
                item.setText(name)
                return
        raise KeyError(location_id)

    def _on_item_changed(self, item: QTableWidgetItem) -> None:
        if not self._filling and item.column() == COL_NAME:
            self.changed.emit(self.names())
