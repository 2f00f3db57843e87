"""The coloured strip that says the app runs on the built-in sandbox (demo mode)."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QWidget


class SandboxBanner(QLabel):
    """Always visible in demo mode, so nobody mistakes sandbox numbers for their own business."""

    def __init__(self, text: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("sandboxBanner")
        self.setText(
            text
            or "SANDBOX — you are connected to the built-in emulators. No real NetSuite, SAP or Atlas "
            "account is used, and everything is discarded when the app closes."
        )
        self.setWordWrap(True)
        self.setAccessibleName("Sandbox mode notice")
        # Fixed colours: the banner must read the same in the light and the dark palette.
        self.setStyleSheet(
            "QLabel#sandboxBanner { background: #8a5a00; color: white; padding: 6px 10px;"
            " font-weight: bold; border-radius: 3px; }"
        )
