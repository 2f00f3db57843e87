"""Stock moves through the real transaction types (reference §9), in SuiteQL with isinventoryaffecting."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import httpx
import pytest

from atlas_desktop.sandbox.netsuite import NetSuiteEmulator
from atlas_desktop.sandbox.netsuite.activity import TRANSACTIONS_PATH, Component

from .conftest import HOST, suiteql

LOT_ITEM, PLAIN_ITEM, BUILT_ITEM = 103, 101, 105  # seeded: 103 lot B1156T at 1, 2, 3; 101 at 1 (51.5), 2


async def lines(client: httpx.AsyncClient, txn: int) -> list[dict[str, Any]]:
    response = await suiteql(
        client,
        "SELECT t.type, t.recordtype, tl.item, tl.location, tl.quantity, tl.isinventoryaffecting, "
        "BUILTIN.DF(t.type) AS typename FROM transactionline tl JOIN transaction t ON t.id = tl.transaction "
        f"WHERE t.id = {txn} AND tl.mainline = 'F' ORDER BY tl.id",
    )
    assert response.status_code == 200, response.text
    return [{k: v for k, v in row.items() if k != "links"} for row in response.json()["items"]]


async def lots(client: httpx.AsyncClient, txn: int) -> list[tuple[str, str]]:
    response = await suiteql(
        client,
        "SELECT n.inventorynumber AS lot, a.quantity FROM inventoryassignment a JOIN inventorynumber n "
        f"ON n.id = a.inventorynumber WHERE a.transaction = {txn} ORDER BY a.transactionline",
    )
    return [(row["lot"], row["quantity"]) for row in response.json()["items"]]


def line(kind: str, record: str, name: str, item: int, location: int, qty: str) -> dict[str, str]:
    return {
        "type": kind,
        "recordtype": record,
        "typename": name,
        "item": str(item),
        "location": str(location),
        "quantity": qty,
        "isinventoryaffecting": "T",
    }


async def test_item_receipt_creates_the_lot_and_adds_stock(
    client: httpx.AsyncClient, emulator: NetSuiteEmulator
) -> None:
    state = emulator.state
    txn = emulator.activity.item_receipt(LOT_ITEM, 1, 6, "RCPT-1", date(2028, 1, 31))
    assert await lines(client, txn) == [line("ItemRcpt", "itemreceipt", "Item Receipt", LOT_ITEM, 1, "6")]
    assert await lots(client, txn) == [("RCPT-1", "6")]
    assert state.stock(LOT_ITEM, 1, "RCPT-1") == 6


async def test_fulfilment_cash_sale_and_invoice_take_stock_out(
    client: httpx.AsyncClient, emulator: NetSuiteEmulator
) -> None:
    state, activity = emulator.state, emulator.activity
    shipped = activity.fulfil(LOT_ITEM, 2, 5, "B1156T")
    sold = activity.sell(PLAIN_ITEM, 1, Decimal("1.5"))
    invoiced = activity.sell(PLAIN_ITEM, 2, 9, invoice=True)
    assert await lines(client, shipped) == [
        line("ItemShip", "itemfulfillment", "Item Fulfillment", LOT_ITEM, 2, "-5")
    ]
    assert await lots(client, shipped) == [("B1156T", "-5")]
    assert await lines(client, sold) == [line("CashSale", "cashsale", "Cash Sale", PLAIN_ITEM, 1, "-1.5")]
    assert await lines(client, invoiced) == [line("CustInvc", "invoice", "Invoice", PLAIN_ITEM, 2, "-9")]
    assert (state.stock(LOT_ITEM, 2, "B1156T"), state.stock(PLAIN_ITEM, 1), state.stock(PLAIN_ITEM, 2)) == (
        36,
        50,
        90,
    )


async def test_transfer_moves_a_lot_between_two_locations(
    client: httpx.AsyncClient, emulator: NetSuiteEmulator
) -> None:
    state = emulator.state
    txn = emulator.activity.transfer(LOT_ITEM, 1, 3, 10, "B1156T")
    expected = [
        line("InvTrnfr", "inventorytransfer", "Inventory Transfer", LOT_ITEM, 1, "-10"),
        line("InvTrnfr", "inventorytransfer", "Inventory Transfer", LOT_ITEM, 3, "10"),
    ]
    assert await lines(client, txn) == expected
    assert await lots(client, txn) == [("B1156T", "-10"), ("B1156T", "10")]
    header = (
        await suiteql(client, f"SELECT location, transferlocation FROM transaction WHERE id = {txn}")
    ).json()
    assert header["items"][0]["location"] == "1" and header["items"][0]["transferlocation"] == "3"
    assert (state.stock(LOT_ITEM, 1, "B1156T"), state.stock(LOT_ITEM, 3, "B1156T")) == (400, 89)
    assert state.stock(LOT_ITEM) == 410 + 41 + 79  # moved, not made


async def test_assembly_build_consumes_components_and_makes_the_assembly(
    client: httpx.AsyncClient, emulator: NetSuiteEmulator
) -> None:
    state = emulator.state
    txn = emulator.activity.build(
        BUILT_ITEM, 1, 4, [Component(PLAIN_ITEM, 2), Component(LOT_ITEM, 8, "B1156T")]
    )
    assert await lines(client, txn) == [
        line("Build", "assemblybuild", "Assembly Build", BUILT_ITEM, 1, "4"),
        line("Build", "assemblybuild", "Assembly Build", PLAIN_ITEM, 1, "-2"),
        line("Build", "assemblybuild", "Assembly Build", LOT_ITEM, 1, "-8"),
    ]
    assert await lots(client, txn) == [("B1156T", "-8")]
    assert (state.stock(BUILT_ITEM, 1), state.stock(PLAIN_ITEM, 1), state.stock(LOT_ITEM, 1)) == (
        68,
        Decimal("49.5"),
        402,
    )


async def test_status_change_keeps_on_hand_and_moves_available(
    client: httpx.AsyncClient, emulator: NetSuiteEmulator
) -> None:
    txn = emulator.activity.change_status(LOT_ITEM, 2, 7, "B1156T", to_status=2)
    assert [row["quantity"] for row in await lines(client, txn)] == ["-7", "7"]
    assert {row["type"] for row in await lines(client, txn)} == {"InvStCng"}
    totals = (
        await suiteql(
            client,
            "SELECT quantityonhand, quantityavailable FROM aggregateitemlocation "
            f"WHERE item = {LOT_ITEM} AND location = 2",
        )
    ).json()["items"][0]
    assert (totals["quantityonhand"], totals["quantityavailable"]) == ("41", "34")
    by_status = (
        await suiteql(
            client,
            "SELECT BUILTIN.DF(inventorystatus) AS status, quantityonhand, quantityavailable "
            f"FROM inventorybalance WHERE item = {LOT_ITEM} AND location = 2 ORDER BY inventorystatus",
        )
    ).json()["items"]
    assert [(r["status"], r["quantityonhand"], r["quantityavailable"]) for r in by_status] == [
        ("Good", "34", "34"),
        ("Quarantine", "7", "0"),
    ]


async def test_every_stock_move_is_inventory_affecting_and_a_purchase_order_is_not(
    client: httpx.AsyncClient, emulator: NetSuiteEmulator
) -> None:
    activity = emulator.activity
    activity.item_receipt(PLAIN_ITEM, 3, 2)
    activity.transfer(PLAIN_ITEM, 1, 3, 1)
    emulator.state.receive(PLAIN_ITEM, 1, 1)
    emulator.state.post_purchase_order({"entity": 1, "location": 1}, [(PLAIN_ITEM, Decimal(5), None, 1)])
    response = await suiteql(
        client,
        "SELECT t.type, tl.isinventoryaffecting AS moves FROM transactionline tl JOIN transaction t "
        "ON t.id = tl.transaction WHERE tl.mainline = 'F' ORDER BY tl.uniquekey",
    )
    assert [(r["type"], r["moves"]) for r in response.json()["items"]] == [
        ("ItemRcpt", "T"),
        ("InvTrnfr", "T"),
        ("InvTrnfr", "T"),
        ("InvAdjst", "T"),
        ("PurchOrd", "F"),
    ]


@pytest.mark.parametrize(
    ("move", "message"),
    [
        (lambda a: a.fulfil(LOT_ITEM, 2, 42, "B1156T"), "cannot go below zero"),
        (lambda a: a.transfer(LOT_ITEM, 1, 2, 1), "lot numbered"),
        (lambda a: a.sell(PLAIN_ITEM, 1, 0), "must be positive"),
        (lambda a: a.transfer(PLAIN_ITEM, 1, 1, 1), "two different locations"),
    ],
)
def test_refused_moves_post_nothing(emulator: NetSuiteEmulator, move: Any, message: str) -> None:
    before = emulator.state.count_transactions("itemfulfillment") + emulator.state.count_transactions(
        "inventorytransfer"
    )
    with pytest.raises(Exception, match=message):
        move(emulator.activity)
    after = emulator.state.count_transactions("itemfulfillment") + emulator.state.count_transactions(
        "inventorytransfer"
    )
    assert after == before and emulator.state.stock(LOT_ITEM, 2, "B1156T") == 41


async def test_control_route_posts_every_kind(emulator: NetSuiteEmulator) -> None:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=emulator.app), base_url=HOST) as http:
        bodies = [
            {"type": "ItemRcpt", "item": LOT_ITEM, "location": 1, "quantity": "3", "lot": "R9",
             "expiry": "2029-01-01"},
            {"type": "ItemShip", "item": PLAIN_ITEM, "location": 1, "quantity": "1"},
            {"type": "CashSale", "item": PLAIN_ITEM, "location": 1, "quantity": "1"},
            {"type": "CustInvc", "item": PLAIN_ITEM, "location": 1, "quantity": "1"},
            {"type": "InvTrnfr", "item": LOT_ITEM, "location": 1, "to_location": 2, "quantity": "2",
             "lot": "R9"},
            {"type": "Build", "item": BUILT_ITEM, "location": 1, "quantity": "1",
             "components": [{"item": PLAIN_ITEM, "quantity": "2"}]},
            {"type": "InvStCng", "item": PLAIN_ITEM, "location": 2, "quantity": "4", "to_status": 3},
        ]  # fmt: skip
        for body in bodies:
            response = await http.post(TRANSACTIONS_PATH, json=body)
            assert response.status_code == 201, response.text
            txn = emulator.state.get("transaction", response.json()["id"])
            assert txn is not None and txn["type"] == body["type"]
        refused = await http.post(TRANSACTIONS_PATH, json={"type": "ItemShip", "item": 101, "location": 1,
                                                           "quantity": "999"})  # fmt: skip
        assert refused.status_code == 400
        assert refused.json()["o:errorDetails"][0]["o:errorCode"] == "USER_ERROR"
    state = emulator.state
    assert (state.stock(LOT_ITEM, 1, "R9"), state.stock(LOT_ITEM, 2, "R9")) == (1, 2)
    assert state.stock(PLAIN_ITEM, 1) == Decimal("51.5") - 5


def test_every_stock_transaction_announces_itself_like_an_adjustment(
    emulator: NetSuiteEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    events: list[Any] = []
    emulator.webhooks.configure("http://127.0.0.1:9/hook", "secret")
    monkeypatch.setattr(emulator.webhooks, "notify", events.append)
    emulator.activity.transfer(LOT_ITEM, 1, 2, 1, "B1156T")
    emulator.activity.build(BUILT_ITEM, 1, 1, [Component(PLAIN_ITEM, 1)])
    assert [(e["type"], e["data"]["recordType"], e["data"]["items"]) for e in events] == [
        ("inventory.updated", "inventorytransfer", [LOT_ITEM]),
        ("inventory.updated", "assemblybuild", [PLAIN_ITEM, BUILT_ITEM]),
    ]
