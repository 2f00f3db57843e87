"""The whole wizard on the sandbox emulators with the real engine, to the first sync; user actions counted."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

import httpx
import pytest
from PySide6.QtWidgets import QWizard
from ui_fakes import User, reachable

from atlas_desktop.app.demo import sandbox_info
from atlas_desktop.app.engine_setup import build_engine
from atlas_desktop.app.netsuite_certificates import CertificateFolder
from atlas_desktop.domain.connection import NetSuiteAuthMode
from atlas_desktop.domain.enums import ConnectionStatus, MappingStatus
from atlas_desktop.domain.model import ErpType
from atlas_desktop.engine.api import RunFinished, RunSummary
from atlas_desktop.engine.changes import ChangeKind
from atlas_desktop.engine.factory import build_erp_connector
from atlas_desktop.engine.service import EngineService
from atlas_desktop.sandbox.catalog import Catalog
from atlas_desktop.sandbox.registry import SandboxOptions, load_emulators
from atlas_desktop.ui.main_window import MainWindow
from atlas_desktop.ui.wizard.atlas_signin import ConnectorAtlasSignIn
from atlas_desktop.ui.wizard.context import WizardContext
from atlas_desktop.ui.wizard.state import WizardDraft
from atlas_desktop.ui.wizard.wizard import (
    ACTIVATE,
    CREDENTIALS,
    DISCOVERY,
    ERP_CHOICE,
    INSTRUCTIONS,
    PREFERENCES,
    TEST,
    SetupWizard,
)

# Addresses only: every request goes through `Router` to the emulator's ASGI app, no socket is opened.
URLS = {"netsuite": "http://127.0.0.1:8131", "sap-cloud": "http://127.0.0.1:8132", "atlas": "http://127.0.0.1:8133"}


class Router(httpx.AsyncBaseTransport):
    """One transport for every client: each emulator answers on its own host:port."""

    def __init__(self, emulators: dict[str, Any]) -> None:
        self.routes = {
            httpx.URL(URLS[name]).netloc: httpx.ASGITransport(app=emulator.app)
            for name, emulator in emulators.items()
        }

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        return await self.routes[request.url.netloc].handle_async_request(request)


@dataclass
class Demo:
    emulators: dict[str, Any]
    engine: EngineService
    window: MainWindow
    finished: list[RunSummary]


@pytest.fixture
def demo(services: Any, qtbot: Any, qloop: Any, tmp_path: Any) -> Iterator[Demo]:
    options = SandboxOptions(Catalog(seed=5, size=40, today=date(2026, 11, 27)), seed=5)
    emulators = {e.name: e for e in load_emulators(options, ["netsuite", "sap", "atlas"]) if e.name in URLS}
    router = Router(emulators)
    engine = build_engine(services, transport=router, atlas_options={"transport": router})
    ctx = WizardContext(
        connections=services.connections,
        atlas_accounts=services.atlas_accounts,
        atlas_signin=ConnectorAtlasSignIn(transport=router),
        connector_factory=lambda spec: build_erp_connector(spec, transport=router),
        engine=engine,
        draft=WizardDraft(services.paths.root, services.vault),
        sandbox=sandbox_info(URLS, list(emulators.values()), transport=router),
        certificates=CertificateFolder(services.paths.root),
        open_url=lambda url: None,
        reach=reachable,  # the one step that needs a socket: the emulators here have none
    )
    finished: list[RunSummary] = []
    # The activate page's preview is a run too (status "preview"); only real runs are kept.
    engine.events.subscribe(
        lambda e: finished.append(e.summary)
        if isinstance(e, RunFinished) and str(e.summary.status) != "preview"
        else None
    )
    window = MainWindow(services.connections, engine, lambda: SetupWizard(ctx), sandbox=True)
    window.show()  # not qtbot.addWidget: pytest-qt would delete it before the async clean-up below
    yield Demo(emulators, engine, window, finished)
    window.close()  # as the app does: close, then the async clean-up while the loop still turns
    task = asyncio.ensure_future(_close(window, engine))
    qtbot.waitUntil(task.done, timeout=10_000)
    window.deleteLater()
    task.result()


async def _close(window: MainWindow, engine: EngineService) -> None:
    await window.aclose()
    await engine.aclose()


def drive_wizard(
    demo: Demo,
    qtbot: Any,
    erp_type: ErpType,
    paste: str,
    on_credentials: Callable[[SetupWizard, User], None] | None = None,
) -> tuple[SetupWizard, User, str]:
    """The user's path through the eight steps; returns when the first sync has finished."""
    wizard = demo.window.open_wizard()
    user = User(qtbot, wizard)
    # Step 1: the sandbox prefilled the Atlas address and token; Next checks the token with (real) Atlas.
    user.next_when_ready(ERP_CHOICE, timeout=10_000)
    assert wizard.state.atlas_verified and wizard.state.atlas_company
    user.click(wizard.page_at(ERP_CHOICE).buttons[erp_type])
    user.next_when_ready(INSTRUCTIONS)
    user.next_when_ready(CREDENTIALS)
    user.paste_into(wizard.page_at(CREDENTIALS).paste_box, paste)
    if on_credentials is not None:
        on_credentials(wizard, user)
    user.next_when_ready(TEST)
    qtbot.waitUntil(lambda: not wizard.page_at(TEST).busy(), timeout=15_000)
    rows = wizard.page_at(TEST).checklist.rows
    assert wizard.state.tested_ok, [(r.name, r.text.text()) for r in rows]
    user.next_when_ready(PREFERENCES)
    qtbot.waitUntil(lambda: not wizard.page_at(PREFERENCES).busy(), timeout=10_000)
    user.next_when_ready(DISCOVERY)
    discovery = wizard.page_at(DISCOVERY)
    qtbot.waitUntil(lambda: discovery.result is not None or discovery.retry.isVisible(), timeout=20_000)
    assert discovery.result is not None, discovery.status.text()
    user.next_when_ready(ACTIVATE, timeout=10_000)
    activate = wizard.page_at(ACTIVATE)
    qtbot.waitUntil(lambda: activate.plan is not None or activate.retry.isVisible(), timeout=20_000)
    assert activate.plan is not None, activate.status.text()
    finish = wizard.button(QWizard.WizardButton.FinishButton)
    qtbot.waitUntil(finish.isEnabled, timeout=5000)
    connection_id = wizard.state.connection_id
    assert connection_id is not None
    user.click(finish)
    qtbot.waitUntil(lambda: demo.finished != [], timeout=30_000)
    return wizard, user, connection_id


