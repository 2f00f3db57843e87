"""The demo's `/_sandbox/` actions change each emulator as a user of that system would, and stay out of the
fault rules and the request counters the client under test is judged by."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import httpx
import pytest

from atlas_desktop.sandbox.atlas import AtlasEmulator
from atlas_desktop.sandbox.catalog import Catalog
from atlas_desktop.sandbox.netsuite import NetSuiteEmulator
from atlas_desktop.sandbox.sap import make_emulator, standard_configs

CATALOG = Catalog(seed=42, size=20)


def client(app: Any) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://sandbox")


async def test_a_sale_lowers_the_listing_and_an_order_is_a_confirmed_purchase() -> None:
    atlas = AtlasEmulator(catalog=CATALOG)
    async with client(atlas.app) as http:
        items = (await http.get("/_sandbox/marketplace/items")).json()
        row = next(i for i in items if Decimal(i["quantity"]) >= 3)
        sold = await http.post("/_sandbox/marketplace/sell", json={"id": row["id"], "quantity": "3"})
        assert sold.status_code == 200, sold.text
        assert Decimal(atlas.row(row["id"])["quantity"]) == Decimal(row["quantity"]) - 3
        too_many = await http.post("/_sandbox/marketplace/sell", json={"id": row["id"], "quantity": "999999"})
        assert too_many.status_code == 422 and "below zero" in too_many.json()["error"]
        before = len(atlas.state.orders("confirmed", 0, 100)[0])
        placed = await http.post("/_sandbox/marketplace/order", json={"id": row["id"], "quantity": "5"})
        assert placed.status_code == 200, placed.text
    orders = atlas.state.orders("confirmed", 0, 100)[0]
    assert len(orders) == before + 1
    assert orders[-1]["lines"][0]["ndc"] == row["ndc"] and orders[-1]["lines"][0]["quantity"] == "5"


@pytest.mark.parametrize("erp", ["netsuite", "sap"])
async def test_receive_issue_and_expiry_change_the_erp(erp: str) -> None:
    if erp == "netsuite":
        emulator: Any = NetSuiteEmulator(catalog=CATALOG)
    else:
        emulator = make_emulator(standard_configs()[1], CATALOG)
    async with client(emulator.app) as http:
        positions = (await http.get("/_sandbox/stock")).json()
        lot = next(p for p in positions if p["lot"] and Decimal(p["quantity"]) >= 2)
        got = await http.post("/_sandbox/stock/receive", json={"key": lot["key"], "quantity": "4"})
        assert got.status_code == 200, got.text
        assert Decimal(got.json()["quantity"]) == Decimal(lot["quantity"]) + 4
        issued = await http.post("/_sandbox/stock/issue", json={"key": lot["key"], "quantity": "1"})
        assert Decimal(issued.json()["quantity"]) == Decimal(lot["quantity"]) + 3
        refused = await http.post("/_sandbox/stock/issue", json={"key": lot["key"], "quantity": "100000"})
        assert refused.status_code == 400
        moved = await http.post("/_sandbox/stock/expiry", json={"key": lot["key"], "expiry": "2031-05-31"})
        assert moved.status_code == 200, moved.text
        again = {p["key"]: p for p in (await http.get("/_sandbox/stock")).json()}
    assert again[lot["key"]]["expiry"] == "2031-05-31"
    assert Decimal(again[lot["key"]]["quantity"]) == Decimal(lot["quantity"]) + 3
    # The ERP's own state agrees (not only the route's answer).
    if erp == "netsuite":
        item, location, number = lot["key"].split("|")
        assert emulator.state.stock(int(item), int(location), number) == Decimal(lot["quantity"]) + 3
    else:
        material, plant, sloc, batch = lot["key"].split("|")
        assert emulator.unrestricted_stock(material, plant, sloc, batch) == Decimal(lot["quantity"]) + 3


async def test_demo_actions_are_neither_faulted_nor_counted() -> None:
    emulator = NetSuiteEmulator(catalog=CATALOG)
    emulator.faults.add("status", status=503, times=2)
    async with client(emulator.app) as http:
        assert (await http.get("/_sandbox/stock")).status_code == 200
        assert emulator.app.stats.total == 0
        assert (await http.get("/services/rest/record/v1/item")).status_code == 503  # the client still is


async def test_bad_bodies_are_refused_with_a_reason() -> None:
    async with client(NetSuiteEmulator(catalog=CATALOG).app) as http:
        answer = await http.post("/_sandbox/stock/receive", json={"key": "1|1|", "quantity": 2.5})
        assert answer.status_code == 400 and "quantity" in answer.json()["error"]
        answer = await http.post("/_sandbox/stock/receive", json={"key": "x", "quantity": "1"})
        assert answer.status_code == 400 and "key" in answer.json()["error"]
