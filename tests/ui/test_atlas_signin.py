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


def test_an_unreachable_atlas_names_the_network_and_offers_the_proxy_setting(
    make_wizard: Any, qtbot: Any, atlas: AtlasEmulator
) -> None:
    def no_dns(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("[Errno -2] Name or service not known", request=request)

    backend = ConnectorAtlasSignIn(transport=httpx.MockTransport(no_dns))
    opened: list[str] = []

    def edit_network() -> None:  # the user saves a proxy in the settings; it gets us through
        opened.append("network")
        backend._transport = httpx.ASGITransport(app=atlas.app)

    wizard = make_wizard(atlas_signin=backend, edit_network=edit_network)
    page = wizard.page_at(SIGNIN)
    assert not page.network_button.isVisibleTo(page)
    page.url.set_text(BASE)
    page.url.edited.emit(BASE)
    page.token.set_text(atlas.api_token)
    page.token.edited.emit(atlas.api_token)
    user = User(qtbot, wizard)
    user.click(wizard.button(QWizard.WizardButton.NextButton))
    qtbot.waitUntil(lambda: "Fix:" in page.status.text(), timeout=5000)
    text = page.status.text()
    assert "offline" in text and "proxy" in text and "firewall" in text
    assert page.network_button.isVisibleTo(page)
    user.click(page.network_button)
    assert opened == ["network"]
    user.next_when_ready(ERP_CHOICE)
    assert not page.network_button.isVisibleTo(page)


def test_the_sign_in_takes_a_proxy_set_after_a_failed_try() -> None:
    backend = ConnectorAtlasSignIn(network={})
    assert "proxy" not in backend._settings
    backend.use_network({"proxy": "http://proxy.example.com:3128", "ca_bundle": "/etc/ssl/corp.pem"})
    assert backend._settings["proxy"] == "http://proxy.example.com:3128"
    assert str(backend._settings["ca_bundle"]) == "/etc/ssl/corp.pem"
