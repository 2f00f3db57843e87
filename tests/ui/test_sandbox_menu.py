"""The demo's Sandbox menu: only in demo mode; each action changes the emulator it names (checked in the
emulator's own state) through the `/_sandbox/` routes; a sale made there reaches the ERP by a sync."""

from __future__ import annotations

import asyncio
import gc
import os
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from PySide6.QtCore import QDate
from PySide6.QtWidgets import QApplication

from atlas_desktop.app import gui
from atlas_desktop.app.demo import sandbox_info
from atlas_desktop.app.engine_setup import build_engine
from atlas_desktop.app.paths import ProfilePaths
from atlas_desktop.app.sandbox_client import SandboxClient, client_for
from atlas_desktop.app.services import open_services
from atlas_desktop.domain.connection import parse_connection
from atlas_desktop.domain.enums import MappingStatus
from atlas_desktop.domain.model import ErpType
from atlas_desktop.domain.secrets import Secret
from atlas_desktop.sandbox.atlas import build as build_atlas
from atlas_desktop.sandbox.catalog import Catalog
from atlas_desktop.sandbox.netsuite import build as build_netsuite
from atlas_desktop.sandbox.registry import SandboxOptions, load_emulators
from atlas_desktop.store.keys import MemoryKeySource
from atlas_desktop.ui.main_window import MainWindow
from atlas_desktop.ui.monitoring.context import MonitoringContext
from atlas_desktop.ui.sandbox_dialogs import SandboxFaultDialog, SandboxItemDialog
from atlas_desktop.ui.sandbox_menu import SandboxMenu, install_sandbox_menu

NS_URL = "http://127.0.0.1:8123"
ATLAS_URL = "http://127.0.0.1:8124"


class Router(httpx.AsyncBaseTransport):
    """One transport for the client's two base URLs: each host:port to its emulator, in process."""

    def __init__(self, apps: dict[str, Any]) -> None:
        self.transports = {url.split("//")[1]: httpx.ASGITransport(app=app) for url, app in apps.items()}

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        return await self.transports[f"{request.url.host}:{request.url.port}"].handle_async_request(request)


def _run(qtbot: Any, coro: Any, timeout: int = 30_000) -> Any:
    task = asyncio.ensure_future(coro)
    qtbot.waitUntil(task.done, timeout=timeout)
    return task.result()


@pytest.fixture
def world(tmp_path: Path, qtbot: Any, qloop: Any) -> Iterator[dict[str, Any]]:
    options = SandboxOptions(catalog=Catalog(seed=7, size=20, today=date(2026, 11, 27)), seed=7)
    netsuite, atlas = build_netsuite(options), build_atlas(options)
    with open_services(ProfilePaths(tmp_path / "profile"), key_source=MemoryKeySource()) as services:
        window = MainWindow(services.connections, None, lambda: None, sandbox=True)  # type: ignore[arg-type]
        qtbot.addWidget(window)
        router = Router({NS_URL: netsuite.app, ATLAS_URL: atlas.app})
        menu = install_sandbox_menu(
            window, lambda erp: SandboxClient(ATLAS_URL, NS_URL, "NetSuite", transport=router)
        )
        yield {"netsuite": netsuite, "atlas": atlas, "services": services, "window": window, "menu": menu}
        _run(qtbot, menu.aclose())
        window.close()
    gc.collect()


def _fill(qtbot: Any, menu: SandboxMenu, action: Any) -> Any:
    action.trigger()
    qtbot.waitUntil(lambda: menu.dialog is not None and menu.dialog.isVisible(), timeout=10_000)
    return menu.dialog


def _log(window: MainWindow) -> str:
    return window.activity.toPlainText()


def test_the_sandbox_menu_is_there_only_in_demo_mode(qtbot: Any, qloop: Any, services: Any) -> None:
    plain = MainWindow(services.connections, None, lambda: None)  # type: ignore[arg-type]
    qtbot.addWidget(plain)
    assert gui.attach_sandbox_menu(plain, None) is None
    assert "Sandbox" not in [a.text().replace("&", "") for a in plain.menuBar().actions()]
    demo = MainWindow(services.connections, None, lambda: None, sandbox=True)  # type: ignore[arg-type]
    qtbot.addWidget(demo)
    info = sandbox_info({"atlas": ATLAS_URL, "netsuite": NS_URL}, [])
    menu = gui.attach_sandbox_menu(demo, info)
    assert isinstance(menu, SandboxMenu)
    assert "Sandbox" in [a.text().replace("&", "") for a in demo.menuBar().actions()]
    assert [a.text() for a in menu.actions() if a.text()][:2] == [
        "&Sell on the marketplace…", "Place a marketplace &order…"]  # fmt: skip


