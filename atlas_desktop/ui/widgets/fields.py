"""Form rows: an input with its instant validation message, and a value with a Copy button."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

ERROR_COLOUR = "#cf222e"
NOTE_COLOUR = "#1a7f37"


class ValidatedField(QWidget):
    """A QLineEdit with a message under it: red for a problem, green for a note (e.g. a fixed casing)."""

    edited = Signal(str)

    def __init__(
        self,
        name: str,
        label: str,
        *,
        placeholder: str = "",
        secret: bool = False,
        browse: bool = False,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.name = name
        self.label_text = label
        self.edit = QLineEdit(self)
        self.edit.setObjectName(f"field_{name}")
        self.edit.setPlaceholderText(placeholder)
        self.edit.setAccessibleName(label)
        self.edit.setAccessibleDescription(placeholder)
        if secret:
            self.edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.message = QLabel(self)
        self.message.setWordWrap(True)
        self.message.setVisible(False)
        self.message.setObjectName(f"message_{name}")
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.edit, 1)
        self.browse_button: QPushButton | None = None
        if browse:
            self.browse_button = QPushButton("Browse…", self)
            self.browse_button.setAccessibleName(f"Browse for the {label.lower()} file")
            self.browse_button.clicked.connect(self.on_browse_clicked)
            row.addWidget(self.browse_button)
        self.show_button: QPushButton | None = None
        if secret:
            self.show_button = QPushButton("Show", self)
            self.show_button.setCheckable(True)
            self.show_button.setAccessibleName(f"Show the {label.lower()}")
            self.show_button.toggled.connect(self.on_show_toggled)
            # Reachable by mouse; keyboard users tab straight to the next field.
            self.show_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            row.addWidget(self.show_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addLayout(row)
        layout.addWidget(self.message)
        self.edit.textEdited.connect(self.edited)

    def text(self) -> str:
        return self.edit.text()

    def set_text(self, value: str) -> None:
        self.edit.setText(value)

    def set_problem(self, text: str) -> None:
        self._show(text, ERROR_COLOUR)
        self.edit.setAccessibleDescription(text)

    def set_note(self, text: str) -> None:
        self._show(text, NOTE_COLOUR)

    def clear_message(self) -> None:
        self.message.clear()
        self.message.setVisible(False)
        self.edit.setAccessibleDescription(self.edit.placeholderText())

    def message_text(self) -> str:
        return self.message.text() if self.message.isVisible() or self.message.text() else ""

    def _show(self, text: str, colour: str) -> None:
        if not text:
            self.clear_message()
            return
        self.message.setText(text)
        self.message.setStyleSheet(f"color: {colour};")
        self.message.setVisible(True)

    def on_show_toggled(self, shown: bool) -> None:
        self.edit.setEchoMode(QLineEdit.EchoMode.Normal if shown else QLineEdit.EchoMode.Password)
        if self.show_button is not None:
            self.show_button.setText("Hide" if shown else "Show")

    def on_browse_clicked(self) -> None:
        # open() + signal, never exec(): the wizard runs coroutines on the same loop.
        dialog = QFileDialog(self, f"Choose the {self.label_text.lower()}")
        dialog.setNameFilters(["PEM files (*.pem *.crt *.cer *.key)", "All files (*)"])
        dialog.fileSelected.connect(self._on_file_chosen)
        dialog.open()

    def _on_file_chosen(self, path: str) -> None:
        self.edit.setText(path)
        self.edited.emit(path)


class CopyRow(QWidget):
    """A value the user must type in the ERP, read-only, with a Copy button."""

    def __init__(self, label: str, value: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.value = value
        caption = QLabel(label, self)
        self.field = QLineEdit(value, self)
        self.field.setReadOnly(True)
        self.field.setAccessibleName(label)
        self.button = QPushButton("Copy", self)
        self.button.setAccessibleName(f"Copy {label}")
        self.button.clicked.connect(self.on_button_clicked)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        caption.setMinimumWidth(150)
        layout.addWidget(caption)
        layout.addWidget(self.field, 1)
        layout.addWidget(self.button)

    def on_button_clicked(self) -> None:
        QGuiApplication.clipboard().setText(self.value)
        self.button.setText("Copied ✓")