def assert_matched_sides_equal(
    demo: Demo, connection_id: str, erp_stock: Callable[[Any], Decimal]
) -> int:
    mappings = demo.engine.repos.mappings.page(
        connection_id, status=MappingStatus.MATCHED, search=None, offset=0, limit=10_000
    )
    atlas = demo.emulators["atlas"]
    unequal = [
        (m.ndc, Decimal(atlas.row(m.atlas_inventory_id)["quantity"]), erp_stock(m))
        for m in mappings
        if Decimal(atlas.row(m.atlas_inventory_id)["quantity"]) != erp_stock(m)
    ]
    assert unequal == []
    return len(mappings)


def assert_setup_result(
    demo: Demo, qtbot: Any, wizard: SetupWizard, user: User, connection_id: str
) -> RunSummary:
    assert user.pastes == 1 and user.clicks <= 10, (user.pastes, user.clicks)
    stored = demo.window.connections.summary(connection_id)
    assert stored.status is ConnectionStatus.ACTIVE
    assert not wizard.ctx.draft.exists()
    page = wizard.page_at(DISCOVERY)
    # The counts on screen are the real engine's, not a stand-in's.
    result = page.result
    assert result.matched > 0 and result.unmatched_atlas + result.unmatched_erp > 0, result
    assert f"<b>{result.matched:,}</b>" in page.summary.text()
    activate = wizard.page_at(ACTIVATE)
    assert "first sync" in activate.plan.reason
    assert f"<b>{activate.plan.unchanged:,}</b>" in activate.plan_label.text()
    summary = demo.finished[0]
    assert (summary.connection_id, str(summary.sync_type)) == (connection_id, "full")
    # Stock goes through cleanly. The sandbox marketplace also holds an order with a line for a product
    # the ERP does not carry: that order is refused with a message naming the NDC (and retried on later
    # runs, never skipped), so the run may end "partial" for that reason and no other.
    errors = demo.engine.repos.runs.unreplayed_errors(connection_id)
    assert str(summary.status) in ("success", "partial"), summary.error_message
    assert summary.items_synced > 0 and summary.conflicts_opened == 0
    # What the last page promised is what the first sync did: every write and purchase order counted.
    kinds = activate.plan.kinds
    carried = (ChangeKind.QUANTITY_TO_ATLAS, ChangeKind.QUANTITY_TO_ERP, ChangeKind.EXPIRY_TO_ATLAS,
               ChangeKind.NAME_TO_ATLAS, ChangeKind.PURCHASE_ORDER)  # fmt: skip
    assert summary.items_synced == sum(kinds[kind] for kind in carried), kinds
    # Kind by kind, read from the run's own records (what its history entry lists), and the keys it left
    # alone are the "already the same" the page promised.
    listed = asyncio.ensure_future(demo.engine.run_changes(summary.sync_log_id))
    qtbot.waitUntil(listed.done, timeout=10_000)
    done = Counter(change.kind for change in listed.result())
    assert {kind: done[kind] for kind in carried} == {kind: kinds[kind] for kind in carried}
    written = {change.mapping_id for change in listed.result() if change.mapping_id is not None}
    matched = demo.engine.repos.mappings.page(
        connection_id, status=MappingStatus.MATCHED, search=None, offset=0, limit=10_000
    )
    assert kinds[ChangeKind.ALREADY_SAME] == len(matched) - len(written) > 0
    assert kinds[ChangeKind.NEW_LISTING] == 0 and "New listings" not in activate.plan_label.text()
    for error in errors:
        assert error.item_ref.startswith("order "), error.item_ref
        assert "NDC" in error.message and ("no item" in error.message or "no SAP material" in error.message)
    assert summary.items_failed == len(errors)
    return summary