def test_the_demo_client_acts_on_the_erp_the_connection_uses(tmp_path: Path) -> None:
    options = SandboxOptions(Catalog(seed=1, size=5), seed=1, data_dir=tmp_path)
    emulators = load_emulators(options)
    urls = {e.name: f"http://127.0.0.1:{9000 + n}" for n, e in enumerate(emulators)}
    info = sandbox_info(urls, emulators)
    assert client_for(info, None).erp_url == urls["netsuite"]
    sap = client_for(info, ErpType.SAP_ONPREM)
    assert sap.erp_url == urls["sap-onprem"] and sap.erp_name == "SAP S/4HANA"
    assert client_for(info, ErpType.SAP_CLOUD).erp_url == urls["sap-cloud"]


def test_a_sale_lowers_the_marketplace_row_and_says_so(world: dict[str, Any], qtbot: Any) -> None:
    atlas, menu, window = world["atlas"], world["menu"], world["window"]
    dialog = _fill(qtbot, menu, menu.sell_action)
    assert isinstance(dialog, SandboxItemDialog)
    item = next(i for i in dialog.items if i.quantity >= 3)
    dialog.select(item.key)
    dialog.quantity_box.setValue(3)
    dialog.accept()
    qtbot.waitUntil(lambda: "Sold 3 of" in _log(window), timeout=10_000)
    assert f"Sold 3 of {item.name}" in _log(window) and "watch it reach NetSuite" in _log(window)
    assert Decimal(atlas.row(item.key)["quantity"]) == item.quantity - 3


def test_an_order_is_placed_on_the_marketplace(world: dict[str, Any], qtbot: Any) -> None:
    atlas, menu, window = world["atlas"], world["menu"], world["window"]
    before = atlas.state.orders("confirmed", 0, 100)[0]
    dialog = _fill(qtbot, menu, menu.order_action)
    dialog.quantity_box.setValue(7)
    item = dialog.item()
    dialog.accept()
    qtbot.waitUntil(lambda: "Ordered 7 of" in _log(window), timeout=10_000)
    after = atlas.state.orders("confirmed", 0, 100)[0]
    assert len(after) == len(before) + 1
    assert after[-1]["lines"][0]["name"] == item.name and after[-1]["lines"][0]["quantity"] == "7"


@pytest.mark.parametrize(
    ("which", "words", "delta"), [("receive", "Received 4 of", 4), ("issue", "Issued 4 of", -4)]
)
def test_receiving_and_issuing_move_erp_stock(
    world: dict[str, Any], qtbot: Any, which: str, words: str, delta: int
) -> None:
    netsuite, menu, window = world["netsuite"], world["menu"], world["window"]
    dialog = _fill(qtbot, menu, getattr(menu, f"{which}_action"))
    item = next(i for i in dialog.items if i.quantity >= 4)
    dialog.select(item.key)
    dialog.quantity_box.setValue(4)
    dialog.accept()
    qtbot.waitUntil(lambda: words in _log(window), timeout=10_000)
    item_id, location, lot = item.key.split("|")
    assert netsuite.state.stock(int(item_id), int(location), lot or None) == item.quantity + delta


def test_a_lots_expiry_changes_in_the_erp(world: dict[str, Any], qtbot: Any) -> None:
    netsuite, menu, window = world["netsuite"], world["menu"], world["window"]
    dialog = _fill(qtbot, menu, menu.expiry_action)
    assert dialog.items and all(i.lot for i in dialog.items)  # only lots have an expiry
    item = dialog.items[0]
    dialog.select(item.key)
    dialog.expiry_box.setDate(QDate(2031, 5, 31))
    dialog.accept()
    qtbot.waitUntil(lambda: "to 2031-05-31 in NetSuite" in _log(window), timeout=10_000)
    item_id, _location, lot = item.key.split("|")
    sql = "SELECT expirationdate FROM inventorynumber WHERE item = ? AND inventorynumber = ?"
    row = netsuite.state.one(sql, (int(item_id), lot))
    assert row["expirationdate"].startswith("2031-05-31")


def test_a_fault_makes_the_erp_refuse_its_next_requests(world: dict[str, Any], qtbot: Any) -> None:
    netsuite, menu, window = world["netsuite"], world["menu"], world["window"]
    dialog = _fill(qtbot, menu, menu.fault_action)
    assert isinstance(dialog, SandboxFaultDialog)
    dialog.status_box.setCurrentIndex(dialog.status_box.findData(429))
    dialog.times_box.setValue(2)
    dialog.accept()
    qtbot.waitUntil(lambda: "HTTP 429 to its next 2 requests" in _log(window), timeout=10_000)
    assert [(r.kind, r.status, r.times) for r in netsuite.faults.rules] == [("status", 429, 2)]


