"""Writes as strict as production: duplicate externalId wording, lines per transaction, line error paths."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from atlas_desktop.sandbox.netsuite import NetSuiteEmulator

from .test_ns_emu_records import RECORD, adjustment, lot_item, plain_item, receipt_line

DUPLICATE = "Error while accessing a resource. This record already exists."


def plain_line(item: int, qty: int = 1, location: int = 1) -> dict[str, Any]:
    return {"item": {"id": str(item)}, "location": {"id": str(location)}, "adjustQtyBy": qty}


def po(lines: int, item: int, **header: Any) -> dict[str, Any]:
    return {
        "entity": {"id": "1"},
        "location": {"id": "1"},
        "item": {"items": [{"item": {"id": str(item)}, "quantity": 1, "rate": 2} for _ in range(lines)]},
        **header,
    }


# ------------------------------------------------------------------ duplicate externalId


@pytest.mark.parametrize("record", ["inventoryAdjustment", "purchaseOrder"])
async def test_duplicate_external_id_is_worded_as_real_rest_words_it(
    client: httpx.AsyncClient, emulator: NetSuiteEmulator, record: str
) -> None:
    item = plain_item(emulator)
    body = (
        adjustment([plain_line(item)], externalId="dup-1")
        if record == "inventoryAdjustment"
        else po(1, item, externalId="dup-1")
    )
    assert (await client.post(f"{RECORD}/{record}", json=body)).status_code == 204
    again = await client.post(f"{RECORD}/{record}", json=body)
    assert again.status_code == 400
    payload = again.json()
    assert payload["title"] == "Bad Request" and payload["status"] == 400
    assert payload["o:errorDetails"] == [{"detail": DUPLICATE, "o:errorCode": "USER_ERROR"}]
    assert "external" not in again.text.lower() and "dup-1" not in again.text


async def test_patching_in_another_records_external_id_gets_the_same_answer(
    client: httpx.AsyncClient, emulator: NetSuiteEmulator
) -> None:
    item = plain_item(emulator)
    for key in ("a-1", "a-2"):
        body = adjustment([plain_line(item)], externalId=key)
        assert (await client.post(f"{RECORD}/inventoryAdjustment", json=body)).status_code == 204
    clash = await client.patch(f"{RECORD}/inventoryAdjustment/eid:a-2", json={"externalId": "a-1"})
    assert clash.status_code == 400
    assert clash.json()["o:errorDetails"] == [{"detail": DUPLICATE, "o:errorCode": "USER_ERROR"}]


# ------------------------------------------------------------------ lines per transaction


def test_the_line_limit_defaults_to_a_thousand(emulator: NetSuiteEmulator) -> None:
    assert emulator.write_limits.max_lines == 1000


async def test_an_adjustment_over_the_line_limit_is_refused_naming_the_limit(
    client: httpx.AsyncClient, emulator: NetSuiteEmulator
) -> None:
    item = plain_item(emulator)
    before = emulator.state.stock(item, 1)
    over = await client.post(
        f"{RECORD}/inventoryAdjustment", json=adjustment([plain_line(item)] * 1001, externalId="big")
    )
    assert over.status_code == 400, over.text
    detail = over.json()["o:errorDetails"][0]
    assert detail["o:errorCode"] == "USER_ERROR"
    assert "1000" in detail["detail"] and "1001" in detail["detail"]
    assert detail["o:errorPath"] == "inventory.items[1000]"  # the first line beyond the limit
    assert emulator.state.count_transactions() == 0 and emulator.state.stock(item, 1) == before
    at_limit = await client.post(f"{RECORD}/inventoryAdjustment", json=adjustment([plain_line(item)] * 1000))
    assert at_limit.status_code == 204, at_limit.text
    assert emulator.state.stock(item, 1) == before + 1000


async def test_the_line_limit_is_a_setting_and_binds_purchase_orders_too(
    client: httpx.AsyncClient, emulator: NetSuiteEmulator
) -> None:
    emulator.write_limits.max_lines = 3
    item = plain_item(emulator)
    refused = await client.post(f"{RECORD}/purchaseOrder", json=po(4, item))
    assert refused.status_code == 400, refused.text
    detail = refused.json()["o:errorDetails"][0]
    assert "at most 3 lines" in detail["detail"] and detail["o:errorPath"] == "item.items[3]"
    assert emulator.state.count_transactions("purchaseorder") == 0
    assert (await client.post(f"{RECORD}/purchaseOrder", json=po(3, item))).status_code == 204


async def test_lines_appended_by_patch_count_with_the_lines_already_there(
    client: httpx.AsyncClient, emulator: NetSuiteEmulator
) -> None:
    emulator.write_limits.max_lines = 3
    item = plain_item(emulator)
    body = adjustment([plain_line(item)] * 2, externalId="grow")
    assert (await client.post(f"{RECORD}/inventoryAdjustment", json=body)).status_code == 204
    more = {"inventory": {"items": [plain_line(item)] * 2}}
    refused = await client.patch(f"{RECORD}/inventoryAdjustment/eid:grow", json=more)
    assert refused.status_code == 400, refused.text
    assert refused.json()["o:errorDetails"][0]["o:errorPath"] == "inventory.items[1]"
    # replacing the sublist counts only the new lines
    replaced = await client.patch(f"{RECORD}/inventoryAdjustment/eid:grow?replace=inventory", json=more)
    assert replaced.status_code == 204, replaced.text


# ------------------------------------------------------------------ every line-level error names its line


async def test_undoing_a_line_whose_lot_was_issued_since_names_that_line(
    client: httpx.AsyncClient, emulator: NetSuiteEmulator
) -> None:
    item, _, _ = lot_item(emulator)
    plain = plain_item(emulator)
    body = adjustment([plain_line(plain), receipt_line(item, 5, "UNDO-LOT")], externalId="undo")
    assert (await client.post(f"{RECORD}/inventoryAdjustment", json=body)).status_code == 204
    emulator.state.issue(item, 1, 4, "UNDO-LOT")  # a warehouse user took most of the lot since
    put = await client.put(f"{RECORD}/inventoryAdjustment/eid:undo", json=adjustment([plain_line(plain)]))
    assert put.status_code == 400, put.text
    detail = put.json()["o:errorDetails"][0]
    assert detail["o:errorCode"] == "USER_ERROR"
    assert detail["o:errorPath"].startswith("inventory.items[1].")


@pytest.mark.parametrize(
    ("line", "path"),
    [
        ({"location": {"id": "1"}, "adjustQtyBy": 1}, "inventory.items[2].item"),
        ({"item": {"id": "999999"}, "location": {"id": "1"}, "adjustQtyBy": 1}, "inventory.items[2].item"),
        ({"item": "ITEM", "location": {"id": "1"}, "adjustQtyBy": 1}, "inventory.items[2].item"),
        ("PLAIN", "inventory.items[2].location"),
        ("PLAIN-BAD-LOCATION", "inventory.items[2].location"),
        ("PLAIN-NO-QTY", "inventory.items[2].adjustQtyBy"),
        ("PLAIN-ZERO", "inventory.items[2].adjustQtyBy"),
        ("PLAIN-TOO-MANY", "inventory.items[2]"),
        ("PLAIN-WITH-DETAIL", "inventory.items[2].inventoryDetail"),
        ("LOT-NO-DETAIL", "inventory.items[2].inventoryDetail"),
        ("LOT-SUM", "inventory.items[2].inventoryDetail.inventoryAssignment"),
        ("LOT-BOTH", "inventory.items[2].inventoryDetail.inventoryAssignment.items[0]"),
        ("LOT-NEGATIVE-RECEIPT", "inventory.items[2].inventoryDetail.inventoryAssignment.items[0].quantity"),
        ("LOT-OVER-ISSUE", "inventory.items[2].inventoryDetail.inventoryAssignment.items[0]"),
        ("NOT-AN-OBJECT", "inventory.items[2]"),
    ],
)
async def test_each_line_level_refusal_names_the_line(
    client: httpx.AsyncClient, emulator: NetSuiteEmulator, line: Any, path: str
) -> None:
    item, lot_id, lot = lot_item(emulator)
    plain = plain_item(emulator)
    available = int(emulator.state.stock(item, 1, lot))
    built: dict[str, Any] = {
        "PLAIN": {"item": {"id": str(plain)}, "adjustQtyBy": 1},
        "PLAIN-BAD-LOCATION": {"item": {"id": str(plain)}, "location": {"id": "999"}, "adjustQtyBy": 1},
        "PLAIN-NO-QTY": {"item": {"id": str(plain)}, "location": {"id": "1"}},
        "PLAIN-ZERO": plain_line(plain, 0),
        "PLAIN-TOO-MANY": plain_line(plain, -(int(emulator.state.stock(plain, 1)) + 2)),  # line 0 adds 1
        "PLAIN-WITH-DETAIL": {
            **plain_line(plain),
            "inventoryDetail": receipt_line(item, 1, "X")["inventoryDetail"],
        },
        "LOT-NO-DETAIL": plain_line(item, 1),
        "LOT-SUM": {**receipt_line(item, 2, "SUM-LOT"), "adjustQtyBy": 3},
        "LOT-BOTH": {
            **plain_line(item, 1),
            "inventoryDetail": {
                "inventoryAssignment": {
                    "items": [
                        {
                            "receiptInventoryNumber": "B",
                            "issueInventoryNumber": {"id": str(lot_id)},
                            "quantity": 1,
                        }
                    ]
                }
            },
        },
        "LOT-NEGATIVE-RECEIPT": {
            **plain_line(item, -1),
            "inventoryDetail": {
                "inventoryAssignment": {"items": [{"receiptInventoryNumber": "NEG", "quantity": -1}]}
            },
        },
        "LOT-OVER-ISSUE": {
            **plain_line(item, -(available + 1)),
            "inventoryDetail": {
                "inventoryAssignment": {
                    "items": [{"issueInventoryNumber": {"id": str(lot_id)}, "quantity": -(available + 1)}]
                }
            },
        },
        "NOT-AN-OBJECT": "a line",
    }
    bad = built.get(line, line) if isinstance(line, str) else line
    body = adjustment([plain_line(plain), receipt_line(item, 1, "GOOD-LOT"), bad])
    response = await client.post(f"{RECORD}/inventoryAdjustment", json=body)
    assert response.status_code == 400, response.text
    detail = response.json()["o:errorDetails"][0]
    assert detail["o:errorPath"] == path, detail
    assert emulator.state.count_transactions() == 0


async def test_a_purchase_order_line_refusal_names_the_line(
    client: httpx.AsyncClient, emulator: NetSuiteEmulator
) -> None:
    item = plain_item(emulator)
    body = po(3, item)
    body["item"]["items"][1]["location"] = {"id": "999"}
    response = await client.post(f"{RECORD}/purchaseOrder", json=body)
    assert response.status_code == 400
    assert response.json()["o:errorDetails"][0]["o:errorPath"] == "item.items[1].location"
    body = po(3, item)
    body["item"]["items"][2]["quantity"] = -1
    response = await client.post(f"{RECORD}/purchaseOrder", json=body)
    assert response.json()["o:errorDetails"][0]["o:errorPath"] == "item.items[2].quantity"
