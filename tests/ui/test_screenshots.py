"""Every wizard page (and the main window) rendered offscreen to PNG.

Run with ATLAS_SCREENSHOT_DIR=docs/screenshots to refresh the checked-in pictures; otherwise they go to a
temporary folder and the test only checks that each page renders at the wizard's size.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtWidgets import QApplication, QWidget, QWizard
from ui_fakes import GOOD_TOKEN, FakeConnector, FakeConnectorFactory, User

from atlas_desktop.app import gui
from atlas_desktop.app.demo import sandbox_info
from atlas_desktop.app.netsuite_certificates import CertificateFolder
from atlas_desktop.domain.model import ErpType, StepResult
from atlas_desktop.store.keys import MIN_PASSPHRASE_CHARS, why_a_passphrase
from atlas_desktop.ui.help import HelpDialog
from atlas_desktop.ui.main_window import MainWindow
from atlas_desktop.ui.passphrase_dialog import ChoosePassphraseDialog
from atlas_desktop.ui.theme import ThemeMode, apply_theme
from atlas_desktop.ui.wizard.context import SandboxInfo
from atlas_desktop.ui.wizard.wizard import (
    ACTIVATE,
    CREDENTIALS,
    DISCOVERY,
    ERP_CHOICE,
    INSTRUCTIONS,
    PREFERENCES,
    TEST,
)

KEYS = [f"{digit}" * 64 for digit in "1234"]
PASTE = f"Account ID: 1234567_sb1\nConsumer key: {KEYS[0]}\nConsumer secret: {KEYS[1]}\n" \
        f"Token ID: {KEYS[2]}\nToken secret: {KEYS[3]}\n"  # fmt: skip


@pytest.fixture
def shots(tmp_path: Path, qapp: Any) -> Any:
    folder = Path(os.environ.get("ATLAS_SCREENSHOT_DIR") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    apply_theme(qapp, ThemeMode.LIGHT)

    def shoot(widget: QWidget, name: str) -> Path:
        QApplication.processEvents()
        image = widget.grab()
        assert image.width() >= 600 and image.height() >= 400, (name, image.size())
        path = folder / name
        assert image.save(str(path)), path
        return path

    yield shoot
    apply_theme(qapp, ThemeMode.LIGHT)


def test_every_wizard_page_renders(make_wizard: Any, qtbot: Any, shots: Any, qapp: Any) -> None:
    wizard = make_wizard(start_demo=lambda: None)  # a first start outside the demo offers it
    wizard.resize(820, 640)
    user = User(qtbot, wizard)
    signin = wizard.page_at(0)
    signin.token.set_text(GOOD_TOKEN)
    signin.token.edited.emit(GOOD_TOKEN)
    shots(wizard, "01-sign-in.png")
    user.next_when_ready(ERP_CHOICE)
    user.click(wizard.page_at(ERP_CHOICE).buttons[ErpType.NETSUITE])
    shots(wizard, "02-choose-erp.png")
    user.next_when_ready(INSTRUCTIONS)
    shots(wizard, "03-instructions-netsuite.png")
    user.next_when_ready(CREDENTIALS)
    credentials = wizard.page_at(CREDENTIALS)
    user.paste_into(credentials.paste_box, PASTE)
    shots(wizard, "04-credentials-netsuite.png")
    user.next_when_ready(TEST)
    qtbot.waitUntil(lambda: wizard.state.tested_ok, timeout=3000)
    shots(wizard, "05-test-passed.png")
    user.next_when_ready(PREFERENCES)
    qtbot.waitUntil(lambda: not wizard.page_at(PREFERENCES).busy(), timeout=3000)
    wizard.page_at(PREFERENCES).advanced.set_open(True)
    shots(wizard, "06-preferences.png")
    user.next_when_ready(DISCOVERY)
    qtbot.waitUntil(lambda: wizard.page_at(DISCOVERY).result is not None, timeout=3000)
    shots(wizard, "07-discovery.png")
    user.next_when_ready(ACTIVATE)
    qtbot.waitUntil(lambda: wizard.page_at(ACTIVATE).plan is not None, timeout=3000)
    shots(wizard, "08-activate.png")
    apply_theme(qapp, ThemeMode.DARK)
    shots(wizard, "08-activate-dark.png")


def test_netsuite_oauth2_pages_render(
    make_wizard: Any, qtbot: Any, shots: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """OAuth 2.0 (M2M), NetSuite's default: the instructions and the certificate made for the upload, in
    a profile where a Linux user's lies (shown from ~), not in pytest's temporary folder."""
    home = tmp_path / "home"
    monkeypatch.setenv("HOME", str(home))
    wizard = make_wizard(certificates=CertificateFolder(home / ".local/share/atlas-desktop"))
    wizard.resize(820, 720)
    user = User(qtbot, wizard)
    signin = wizard.page_at(0)
    signin.token.set_text(GOOD_TOKEN)
    signin.token.edited.emit(GOOD_TOKEN)
    user.next_when_ready(ERP_CHOICE)
    user.click(wizard.page_at(ERP_CHOICE).buttons[ErpType.NETSUITE])
    user.next_when_ready(INSTRUCTIONS)
    shots(wizard, "03-instructions-netsuite-oauth2.png")
    user.next_when_ready(CREDENTIALS)
    qtbot.waitUntil(lambda: wizard.page_at(CREDENTIALS).certificate.path is not None, timeout=10_000)
    paste = f"Account ID: 1234567_SB1\nClient ID: {KEYS[0]}\nCertificate ID: sT3kq9Vd0_xLwP2mY8aZc4RbNf6\n"
    user.paste_into(wizard.page_at(CREDENTIALS).paste_box, paste)
    assert wizard.button(QWizard.WizardButton.NextButton).isEnabled()
    label = wizard.page_at(CREDENTIALS).certificate.file_label.text()
    assert label.startswith("~/.local/share/atlas-desktop/certificates/atlas-desktop-"), label
    shots(wizard, "04-credentials-netsuite-oauth2.png")
    guide = wizard.on_help_requested()  # F1 / Help on this step: the guide at its section
    guide.resize(900, 600)
    guide.show_topic("setup", guide.section)  # at the new width the heading sits elsewhere
    assert guide.current_section() == "Enter the credentials"
    shots(guide, "help-setup-credentials.png")


def test_failure_and_sap_pages_render(make_wizard: Any, qtbot: Any, shots: Any, qapp: Any) -> None:
    failing = (
        StepResult("Sign in", ok=False, cause="NetSuite refused the sign-in (INVALID_LOGIN).",
                   fix="The account ID must be written 1234567_SB1 for a sandbox; check the token secret."),
        StepResult("Read items", ok=True, skipped=True),
    )  # fmt: skip
    factory = FakeConnectorFactory(make=lambda spec: FakeConnector(spec, steps=failing))
    sandbox = SandboxInfo({"atlas": "http://127.0.0.1:8765"}, credential_files={}, atlas_token=GOOD_TOKEN)
    wizard = make_wizard(connector_factory=factory, sandbox=sandbox)
    wizard.resize(820, 640)
    user = User(qtbot, wizard)
    shots(wizard, "01-sign-in-sandbox.png")
    user.next_when_ready(ERP_CHOICE)
    user.click(wizard.page_at(ERP_CHOICE).buttons[ErpType.NETSUITE])
    user.next_when_ready(INSTRUCTIONS)
    user.next_when_ready(CREDENTIALS)
    user.paste_into(wizard.page_at(CREDENTIALS).paste_box, PASTE)
    user.next_when_ready(TEST)
    qtbot.waitUntil(lambda: not wizard.page_at(TEST).busy(), timeout=3000)
    shots(wizard, "05-test-failed.png")
    wizard.back()
    wizard.back()
    wizard.back()
    user.click(wizard.page_at(ERP_CHOICE).buttons[ErpType.SAP_CLOUD])
    user.next_when_ready(INSTRUCTIONS)
    shots(wizard, "03-instructions-sap-cloud.png")
    user.next_when_ready(CREDENTIALS)
    credentials = wizard.page_at(CREDENTIALS)
    credentials.fields["base_url"].set_text("http://my-sap.example.com")
    credentials.fields["base_url"].edited.emit("http://my-sap.example.com")
    shots(wizard, "04-credentials-sap-cloud.png")
    apply_theme(qapp, ThemeMode.DARK)
    shots(wizard, "04-credentials-sap-cloud-dark.png")
    assert wizard.button(QWizard.WizardButton.NextButton).isEnabled() is False


def test_main_window_renders(qtbot: Any, qloop: Any, services: Any, shots: Any) -> None:
    window = MainWindow(services.connections, None, lambda: None, sandbox=True, vault_description="memory")
    qtbot.addWidget(window)
    local = "http://127.0.0.1:8123"  # nothing is asked of it: the menu only has to be there
    assert gui.attach_sandbox_menu(window, sandbox_info({"atlas": local, "netsuite": local}, [])) is not None
    window.resize(960, 600)
    window.show()
    window.log_line("Sync success: 1,204 items synced, 0 failed, 2 conflicts, 41.3 s.")
    shots(window, "00-main-window-empty.png")


def test_sap_preferences_with_location_names_render(make_wizard: Any, qtbot: Any, shots: Any) -> None:
    """SAP lists no plant / storage-location names: the preferences page lets the user give them."""
    from test_sap_location_names import to_preferences

    wizard, page = to_preferences(make_wizard, qtbot)
    wizard.resize(820, 760)
    page.location_names.set_name("1010/0002", "East distribution center")
    assert page.location_names.isVisible()
    shots(wizard, "06-preferences-sap.png")


def test_sap_on_premise_credentials_render(make_wizard: Any, qtbot: Any, shots: Any) -> None:
    """The on-premise form: an on-premise address as the example, the user name shown as typed."""
    from test_wizard_widgets import to_credentials

    wizard = make_wizard()
    wizard.resize(820, 640)
    to_credentials(User(qtbot, wizard), wizard, ErpType.SAP_ONPREM)
    wizard.page_at(CREDENTIALS).fields["username"].edit.setText("ATLAS_SYNC")
    shots(wizard, "04-credentials-sap-onprem.png")


def test_passphrase_and_help_render(qtbot: Any, shots: Any, tmp_path: Path) -> None:
    choose = ChoosePassphraseDialog(why_a_passphrase(Path("/home/pat/.local/share/atlas-desktop")),
                                    MIN_PASSPHRASE_CHARS)  # fmt: skip
    qtbot.addWidget(choose)
    choose.resize(620, 400)
    choose.show()
    choose.first.setText("correct horse battery")
    choose.second.setText("correct horse batery")
    choose.on_ok()  # the two entries differ: said in the dialog, which stays
    assert choose.problem.isVisible()
    shots(choose, "passphrase-choose.png")
    guide = HelpDialog()
    qtbot.addWidget(guide)
    guide.resize(900, 600)
    guide.show_topic("dashboard")
    guide.show()
    shots(guide, "help-dashboard.png")
