"""The NetSuite OAuth 2.0 (M2M) certificate: made by the app, uploaded by the user, its ID typed back.

The key pair is made once per draft (kept sealed in it); the public certificate lies in the profile's
certificates folder, which a button opens. In the demo a button uploads it to the sandbox as NetSuite's
M2M Setup page would and fills in the Certificate ID.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from pathlib import Path

from PySide6.QtCore import Qt, QUrl, Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from atlas_desktop.domain.errors import AtlasDesktopError
from atlas_desktop.domain.m2m_certificate import CERTIFICATE_EXPIRES, parse_not_after
from atlas_desktop.ui.widgets.fields import ERROR_COLOUR, NOTE_COLOUR
from atlas_desktop.ui.widgets.paths import shown_path

# NetSuite's own words for the way there, shown in the wizard and the renewal.
M2M_SETUP_PATH = "Setup → Integration → Manage Authentication → OAuth 2.0 Client Credentials (M2M) Setup"
CERTIFICATE_FILE = "certificate_file"


def upload_steps(path: Path | None) -> str:
    name = f"<tt>{path.name}</tt>" if path is not None else "the certificate file"
    return (
        f"In NetSuite open <b>{M2M_SETUP_PATH}</b> › <i>Create New</i>. Entity: the integration user; "
        f"Role: <i>Atlas Integration</i>; Application: <i>Atlas Desktop</i>; Certificate: choose {name} "
        "(the button below opens its folder). Save, then copy the <b>Certificate ID</b> NetSuite shows "
        "into the field below."
    )


def valid_until(not_after: datetime | None) -> str:
    return f"valid until {not_after:%Y-%m-%d}" if not_after is not None else ""


class CertificatePanel(QFrame):
    """Shows where the certificate is; `certificate_id_received` carries the ID the sandbox answered."""

    certificate_id_received = Signal(str)

    def __init__(
        self,
        open_url: Callable[[str], object] | None,
        sandbox_upload: Callable[[str], Awaitable[str]] | None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("certificatePanel")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self._open_url = open_url
        self._sandbox_upload = sandbox_upload  # (certificate PEM) -> Certificate ID, demo only
        self.path: Path | None = None
        self.steps = QLabel()
        self.steps.setWordWrap(True)
        self.steps.setTextFormat(Qt.TextFormat.RichText)
        self.file_label = QLabel()
        self.file_label.setObjectName("certificateFile")
        self.file_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.file_label.setWordWrap(True)
        self.open_button = QPushButton("&Open the certificate's folder")
        self.open_button.setAccessibleName("Open the folder that holds the certificate to upload")
        self.upload_button = QPushButton("&Upload to the sandbox")
        self.upload_button.setAccessibleName("Upload the certificate to the sandbox NetSuite")
        self.upload_button.setVisible(sandbox_upload is not None)
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.status.setObjectName("certificateStatus")
        self.status.setVisible(False)  # until an upload says something
        buttons = QHBoxLayout()
        buttons.addWidget(self.open_button)
        buttons.addWidget(self.upload_button)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        title = QLabel(
            "<b>Your certificate</b> — the private key stays on this computer, sealed in the vault"
        )
        layout.addWidget(title)
        layout.addWidget(self.steps)
        layout.addWidget(self.file_label)
        layout.addLayout(buttons)
        layout.addWidget(self.status)
        self.open_button.clicked.connect(self.on_open_button_clicked)

    def show_certificate(self, path: Path | None, not_after: datetime | None) -> None:
        self.path = path
        self.steps.setText(upload_steps(path))
        if path is None:
            self.file_label.setText("No certificate yet.")
        else:
            self.file_label.setText(f"{shown_path(path)}  ({valid_until(not_after)})")
        self.file_label.setToolTip(str(path) if path is not None else "")
        self.open_button.setEnabled(path is not None)
        self.upload_button.setEnabled(path is not None)

    def show_making(self) -> None:
        self.path = None
        self.steps.setText(upload_steps(None))
        self.file_label.setText("Making the key pair and certificate…")
        self.open_button.setEnabled(False)
        self.upload_button.setEnabled(False)

    def show_fields(self, fields: dict[str, str]) -> None:
        path = fields.get(CERTIFICATE_FILE)
        self.show_certificate(Path(path) if path else None, parse_not_after(fields.get(CERTIFICATE_EXPIRES)))

    def on_open_button_clicked(self) -> None:
        if self.path is not None and self._open_url is not None:
            self._open_url(QUrl.fromLocalFile(str(self.path.parent)).toString())

    async def upload(self, certificate_pem: str) -> str | None:
        """The sandbox's Certificate ID for this certificate, or None (the reason is shown)."""
        assert self._sandbox_upload is not None, "the upload button shows only with a sandbox"
        self.status.setVisible(True)
        self.status.setText("Uploading…")
        try:
            certificate_id = str(await self._sandbox_upload(certificate_pem))
        except AtlasDesktopError as error:
            self.status.setText(f"<span style='color:{ERROR_COLOUR}'>✗ {error.message}. {error.fix}</span>")
            return None
        self.status.setText(f"<span style='color:{NOTE_COLOUR}'>✓ Uploaded; the sandbox gave its "
                            "Certificate ID.</span>")  # fmt: skip
        self.certificate_id_received.emit(certificate_id)
        return certificate_id
