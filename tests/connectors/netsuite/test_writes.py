"""Keyed writes against scripted answers: bodies, lot handling, in-doubt lookups, duplicate refusals."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import httpx
import pytest

from atlas_desktop.connectors.netsuite import build_connector
from atlas_desktop.domain.errors import ConfigError, ValidationFailed
from atlas_desktop.domain.model import PurchaseOrder, PurchaseOrderLine, StockChange, StockKey

from .helpers import error_response, make_spec, no_sleep, suiteql_response


class FakeNetSuite:
    """Answers SuiteQL by matching query text, records by a script; counts POST/PUT attempts."""

    def __init__(self) -> None:
        self.sql: dict[str, list[dict[str, Any]]] = {}
        self.writes: list[httpx.Request] = []
        self.write_script: list[object] = []
        self.applied: dict[str, str] = {}  # externalId -> id, for lookups

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/suiteql"):
            query = json.loads(request.content)["q"]
            if "FROM transaction WHERE externalid" in query:
                key = query.split("externalid = '", 1)[1].split("'", 1)[0]
                rows = (
                    [{"id": self.applied[key], "tranid": "ADJ7", "type": "InvAdjst"}]
                    if key in self.applied
                    else []
                )
                return suiteql_response(rows, offset=0, limit=5, total=len(rows))
            for needle, rows in self.sql.items():
                if needle in query:
                    return suiteql_response(rows, offset=0, limit=1000, total=len(rows))
            return suiteql_response([], offset=0, limit=1000, total=0)
        self.writes.append(request)
        item = self.write_script.pop(0) if self.write_script else "ok"
        body = json.loads(request.content)
        if item == "ok" or item == "drop":
            new_id = str(100 + len(self.writes))
            self.applied[body["externalId"]] = new_id
            if item == "drop":
                raise httpx.ReadTimeout("response lost")
            return httpx.Response(204, headers={"Location": f"http://x/services/rest/record/v1/t/{new_id}"})
        if isinstance(item, Exception):
            raise item
        assert isinstance(item, httpx.Response)
        return item


def connector_for(fake: FakeNetSuite, **settings: Any):  # noqa: ANN201
    spec = make_spec(settings={"adjustment_account_id": "2615", "subsidiary_id": "1", **settings})
    return build_connector(spec, transport=httpx.MockTransport(fake), sleep=no_sleep)


def posted(fake: FakeNetSuite, index: int = 0) -> dict[str, Any]:
    return json.loads(fake.writes[index].content)


async def test_positive_lot_adjustment_body() -> None:
    fake = FakeNetSuite()
    connector = connector_for(fake)
    change = StockChange(StockKey("991", "30", "LOT-A1"), Decimal(12), "EA", expiry=date(2027, 9, 1))
    result = await connector.adjust_stock(change, "key-1")
    assert result.remote_id == "101" and result.idempotency_key == "key-1"
    body = posted(fake)
    assert fake.writes[0].method == "POST" and fake.writes[0].url.path.endswith(
        "/record/v1/inventoryAdjustment"
    )
    assert body["externalId"] == "key-1"
    assert body["account"] == {"id": "2615"} and body["subsidiary"] == {"id": "1"}
    line = body["inventory"]["items"][0]
    assert line["item"] == {"id": "991"} and line["location"] == {"id": "30"} and line["adjustQtyBy"] == 12
    assignment = line["inventoryDetail"]["inventoryAssignment"]["items"][0]
    assert assignment == {"receiptInventoryNumber": "LOT-A1", "expirationDate": "2027-09-01", "quantity": 12}


async def test_negative_lot_adjustment_issues_the_existing_lot_by_id() -> None:
    fake = FakeNetSuite()
    fake.sql["FROM inventorynumber WHERE item = 991 AND inventorynumber = 'LOT''A1'"] = [{"id": "555"}]
    connector = connector_for(fake)
    await connector.adjust_stock(StockChange(StockKey("991", "30", "LOT'A1"), Decimal("-2.5"), "EA"), "key-2")
    line = posted(fake)["inventory"]["items"][0]
    assert line["adjustQtyBy"] == -2.5
    assignment = line["inventoryDetail"]["inventoryAssignment"]["items"][0]
    assert assignment == {"issueInventoryNumber": {"id": "555"}, "quantity": -2.5}


async def test_negative_adjustment_of_unknown_lot_is_refused_before_posting() -> None:
    fake = FakeNetSuite()
    connector = connector_for(fake)
    with pytest.raises(ValidationFailed, match="Lot L9 of item 991 does not exist"):
        await connector.adjust_stock(StockChange(StockKey("991", "30", "L9"), Decimal(-1), "EA"), "key-3")
    assert fake.writes == []


async def test_plain_item_adjustment_has_no_inventory_detail() -> None:
    fake = FakeNetSuite()
    connector = connector_for(fake)
    await connector.adjust_stock(StockChange(StockKey("5", "1"), Decimal(-4), "EA"), "key-4")
    line = posted(fake)["inventory"]["items"][0]
    assert "inventoryDetail" not in line and line["adjustQtyBy"] == -4


async def test_lost_response_is_looked_up_not_posted_twice() -> None:
    fake = FakeNetSuite()
    fake.write_script = ["drop"]
    connector = connector_for(fake)
    result = await connector.adjust_stock(StockChange(StockKey("5", "1"), Decimal(3), "EA"), "key-5")
    assert len(fake.writes) == 1
    assert result.remote_id == "101" and result.remote_number == "ADJ7"


async def test_write_that_never_landed_is_sent_again() -> None:
    fake = FakeNetSuite()
    fake.write_script = [httpx.ReadTimeout("lost before it arrived"), "ok"]
    connector = connector_for(fake)
    result = await connector.adjust_stock(StockChange(StockKey("5", "1"), Decimal(3), "EA"), "key-6")
    assert len(fake.writes) == 2 and result.remote_id == "102"


async def test_duplicate_external_id_returns_the_existing_write() -> None:
    fake = FakeNetSuite()
    fake.applied["key-7"] = "77"
    fake.write_script = [
        error_response(400, "USER_ERROR", "A record with the same external ID already exists.")
    ]
    connector = connector_for(fake)
    result = await connector.adjust_stock(StockChange(StockKey("5", "1"), Decimal(3), "EA"), "key-7")
    assert result.remote_id == "77" and len(fake.writes) == 1


async def test_real_netsuites_duplicate_wording_also_returns_the_existing_write() -> None:
    # Real REST does not say "external ID": a refused keyed create is looked up whatever the wording.
    fake = FakeNetSuite()
    fake.applied["key-8"] = "88"
    fake.write_script = [
        error_response(400, "USER_ERROR", "Error while accessing a resource. This record already exists.")
    ]
    connector = connector_for(fake)
    result = await connector.adjust_stock(StockChange(StockKey("5", "1"), Decimal(3), "EA"), "key-8")
    assert result.remote_id == "88" and len(fake.writes) == 1


async def test_a_refusal_whose_key_is_nowhere_stays_a_refusal() -> None:
    fake = FakeNetSuite()
    fake.write_script = [error_response(400, "USER_ERROR", "The account is inactive.")]
    connector = connector_for(fake)
    with pytest.raises(ValidationFailed, match="The account is inactive"):
        await connector.adjust_stock(StockChange(StockKey("5", "1"), Decimal(3), "EA"), "key-9")
    assert len(fake.writes) == 1


async def test_netsuite_asks_once_before_a_first_send() -> None:
    # A change posted in a batched record is known by its line's memo only (NetSuite cannot refuse its
    # key as an externalId): the keys of a wave are asked for in one query.
    fake = FakeNetSuite()
    connector = connector_for(fake)
    assert await connector.posted_before(["k1", "k2"]) == {}
    assert connector.api_calls == 1


async def test_find_write() -> None:
    fake = FakeNetSuite()
    fake.applied["k"] = "9"
    connector = connector_for(fake)
    found = await connector.find_write("k")
    assert found is not None and found.remote_id == "9"
    assert await connector.find_write("other") is None


async def test_missing_adjustment_account_is_a_config_error() -> None:
    fake = FakeNetSuite()
    spec = make_spec(settings={})
    connector = build_connector(spec, transport=httpx.MockTransport(fake), sleep=no_sleep)
    with pytest.raises(ConfigError, match="adjustment account"):
        await connector.adjust_stock(StockChange(StockKey("5", "1"), Decimal(3), "EA"), "k")


def order(**overrides: Any) -> PurchaseOrder:
    data: dict[str, Any] = {
        "atlas_order_id": "ord-1",
        "number": "A-1001",
        "supplier_name": "McKesson",
        "supplier_atlas_id": "sup-1",
        "lines": (PurchaseOrderLine("0002-3227-30", "Drug", Decimal(5), "EA", Decimal("12.50"), "USD"),),
        "created_at": datetime(2026, 1, 1, tzinfo=UTC),
    }
    data.update(overrides)
    return PurchaseOrder(**data)


async def test_purchase_order_resolves_vendor_and_item_by_ndc() -> None:
    fake = FakeNetSuite()
    fake.sql["FROM vendor"] = [{"id": "44", "companyname": "McKesson"}]
    fake.sql["FROM item WHERE custitem_ndc_code IN"] = [{"id": "991", "ndc": "00002-3227-30"}]
    connector = connector_for(fake, default_location_id="30")
    result = await connector.create_purchase_order(order(), "po-key")
    assert result.remote_id == "101" and result.idempotency_key == "po-key"
    request = fake.writes[0]
    assert request.method == "PUT" and request.url.path.endswith("/record/v1/purchaseOrder/eid:ord-1")
    body = posted(fake)
    assert body["entity"] == {"id": "44"} and body["externalId"] == "ord-1"
    assert body["item"]["items"][0] == {
        "item": {"id": "991"},
        "quantity": 5,
        "rate": 12.5,
        "description": "Drug",
        "location": {"id": "30"},
    }


async def test_purchase_order_already_entered_is_not_sent_again() -> None:
    fake = FakeNetSuite()
    fake.applied["ord-1"] = "321"
    connector = connector_for(fake)
    result = await connector.create_purchase_order(order(), "po-key")
    assert result.remote_id == "321" and fake.writes == []


async def test_purchase_order_unknown_vendor_without_default_is_refused() -> None:
    fake = FakeNetSuite()
    connector = connector_for(fake)
    with pytest.raises(ValidationFailed, match="no vendor has the name 'McKesson'"):
        await connector.create_purchase_order(order(), "po-key")


async def test_failed_lookup_after_a_lost_response_stays_in_doubt() -> None:
    from atlas_desktop.domain.errors import NetworkError

    fake = FakeNetSuite()
    fake.write_script = ["drop"]

    def failing_lookups(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/suiteql") and fake.writes:
            raise httpx.ConnectError("network gone")
        return fake(request)

    spec = make_spec(settings={"adjustment_account_id": "2615"})
    connector = build_connector(spec, transport=httpx.MockTransport(failing_lookups), sleep=no_sleep)
    with pytest.raises(NetworkError) as lost:
        await connector.adjust_stock(StockChange(StockKey("5", "1"), Decimal(3), "EA"), "key-9")
    assert lost.value.in_doubt and len(fake.writes) == 1
