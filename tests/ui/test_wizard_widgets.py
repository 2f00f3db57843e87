"""Wizard behaviour through its widgets: values kept, drafts resumed, cancelling, sign-in, keyboard use."""

from __future__ import annotations

import asyncio
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLineEdit, QWizard
from ui_fakes import GOOD_TOKEN, FakeAtlasSignIn, FakeConnector, FakeConnectorFactory, User

from atlas_desktop.domain.model import ErpType
from atlas_desktop.ui.widgets.checklist import StepState
from atlas_desktop.ui.wizard.state import WizardState
from atlas_desktop.ui.wizard.wizard import CREDENTIALS, ERP_CHOICE, INSTRUCTIONS, SIGNIN, TEST

HEX = ["1" * 64, "2" * 64, "3" * 64, "4" * 64]
PASTE = f"Account ID: 7654321\n{HEX[0]}\n{HEX[1]}\n{HEX[2]}\n{HEX[3]}\n"


def to_credentials(user: User, wizard: Any, erp: ErpType = ErpType.NETSUITE) -> None:
    signin = wizard.page_at(SIGNIN)
    signin.token.set_text(GOOD_TOKEN)
    signin.token.edited.emit(GOOD_TOKEN)
    user.next_when_ready(ERP_CHOICE)
    user.click(wizard.page_at(ERP_CHOICE).buttons[erp])
    user.next_when_ready(INSTRUCTIONS)
    user.next_when_ready(CREDENTIALS)


def test_bad_token_shows_cause_and_fix_and_stays(make_wizard: Any, qtbot: Any) -> None:
    wizard = make_wizard()
    page = wizard.page_at(SIGNIN)
    page.token.set_text("atl_pat_wrong")
    page.token.edited.emit("atl_pat_wrong")
    User(qtbot, wizard).click(wizard.button(QWizard.WizardButton.NextButton))
    qtbot.waitUntil(lambda: "Fix:" in page.status.text(), timeout=3000)
    assert "refused" in page.status.text()
    assert wizard.currentId() == SIGNIN


def test_device_sign_in_shows_the_code_and_opens_the_browser(make_wizard: Any, qtbot: Any) -> None:
    opened: list[str] = []
    signin_backend = FakeAtlasSignIn()
    wizard = make_wizard(atlas_signin=signin_backend, open_url=opened.append)
    user = User(qtbot, wizard)
    page = wizard.page_at(SIGNIN)
    user.click(page.device_choice)
    user.click(page.device_button)
    qtbot.waitUntil(lambda: "WDJB-MJHT" in page.code_label.text(), timeout=3000)
    assert opened == ["https://api.atlas.pharma/device?user_code=WDJB-MJHT"]
    assert not wizard.button(QWizard.WizardButton.NextButton).isEnabled()  # not approved yet
    signin_backend.approved.set()
    qtbot.waitUntil(lambda: wizard.state.atlas_verified, timeout=3000)
    assert wizard.button(QWizard.WizardButton.NextButton).isEnabled()


def test_back_and_next_keep_the_values(make_wizard: Any, qtbot: Any) -> None:
    wizard = make_wizard()
    user = User(qtbot, wizard)
    to_credentials(user, wizard)
    user.paste_into(wizard.page_at(CREDENTIALS).paste_box, PASTE)
    user.click(wizard.button(QWizard.WizardButton.BackButton))
    user.click(wizard.button(QWizard.WizardButton.BackButton))
    assert wizard.page_at(ERP_CHOICE).buttons[ErpType.NETSUITE].isChecked()
    user.next_when_ready(INSTRUCTIONS)
    user.next_when_ready(CREDENTIALS)
    fields = wizard.page_at(CREDENTIALS).fields
    assert fields["account_id"].text() == "7654321"
    assert fields["token_secret"].text() == HEX[3]


