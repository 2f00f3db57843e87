"""Record API v1: paging, q filters, single reads, writes, externalId, adjustments with lots, stock rules."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import httpx
import pytest

from atlas_desktop.sandbox.netsuite import NetSuiteEmulator
from atlas_desktop.sandbox.netsuite.records import Paging

from .conftest import REST, ns_error

RECORD = f"{REST}/record/v1"


def lot_item(emulator: NetSuiteEmulator) -> tuple[int, int, str]:
    """(item id, inventory number id, lot text) of a seeded lot at MAIN (location 1) with stock."""
    row = emulator.state.one(
        "SELECT n.item, n.id, n.inventorynumber FROM inventorynumber n JOIN inventorynumberlocation l"
        " ON l.inventorynumber = n.id WHERE l.location = 1 AND l.quantityonhand > 5 ORDER BY n.id LIMIT 1"
    )
    assert row is not None
    return row[0], row[1], row[2]


def plain_item(emulator: NetSuiteEmulator) -> int:
    row = emulator.state.one(
        "SELECT i.id FROM item i JOIN aggregateitemlocation a ON a.item = i.id"
        " WHERE i.islotitem = 'F' AND a.location = 1 ORDER BY i.id LIMIT 1"
    )
    assert row is not None
    return int(row[0])


def adjustment(lines: list[dict[str, Any]], **header: Any) -> dict[str, Any]:
    return {"subsidiary": {"id": "1"}, "account": {"id": "58"}, "inventory": {"items": lines}, **header}


def receipt_line(
    item: int, qty: int, lot: str, expiry: str = "2028-01-31", location: int = 1
) -> dict[str, Any]:
    return {
        "item": {"id": str(item)},
        "location": {"id": str(location)},
        "adjustQtyBy": qty,
        "inventoryDetail": {
            "inventoryAssignment": {
                "items": [{"receiptInventoryNumber": lot, "expirationDate": expiry, "quantity": qty}]
            }
        },
    }


def issue_line(item: int, qty: int, lot_id: int, location: int = 1) -> dict[str, Any]:
    return {
        "item": {"id": str(item)},
        "location": {"id": str(location)},
        "adjustQtyBy": -qty,
        "inventoryDetail": {
            "inventoryAssignment": {
                "items": [{"issueInventoryNumber": {"id": str(lot_id)}, "quantity": -qty}]
            }
        },
    }


# ------------------------------------------------------------------ collections and paging


async def test_collection_pages_carry_ids_and_links_only(
    client: httpx.AsyncClient, emulator: NetSuiteEmulator
) -> None:
    total = emulator.state.one("SELECT COUNT(*) FROM item WHERE islotitem = 'T'")[0]  # type: ignore[index]
    seen: list[str] = []
    url: str | None = f"{RECORD}/lotNumberedInventoryItem?limit=10"
    pages = 0
    while url:
        response = await client.get(url)
        assert response.status_code == 200
        body = response.json()
        assert body["totalResults"] == total
        assert body["count"] == len(body["items"]) <= 10
        for item in body["items"]:
            assert set(item) == {"id", "links"}
        seen += [item["id"] for item in body["items"]]
        rels = {link["rel"]: link["href"] for link in body["links"]}
        assert rels["self"].endswith(f"offset={body['offset']}")
        assert body["hasMore"] == ("next" in rels)
        url = rels.get("next")
        pages += 1
    assert len(seen) == len(set(seen)) == total
    assert pages == -(-total // 10)


@pytest.mark.parametrize(
    ("query", "param"),
    [("limit=1001", "limit"), ("limit=0", "limit"), ("limit=10&offset=5", "offset"), ("limit=abc", "limit")],
)
async def test_paging_rules_are_enforced(client: httpx.AsyncClient, query: str, param: str) -> None:
    response = await client.get(f"{RECORD}/inventoryItem?{query}")
    assert response.status_code == 400
    assert response.json()["o:errorDetails"][0]["o:errorCode"] == "INVALID_PARAMETER"
    assert response.json()["o:errorDetails"][0]["o:errorQueryParam"] == param


async def test_paging_rules_are_configurable(emulator: NetSuiteEmulator, client: httpx.AsyncClient) -> None:
    emulator.paging.max_limit = 5
    emulator.paging.offset_multiple_of_limit = False
    assert (await client.get(f"{RECORD}/inventoryItem?limit=6")).status_code == 400
    response = await client.get(f"{RECORD}/lotNumberedInventoryItem?limit=5&offset=3")
    assert response.status_code == 200
    assert response.json()["offset"] == 3


async def test_default_limit_is_1000(client: httpx.AsyncClient) -> None:
    body = (await client.get(f"{RECORD}/location")).json()
    assert body["count"] == 3 and body["hasMore"] is False
    assert "limit=1000" in next(link["href"] for link in body["links"] if link["rel"] == "self")


async def test_record_types_are_case_insensitive_and_unknown_ones_refused(client: httpx.AsyncClient) -> None:
    assert (await client.get(f"{RECORD}/INVENTORYITEM?limit=1")).status_code == 200
    assert (await client.get(f"{RECORD}/lotnumberedinventoryitem?limit=1")).status_code == 200
    assert (await client.get(f"{RECORD}/salesWidget")).status_code == 404


async def test_q_filters_last_modified_date_in_the_account_format(
    client: httpx.AsyncClient, emulator: NetSuiteEmulator
) -> None:
    item = plain_item(emulator)
    emulator.state.edit_item(item, displayname="Renamed")  # seeded records are stamped a day earlier
    day = (emulator.clock()).strftime("%-m/%-d/%Y")
    response = await client.get(
        f"{RECORD}/inventoryItem", params={"q": f'lastModifiedDate ON_OR_AFTER "{day}"'}
    )
    assert response.status_code == 200
    assert [i["id"] for i in response.json()["items"]] == [str(item)]
    # AFTER a day means from the next day on
    after = await client.get(f"{RECORD}/inventoryItem", params={"q": f'lastModifiedDate AFTER "{day}"'})
    assert after.json()["totalResults"] == 0


@pytest.mark.parametrize("literal", ["2026-03-30", "30.3.2026", "13/45/2026"])
async def test_q_with_a_non_account_date_is_unparseable(client: httpx.AsyncClient, literal: str) -> None:
    response = await client.get(
        f"{RECORD}/inventoryItem", params={"q": f'lastModifiedDate AFTER "{literal}"'}
    )
    assert response.status_code == 400
    code, detail = ns_error(response)
    assert code == "INVALID_PARAMETER" and "Unparseable date" in detail and literal in detail


async def test_q_filters_external_id(client: httpx.AsyncClient, emulator: NetSuiteEmulator) -> None:
    item = plain_item(emulator)
    emulator.state.edit_item(item, externalid="ext-42")
    response = await client.get(f"{RECORD}/inventoryItem", params={"q": 'externalId IS "ext-42"'})
    assert [i["id"] for i in response.json()["items"]] == [str(item)]
    bad = await client.get(f"{RECORD}/inventoryItem", params={"q": 'noSuchField IS "x"'})
    assert bad.status_code == 400 and ns_error(bad)[0] == "INVALID_PARAMETER"


# ------------------------------------------------------------------ single records


async def test_lot_item_reads_with_lots_expiry_and_locations(
    client: httpx.AsyncClient, emulator: NetSuiteEmulator
) -> None:
    item, lot_id, lot = lot_item(emulator)
    response = await client.get(
        f"{RECORD}/lotNumberedInventoryItem/{item}", params={"expandSubResources": "true"}
    )
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/vnd.oracle.resource+json; type=singular"
    body = response.json()
    assert body["id"] == str(item) and body["isLotItem"] is True
    assert body["custitem_ndc_code"].count("-") == 2
    assert len(body["upcCode"]) == 12 and body["upcCode"].startswith("3")
    assert body["quantityOnHand"] == int(emulator.state.stock(item))
    numbers = {n["serialNumber"]: n for n in body["numbers"]["items"]}
    assert numbers[lot]["inventoryNumber"]["id"] == str(lot_id)
    assert numbers[lot]["quantityOnHand"] == str(int(emulator.state.stock(item, lot=lot)))
    assert len(numbers[lot]["expirationDate"]) == 10
    main = next(loc for loc in body["locations"]["items"] if loc["location"]["id"] == "1")
    assert main["location"]["refName"] == "Main warehouse"
    assert main["quantityOnHand"] == int(emulator.state.stock(item, 1))
    collapsed = (await client.get(f"{RECORD}/lotNumberedInventoryItem/{item}")).json()
    assert set(collapsed["numbers"]) == {"links"}


async def test_unknown_id_is_404_nonexistent_id(
    client: httpx.AsyncClient, emulator: NetSuiteEmulator
) -> None:
    for url in (
        f"{RECORD}/inventoryItem/999999",
        f"{RECORD}/inventoryItem/{lot_item(emulator)[0]}",
        f"{RECORD}/vendor/eid:nope",
    ):
        response = await client.get(url)
        assert response.status_code == 404
        assert ns_error(response) == (
            "NONEXISTENT_ID",
            "The record instance does not exist. Provide a valid record instance ID.",
        )


async def test_quantity_fields_are_read_only(client: httpx.AsyncClient, emulator: NetSuiteEmulator) -> None:
    item = plain_item(emulator)
    before = emulator.state.stock(item)
    response = await client.patch(f"{RECORD}/inventoryItem/{item}", json={"quantityOnHand": 5})
    assert response.status_code == 400
    assert response.json()["o:errorDetails"][0]["o:errorPath"] == "quantityOnHand"
    assert emulator.state.stock(item) == before


async def test_patch_changes_item_master_and_last_modified(
    client: httpx.AsyncClient, emulator: NetSuiteEmulator, clock: Any
) -> None:
    item = plain_item(emulator)
    before = emulator.state.get("item", item)["lastmodifieddate"]  # type: ignore[index]
    response = await client.patch(
        f"{RECORD}/inventoryItem/{item}", json={"displayName": "New name", "upcCode": None}
    )
    assert response.status_code == 204
    assert response.headers["location"].endswith(f"/services/rest/record/v1/inventoryItem/{item}")
    row = emulator.state.get("item", item)
    assert row["displayname"] == "New name" and row["upccode"] is None  # type: ignore[index]
    assert row["lastmodifieddate"] > before  # type: ignore[index]


async def test_strict_property_names(client: httpx.AsyncClient, emulator: NetSuiteEmulator) -> None:
    item = plain_item(emulator)
    lax = await client.patch(f"{RECORD}/inventoryItem/{item}", json={"colour": "red"})
    assert lax.status_code == 204
    strict = await client.patch(
        f"{RECORD}/inventoryItem/{item}",
        json={"colour": "red"},
        headers={"X-NetSuite-PropertyNameValidation": "Error"},
    )
    assert strict.status_code == 400 and ns_error(strict)[0] == "NONEXISTENT_FIELD"


# ------------------------------------------------------------------ adjustments: the only way stock moves


async def test_positive_lot_adjustment_creates_the_lot(
    client: httpx.AsyncClient, emulator: NetSuiteEmulator
) -> None:
    item, _, _ = lot_item(emulator)
    before = emulator.state.stock(item, 1)
    response = await client.post(
        f"{RECORD}/inventoryAdjustment",
        json=adjustment([receipt_line(item, 12, "NEW-LOT-1")], externalId="k-1"),
    )
    assert response.status_code == 204, response.text
    assert response.content == b""
    adj_id = response.headers["location"].rsplit("/", 1)[1]
    assert response.headers["location"].endswith(f"/record/v1/inventoryAdjustment/{adj_id}")
    assert emulator.state.stock(item, 1) == before + 12
    assert emulator.state.stock(item, 1, "NEW-LOT-1") == 12
    lot = emulator.state.one("SELECT expirationdate FROM inventorynumber WHERE inventorynumber = 'NEW-LOT-1'")
    assert lot[0].startswith("2028-01-31")  # type: ignore[index]
    by_eid = await client.get(f"{RECORD}/inventoryAdjustment/eid:k-1", params={"expandSubResources": "true"})
    line = by_eid.json()["inventory"]["items"][0]
    assert line["adjustQtyBy"] == 12
    assert line["inventoryDetail"]["inventoryAssignment"]["items"][0]["receiptInventoryNumber"] == "NEW-LOT-1"


async def test_negative_lot_adjustment_issues_from_the_lot(
    client: httpx.AsyncClient, emulator: NetSuiteEmulator
) -> None:
    item, lot_id, lot = lot_item(emulator)
    before = emulator.state.stock(item, 1, lot)
    response = await client.post(
        f"{RECORD}/inventoryAdjustment", json=adjustment([issue_line(item, 3, lot_id)])
    )
    assert response.status_code == 204, response.text
    assert emulator.state.stock(item, 1, lot) == before - 3


async def test_negative_stock_is_refused_and_nothing_posts(
    client: httpx.AsyncClient, emulator: NetSuiteEmulator
) -> None:
    item, lot_id, lot = lot_item(emulator)
    available = emulator.state.stock(item, 1, lot)
    body = adjustment(
        [receipt_line(item, 5, "OTHER-LOT"), issue_line(item, int(available) + 1, lot_id)], externalId="neg"
    )
    response = await client.post(f"{RECORD}/inventoryAdjustment", json=body)
    assert response.status_code == 400
    detail = response.json()["o:errorDetails"][0]
    assert detail["o:errorCode"] == "USER_ERROR"
    assert detail["o:errorPath"].startswith("inventory.items[1]")
    assert emulator.state.stock(item, 1, lot) == available
    assert emulator.state.stock(item, 1, "OTHER-LOT") == 0  # the first line was rolled back too
    assert emulator.state.count_transactions(external_id="neg") == 0


async def test_non_lot_item_adjustments_and_negative_refusal(
    client: httpx.AsyncClient, emulator: NetSuiteEmulator
) -> None:
    item = plain_item(emulator)
    before = emulator.state.stock(item, 1)
    line = {"item": {"id": str(item)}, "location": {"id": "1"}, "adjustQtyBy": "2.5"}
    assert (await client.post(f"{RECORD}/inventoryAdjustment", json=adjustment([line]))).status_code == 204
    assert emulator.state.stock(item, 1) == before + Decimal("2.5")
    line["adjustQtyBy"] = -(before + Decimal("2.5") + 1)
    refused = await client.post(
        f"{RECORD}/inventoryAdjustment",
        json=adjustment([{**line, "adjustQtyBy": float(line["adjustQtyBy"])}]),
    )
    assert refused.status_code == 400 and ns_error(refused)[0] == "USER_ERROR"


@pytest.mark.parametrize(
    ("mutate", "code", "path"),
    [
        (lambda b: b.pop("account"), "USER_ERROR", None),
        (lambda b: b.update(account={"id": "9999"}), "INVALID_CONTENT", "account"),
        (
            lambda b: b["inventory"]["items"][0].pop("inventoryDetail"),
            "USER_ERROR",
            "inventory.items[0].inventoryDetail",
        ),
        (
            lambda b: b["inventory"]["items"][0].update(item={"id": "999999"}),
            "INVALID_CONTENT",
            "inventory.items[0].item",
        ),
        (
            lambda b: b["inventory"]["items"][0].update(adjustQtyBy=11),
            "USER_ERROR",
            "inventory.items[0].inventoryDetail.inventoryAssignment",
        ),
        (
            lambda b: b["inventory"]["items"][0]["inventoryDetail"]["inventoryAssignment"]["items"][0].update(
                issueInventoryNumber={"id": "1"}
            ),
            "INVALID_CONTENT",
            "inventory.items[0].inventoryDetail.inventoryAssignment.items[0]",
        ),
    ],
)
async def test_adjustment_validation(
    client: httpx.AsyncClient, emulator: NetSuiteEmulator, mutate: Any, code: str, path: str | None
) -> None:
    item, _, _ = lot_item(emulator)
    body = adjustment([receipt_line(item, 12, "VAL-LOT")])
    mutate(body)
    response = await client.post(f"{RECORD}/inventoryAdjustment", json=body)
    assert response.status_code == 400, response.text
    detail = response.json()["o:errorDetails"][0]
    assert detail["o:errorCode"] == code
    assert detail.get("o:errorPath") == path
    assert emulator.state.count_transactions() == 0


async def test_external_id_is_unique_and_put_upserts(
    client: httpx.AsyncClient, emulator: NetSuiteEmulator
) -> None:
    item = plain_item(emulator)
    before = emulator.state.stock(item, 1)
    line = {"item": {"id": str(item)}, "location": {"id": "1"}, "adjustQtyBy": 4}
    first = await client.post(f"{RECORD}/inventoryAdjustment", json=adjustment([line], externalId="sync-1"))
    assert first.status_code == 204
    again = await client.post(f"{RECORD}/inventoryAdjustment", json=adjustment([line], externalId="sync-1"))
    assert again.status_code == 400
    detail = again.json()["o:errorDetails"][0]
    assert detail["o:errorCode"] == "USER_ERROR" and "already exists" in detail["detail"]
    assert emulator.state.count_transactions(external_id="sync-1") == 1
    assert emulator.state.stock(item, 1) == before + 4
    # PUT eid: updates the same record (the line is replaced, not added), and creates when new
    put = await client.put(
        f"{RECORD}/inventoryAdjustment/eid:sync-1", json=adjustment([{**line, "adjustQtyBy": 6}])
    )
    assert put.status_code == 204
    assert put.headers["location"] == first.headers["location"]
    assert emulator.state.stock(item, 1) == before + 6
    created = await client.put(f"{RECORD}/inventoryAdjustment/eid:sync-2", json=adjustment([line]))
    assert created.status_code == 204 and created.headers["location"] != first.headers["location"]
    assert emulator.state.count_transactions() == 2
    assert (await client.get(f"{RECORD}/inventoryAdjustment/eid:sync-2")).json()["externalId"] == "sync-2"


async def test_purchase_order_create_and_upsert(
    client: httpx.AsyncClient, emulator: NetSuiteEmulator
) -> None:
    item = plain_item(emulator)
    order = {
        "entity": {"id": "1"},
        "location": {"id": "1"},
        "item": {"items": [{"item": {"id": str(item)}, "quantity": 10, "rate": 2.5}]},
    }
    response = await client.put(f"{RECORD}/purchaseOrder/eid:ATLAS-ORDER-1", json=order)
    assert response.status_code == 204, response.text
    body = (await client.get(response.headers["location"], params={"expandSubResources": "true"})).json()
    assert body["externalId"] == "ATLAS-ORDER-1" and body["entity"]["id"] == "1"
    assert body["item"]["items"][0]["quantity"] == 10 and body["item"]["items"][0]["amount"] == 25
    on_order = emulator.state.one(
        "SELECT quantityonorder FROM aggregateitemlocation WHERE item = ? AND location = 1", (item,)
    )
    assert on_order[0] == 10  # type: ignore[index]
    again = await client.put(f"{RECORD}/purchaseOrder/eid:ATLAS-ORDER-1", json=order)
    assert again.headers["location"] == response.headers["location"]
    assert emulator.state.count_transactions("purchaseorder") == 1
    missing_vendor = await client.post(f"{RECORD}/purchaseOrder", json={"item": order["item"]})
    assert missing_vendor.status_code == 400


async def test_inventory_numbers_cannot_be_created_but_expiry_can_change(
    client: httpx.AsyncClient, emulator: NetSuiteEmulator
) -> None:
    _, lot_id, _ = lot_item(emulator)
    assert (await client.post(f"{RECORD}/inventoryNumber", json={"inventoryNumber": "X"})).status_code == 400
    response = await client.patch(f"{RECORD}/inventoryNumber/{lot_id}", json={"expirationDate": "2029-12-31"})
    assert response.status_code == 204
    assert (await client.get(f"{RECORD}/inventoryNumber/{lot_id}")).json()["expirationDate"] == "2029-12-31"


async def test_respond_async_is_not_emulated(client: httpx.AsyncClient) -> None:
    response = await client.get(f"{RECORD}/location", headers={"Prefer": "respond-async"})
    assert response.status_code == 400
    assert response.json()["o:errorDetails"][0]["o:errorHeader"] == "Prefer"


def test_paging_object_defaults() -> None:
    assert Paging().max_limit == 1000 and Paging().offset_multiple_of_limit is True
