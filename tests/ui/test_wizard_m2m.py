"""NetSuite OAuth 2.0 (M2M) in the wizard: the default sign-in, the key pair the app makes, paste-all."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography import x509
from PySide6.QtCore import QUrl
from PySide6.QtWidgets import QLabel, QWizard
from test_wizard_widgets import to_credentials
from ui_fakes import User

from atlas_desktop.app.netsuite_certificates import CertificateFolder
from atlas_desktop.domain.connection import NETSUITE_SECRET_FIELDS, NetSuiteAuthMode
from atlas_desktop.domain.model import ErpType
from atlas_desktop.domain.secrets import Secret
from atlas_desktop.ui.wizard.state import WizardState
from atlas_desktop.ui.wizard.wizard import CREDENTIALS, INSTRUCTIONS, TEST, connection_settings

CLIENT_ID = "c" * 64
CERTIFICATE_ID = "Xy7_certificate-id-0123456789"
PASTE = f"Account ID: 7654321\nConsumer Key / Client ID: {CLIENT_ID}\nCertificate ID: {CERTIFICATE_ID}\n"


def to_m2m_credentials(user: User, wizard: Any, qtbot: Any) -> Any:
    """The credentials page once the app has made its key pair (on a worker thread)."""
    to_credentials(user, wizard)
    page = wizard.page_at(CREDENTIALS)
    qtbot.waitUntil(lambda: page.certificate.path is not None, timeout=10_000)
    return page


def files_under(root: Path) -> list[Path]:
    return [path for path in root.rglob("*") if path.is_file()]


def test_new_netsuite_connection_defaults_to_oauth2_and_tba_stays_selectable(
    make_wizard: Any, qtbot: Any
) -> None:
    wizard = make_wizard()
    user = User(qtbot, wizard)
    page = to_m2m_credentials(user, wizard, qtbot)
    assert page.mode.isVisible() and page.mode.currentData() == NetSuiteAuthMode.OAUTH2_M2M
    assert [page.mode.itemData(i) for i in range(page.mode.count())] == [
        NetSuiteAuthMode.OAUTH2_M2M, NetSuiteAuthMode.TBA
    ]  # fmt: skip
    assert set(page.fields) == {
        "account_id", "client_id", "certificate_id", "base_url", "timezone", "proxy", "ca_bundle"
    }  # fmt: skip
    assert page.certificate.isVisible()
    assert "OAuth 2.0 Client Credentials (M2M) Setup" in page.certificate.steps.text()
    assert "Setup → Integration → Manage Authentication" in page.certificate.steps.text()
    # The instructions were for OAuth 2.0 too.
    steps = " ".join(
        label.text() for label in wizard.page_at(INSTRUCTIONS).scroll_area.widget().findChildren(QLabel)
    )
    assert (
        "Client Credentials (Machine to Machine) Grant" in steps
        and "Token-Based" not in steps.split("untick")[0]
    )
    page.mode.setCurrentIndex(page.mode.findData(NetSuiteAuthMode.TBA))
    assert {"consumer_key", "token_secret"} <= set(page.fields) and not page.certificate.isVisible()


def test_the_app_makes_the_key_pair_and_writes_only_the_certificate(
    make_wizard: Any, qtbot: Any, services: Any
) -> None:
    wizard = make_wizard()
    page = to_m2m_credentials(User(qtbot, wizard), wizard, qtbot)
    path = Path(wizard.state.fields["certificate_file"])
    assert path.parent == services.paths.root / "certificates"
    certificate = x509.load_pem_x509_certificate(path.read_bytes())
    lifetime = certificate.not_valid_after_utc - datetime.now(UTC)
    assert timedelta(days=729) < lifetime <= timedelta(days=730)
    assert certificate.public_key().key_size == 3072  # RSA for PS256
    shown = page.certificate.file_label
    assert path.name in shown.text() and shown.toolTip() == str(path)
    key = wizard.state.secrets["private_key"]
    assert isinstance(key, Secret) and "PRIVATE KEY" in key.reveal()
    # The draft (and everything else in the data folder) holds the key sealed, never in plain text.
    wizard.save_draft()
    body = "".join(key.reveal().splitlines()[1:3])
    for file in files_under(services.paths.root):
        data = file.read_bytes()
        assert b"PRIVATE KEY" not in data and body.encode() not in data, file
    # The same key pair is kept while the draft lives: going back and forth makes no new one.
    wizard.back()
    wizard.next()
    assert wizard.state.fields["certificate_file"] == str(path)


def test_open_folder_button_opens_the_certificates_folder(make_wizard: Any, qtbot: Any) -> None:
    opened: list[str] = []
    wizard = make_wizard(open_url=opened.append)
    user = User(qtbot, wizard)
    page = to_m2m_credentials(user, wizard, qtbot)
    user.click(page.certificate.open_button)
    assert [QUrl(url).toLocalFile() for url in opened] == [str(page.certificate.path.parent)]


def test_paste_all_fills_account_client_and_certificate_ids(make_wizard: Any, qtbot: Any) -> None:
    wizard = make_wizard()
    user = User(qtbot, wizard)
    page = to_m2m_credentials(user, wizard, qtbot)
    user.paste_into(page.paste_box, PASTE)
    assert page.fields["account_id"].text() == "7654321"
    assert page.fields["client_id"].text() == CLIENT_ID
    assert page.fields["certificate_id"].text() == CERTIFICATE_ID
    assert "Certificate ID" in page.paste_result.text()
    user.next_when_ready(TEST)
    spec, settings, _ = connection_settings(wizard.state)
    assert (
        settings["auth_mode"] == NetSuiteAuthMode.OAUTH2_M2M and settings["certificate_id"] == CERTIFICATE_ID
    )
    assert settings["certificate_expires"] == wizard.state.fields["certificate_expires"]
    assert spec.secrets["private_key"] == wizard.state.secrets["private_key"]
    assert "private_key" not in settings and spec.secrets["client_id"].reveal() == CLIENT_ID


def test_a_netsuite_draft_with_tba_keys_resumes_as_tba(
    make_wizard: Any, make_context: Any, qtbot: Any
) -> None:
    state = WizardState(erp_type=ErpType.NETSUITE, atlas_verified=True, page=CREDENTIALS)
    state.fields["account_id"] = "7654321"
    state.secrets.update({name: Secret(str(i) * 64) for i, name in enumerate(NETSUITE_SECRET_FIELDS, 1)})
    wizard = make_wizard(make_context(), state)
    for _ in range(3):
        wizard.next()
    page = wizard.page_at(CREDENTIALS)
    assert wizard.currentId() == CREDENTIALS
    assert page.mode.currentData() == NetSuiteAuthMode.TBA
    assert page.fields["token_secret"].text() == "4" * 64 and not page.certificate.isVisible()


def test_the_key_pair_is_made_off_the_window_thread(make_wizard: Any, qtbot: Any, services: Any) -> None:
    release = threading.Event()
    folder = CertificateFolder(services.paths.root)

    class SlowMaker:  # as a loaded machine makes an RSA 3072 key: up to a second
        def __init__(self) -> None:
            self.folder = folder.folder

        def create(self, account_id: str = "") -> Any:
            release.wait(timeout=3)
            return folder.create(account_id)

    wizard = make_wizard(certificates=SlowMaker())
    user = User(qtbot, wizard)
    to_credentials(user, wizard)
    page = wizard.page_at(CREDENTIALS)
    assert "Making the key pair" in page.certificate.file_label.text()
    assert not wizard.button(QWizard.WizardButton.NextButton).isEnabled()
    user.paste_into(page.paste_box, PASTE)  # the window answers meanwhile
    assert page.fields["certificate_id"].text() == CERTIFICATE_ID
    release.set()
    qtbot.waitUntil(lambda: page.certificate.path is not None, timeout=5000)
    qtbot.waitUntil(wizard.button(QWizard.WizardButton.NextButton).isEnabled, timeout=5000)