def test_closing_mid_way_keeps_a_draft_that_resumes(make_wizard: Any, make_context: Any, qtbot: Any) -> None:
    ctx = make_context()
    wizard = make_wizard(ctx)
    user = User(qtbot, wizard)
    to_credentials(user, wizard)
    user.paste_into(wizard.page_at(CREDENTIALS).paste_box, PASTE)
    wizard.reject()  # Cancel / Esc / the window's close button
    assert ctx.draft.exists()
    assert HEX[3] not in ctx.draft.path.read_text()

    resumed = make_wizard(ctx)
    qtbot.waitUntil(lambda: resumed.currentId() == CREDENTIALS, timeout=3000)
    fields = resumed.page_at(CREDENTIALS).fields
    assert fields["account_id"].text() == "7654321"
    assert fields["consumer_key"].text() == HEX[0]
    assert resumed.page_at(ERP_CHOICE).buttons[ErpType.NETSUITE].isChecked()
    user = User(qtbot, resumed)
    user.click(resumed.button(QWizard.WizardButton.BackButton))
    assert resumed.currentId() == INSTRUCTIONS  # history is there: Back works after a resume


def test_a_running_test_can_be_cancelled_and_the_window_stays_responsive(
    make_wizard: Any, qtbot: Any
) -> None:
    gate = asyncio.Event()  # never set: the connector "hangs"
    factory = FakeConnectorFactory(make=lambda spec: FakeConnector(spec, gate=gate))
    wizard = make_wizard(connector_factory=factory)
    user = User(qtbot, wizard)
    to_credentials(user, wizard)
    user.paste_into(wizard.page_at(CREDENTIALS).paste_box, PASTE)
    user.next_when_ready(TEST)
    page = wizard.page_at(TEST)
    qtbot.waitUntil(lambda: page.checklist.running() is not None and len(page.checklist.rows) == 2)
    qtbot.wait(50)  # the window keeps processing events meanwhile
    assert not wizard.button(QWizard.WizardButton.NextButton).isEnabled()
    user.click(page.cancel_button)
    qtbot.waitUntil(lambda: not page.busy(), timeout=3000)
    assert page.checklist.rows[-1].state is StepState.CANCELLED
    assert "cancelled" in page.summary.text()
    assert factory.built[-1].closed  # the connector's HTTP client was closed
    assert page.rerun_button.isEnabled()


def test_invalid_key_blocks_next_with_a_message(make_wizard: Any, qtbot: Any) -> None:
    wizard = make_wizard()
    user = User(qtbot, wizard)
    to_credentials(user, wizard)
    page = wizard.page_at(CREDENTIALS)
    user.paste_into(page.paste_box, PASTE)
    field = page.fields["consumer_secret"]
    field.edit.setFocus()
    field.edit.selectAll()
    qtbot.keyClicks(field.edit, "abc")
    assert "3 characters" in field.message.text() and field.message.isVisible()
    assert not wizard.button(QWizard.WizardButton.NextButton).isEnabled()


def test_sap_form_follows_the_sign_in_method(make_wizard: Any, qtbot: Any) -> None:
    wizard = make_wizard()
    user = User(qtbot, wizard)
    to_credentials(user, wizard, ErpType.SAP_ONPREM)
    page = wizard.page_at(CREDENTIALS)
    assert {"base_url", "sap_client", "username", "password"} <= set(page.fields)
    page.mode.setCurrentIndex(page.mode.findData("x509"))
    assert {"client_certificate", "client_key"} <= set(page.fields) and "password" not in page.fields
    assert page.fields["client_certificate"].browse_button is not None


def test_every_input_has_an_accessible_name_and_tab_reaches_it(make_wizard: Any, qtbot: Any) -> None:
    wizard = make_wizard()
    user = User(qtbot, wizard)
    to_credentials(user, wizard)
    page = wizard.page_at(CREDENTIALS)
    qtbot.waitUntil(lambda: page.certificate.path is not None, timeout=10_000)  # its buttons are enabled
    edits = [e for e in page.findChildren(QLineEdit) if e.isVisible()]
    assert edits and all(e.accessibleName() for e in edits)
    first = page.paste_box
    first.setFocus()
    reached = set()
    for _ in range(40):
        qtbot.keyClick(wizard.focusWidget(), Qt.Key.Key_Tab)
        reached.add(wizard.focusWidget())
    assert all(page.fields[name].edit in reached for name in ("account_id", "client_id", "certificate_id"))
    assert page.certificate.open_button in reached


def test_resume_never_skips_an_unverified_sign_in(make_wizard: Any, make_context: Any, qtbot: Any) -> None:
    ctx = make_context()
    ctx.draft.save(WizardState(erp_type=ErpType.NETSUITE, page=CREDENTIALS, atlas_verified=False))
    wizard = make_wizard(ctx)
    qtbot.wait(20)
    assert wizard.currentId() == SIGNIN
