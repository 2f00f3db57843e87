"""The test page against the real connectors and the sandbox emulators: each failure shows cause and fix."""

from __future__ import annotations

import html
import socket
from pathlib import Path
from typing import Any

import httpx
import pytest
from ui_fakes import User

from atlas_desktop.domain.connection import ALL_SECRET_FIELDS
from atlas_desktop.domain.model import ErpType
from atlas_desktop.domain.secrets import Secret
from atlas_desktop.engine.factory import build_erp_connector
from atlas_desktop.sandbox.catalog import Catalog
from atlas_desktop.sandbox.registry import SandboxOptions, load_emulators
from atlas_desktop.sandbox.server import running_sandbox
from atlas_desktop.ui.widgets.checklist import StepState
from atlas_desktop.ui.wizard.state import WizardState
from atlas_desktop.ui.wizard.wizard import CREDENTIALS, TEST


@pytest.fixture(scope="module")
def emulators(tmp_path_factory: Any) -> dict[str, Any]:
    options = SandboxOptions(Catalog(seed=7, size=40), data_dir=tmp_path_factory.mktemp("sandbox"))
    return {e.name: e for e in load_emulators(options, ["netsuite", "sap-cloud"])}


def in_process(emulator: Any) -> Any:
    return lambda spec: build_erp_connector(spec, transport=httpx.ASGITransport(app=emulator.app))


def credentials_state(emulator: Any, erp_type: ErpType, **changes: str) -> WizardState:
    """A wizard already past sign-in with the emulator's own credential file typed in."""
    content = next(iter(emulator.credential_files("http://127.0.0.1:9").values()))
    state = WizardState(atlas_verified=True, erp_type=erp_type, page=CREDENTIALS)
    state.auth_mode = "oauth2" if erp_type is ErpType.SAP_CLOUD else None
    state.fields = {}
    state.secrets = {}
    wizard_values = {**{k: str(v) for k, v in content.items() if isinstance(v, str)}, **changes}
    for name, value in wizard_values.items():
        if name in ALL_SECRET_FIELDS:
            state.secrets[name] = Secret(value)
        elif name not in ("erp_type", "environment", "connection_name"):
            state.fields[name] = value
    return state


def run_test_page(make_wizard: Any, qtbot: Any, state: WizardState, **ctx: Any) -> Any:
    wizard = make_wizard(state=state, **ctx)
    wizard.setStartId(CREDENTIALS)
    wizard.restart()
    User(qtbot, wizard).next_when_ready(TEST)
    page = wizard.page_at(TEST)
    qtbot.waitUntil(lambda: not page.busy(), timeout=15000)
    return page


def failed(page: Any) -> list[Any]:
    return [row for row in page.checklist.rows if row.state is StepState.FAILED]


def test_netsuite_passes_and_lowercase_realm_is_fixed_for_the_user(
    make_wizard: Any, qtbot: Any, emulators: dict[str, Any]
) -> None:
    emulator = emulators["netsuite"]
    state = credentials_state(emulator, ErpType.NETSUITE, account_id="1234567_sb1")
    page = run_test_page(make_wizard, qtbot, state, connector_factory=in_process(emulator))
    assert failed(page) == [], [(r.name, r.text.text()) for r in page.checklist.rows]
    assert page.state.tested_ok
    assert page.state.fields["account_id"] == "1234567_SB1"


def test_netsuite_bad_secret_shows_cause_and_fix(
    make_wizard: Any, qtbot: Any, emulators: dict[str, Any]
) -> None:
    emulator = emulators["netsuite"]
    state = credentials_state(emulator, ErpType.NETSUITE, token_secret="0" * 64)
    page = run_test_page(make_wizard, qtbot, state, connector_factory=in_process(emulator))
    rows = failed(page)
    assert rows and not page.state.tested_ok
    text = rows[0].text.text()
    assert "Cause:" in text and "Fix:" in text
    assert "0" * 64 not in text  # never the secret itself
    assert "token" in text.lower() or "login" in text.lower()