def test_a_refusal_is_said_in_the_log_not_raised(world: dict[str, Any], qtbot: Any) -> None:
    menu, window = world["menu"], world["window"]
    dialog = _fill(qtbot, menu, menu.issue_action)
    dialog.quantity_box.setValue(999_999)
    dialog.accept()
    qtbot.waitUntil(lambda: "Sandbox: " in _log(window), timeout=10_000)


def test_a_sale_made_in_the_menu_reaches_the_erp_at_the_next_sync(
    world: dict[str, Any], qtbot: Any, qloop: Any
) -> None:
    """The demo as a person runs it: the menu offers the connection's mapped items; one sold there is taken
    off the ERP's stock by the next sync."""
    netsuite, atlas, services = world["netsuite"], world["atlas"], world["services"]
    spec = parse_connection(netsuite.credential_files(NS_URL)["netsuite.json"])
    connection_id = services.connections.add(spec)
    services.atlas_accounts.save(
        base_url=ATLAS_URL, auth_method="api_token", secrets={"api_token": Secret(atlas.api_token)}
    )
    engine = build_engine(services, transport=httpx.ASGITransport(app=netsuite.app),
                          atlas_options={"transport": httpx.ASGITransport(app=atlas.app)})  # fmt: skip
    window = MainWindow(services.connections, engine, lambda: None, sandbox=True,  # type: ignore[arg-type]
                        monitoring=MonitoringContext.for_services(engine, services))  # fmt: skip
    qtbot.addWidget(window)
    router = Router({NS_URL: netsuite.app, ATLAS_URL: atlas.app})
    client = SandboxClient(ATLAS_URL, NS_URL, "NetSuite", transport=router)
    menu = install_sandbox_menu(window, lambda erp: client)
    try:
        _run(qtbot, engine.discover(connection_id))
        assert str(_run(qtbot, engine.sync(connection_id, approve=True)).status) == "success"
        matched = engine.repos.mappings.page(
            connection_id, status=MappingStatus.MATCHED, search=None, offset=0, limit=1000
        )
        window.refresh()
        dialog = _fill(qtbot, menu, menu.sell_action)
        assert {i.key for i in dialog.items} == {m.atlas_inventory_id for m in matched}  # the mapped ones
        assert len(dialog.items) < len(atlas.rows())
        mapping = next(m for m in matched if Decimal(atlas.row(m.atlas_inventory_id)["quantity"]) >= 2)
        erp_key = (int(mapping.erp_item_id), int(mapping.erp_location_id), mapping.lot)
        before = netsuite.state.stock(*erp_key)
        dialog.select(mapping.atlas_inventory_id)
        dialog.quantity_box.setValue(2)
        dialog.accept()
        qtbot.waitUntil(lambda: "Sold 2 of" in _log(window), timeout=10_000)
        assert netsuite.state.stock(*erp_key) == before  # not yet: the sync carries it
        assert str(_run(qtbot, engine.sync(connection_id)).status) == "success"
        assert netsuite.state.stock(*erp_key) == before - 2
        # An order placed in the menu becomes a purchase order, with the Transactions scope on.
        scopes = {**services.connections.summary(connection_id).sync_scopes, "transactions": True}
        services.connections.update(connection_id, sync_scopes=scopes)
        _run(qtbot, engine.sync(connection_id))  # the seeded orders first
        orders_before = netsuite.state.count_transactions("purchaseorder")
        dialog = _fill(qtbot, menu, menu.order_action)
        dialog.select(mapping.atlas_inventory_id)
        dialog.quantity_box.setValue(6)
        dialog.accept()
        qtbot.waitUntil(lambda: "Ordered 6 of" in _log(window), timeout=10_000)
        _run(qtbot, engine.sync(connection_id))
        assert netsuite.state.count_transactions("purchaseorder") == orders_before + 1
    finally:
        _run(qtbot, menu.aclose())
        _run(qtbot, window.aclose())
        window.close()
        _run(qtbot, engine.aclose())


def test_the_sell_dialog_renders(world: dict[str, Any], qtbot: Any) -> None:
    """docs/screenshots/sandbox-sell.png when ATLAS_SCREENSHOT_DIR names a folder."""
    menu, window = world["menu"], world["window"]
    window.resize(960, 600)
    window.show()
    dialog = _fill(qtbot, menu, menu.sell_action)
    dialog.select(next(i for i in dialog.items if i.quantity >= 3).key)
    dialog.quantity_box.setValue(3)
    QApplication.processEvents()
    image = dialog.grab()
    assert image.width() >= 300 and image.height() >= 100, image.size()
    if folder := os.environ.get("ATLAS_SCREENSHOT_DIR"):
        assert image.save(str(Path(folder) / "sandbox-sell.png"))
    dialog.reject()
