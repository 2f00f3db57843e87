"""The sign-in page against the Atlas emulator (in-process): a good token, a refused one, device sign-in."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from PySide6.QtWidgets import QWizard
from ui_fakes import User

from atlas_desktop.sandbox.atlas import AtlasEmulator
from atlas_desktop.ui.wizard.atlas_signin import ConnectorAtlasSignIn
from atlas_desktop.ui.wizard.wizard import ERP_CHOICE, SIGNIN

BASE = "http://127.0.0.1:9"


@pytest.fixture
def atlas() -> AtlasEmulator:
    return AtlasEmulator()


def test_the_sandbox_token_signs_in_and_is_stored(make_wizard: Any, qtbot: Any, atlas: AtlasEmulator,
                                                  services: Any) -> None:  # fmt: skip
    backend = ConnectorAtlasSignIn(transport=httpx.ASGITransport(app=atlas.app))
    wizard = make_wizard(atlas_signin=backend)
    page = wizard.page_at(SIGNIN)
    page.url.set_text(BASE)
    page.url.edited.emit(BASE)
    page.token.set_text(atlas.api_token)
    page.token.edited.emit(atlas.api_token)
    User(qtbot, wizard).next_when_ready(ERP_CHOICE)
    account = services.atlas_accounts.load()
    assert account.base_url == BASE and account.secrets["api_token"].reveal() == atlas.api_token


def test_a_refused_token_says_what_to_do(make_wizard: Any, qtbot: Any, atlas: AtlasEmulator) -> None:
    wizard = make_wizard(atlas_signin=ConnectorAtlasSignIn(transport=httpx.ASGITransport(app=atlas.app)))
    page = wizard.page_at(SIGNIN)
    page.url.set_text(BASE)
    page.url.edited.emit(BASE)
    page.token.set_text("atl_pat_not_a_real_token_000000")
    page.token.edited.emit("atl_pat_not_a_real_token_000000")
    User(qtbot, wizard).click(wizard.button(QWizard.WizardButton.NextButton))
    qtbot.waitUntil(lambda: "Fix:" in page.status.text(), timeout=5000)
    assert wizard.currentId() == SIGNIN
    assert "atl_pat_not_a_real_token_000000" not in page.status.text()


def test_device_sign_in_against_the_emulator(make_wizard: Any, qtbot: Any, atlas: AtlasEmulator) -> None:
    opened: list[str] = []
    wizard = make_wizard(atlas_signin=ConnectorAtlasSignIn(transport=httpx.ASGITransport(app=atlas.app)),
                         open_url=opened.append)  # fmt: skip
    page = wizard.page_at(SIGNIN)
    page.url.set_text(BASE)
    page.url.edited.emit(BASE)
    user = User(qtbot, wizard)
    user.click(page.device_choice)
    user.click(page.device_button)
    qtbot.waitUntil(lambda: opened != [], timeout=5000)
    code = page._device.user_code
    assert code in page.code_label.text()
    atlas.approve_device(code)  # the user clicks Approve in the browser
    qtbot.waitUntil(lambda: wizard.state.atlas_verified, timeout=15000)
