"""Renew a NetSuite OAuth 2.0 (M2M) certificate: a new pair to upload, its Certificate ID, then the switch.

The switch happens only once NetSuite gives a token for the new key and ID (app/certificate_renewal.py);
until then the connection keeps syncing with the current certificate. Store calls run on the engine's DB
thread; closing the dialog keeps the new pair waiting (the card says so) for the next time.
"""

from __future__ import annotations

from html import escape
from pathlib import Path

from PySide6.QtCore import Qt, QUrl, Signal
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from atlas_desktop.domain.errors import AtlasDesktopError
from atlas_desktop.ui.monitoring.context import MonitoringContext
from atlas_desktop.ui.monitoring.tasks import TaskGroup
from atlas_desktop.ui.widgets.fields import ERROR_COLOUR, NOTE_COLOUR
from atlas_desktop.ui.widgets.paths import shown_path
from atlas_desktop.ui.wizard.certificate_panel import upload_steps, valid_until


class RenewCertificateDialog(QDialog):
    switched = Signal(str)  # connection id: the new certificate is in use

    def __init__(
        self, ctx: MonitoringContext, connection_id: str, name: str, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.connection_id = connection_id
        self.path: Path | None = None
        self.setWindowTitle(f"Renew the NetSuite certificate — {name}")
        self.setMinimumWidth(620)
        intro = QLabel(
            "Atlas Desktop made a new key pair for this connection. It keeps syncing with the current "
            "certificate until NetSuite accepts the new one, so there is no pause."
        )
        intro.setWordWrap(True)
        self.steps = QLabel()
        self.steps.setWordWrap(True)
        self.steps.setTextFormat(Qt.TextFormat.RichText)
        self.file_label = QLabel("Making the new certificate…")
        self.file_label.setObjectName("certificateFile")
        self.file_label.setWordWrap(True)
        self.file_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.open_button = QPushButton("&Open the certificate's folder")
        self.open_button.setEnabled(False)
        self.upload_button = QPushButton("&Upload to the sandbox")
        self.upload_button.setVisible(ctx.sandbox_upload is not None)
        self.upload_button.setEnabled(False)
        self.certificate_id = QLineEdit()
        self.certificate_id.setAccessibleName("The new Certificate ID")
        self.certificate_id.setPlaceholderText("the Certificate ID NetSuite showed after the upload")
        id_label = QLabel("New &Certificate ID:")
        id_label.setBuddy(self.certificate_id)
        self.status = QLabel()
        self.status.setObjectName("renewStatus")
        self.status.setWordWrap(True)
        self.status.setTextFormat(Qt.TextFormat.RichText)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.switch_button = self.buttons.addButton(
            "&Switch to the new certificate", QDialogButtonBox.ButtonRole.ActionRole
        )
        self.switch_button.setEnabled(False)
        self.tasks = TaskGroup(self._failed)

        file_buttons = QHBoxLayout()
        file_buttons.addWidget(self.open_button)
        file_buttons.addWidget(self.upload_button)
        file_buttons.addStretch(1)
        id_row = QHBoxLayout()
        id_row.addWidget(id_label)
        id_row.addWidget(self.certificate_id, 1)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.steps)
        layout.addWidget(self.file_label)
        layout.addLayout(file_buttons)
        layout.addLayout(id_row)
        layout.addWidget(self.status)
        layout.addWidget(self.buttons)

        self.buttons.rejected.connect(self.reject)
        self.open_button.clicked.connect(self.on_open_button_clicked)
        self.upload_button.clicked.connect(lambda: self.tasks.start(self._upload()))
        self.switch_button.clicked.connect(lambda: self.tasks.start(self._switch()))
        self.certificate_id.textChanged.connect(lambda _t: self._enable())
        self.steps.setText(upload_steps(None))
        self.tasks.start(self._start())

    def _enable(self) -> None:
        self.switch_button.setEnabled(self.path is not None and bool(self.certificate_id.text().strip()))
        self.upload_button.setEnabled(self.path is not None)

    def _failed(self, text: str) -> None:
        self.status.setText(
            f"<span style='color:{ERROR_COLOUR}'>✗ {escape(text)}</span><br>"
            "The current certificate keeps syncing meanwhile."
        )

    async def _start(self) -> None:
        pending = await self.ctx.db(self.ctx.renewal.start, self.connection_id)
        self.path = pending.path
        self.steps.setText(upload_steps(pending.path))
        self.file_label.setText(f"{shown_path(pending.path)}  ({valid_until(pending.not_after)})")
        self.file_label.setToolTip(str(pending.path))
        self.open_button.setEnabled(True)
        self._enable()

    def on_open_button_clicked(self) -> None:
        if self.path is None:
            return
        url = QUrl.fromLocalFile(str(self.path.parent)).toString()
        if self.ctx.open_url is not None:
            self.ctx.open_url(url)
        else:
            QDesktopServices.openUrl(QUrl(url))

    async def _upload(self) -> None:
        assert self.path is not None and self.ctx.sandbox_upload is not None
        certificate_id = await self.ctx.sandbox_upload(self.path.read_text(encoding="ascii"))
        self.certificate_id.setText(str(certificate_id))

    async def _switch(self) -> None:
        renewal = self.ctx.renewal
        self.status.setText("Asking NetSuite for a token with the new certificate…")
        self.switch_button.setEnabled(False)
        try:
            spec = await self.ctx.db(renewal.candidate, self.connection_id, self.certificate_id.text())
            await renewal.verify(spec)
            await self.ctx.db(renewal.switch, self.connection_id, spec)
        except AtlasDesktopError:
            self._enable()
            raise
        await self.ctx.engine.forget_connector(self.connection_id)
        self.status.setText(
            f"<span style='color:{NOTE_COLOUR}'>✓ Switched: syncs now use the new certificate. You can "
            "revoke the old one in NetSuite's M2M Setup.</span>"
        )
        self.switched.emit(self.connection_id)
