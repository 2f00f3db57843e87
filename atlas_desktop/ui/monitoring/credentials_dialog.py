"""Replace a connection's credentials from the window (a rotated token secret, a new password).

The new values are checked, then a connection test runs with them; only a passing test stores them, so a
typo never replaces credentials that worked. A field left empty keeps the stored value."""

from __future__ import annotations

from dataclasses import replace
from html import escape

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from atlas_desktop.domain.connection import ConnectionSpec, is_pem_private_key
from atlas_desktop.domain.errors import AtlasDesktopError
from atlas_desktop.domain.m2m_certificate import PENDING_KEY
from atlas_desktop.domain.secrets import Secret
from atlas_desktop.store.repositories import ConnectionSummary
from atlas_desktop.ui.monitoring.context import MonitoringContext
from atlas_desktop.ui.monitoring.tasks import TaskGroup

LABELS = {
    "consumer_key": "Consumer key",
    "consumer_secret": "Consumer secret",
    "token_id": "Token ID",
    "token_secret": "Token secret",
    "client_id": "Client ID",
    "client_secret": "Client secret",
    "username": "User name",
    "password": "Password",
    "client_key_password": "Client key password",
    "private_key": "Private key (PEM)",
}
SHOWN = frozenset({"username", "client_id"})  # names, not secrets: typed in the clear
# The proxy is a network setting (Settings), not a credential; a renewal's waiting key is the renewal's.
NOT_HERE = frozenset({"proxy_password", PENDING_KEY})


def check_value(name: str, text: str) -> str | None:
    """Why a typed value cannot be a credential, or None."""
    if name == "private_key" and not is_pem_private_key(text):
        return "is not a PEM private key (it starts with -----BEGIN … PRIVATE KEY-----)"
    if name != "private_key" and any(ch.isspace() for ch in text):
        return "contains spaces or line breaks (copied with extra text?)"
    return None


class CredentialsDialog(QDialog):
    saved = Signal(str)  # connection id
    loaded = Signal()
    tasks: TaskGroup

    def __init__(
        self, ctx: MonitoringContext, summary: ConnectionSummary, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.connection_id = summary.id
        self.spec: ConnectionSpec | None = None
        self.fields: dict[str, QLineEdit | QPlainTextEdit] = {}
        self.setWindowTitle(f"Replace the credentials of {summary.name}")
        self.form = QFormLayout()
        self.message = QLabel(
            "Type the new values; a field left empty keeps the stored one. They are tested with the ERP "
            "before anything is saved."
        )
        self.message.setWordWrap(True)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.save_button = QPushButton("Test and save")
        self.save_button.setEnabled(False)
        self.buttons.addButton(self.save_button, QDialogButtonBox.ButtonRole.AcceptRole)
        self.save_button.clicked.connect(lambda: self.tasks.start(self.test_and_save()))
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(self.form)
        layout.addWidget(self.message)
        layout.addWidget(self.buttons)
        self.tasks = TaskGroup(self.message.setText)
        self.tasks.start(self._load())

    async def _load(self) -> None:
        self.spec = await self.ctx.db(self.ctx.connections.get, self.connection_id)
        for name in self.spec.secrets:
            if name in NOT_HERE:
                continue
            field: QLineEdit | QPlainTextEdit
            if name == "private_key":
                field = QPlainTextEdit()
                field.setPlaceholderText("Paste the new private key (PEM), or leave empty to keep it")
            else:
                field = QLineEdit()
                field.setPlaceholderText("unchanged")
                if name not in SHOWN:
                    field.setEchoMode(QLineEdit.EchoMode.Password)
            field.setAccessibleName(LABELS.get(name, name))
            self.fields[name] = field
            self.form.addRow(f"{LABELS.get(name, name)}:", field)
        self.save_button.setEnabled(bool(self.fields))
        self.loaded.emit()

    def typed(self) -> dict[str, str]:
        values = {}
        for name, field in self.fields.items():
            text = (field.toPlainText() if isinstance(field, QPlainTextEdit) else field.text()).strip()
            if text:
                values[name] = text
        return values

    async def test_and_save(self) -> bool:
        typed = self.typed()
        if not typed:
            self.message.setText("Nothing typed: the stored credentials stay as they are.")
            return False
        problems = [f"{LABELS.get(n, n)} {why}" for n, t in typed.items() if (why := check_value(n, t))]
        if problems or self.spec is None:
            self.message.setText("; ".join(problems) + ".")
            return False
        new = {name: Secret(text) for name, text in typed.items()}
        spec = replace(self.spec, secrets={**self.spec.secrets, **new})
        self.save_button.setEnabled(False)
        self.message.setText("Testing the new credentials with the ERP…")
        try:
            report = await self.ctx.engine.test_spec(spec)
        except AtlasDesktopError as error:
            return self._refused(error.message, error.fix)
        failure = report.first_failure
        if failure is not None or not report.ok:
            cause = failure.cause or failure.name if failure else "the test did not pass"
            return self._refused(str(cause), (failure.fix if failure else None) or "")

        def store() -> None:
            for name, value in new.items():
                self.ctx.connections.set_secret(self.connection_id, name, value)

        await self.ctx.db(store)
        await self.ctx.engine.forget_connector(self.connection_id)  # the next run uses the new ones
        self.saved.emit(self.connection_id)
        self.accept()
        return True

    def _refused(self, cause: str, fix: str | None) -> bool:
        self.message.setText(
            f"<b>Not saved</b> — the ERP refused the new credentials: {escape(cause)}"
            + (f"<br><b>Fix:</b> {escape(fix)}" if fix else "")
            + "<br>The stored credentials are unchanged."
        )
        self.save_button.setEnabled(True)
        return False