def test_netsuite_demo_setup_to_first_sync(demo: Demo, qtbot: Any) -> None:
    netsuite = demo.emulators["netsuite"]
    c = netsuite.credentials
    # What NetSuite shows when the integration and the access token are created (one copy, one paste).
    paste = (
        f"Account ID: {netsuite.account_id}\n"
        f"CONSUMER KEY / CLIENT ID\n{c.consumer_key}\nCONSUMER SECRET / CLIENT SECRET\n{c.consumer_secret}\n"
        f"TOKEN ID\n{c.token_id}\nTOKEN SECRET\n{c.token_secret}\n"
    )
    wizard, user, connection_id = drive_wizard(demo, qtbot, ErpType.NETSUITE, paste)
    assert_setup_result(demo, qtbot, wizard, user, connection_id)
    assert (user.pastes, user.clicks) == (1, 9)

    def stock(m: Any) -> Decimal:
        return netsuite.state.stock(int(m.erp_item_id), int(m.erp_location_id), m.lot)

    assert assert_matched_sides_equal(demo, connection_id, stock) == wizard.page_at(DISCOVERY).result.matched


def test_netsuite_oauth2_demo_setup_to_first_sync(demo: Demo, qtbot: Any) -> None:
    """OAuth 2.0 (M2M) is the default: the app made the key pair; one click uploads its certificate to the
    sandbox (NetSuite's M2M Setup page) and fills the Certificate ID. One click more than TBA, no more."""
    netsuite = demo.emulators["netsuite"]
    paste = f"Account ID: {netsuite.account_id}\nCONSUMER KEY / CLIENT ID\n{netsuite.integration.client_id}\n"

    def upload(wizard: SetupWizard, user: User) -> None:
        page = wizard.page_at(CREDENTIALS)
        assert page.mode.currentData() == NetSuiteAuthMode.OAUTH2_M2M
        qtbot.waitUntil(page.certificate.upload_button.isEnabled, timeout=10_000)  # the key pair is made
        user.click(page.certificate.upload_button)
        qtbot.waitUntil(lambda: page.fields["certificate_id"].text() != "", timeout=5000)

    wizard, user, connection_id = drive_wizard(demo, qtbot, ErpType.NETSUITE, paste, upload)
    assert_setup_result(demo, qtbot, wizard, user, connection_id)
    assert (user.pastes, user.clicks) == (1, 10)  # TBA's 9 + the upload
    # The connection test's token step passed with the uploaded certificate's ID and the app's own key.
    rows = {row.name: row for row in wizard.page_at(TEST).checklist.rows}
    assert "OAuth 2.0 access token" in rows
    stored = demo.window.connections.get(connection_id)
    assert stored.settings["auth_mode"] == NetSuiteAuthMode.OAUTH2_M2M
    assert stored.settings["certificate_id"] in netsuite.m2m.certificates
    assert stored.secrets["private_key"].reveal().startswith("-----BEGIN PRIVATE KEY-----")
    assert "certificate_expires" in stored.settings
    assert netsuite.m2m.tokens_issued >= 1 and netsuite.auth_failures == []

    def stock(m: Any) -> Decimal:
        return netsuite.state.stock(int(m.erp_item_id), int(m.erp_location_id), m.lot)

    assert assert_matched_sides_equal(demo, connection_id, stock) == wizard.page_at(DISCOVERY).result.matched


