"""Small dialogs of the Sandbox menu: pick an item by name and a quantity (or a date, or a fault)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal

from PySide6.QtCore import QDate, Qt
from PySide6.QtWidgets import (
    QComboBox,
    QCompleter,
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from atlas_desktop.domain.sandbox_actions import SandboxItem

MAX_QUANTITY = 1_000_000
FAULT_STATUSES = (503, 429, 500)


def _buttons(dialog: QDialog, ok_text: str) -> QDialogButtonBox:
    buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
    buttons.button(QDialogButtonBox.StandardButton.Ok).setText(ok_text)
    buttons.accepted.connect(dialog.accept)
    buttons.rejected.connect(dialog.reject)
    return buttons


class SandboxItemDialog(QDialog):
    """An item from the list (type part of its name to find it) and a whole quantity, or a new expiry."""

    def __init__(
        self,
        title: str,
        explanation: str,
        items: Sequence[SandboxItem],
        *,
        ok_text: str,
        ask_expiry: bool = False,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.items = list(items)
        self.item_box = QComboBox()
        self.item_box.setEditable(True)
        self.item_box.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.item_box.setAccessibleName("Item")
        for item in self.items:
            self.item_box.addItem(item.label())
        completer = self.item_box.completer()
        assert completer is not None, "an editable combo box makes its completer"
        completer.setFilterMode(Qt.MatchFlag.MatchContains)
        completer.setCompletionMode(QCompleter.CompletionMode.PopupCompletion)
        self.quantity_box = QSpinBox()
        self.quantity_box.setRange(1, MAX_QUANTITY)
        self.quantity_box.setValue(3)
        self.quantity_box.setAccessibleName("Quantity")
        self.expiry_box = QDateEdit()
        self.expiry_box.setCalendarPopup(True)
        self.expiry_box.setDisplayFormat("yyyy-MM-dd")
        self.expiry_box.setAccessibleName("New expiry date")
        form = QFormLayout()
        form.addRow("Item:", self.item_box)
        if ask_expiry:
            form.addRow("New expiry:", self.expiry_box)
            self.item_box.currentIndexChanged.connect(self._show_expiry)
            self._show_expiry()
        else:
            form.addRow("Quantity:", self.quantity_box)
        layout = QVBoxLayout(self)
        note = QLabel(explanation)
        note.setWordWrap(True)
        layout.addWidget(note)
        layout.addLayout(form)
        self.buttons = _buttons(self, ok_text)
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(bool(self.items))
        layout.addWidget(self.buttons)

    def _show_expiry(self) -> None:
        item = self.item()
        current = item.expiry if item is not None and item.expiry else date.today()
        self.expiry_box.setDate(QDate(current.year, current.month, current.day))

    def item(self) -> SandboxItem | None:
        index = self.item_box.currentIndex()
        return self.items[index] if 0 <= index < len(self.items) else None

    def select(self, key: str) -> None:
        for index, item in enumerate(self.items):
            if item.key == key:
                self.item_box.setCurrentIndex(index)

    def quantity(self) -> Decimal:
        return Decimal(self.quantity_box.value())

    def expiry(self) -> date:
        picked = self.expiry_box.date()
        return date(picked.year(), picked.month(), picked.day())


class SandboxFaultDialog(QDialog):
    """Which refusal the ERP answers with, and for how many of its next requests."""

    def __init__(self, erp_name: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Make the ERP fail")
        self.status_box = QComboBox()
        self.status_box.setAccessibleName("Answer")
        labels = {503: "503 Service unavailable", 429: "429 Too many requests", 500: "500 Server error"}
        for status in FAULT_STATUSES:
            self.status_box.addItem(labels[status], status)
        self.times_box = QSpinBox()
        self.times_box.setRange(1, 100)
        self.times_box.setValue(3)
        self.times_box.setAccessibleName("Requests")
        layout = QVBoxLayout(self)
        note = QLabel(
            f"The sandbox {erp_name} refuses its next requests with this answer, as a busy or failing server "
            "would. Sync afterwards and watch the app retry, then recover."
        )
        note.setWordWrap(True)
        layout.addWidget(note)
        form = QFormLayout()
        form.addRow("Answer with:", self.status_box)
        form.addRow("For the next:", self.times_box)
        layout.addLayout(form)
        layout.addWidget(_buttons(self, "Inject"))

    def status(self) -> int:
        return int(self.status_box.currentData())

    def times(self) -> int:
        return self.times_box.value()
