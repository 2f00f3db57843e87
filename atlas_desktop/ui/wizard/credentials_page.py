"""Step 4: the ERP credentials, checked as typed, with "paste all" and the network settings under Advanced."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from atlas_desktop.domain.connection import NETSUITE_SECRET_FIELDS, NetSuiteAuthMode
from atlas_desktop.domain.errors import AtlasDesktopError, ConfigError
from atlas_desktop.domain.m2m_certificate import CERTIFICATE_EXPIRES
from atlas_desktop.domain.model import ErpType
from atlas_desktop.domain.secrets import Secret
from atlas_desktop.ui.widgets.collapsible import CollapsibleSection
from atlas_desktop.ui.widgets.fields import ERROR_COLOUR, NOTE_COLOUR, ValidatedField
from atlas_desktop.ui.wizard.base import WizardPageBase
from atlas_desktop.ui.wizard.certificate_panel import CERTIFICATE_FILE, CertificatePanel
from atlas_desktop.ui.wizard.context import WizardContext
from atlas_desktop.ui.wizard.forms import (
    AUTH_LABELS,
    ERP_LABELS,
    FieldSpec,
    auth_modes,
    fields_for,
    form_values,
    spec_from_values,
)
from atlas_desktop.ui.wizard.paste import PasteResult, recognise
from atlas_desktop.ui.wizard.state import WizardState
from atlas_desktop.ui.wizard.validation import FieldCheck, check_field

_NETSUITE_TBA_HINT = (
    "Paste here what NetSuite showed you: the consumer key and secret and the token ID and secret, all at "
    "once (with or without their labels)."
)
_PASTE_HINTS = {
    ErpType.NETSUITE: "Paste here what NetSuite showed you: the account ID, the Client ID and the "
    "Certificate ID, all at once (with or without their labels).",
    ErpType.SAP_CLOUD: "Paste here the communication arrangement's details or a service key (JSON).",
    ErpType.SAP_ONPREM: "Paste here the connection details (labelled lines or JSON).",
}


class CredentialsPage(WizardPageBase):
    def __init__(self, ctx: WizardContext, state: WizardState) -> None:
        super().__init__(ctx, state)
        self.setTitle("Enter the credentials")
        self.fields: dict[str, ValidatedField] = {}
        self.specs: dict[str, FieldSpec] = {}
        self._built_for: tuple[ErpType, str | None] | None = None
        self._making: asyncio.Task[None] | None = None

        self.paste_box = QPlainTextEdit()
        self.paste_box.setObjectName("pasteAll")
        self.paste_box.setAccessibleName("Paste all credentials here")
        self.paste_box.setTabChangesFocus(True)
        self.paste_box.setFixedHeight(64)
        self.paste_box.setPlaceholderText("Click here and press Ctrl+V")
        self.paste_button = QPushButton("&Paste from clipboard")
        self.paste_button.setAccessibleName("Paste all credentials from the clipboard")
        self.sandbox_button = QPushButton("Use the &sandbox credentials")
        self.sandbox_button.setAccessibleName("Fill in the sandbox's credentials")
        self.sandbox_button.setVisible(ctx.sandbox is not None)
        self.paste_result = QLabel()
        self.paste_result.setWordWrap(True)
        self.paste_result.setObjectName("pasteResult")

        self.mode_label = QLabel("Sign-in &method:")
        self.mode = QComboBox()
        self.mode.setAccessibleName("Sign-in method")
        self.mode_label.setBuddy(self.mode)
        upload = ctx.sandbox.upload_certificate if ctx.sandbox is not None else None
        self.certificate = CertificatePanel(ctx.open_url, upload)
        self.certificate.setVisible(False)

        self.form_host = QWidget()
        self.advanced = CollapsibleSection("Advanced")
        self.form_error = QLabel()
        self.form_error.setWordWrap(True)
        self.form_error.setObjectName("formError")
        self.form_error.setStyleSheet(f"color: {ERROR_COLOUR};")

        buttons = QHBoxLayout()
        buttons.addWidget(self.paste_button)
        buttons.addWidget(self.sandbox_button)
        buttons.addStretch(1)
        mode_row = QHBoxLayout()
        mode_row.addWidget(self.mode_label)
        mode_row.addWidget(self.mode, 1)
        layout = QVBoxLayout(self)
        self.paste_hint = QLabel()
        self.paste_hint.setWordWrap(True)
        layout.addWidget(self.paste_hint)
        layout.addWidget(self.paste_box)
        layout.addLayout(buttons)
        layout.addWidget(self.paste_result)
        layout.addLayout(mode_row)
        layout.addWidget(self.certificate)
        layout.addWidget(self.form_host)
        layout.addWidget(self.advanced)
        layout.addWidget(self.form_error)
        layout.addStretch(1)

        self.paste_box.textChanged.connect(self.on_paste_box_text_changed)
        self.paste_button.clicked.connect(self.on_paste_button_clicked)
        self.sandbox_button.clicked.connect(self.on_sandbox_button_clicked)
        self.mode.currentIndexChanged.connect(self.on_mode_current_index_changed)
        self.certificate.upload_button.clicked.connect(self.on_upload_button_clicked)
        self.certificate.certificate_id_received.connect(self.on_certificate_id_received)

    # ---- building the form --------------------------------------------------------------------------
    def initializePage(self) -> None:  # noqa: N802 - Qt override
        erp_type = self.state.erp_type or ErpType.NETSUITE
        self.setSubTitle(
            f"The {ERP_LABELS[erp_type]} values from the previous step. They are stored encrypted."
        )
        modes = auth_modes(erp_type)
        if self.state.auth_mode not in modes:
            # A NetSuite draft from before OAuth 2.0 holds TBA's keys: it stays TBA.
            tba = erp_type is ErpType.NETSUITE and any(
                self.state.secrets.get(n) for n in NETSUITE_SECRET_FIELDS
            )
            self.state.auth_mode = NetSuiteAuthMode.TBA if tba else (modes[0] if modes else None)
        self.mode.blockSignals(True)
        self.mode.clear()
        for mode in modes:
            self.mode.addItem(AUTH_LABELS[mode], mode)
        if self.state.auth_mode:
            self.mode.setCurrentIndex(modes.index(self.state.auth_mode))
        self.mode.blockSignals(False)
        self.mode.setVisible(bool(modes))
        self.mode_label.setVisible(bool(modes))
        if (
            self.ctx.sandbox is not None
            and erp_type is ErpType.NETSUITE
            and not self.state.fields.get("base_url")
        ):
            # The sandbox NetSuite lives on this computer, not at <account>.suitetalk.api.netsuite.com.
            content = self.ctx.sandbox.credentials_for(erp_type)
            if content and content.get("base_url"):
                self.state.fields["base_url"] = str(content["base_url"])
        self._build(erp_type, self.state.auth_mode)

    def uses_m2m(self) -> bool:
        return self.state.erp_type is ErpType.NETSUITE and self.state.auth_mode == NetSuiteAuthMode.OAUTH2_M2M

    def _build(self, erp_type: ErpType, auth_mode: str | None) -> None:
        if self._built_for is None or self._built_for[0] is not erp_type:
            self.paste_result.clear()  # what was recognised for another ERP says nothing about this one
        self._built_for = (erp_type, auth_mode)
        tba = erp_type is ErpType.NETSUITE and auth_mode == NetSuiteAuthMode.TBA
        self.paste_hint.setText(_NETSUITE_TBA_HINT if tba else _PASTE_HINTS[erp_type])
        self.certificate.setVisible(self.uses_m2m())
        if self.uses_m2m():
            self._ensure_certificate()
        old = self.form_host.layout()
        if old is not None:
            QWidget().setLayout(old)  # reparent the old layout (and its rows) to a throw-away widget
        old_advanced = self.advanced.body.layout()
        if old_advanced is not None:
            QWidget().setLayout(old_advanced)
        self.fields, self.specs = {}, {}
        main, advanced = QFormLayout(self.form_host), QFormLayout(self.advanced.body)
        main.setContentsMargins(0, 0, 0, 0)
        values = form_values(self.state.fields, self.state.secrets)
        previous: QWidget = self.mode if self.mode.isVisible() else self.sandbox_button
        for spec in fields_for(erp_type, auth_mode):
            field = ValidatedField(
                spec.name,
                spec.label,
                placeholder=spec.placeholder,
                secret=spec.kind == "secret",
                browse=spec.kind == "file",
            )
            field.set_text(values.get(spec.name, ""))
            if spec.help:
                field.edit.setToolTip(spec.help)
            label = QLabel(f"{spec.label}:" + ("" if spec.required else " (optional)"))
            label.setBuddy(field.edit)
            (advanced if spec.advanced else main).addRow(label, field)
            # Shown now, not at the next event turn: a paste that switched the sign-in method rebuilds
            # the form and may show a problem on it at once.
            label.show()
            field.show()
            field.edited.connect(lambda text, name=spec.name: self.on_field_edited(name, text))
            self.fields[spec.name] = field
            self.specs[spec.name] = spec
            if not spec.advanced:
                self.setTabOrder(previous, field.edit)
                previous = field.browse_button or field.edit
        self.setTabOrder(previous, self.advanced.toggle)
        previous = self.advanced.toggle
        for name, field in self.fields.items():
            if self.specs[name].advanced:
                self.setTabOrder(previous, field.edit)
                previous = field.browse_button or field.edit
        for name, field in self.fields.items():
            if field.text():
                self._check(name, show=True)
                self._store(name)  # keep the corrected form (e.g. the realm's casing) in the state too
        # Open "Advanced" when it holds something, so nothing entered is hidden.
        self.advanced.set_open(any(self.fields[n].text() for n in self.fields if self.specs[n].advanced))
        self.completeChanged.emit()

    def _ensure_certificate(self) -> None:
        """Make the key pair once per draft; the private key is kept only as a Secret (sealed in a draft)."""
        path = self.state.fields.get(CERTIFICATE_FILE)
        have = self.state.secrets.get("private_key") and path and Path(path).exists()
        if have or self.ctx.certificates is None:
            self.certificate.show_fields(self.state.fields)
            return
        if self._making is None or self._making.done():
            self.certificate.show_making()
            account = self.state.fields.get("account_id", "")
            self._making = self.start_task(self._make_certificate(account), "make-certificate")

    async def _make_certificate(self, account: str) -> None:
        # An RSA 3072 key takes up to a second: made on a worker thread, the window keeps answering.
        assert self.ctx.certificates is not None
        try:
            made = await asyncio.to_thread(self.ctx.certificates.create, account)
        except (OSError, AtlasDesktopError) as error:
            self.form_error.setText(f"The certificate could not be made: {error}")
            self.certificate.show_certificate(None, None)
            return
        self.state.secrets["private_key"] = made.private_key
        self.state.fields[CERTIFICATE_FILE] = str(made.path)
        self.state.fields[CERTIFICATE_EXPIRES] = made.not_after.isoformat()
        self.state.tested_ok = False
        self.certificate.show_fields(self.state.fields)
        self.state_changed()

    # ---- checking -----------------------------------------------------------------------------------
    def _check(self, name: str, *, show: bool) -> FieldCheck:
        spec, field = self.specs[name], self.fields[name]
        result = check_field(name, field.text(), required=spec.required, label=spec.label.lower())
        if result.ok and result.value is not None and result.value != field.text():
            field.set_text(result.value)
        if show:
            if not result.ok:
                field.set_problem(result.message)
            elif result.note:
                field.set_note(result.note)
            else:
                field.clear_message()
        return result

    def _store(self, name: str) -> None:
        text = self.fields[name].text()
        if self.specs[name].sealed:
            self.state.fields.pop(name, None)  # a draft from an older version may hold it in plain
            if text:
                self.state.secrets[name] = Secret(text)
            else:
                self.state.secrets.pop(name, None)
        elif text.strip():
            self.state.fields[name] = text.strip()
        else:
            self.state.fields.pop(name, None)

    def on_field_edited(self, name: str, _text: str) -> None:
        self._check(name, show=True)
        self._store(name)
        self.form_error.clear()
        self.state.tested_ok = False
        self.state_changed()

    def isComplete(self) -> bool:  # noqa: N802 - Qt override
        if self.uses_m2m() and (not self.state.secrets.get("private_key") or self.busy()):
            return False
        return bool(self.fields) and all(self._check(name, show=False).ok for name in self.fields)

    def validatePage(self) -> bool:  # noqa: N802 - Qt override
        assert self.state.erp_type is not None
        values = {name: field.text() for name, field in self.fields.items()}
        key = self.state.secrets.get("private_key")
        if self.uses_m2m() and key:
            values["private_key"] = key.reveal()
        try:
            spec = spec_from_values(self.state.erp_type, values, self.state.auth_mode)
        except ConfigError as error:
            field = self.fields.get(error.field)
            text = f"{error.message.split(': ', 1)[-1]}. {error.fix}"
            if field is not None:
                field.set_problem(text)
                field.edit.setFocus()
            else:
                self.form_error.setText(f"{error.message}. {error.fix}")
            return False
        # The parser may normalise (e.g. the account ID); keep its form. Not the proxy: its settings form
        # is masked (`user:****@`), the typed address with its password is what the next steps need.
        for name, value in spec.settings.items():
            if name not in self.fields or self.specs[name].sealed:
                continue
            if isinstance(value, str) and value != self.fields[name].text():
                self.fields[name].set_text(value)
                self._store(name)
        return True

    # ---- paste all and the sandbox ------------------------------------------------------------------
    def on_paste_button_clicked(self) -> None:
        self.paste_box.setPlainText(QGuiApplication.clipboard().text())

    def on_paste_box_text_changed(self) -> None:
        text = self.paste_box.toPlainText()
        if not text.strip():
            return
        result = recognise(text, self.state.erp_type or ErpType.NETSUITE, self.state.auth_mode)
        self.apply_paste(result)
        if result.values:
            # The pasted text holds secrets in clear: do not leave it on screen.
            self.paste_box.blockSignals(True)
            self.paste_box.clear()
            self.paste_box.blockSignals(False)

    def on_sandbox_button_clicked(self) -> None:
        if self.ctx.sandbox is None or self.state.erp_type is None:
            return
        content = self.ctx.sandbox.credentials_for(self.state.erp_type)
        if self.uses_m2m() and self.ctx.sandbox.netsuite_m2m:
            content = self.ctx.sandbox.netsuite_m2m  # what its integration record shows for OAuth 2.0
        if content is None:
            self.paste_result.setText("The sandbox has no credentials for this ERP.")
            return
        self.apply_paste(recognise(json.dumps(dict(content)), self.state.erp_type, self.state.auth_mode))

    def apply_paste(self, result: PasteResult) -> None:
        if result.auth_mode and result.auth_mode != self.state.auth_mode and self.mode.isVisible():
            index = self.mode.findData(result.auth_mode)
            if index >= 0:
                self.mode.setCurrentIndex(index)  # rebuilds the form for that sign-in method
        applied = []
        for name, value in result.values.items():
            if name in self.fields:
                self.fields[name].set_text(value)
                self._store(name)
                self._check(name, show=True)
                self._store(name)
                applied.append(self.specs[name].label)
                if self.specs[name].advanced:
                    self.advanced.set_open(True)
        if applied:
            message = f"✓ Recognised: {', '.join(applied)}."
            if result.problems:
                message += " " + " ".join(result.problems)
            self.paste_result.setText(f"<span style='color:{NOTE_COLOUR}'>{message}</span>")
        else:
            problems = " ".join(result.problems) or "Nothing in the pasted text fits these fields."
            self.paste_result.setText(f"<span style='color:{ERROR_COLOUR}'>{problems}</span>")
        self.paste_result.setTextFormat(Qt.TextFormat.RichText)
        self.state.tested_ok = False
        self.state_changed()

    def on_upload_button_clicked(self) -> None:
        path = self.certificate.path
        if path is None:
            return
        self.start_task(self.certificate.upload(path.read_text(encoding="ascii")), "certificate-upload")

    def on_certificate_id_received(self, certificate_id: str) -> None:
        field = self.fields.get("certificate_id")
        if field is not None:
            field.set_text(certificate_id)
            self.on_field_edited("certificate_id", certificate_id)

    def on_mode_current_index_changed(self, index: int) -> None:
        mode = self.mode.itemData(index)
        if mode and mode != self.state.auth_mode:
            self.state.auth_mode = mode
            self.state.tested_ok = False
            self._build(self.state.erp_type or ErpType.SAP_CLOUD, mode)
            if self.wizard() is not None:  # the instructions differ per sign-in: Back shows the right ones
                from atlas_desktop.ui.wizard.wizard import INSTRUCTIONS

                self.setup_wizard().page_at(INSTRUCTIONS).initializePage()
            self.state_changed()
