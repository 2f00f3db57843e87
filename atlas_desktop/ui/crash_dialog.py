"""The report shown for an unexpected error: what happened (secrets removed) and a "Copy report" button."""

from __future__ import annotations

from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from atlas_desktop.domain.secrets import redact


class CrashDialog(QDialog):
    """Non-modal on purpose: shown with open() (never exec(), which would nest the asyncio loop)."""

    def __init__(self, report: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Atlas Desktop — unexpected error")
        self.report = redact(report)
        intro = QLabel(
            "Something went wrong that Atlas Desktop did not expect. Your data is safe: unsent changes stay "
            "queued and are sent at the next sync. Please copy this report and send it to Atlas support."
        )
        intro.setWordWrap(True)
        self.text = QPlainTextEdit(self.report)
        self.text.setReadOnly(True)
        self.text.setAccessibleName("Error report")
        self.copy_button = QPushButton("&Copy report")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.addButton(self.copy_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.rejected.connect(self.reject)
        self.copy_button.clicked.connect(self.on_copy_button_clicked)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.text, 1)
        layout.addWidget(buttons)
        self.resize(640, 420)

    def on_copy_button_clicked(self) -> None:
        QGuiApplication.clipboard().setText(self.report)
        self.copy_button.setText("Copied ✓")
