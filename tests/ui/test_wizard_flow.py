"""The whole wizard driven through its real widgets, counting the clicks and pastes a user needs."""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QWizard
from ui_fakes import GOOD_TOKEN, User

from atlas_desktop.domain.enums import ConnectionStatus
from atlas_desktop.domain.model import ErpType
from atlas_desktop.ui.wizard.wizard import (
    ACTIVATE,
    CREDENTIALS,
    DISCOVERY,
    ERP_CHOICE,
    INSTRUCTIONS,
    PREFERENCES,
    SIGNIN,
    TEST,
)

KEYS = {name: f"{i:x}" * 64 for i, name in enumerate(("ck", "cs", "ti", "ts"), start=10)}
NETSUITE_PASTE = (
    "Account ID: 1234567_sb1\n"
    f"CONSUMER KEY / CLIENT ID\n{KEYS['ck']}\n"
    f"CONSUMER SECRET / CLIENT SECRET\n{KEYS['cs']}\n"
    f"TOKEN ID\n{KEYS['ti']}\n"
    f"TOKEN SECRET\n{KEYS['ts']}\n"
)


def test_netsuite_setup_takes_one_paste_and_at_most_ten_clicks(
    make_wizard: Any, qtbot: Any, services: Any
) -> None:
    wizard = make_wizard()
    started: list[str] = []
    wizard.setup_finished.connect(started.append)
    user = User(qtbot, wizard)
    signin = wizard.page_at(SIGNIN)
    signin.token.set_text(GOOD_TOKEN)  # typed (or prefilled in the demo): typing is not a click
    signin.token.edited.emit(GOOD_TOKEN)

    user.next_when_ready(ERP_CHOICE)
    user.click(wizard.page_at(ERP_CHOICE).buttons[ErpType.NETSUITE])
    user.next_when_ready(INSTRUCTIONS)
    user.next_when_ready(CREDENTIALS)
    credentials = wizard.page_at(CREDENTIALS)
    user.paste_into(credentials.paste_box, NETSUITE_PASTE)
    assert credentials.fields["account_id"].text() == "1234567_SB1"
    assert "uppercase" in credentials.fields["account_id"].message.text()
    user.next_when_ready(TEST)
    user.next_when_ready(PREFERENCES)
    user.next_when_ready(DISCOVERY)
    user.next_when_ready(ACTIVATE)
    finish = wizard.button(QWizard.WizardButton.FinishButton)
    qtbot.waitUntil(finish.isEnabled, timeout=5000)
    user.click(finish)

    qtbot.waitUntil(lambda: started != [], timeout=2000)
    assert (user.pastes, user.clicks) == (1, 9)
    assert user.clicks <= 10
    summary = services.connections.summary(started[0])
    assert summary.erp_type is ErpType.NETSUITE
    assert summary.status is ConnectionStatus.ACTIVE
    assert summary.settings["account_id"] == "1234567_SB1"
    assert services.connections.get(started[0]).secrets["token_secret"].reveal() == KEYS["ts"]
    assert services.atlas_accounts.load().company_name == "Sandbox Pharma Distribution"
    assert not wizard.ctx.draft.exists()  # a finished setup leaves no draft behind


def test_a_proxy_password_typed_in_the_wizard_is_sealed_in_the_draft_and_vaulted(
    make_wizard: Any, qtbot: Any, services: Any
) -> None:
    password = "wizard-Proxy-pw-42"
    proxy = f"https://proxyuser:{password}@proxy.example.com:3128"
    wizard = make_wizard()
    started: list[str] = []
    wizard.setup_finished.connect(started.append)
    user = User(qtbot, wizard)
    signin = wizard.page_at(SIGNIN)
    signin.token.set_text(GOOD_TOKEN)
    signin.token.edited.emit(GOOD_TOKEN)
    user.next_when_ready(ERP_CHOICE)
    user.click(wizard.page_at(ERP_CHOICE).buttons[ErpType.NETSUITE])
    user.next_when_ready(INSTRUCTIONS)
    user.next_when_ready(CREDENTIALS)
    credentials = wizard.page_at(CREDENTIALS)
    user.paste_into(credentials.paste_box, NETSUITE_PASTE)
    credentials.fields["proxy"].set_text(proxy)
    credentials.fields["proxy"].edited.emit(proxy)
    draft = wizard.ctx.draft.path
    qtbot.waitUntil(lambda: draft.exists() and "proxy" in draft.read_text(), timeout=3000)
    assert password not in draft.read_text()  # sealed by the vault, like the credentials
    user.next_when_ready(TEST)
    assert credentials.fields["proxy"].text() == proxy  # the form keeps what was typed
    user.next_when_ready(PREFERENCES)
    user.next_when_ready(DISCOVERY)
    user.next_when_ready(ACTIVATE)
    finish = wizard.button(QWizard.WizardButton.FinishButton)
    qtbot.waitUntil(finish.isEnabled, timeout=5000)
    user.click(finish)
    qtbot.waitUntil(lambda: started != [], timeout=2000)
    summary = services.connections.summary(started[0])
    assert summary.settings["proxy"] == "https://proxyuser:****@proxy.example.com:3128"
    assert services.connections.get(started[0]).secrets["proxy_password"].reveal() == password


def test_the_preferences_offer_the_choices_the_connector_lists(make_wizard: Any, qtbot: Any) -> None:
    wizard = make_wizard()  # its fake connector lists locations only
    user = User(qtbot, wizard)
    signin = wizard.page_at(SIGNIN)
    signin.token.set_text(GOOD_TOKEN)
    signin.token.edited.emit(GOOD_TOKEN)
    user.next_when_ready(ERP_CHOICE)
    user.click(wizard.page_at(ERP_CHOICE).buttons[ErpType.NETSUITE])
    user.next_when_ready(INSTRUCTIONS)
    user.next_when_ready(CREDENTIALS)
    user.paste_into(wizard.page_at(CREDENTIALS).paste_box, NETSUITE_PASTE)
    user.next_when_ready(TEST)
    user.next_when_ready(PREFERENCES)
    page = wizard.page_at(PREFERENCES)
    qtbot.waitUntil(lambda: not page.busy(), timeout=3000)
    locations = page.erp_fields["default_location_id"]
    assert [locations.itemText(i) for i in range(locations.count())] == ["Main warehouse (1)", "East (2)"]
    assert page.erp_fields["subsidiary_id"].count() == 0  # listed by no one: left to type
    assert "location" in page.discovery_note.text()