def test_sap_missing_scenario_names_it(make_wizard: Any, qtbot: Any, emulators: dict[str, Any]) -> None:
    emulator = emulators["sap-cloud"]
    emulator.set_missing_scenarios("SAP_COM_0164")
    try:
        state = credentials_state(emulator, ErpType.SAP_CLOUD)
        page = run_test_page(make_wizard, qtbot, state, connector_factory=in_process(emulator))
    finally:
        emulator.set_missing_scenarios()
    rows = failed(page)
    assert rows, [(r.name, r.text.text()) for r in page.checklist.rows]
    assert any("SAP_COM_0164" in row.text.text() for row in rows)


def test_unreachable_host_stops_before_sign_in(
    make_wizard: Any, qtbot: Any, emulators: dict[str, Any]
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed again at once: nothing listens there
    state = credentials_state(emulators["netsuite"], ErpType.NETSUITE, base_url=f"http://127.0.0.1:{port}")
    page = run_test_page(make_wizard, qtbot, state, reach=None)
    rows = failed(page)
    assert [row.name for row in rows] == ["Reach the server"]
    assert "could not be reached" in rows[0].text.text()
    assert "proxy" in rows[0].text.text()
    assert len(page.checklist.rows) == 1  # no sign-in attempted
    assert page.summary.text().startswith("✗ 1 check failed.")


def test_tls_failure_with_a_corporate_ca_says_to_add_the_ca(
    make_wizard: Any, qtbot: Any, tmp_path: Path
) -> None:
    options = SandboxOptions(Catalog(seed=7, size=20), data_dir=tmp_path / "tls")
    emulators = load_emulators(options, ["sap-onprem-x509"])
    with running_sandbox(options, emulators=emulators) as urls:
        content = next(iter(emulators[0].credential_files(urls["sap-onprem-x509"]).values()))
        state = WizardState(atlas_verified=True, erp_type=ErpType.SAP_ONPREM, page=CREDENTIALS)
        state.auth_mode = "x509"
        keys = ("base_url", "client_certificate", "client_key", "sap_client")
        state.fields = {k: str(content[k]) for k in keys}
        # No CA bundle: the server's certificate comes from the sandbox's own (corporate-like) CA.
        page = run_test_page(make_wizard, qtbot, state, connector_factory=build_erp_connector, reach=None)
        rows = failed(page)
        assert rows, [(r.name, r.text.text()) for r in page.checklist.rows]
        text = " ".join(row.text.text() for row in rows).lower()
        assert "certificate" in text or "tls" in text
        assert "ca" in text


class ZoneUnnamed(httpx.AsyncBaseTransport):
    """A NetSuite account whose SuiteQL answers the offset but refuses SESSIONTIMEZONE (no zone name)."""

    def __init__(self, emulator: Any) -> None:
        self.inner = httpx.ASGITransport(app=emulator.app)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/suiteql") and b"SESSIONTIMEZONE" in request.content:
            detail = {"detail": "Invalid search query.", "o:errorCode": "INVALID_PARAMETER"}
            return httpx.Response(400, json={"status": 400, "o:errorDetails": [detail]})
        return await self.inner.handle_async_request(request)


@pytest.mark.parametrize("typed", ["", "America/New_York"])
def test_a_netsuite_user_zone_the_account_does_not_name_is_typed_on_the_form(
    make_wizard: Any, qtbot: Any, emulators: dict[str, Any], typed: str
) -> None:
    emulator = emulators["netsuite"]  # its user is in New York
    state = credentials_state(emulator, ErpType.NETSUITE, timezone=typed)
    factory = lambda spec: build_erp_connector(spec, transport=ZoneUnnamed(emulator))  # noqa: E731
    page = run_test_page(make_wizard, qtbot, state, connector_factory=factory)
    rows = {row.name: html.unescape(row.text.text()) for row in page.checklist.rows}
    if typed:
        assert failed(page) == [] and page.state.tested_ok, rows
        assert "America/New_York (UTC" in rows["NetSuite user's time zone"]
        return
    assert [row.name for row in failed(page)] == ["NetSuite user's time zone"]
    assert '"NetSuite user\'s time zone" under Advanced' in rows["NetSuite user's time zone"]
