"""The main window's table of connections: one row per ConnectionSummary, refreshed as a whole."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt

from atlas_desktop.store.repositories import ConnectionSummary
from atlas_desktop.ui.wizard.forms import ERP_LABELS

COL_NAME, COL_ERP, COL_STATUS, COL_LAST_SYNC, COL_FAILURES = range(5)
HEADERS = ("Connection", "ERP", "Status", "Last sync", "Failed runs in a row")
AnyIndex = QModelIndex | QPersistentModelIndex


class ConnectionsTableModel(QAbstractTableModel):
    """Few rows (one per ERP connection), so the whole list is held; the model never raises in data()."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._rows: list[ConnectionSummary] = []

    def set_connections(self, rows: Sequence[ConnectionSummary]) -> None:
        self.beginResetModel()
        self._rows = list(rows)
        self.endResetModel()

    def connection_id(self, row: int) -> str | None:
        return self._rows[row].id if 0 <= row < len(self._rows) else None

    def rowCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: N802, B008 - Qt signature
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: N802, B008 - Qt signature
        return 0 if parent.isValid() else len(HEADERS)

    def headerData(  # noqa: N802 - Qt signature
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return HEADERS[section] if 0 <= section < len(HEADERS) else None
        return None

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        if role not in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.AccessibleTextRole):
            return None
        row = self._rows[index.row()]
        column = index.column()
        if column == COL_NAME:
            return row.name
        if column == COL_ERP:
            return ERP_LABELS.get(row.erp_type, str(row.erp_type))
        if column == COL_STATUS:
            return str(row.status).capitalize()
        if column == COL_LAST_SYNC:
            if row.last_sync_at is None:
                return "never"
            status = f" ({row.last_sync_status})" if row.last_sync_status else ""
            return row.last_sync_at.astimezone().strftime("%Y-%m-%d %H:%M") + status
        if column == COL_FAILURES:
            return str(row.consecutive_failures)
        return None
