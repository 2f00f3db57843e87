"""Step 1: sign in to Atlas, by pasting an API token or by device sign-in (code shown, browser opened)."""

from __future__ import annotations

from html import escape

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QButtonGroup,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from atlas_desktop.domain.enums import AtlasAuthMethod
from atlas_desktop.domain.errors import AtlasDesktopError, ErrorKind
from atlas_desktop.domain.secrets import Secret
from atlas_desktop.ui.widgets.fields import ERROR_COLOUR, NOTE_COLOUR, ValidatedField
from atlas_desktop.ui.wizard.base import WizardPageBase
from atlas_desktop.ui.wizard.context import AtlasIdentity, DeviceCode, WizardContext
from atlas_desktop.ui.wizard.state import WizardState
from atlas_desktop.ui.wizard.validation import check_field

TOKEN = "atlas.api_token"
ACCESS = "atlas.access_token"
REFRESH = "atlas.refresh_token"


class SignInPage(WizardPageBase):
    def __init__(self, ctx: WizardContext, state: WizardState) -> None:
        super().__init__(ctx, state)
        self.setTitle("Sign in to Atlas")
        self.setSubTitle(
            "Atlas Desktop acts for your Atlas account. Use an API token or sign in with your browser."
        )
        self._verified_for: tuple[str, str, str] | None = None
        self._advance_after_check = False

        self.url = ValidatedField("atlas_base_url", "Atlas address", placeholder="https://api.atlas.pharma")
        self.token_choice = QRadioButton("Paste an API token (Atlas dashboard › Settings › API tokens)")
        self.device_choice = QRadioButton(
            "Sign in with the browser (you approve a code on the Atlas website)"
        )
        self.token_choice.setAccessibleName("Sign in with an API token")
        self.device_choice.setAccessibleName("Sign in with the browser")
        self.choice = QButtonGroup(self)
        self.choice.addButton(self.token_choice)
        self.choice.addButton(self.device_choice)
        self.token = ValidatedField("api_token", "API token", placeholder="atl_pat_…", secret=True)

        self.device_box = QWidget()
        self.device_button = QPushButton("Get a sign-in code")
        self.device_button.setAccessibleName("Get a sign-in code and open the browser")
        self.code_label = QLabel()
        self.code_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.code_label.setAccessibleName("Sign-in code")
        self.open_button = QPushButton("Open the browser again")
        self.open_button.setVisible(False)
        device_layout = QVBoxLayout(self.device_box)
        device_layout.setContentsMargins(24, 0, 0, 0)
        row = QHBoxLayout()
        row.addWidget(self.device_button)
        row.addWidget(self.open_button)
        row.addStretch(1)
        device_layout.addLayout(row)
        device_layout.addWidget(self.code_label)

        self.status = QLabel()
        self.status.setWordWrap(True)
        self.status.setObjectName("signinStatus")
        self.status.setAccessibleName("Sign-in status")
        self.status.setTextFormat(Qt.TextFormat.RichText)
        self.demo_link = QLabel(
            "No Atlas account yet? <a href='demo'>Try the sandbox demo</a>: the whole app on a built-in "
            "marketplace and ERP, nothing real is touched."
        )
        self.demo_link.setAccessibleName("Try the sandbox demo")
        self.demo_link.setWordWrap(True)
        self.demo_link.setVisible(ctx.sandbox is None and ctx.start_demo is not None)
        self.demo_link.linkActivated.connect(lambda _href: self.on_demo_link_activated())
        # Shown when Atlas cannot be reached: most often a proxy or firewall, set from here.
        self.network_button = QPushButton("&Network settings (proxy)…")
        self.network_button.setVisible(False)
        self.network_button.clicked.connect(self.on_network_button_clicked)

        form = QFormLayout()
        form.addRow("Atlas &address:", self.url)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addSpacing(6)
        layout.addWidget(self.token_choice)
        token_row = QFormLayout()
        token_row.setContentsMargins(24, 0, 0, 0)
        token_row.addRow("API &token:", self.token)
        layout.addLayout(token_row)
        layout.addWidget(self.device_choice)
        layout.addWidget(self.device_box)
        layout.addSpacing(8)
        layout.addWidget(self.status)
        network_row = QHBoxLayout()
        network_row.addWidget(self.network_button)
        network_row.addStretch(1)
        layout.addLayout(network_row)
        layout.addStretch(1)
        layout.addWidget(self.demo_link)
        self.setTabOrder(self.url.edit, self.token_choice)
        self.setTabOrder(self.token_choice, self.token.edit)
        self.setTabOrder(self.token.edit, self.device_choice)
        self.setTabOrder(self.device_choice, self.device_button)

        self.url.edited.connect(self.on_field_edited)
        self.token.edited.connect(self.on_field_edited)
        self.choice.buttonToggled.connect(self.on_choice_toggled)
        self.device_button.clicked.connect(self.on_device_button_clicked)
        self.open_button.clicked.connect(self.on_open_button_clicked)
        self._device: DeviceCode | None = None

    # ---- state <-> widgets --------------------------------------------------------------------------
    def initializePage(self) -> None:  # noqa: N802 - Qt override
        sandbox = self.ctx.sandbox
        if sandbox is not None and sandbox.atlas_url and not self.state.secrets.get(TOKEN):
            self.state.atlas_base_url = sandbox.atlas_url
            if sandbox.atlas_token:
                self.state.secrets[TOKEN] = Secret(sandbox.atlas_token)
        self.url.set_text(self.state.atlas_base_url)
        token = self.state.secrets.get(TOKEN)
        self.token.set_text(token.reveal() if token else "")
        device = self.state.atlas_auth_method == AtlasAuthMethod.DEVICE
        if self.state.atlas_verified:
            # Verified earlier (a resumed draft): the sign-in holds as long as these values do not change.
            self._verified_for = self._key()
            self._show_ok(self.state.atlas_company)
        self.choice.blockSignals(True)
        (self.device_choice if device else self.token_choice).setChecked(True)
        self.choice.blockSignals(False)
        self._sync_enabled()

    def _key(self) -> tuple[str, str, str]:
        token = (
            self.state.secrets.get(TOKEN)
            if self.state.atlas_auth_method == AtlasAuthMethod.API_TOKEN
            else (self.state.secrets.get(ACCESS))
        )
        return (self.state.atlas_base_url, self.state.atlas_auth_method, token.reveal() if token else "")

    def _sync_enabled(self) -> None:
        device = self.device_choice.isChecked()
        self.token.setEnabled(not device)
        self.device_box.setEnabled(device)

    def on_choice_toggled(self) -> None:
        self.state.atlas_auth_method = (
            AtlasAuthMethod.DEVICE.value
            if self.device_choice.isChecked()
            else AtlasAuthMethod.API_TOKEN.value
        )
        self._sync_enabled()
        self._verified_changed()

    def on_field_edited(self) -> None:
        check = check_field("atlas_base_url", self.url.text(), required=True)
        if check.ok:
            self.url.clear_message()
        else:
            self.url.set_problem(check.message)
        self.state.atlas_base_url = self.url.text().strip().rstrip("/")
        text = self.token.text().strip()
        if text:
            self.state.secrets[TOKEN] = Secret(text)
        else:
            self.state.secrets.pop(TOKEN, None)
        self._verified_changed()

    def _verified_changed(self) -> None:
        verified = self._verified_for == self._key()
        if not verified and self.state.atlas_verified:
            self.state.atlas_verified = False
            self.status.clear()
        self.state_changed()

    def isComplete(self) -> bool:  # noqa: N802 - Qt override
        if not check_field("atlas_base_url", self.url.text(), required=True).ok:
            return False
        if self.state.atlas_auth_method == AtlasAuthMethod.DEVICE:
            return self.state.atlas_verified
        return bool(self.token.text().strip()) and not self.busy()

    # ---- checking -----------------------------------------------------------------------------------
    def validatePage(self) -> bool:  # noqa: N802 - Qt override
        if self.state.atlas_verified and self._verified_for == self._key():
            return True
        if self.state.atlas_auth_method == AtlasAuthMethod.API_TOKEN and not self.busy():
            # Next checks the token without freezing the window; the page moves on by itself when it is good.
            self._advance_after_check = True
            self.start_task(self._check_token(), "atlas-token-check")
            self.completeChanged.emit()
        return False

    async def _check_token(self) -> None:
        token = self.state.secrets.get(TOKEN)
        if token is None:
            return
        self._show_info("Checking the token with Atlas…")
        try:
            identity = await self.ctx.atlas_signin.verify_token(self.state.atlas_base_url, token)
        except AtlasDesktopError as error:
            self._advance_after_check = False
            self._show_error(error)
            self.completeChanged.emit()
            return
        self._signed_in(identity, {"api_token": token}, AtlasAuthMethod.API_TOKEN)

    def _signed_in(
        self, identity: AtlasIdentity, secrets: dict[str, Secret], method: AtlasAuthMethod
    ) -> None:
        self.ctx.atlas_accounts.save(
            base_url=self.state.atlas_base_url,
            auth_method=method.value,
            secrets=secrets,
            account_id=identity.account_id,
            company_name=identity.company_name,
        )
        self.state.atlas_company = identity.company_name
        self.state.atlas_account_id = identity.account_id
        self.state.atlas_verified = True
        self._verified_for = self._key()
        self._show_ok(identity.company_name)
        self.state_changed()
        if self._advance_after_check:
            self._advance_after_check = False
            wizard = self.wizard()
            if wizard is not None and wizard.currentPage() is self:
                wizard.next()

    def on_device_button_clicked(self) -> None:
        if not self.busy():
            self.start_task(self._device_sign_in(), "atlas-device-sign-in")

    def on_open_button_clicked(self) -> None:
        if self._device is not None and self.ctx.open_url is not None:
            self.ctx.open_url(self._device.verification_uri_complete)

    async def _device_sign_in(self) -> None:
        self._show_info("Asking Atlas for a sign-in code…")
        try:
            code = await self.ctx.atlas_signin.start_device(self.state.atlas_base_url)
            self._device = code
            self.code_label.setText(
                f"Your code: <b style='font-size:16pt; letter-spacing:2px'>{escape(code.user_code)}</b><br>"
                f"Approve it at {escape(code.verification_uri)} — the browser opens by itself."
            )
            self.open_button.setVisible(True)
            if self.ctx.open_url is not None:
                self.ctx.open_url(code.verification_uri_complete)
            self._show_info("Waiting for you to approve the code in the browser…")
            tokens = await self.ctx.atlas_signin.wait_device(self.state.atlas_base_url, code)
            self.state.secrets[ACCESS] = tokens.access_token
            if tokens.refresh_token is not None:
                self.state.secrets[REFRESH] = tokens.refresh_token
            identity = await self.ctx.atlas_signin.verify_token(
                self.state.atlas_base_url, tokens.access_token
            )
        except AtlasDesktopError as error:
            self._show_error(error)
            return
        secrets = {"access_token": tokens.access_token}
        if tokens.refresh_token is not None:
            secrets["refresh_token"] = tokens.refresh_token
        self._signed_in(identity, secrets, AtlasAuthMethod.DEVICE)

    # ---- status line --------------------------------------------------------------------------------
    def _show_info(self, text: str) -> None:
        self.status.setText(escape(text))
        self.network_button.setVisible(False)

    def _show_ok(self, company: str) -> None:
        self.network_button.setVisible(False)
        who = f" as <b>{escape(company)}</b>" if company else ""
        self.status.setText(f"<span style='color:{NOTE_COLOUR}'>✓ Signed in to Atlas{who}.</span>")

    def _show_error(self, error: AtlasDesktopError) -> None:
        self.status.setText(
            f"<span style='color:{ERROR_COLOUR}'>✗ {escape(error.message)}</span><br>"
            f"<b>Fix:</b> {escape(error.fix)}"
        )
        unreachable = error.kind is ErrorKind.NETWORK_ERROR
        self.network_button.setVisible(unreachable and self.ctx.edit_network is not None)

    def on_demo_link_activated(self) -> None:
        if self.ctx.start_demo is not None:
            self.ctx.start_demo()
            self._show_info("The sandbox demo is starting in its own window; this setup stays open.")

    def on_network_button_clicked(self) -> None:
        if self.ctx.edit_network is not None:
            self.ctx.edit_network()