def test_sap_cloud_demo_setup_to_first_sync(demo: Demo, qtbot: Any) -> None:
    sap = demo.emulators["sap-cloud"]
    content = sap.credential_files(URLS["sap-cloud"])["sap-cloud.json"]
    # The communication arrangement's details, copied from the SAP screen as labelled lines.
    paste = (
        f"API URL: {content['base_url']}\nToken Service URL: {content['token_endpoint']}\n"
        f"Client ID: {content['client_id']}\nClient Secret: {content['client_secret']}\n"
    )
    wizard, user, connection_id = drive_wizard(demo, qtbot, ErpType.SAP_CLOUD, paste)
    assert_setup_result(demo, qtbot, wizard, user, connection_id)
    # The places SAP keeps the NDC in were sampled and are offered, best first (custom field by its label).
    ndc = wizard.page_at(PREFERENCES).erp_fields["ndc_field"]
    offered = [ndc.itemData(i) for i in range(ndc.count())]
    assert {"A_ProductUnitsOfMeasureEAN", "ProductStandardID", "YY1_NDCCode_PRD"} <= set(offered)
    # SAP lists no location names: the page showed the sandbox's, and the connection's locations carry them.
    assert wizard.page_at(PREFERENCES).location_names.names()["1010/0001"] == "Main warehouse"
    task = asyncio.ensure_future(demo.engine.erp(connection_id))
    qtbot.waitUntil(task.done, timeout=5000)
    listed = asyncio.ensure_future(task.result().locations())
    qtbot.waitUntil(listed.done, timeout=5000)
    assert {loc.code: loc.name for loc in listed.result()}["EAST"] == "East distribution center"

    def stock(m: Any) -> Decimal:
        plant, _, storage_location = m.erp_location_id.partition("/")
        return sap.unrestricted_stock(m.erp_item_id, plant, storage_location, m.lot or "")

    assert assert_matched_sides_equal(demo, connection_id, stock) > 0
