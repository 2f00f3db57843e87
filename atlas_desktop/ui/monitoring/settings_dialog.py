"""Settings: proxy, CA bundle (with a check of the chain a host presents), log level, start at login."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any, Protocol

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QApplication,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from atlas_desktop.domain.errors import AtlasDesktopError
from atlas_desktop.ui.monitoring.cert_check import CertInfo, fetch_chain, parse_host
from atlas_desktop.ui.monitoring.tasks import TaskGroup
from atlas_desktop.ui.theme import ThemeMode, apply_theme

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")


class StartAtLogin(Protocol):
    """Starting the app when the user logs in (app/autostart.py, handed in by the composition root)."""

    def is_enabled(self) -> bool: ...

    def enable(self) -> object: ...

    def disable(self) -> object: ...


def describe_chain(chain: list[CertInfo]) -> str:
    lines = []
    for depth, cert in enumerate(chain):
        lines.append(f"{depth}. {cert.subject}")
        lines.append(f"   issued by {cert.issuer}")
        lines.append(
            f"   expires {cert.not_after:%Y-%m-%d}" + ("  (self-signed)" if cert.self_signed else "")
        )
    if chain and not chain[-1].self_signed:
        lines.append("The last certificate is not a root: its issuer must be in the system or the CA bundle.")
    return "\n".join(lines) or "The host sent no certificate."


class SettingsDialog(QDialog):
    """Edits AppSettings; `saved` fires after the values were stored. Log level applies at once.

    Without `start_at_login` the box to start at login is shown disabled."""

    saved = Signal()
    checked = Signal(str)

    def __init__(
        self,
        settings: Any,
        data_dir: Path | None,
        parent: QWidget | None = None,
        *,
        start_at_login: StartAtLogin | None = None,
    ) -> None:
        super().__init__(parent)
        self.settings = settings
        self.setWindowTitle("Settings")
        self.resize(620, 520)
        self.proxy = QLineEdit(settings.get("proxy"))
        self.proxy.setPlaceholderText("http://proxy.example.com:8080 — empty: the system's settings")
        self.ca_bundle = QLineEdit(settings.get("ca_bundle"))
        self.ca_bundle.setPlaceholderText("PEM file with your company's root certificate (optional)")
        browse = QPushButton("Browse…")
        browse.clicked.connect(self.on_browse_clicked)
        ca_row = QHBoxLayout()
        ca_row.addWidget(self.ca_bundle, 1)
        ca_row.addWidget(browse)
        self.check_host = QLineEdit()
        self.check_host.setPlaceholderText("host to check, e.g. my123456.s4hana.cloud.sap")
        self.check_button = QPushButton("Check")
        self.check_button.clicked.connect(self.on_check_button_clicked)
        check_row = QHBoxLayout()
        check_row.addWidget(self.check_host, 1)
        check_row.addWidget(self.check_button)
        self.chain = QPlainTextEdit()
        self.chain.setReadOnly(True)
        self.chain.setPlaceholderText("The certificate chain the host presents shows here.")
        self.chain.setAccessibleName("Certificate chain")
        self.log_level = QComboBox()
        self.log_level.addItems(LOG_LEVELS)
        self.log_level.setCurrentText(settings.get("log_level"))
        self.theme = QComboBox()
        self.theme.setAccessibleName("Appearance")
        for mode, label in ((ThemeMode.SYSTEM, "Like the system"), (ThemeMode.LIGHT, "Light"),
                            (ThemeMode.DARK, "Dark")):  # fmt: skip
            self.theme.addItem(label, mode.value)
        self.theme.setCurrentIndex(max(0, self.theme.findData(settings.get("theme"))))
        self.autostart = start_at_login
        self.start_at_login = QCheckBox("Start Atlas Desktop when I log in")
        enabled = bool(settings.get("start_at_login"))
        if self.autostart is not None:
            try:
                enabled = bool(self.autostart.is_enabled())
            except (OSError, AtlasDesktopError):
                pass
        else:
            self.start_at_login.setToolTip("Not available in this build.")
            self.start_at_login.setEnabled(False)
        self.start_at_login.setChecked(enabled)
        folder = QLabel(str(data_dir) if data_dir else "—")
        folder.setWordWrap(True)
        folder.setAccessibleName("Data folder")
        self.message = QLabel()
        self.message.setWordWrap(True)
        form = QFormLayout()
        form.addRow("HTTP proxy:", self.proxy)
        form.addRow("CA bundle:", ca_row)
        form.addRow("Check a host:", check_row)
        form.addRow("", self.chain)
        form.addRow("Appearance:", self.theme)
        form.addRow("Log level:", self.log_level)
        form.addRow("", self.start_at_login)
        form.addRow("Data folder:", folder)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.on_buttons_accepted)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.message)
        layout.addWidget(buttons)
        self.tasks = TaskGroup(self.message.setText)
        self.file_dialog: QFileDialog | None = None

    def on_browse_clicked(self) -> None:
        dialog = QFileDialog(self, "CA bundle", "", "Certificates (*.pem *.crt *.cer);;All files (*)")
        dialog.fileSelected.connect(self.ca_bundle.setText)
        self.file_dialog = dialog
        dialog.open()

    def on_check_button_clicked(self) -> None:
        self.tasks.start(self.check())

    async def check(self) -> str:
        host, port = parse_host(self.check_host.text())
        self.chain.setPlainText(f"Connecting to {host}:{port}…")
        self.check_button.setEnabled(False)
        try:
            chain = await asyncio.to_thread(fetch_chain, host, port)
            text = describe_chain(chain)
        except AtlasDesktopError as error:
            text = str(error)
        finally:
            self.check_button.setEnabled(True)
        self.chain.setPlainText(text)
        self.checked.emit(text)
        return text

    def on_buttons_accepted(self) -> None:
        try:
            self.save()
        except AtlasDesktopError as error:
            self.message.setText(str(error))  # stays open, with the fix
            return
        self.accept()

    def save(self) -> None:
        values = {
            "proxy": self.proxy.text().strip(),
            "ca_bundle": self.ca_bundle.text().strip(),
            "log_level": self.log_level.currentText(),
            "start_at_login": self.start_at_login.isChecked(),
            "theme": self.theme.currentData(),
        }
        bundle = values["ca_bundle"]
        if bundle and not Path(bundle).expanduser().is_file():
            from atlas_desktop.domain.errors import ConfigError

            raise ConfigError(
                "ca_bundle", f"{bundle} is not a file", fix="Pick the PEM file, or leave it empty."
            )
        for key, value in values.items():
            self.settings.set(key, value)
        logging.getLogger().setLevel(values["log_level"])
        app = QApplication.instance()
        if isinstance(app, QApplication):
            apply_theme(app, ThemeMode(values["theme"]))  # at once, like the log level
        if self.autostart is not None:
            try:
                if values["start_at_login"]:
                    self.autostart.enable()
                else:
                    self.autostart.disable()
            except (OSError, AtlasDesktopError) as error:
                self.message.setText(f"Start at login could not be changed: {error}")
        self.saved.emit()
