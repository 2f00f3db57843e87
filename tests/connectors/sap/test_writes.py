"""Goods movements and purchase orders: payload shapes, key hash, in-doubt lookup, error mapping."""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime
from decimal import Decimal

import httpx
import pytest

from atlas_desktop.connectors.sap.mapping import header_text_for, po_reference_for
from atlas_desktop.domain.errors import ConfigError, ValidationFailed
from atlas_desktop.domain.model import PurchaseOrder, PurchaseOrderLine, StockChange, StockKey

from .fake_sap import FakeSap
from .helpers import gateway_error, make


def change(
    delta: str, *, lot: str | None = "B1", reason: str = "atlas_sync", expiry: date | None = None
) -> StockChange:
    return StockChange(
        StockKey("MAT-1", "1010/0001", lot), Decimal(delta), "EA", expiry=expiry, reason=reason
    )


def test_header_text_fits_25_chars_and_is_stable() -> None:
    text = header_text_for("engine-key-0001")
    assert len(text) == 25 and text.startswith("ATL") and re.fullmatch(r"ATL[A-Z2-7]{22}", text)
    assert text == header_text_for("engine-key-0001") != header_text_for("engine-key-0002")
    assert len(po_reference_for("k")) == 12


async def test_receipt_is_501_05_with_batch_and_expiry() -> None:
    sap = FakeSap()
    connector = make(sap)
    result = await connector.adjust_stock(change("20", expiry=date(2027, 4, 1)), "key-1")
    body = sap.posts[0]
    assert body["GoodsMovementCode"] == "05"
    assert body["MaterialDocumentHeaderText"] == header_text_for("key-1")
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT00:00:00", body["PostingDate"])
    (item,) = body["to_MaterialDocumentItem"]
    assert item == {
        "Material": "MAT-1",
        "Plant": "1010",
        "StorageLocation": "0001",
        "GoodsMovementType": "501",
        "EntryUnit": "EA",
        "QuantityInEntryUnit": "20",
        "Batch": "B1",
        "ShelfLifeExpirationDate": "2027-04-01T00:00:00",
    }
    assert result.remote_id == "2025/4900000001" and result.remote_number == "4900000001"
    assert result.idempotency_key == "key-1"


async def test_issue_is_201_03_with_cost_center() -> None:
    sap = FakeSap()
    connector = make(sap, settings={"cost_center": "10101101"})
    await connector.adjust_stock(change("-2.5"), "k")
    body = sap.posts[0]
    item = body["to_MaterialDocumentItem"][0]
    assert (body["GoodsMovementCode"], item["GoodsMovementType"]) == ("03", "201")
    assert item["CostCenter"] == "10101101" and item["QuantityInEntryUnit"] == "2.5"


async def test_scrap_is_551_and_movement_types_configurable() -> None:
    sap = FakeSap()
    connector = make(
        sap,
        settings={
            "cost_center": "1",
            "scrap_cost_center": "99",
            "movement_types": {"receipt": "561"},
            "goods_movement_codes": {"561": "05"},
        },
    )
    await connector.adjust_stock(change("-1", reason="expired"), "a")
    await connector.adjust_stock(change("1"), "b")
    scrap, receipt = (p["to_MaterialDocumentItem"][0] for p in sap.posts)
    assert scrap["GoodsMovementType"] == "551" and scrap["CostCenter"] == "99"
    assert receipt["GoodsMovementType"] == "561" and sap.posts[1]["GoodsMovementCode"] == "05"


async def test_issue_without_cost_center_is_config_error_before_sending() -> None:
    sap = FakeSap()
    connector = make(sap)
    with pytest.raises(ConfigError, match="cost center"):
        await connector.adjust_stock(change("-1"), "k")
    assert sap.requests == []


async def test_overdraw_is_validation_failed_naming_material_plant_batch() -> None:
    sap = FakeSap()
    sap.post_hook = lambda request, body: gateway_error(
        400, "M7/021", "Deficit of SL Unrestricted-use 5 EA : MAT-1 1010 0001 B1"
    )
    connector = make(sap, settings={"cost_center": "1"})
    with pytest.raises(ValidationFailed) as info:
        await connector.adjust_stock(change("-5"), "k")
    error = info.value
    assert "stock is insufficient" in error.message
    assert "MAT-1" in error.message and "1010/0001" in error.message and "B1" in error.message
    assert error.remote_code == "M7/021" and error.status == 400


async def test_in_doubt_posting_found_by_key_is_not_sent_again() -> None:
    sap = FakeSap()
    calls = {"n": 0}

    def lose_first_answer(request: httpx.Request, body: dict) -> httpx.Response | None:
        calls["n"] += 1
        if calls["n"] == 1:
            sap.create(body)  # the posting lands...
            raise httpx.ReadTimeout("lost", request=request)  # ...the answer does not
        return None

    sap.post_hook = lose_first_answer
    connector = make(sap)
    result = await connector.adjust_stock(change("3"), "doubt-key")
    assert len(sap.documents) == 1
    assert result.remote_number == sap.documents[0]["MaterialDocument"]


async def test_in_doubt_posting_not_found_is_sent_once_more() -> None:
    sap = FakeSap()
    calls = {"n": 0}

    def lose_request(request: httpx.Request, body: dict) -> httpx.Response | None:
        calls["n"] += 1
        if calls["n"] == 1:
            raise httpx.ReadTimeout("lost", request=request)  # never reached SAP's database
        return None

    sap.post_hook = lose_request
    connector = make(sap, settings={"lookup_attempts": 2})
    await connector.adjust_stock(change("3"), "k2")
    assert len(sap.documents) == 1 and calls["n"] == 2


async def test_create_answer_without_number_is_resolved_by_lookup() -> None:
    sap = FakeSap()

    def empty_answer(request: httpx.Request, body: dict) -> httpx.Response:
        sap.create(body)
        return httpx.Response(201, json={"d": {"to_MaterialDocumentItem": {"results": []}}})

    sap.post_hook = empty_answer
    connector = make(sap)
    result = await connector.adjust_stock(change("1"), "k")
    assert result.remote_number == "4900000001"


async def test_find_write() -> None:
    sap = FakeSap()
    connector = make(sap)
    assert await connector.find_write("nope") is None
    written = await connector.adjust_stock(change("1"), "known")
    found = await connector.find_write("known")
    assert found is not None and found.remote_id == written.remote_id


async def test_lookup_by_header_text_skips_reversals_and_orders_candidates() -> None:
    """SAP may copy the header text into a Cancel document and lists rows in no promised order."""
    sap = FakeSap()
    connector = make(sap)
    written = await connector.adjust_stock(change("1"), "cancelled")
    sap.cancel(written.remote_number)
    found = await connector.find_write("cancelled")
    assert found is not None and found.remote_id == written.remote_id
    before = await connector.posted_before(["cancelled"])
    assert before["cancelled"].remote_id == written.remote_id
    lookup = sap.requests[-1].url.params
    assert lookup["$orderby"] == "MaterialDocumentYear,MaterialDocument"
    assert lookup["$expand"] == "to_MaterialDocumentItem"


PO_SETTINGS = {
    "company_code": "1010",
    "purchasing_organization": "1010",
    "purchasing_group": "001",
    "po_plant": "1010",
    "default_supplier": "17300001",
}


def order(*, erp_item_id: str | None = "MAT-1") -> PurchaseOrder:
    line = PurchaseOrderLine(
        "12345-678-90", "Amoxicillin 500mg", Decimal(12), "EA", Decimal("3.10"), "USD", erp_item_id
    )
    return PurchaseOrder("o-1", "ATL-1001", "Acme", "sup-1", (line,), datetime(2025, 1, 2, tzinfo=UTC))


async def test_purchase_order_deep_insert() -> None:
    bodies: list[dict] = []

    lookups: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "GET" and "$filter" in request.url.params:
            lookups.append(request.url.params["$filter"])  # is it there already? not yet
            return httpx.Response(200, json={"d": {"results": []}})
        if request.method == "GET":
            return httpx.Response(200, json={"d": {}}, headers={"x-csrf-token": "t"})
        bodies.append(json.loads(request.content))
        return httpx.Response(201, json={"d": {"PurchaseOrder": "4500000007"}})

    connector = make(handler, settings=PO_SETTINGS)
    result = await connector.create_purchase_order(order(), "po-key")
    assert result.remote_id == "4500000007"
    assert lookups == [f"CorrespncExternalReference eq '{po_reference_for('po-key')}'"]
    body = bodies[0]
    assert body["CompanyCode"] == "1010" and body["Supplier"] == "17300001"
    assert body["CorrespncExternalReference"] == po_reference_for("po-key")
    (item,) = body["to_PurchaseOrderItem"]
    assert item["Material"] == "MAT-1" and item["OrderQuantity"] == "12" and item["NetPriceAmount"] == "3.10"


async def test_purchase_order_line_without_material_is_refused_clearly() -> None:
    connector = make(lambda r: httpx.Response(500), settings=PO_SETTINGS)
    with pytest.raises(ValidationFailed, match="has no SAP material"):
        await connector.create_purchase_order(order(erp_item_id=None), "k")


async def test_purchase_order_needs_settings() -> None:
    connector = make(lambda r: httpx.Response(500))
    with pytest.raises(ConfigError, match="company_code"):
        await connector.create_purchase_order(order(), "k")


async def test_many_documents_in_one_batch_with_isolated_failure() -> None:
    sap = FakeSap()
    # One request in flight: the round's documents all share one $batch.
    connector = make(sap, settings={"cost_center": "1", "max_concurrency": 1})
    batches = [([(change("5"), "a")], "batch-a"), ([(change("-500"), "b")], "batch-b"),
               ([(change("-1"), "c")], "batch-c")]  # fmt: skip
    results = await connector.adjust_stock_batches(batches)
    assert len(sap.batch_bodies) == 3  # one change set per document
    [ok_a], [failed], [ok_c] = results
    assert ok_a.remote_number == "4900000001" and ok_c.remote_number == "4900000002"  # type: ignore[union-attr]
    assert isinstance(failed, ValidationFailed) and "Deficit" in failed.message
    posts = [r for r in sap.requests if r.method == "POST"]
    assert len(posts) == 1 and posts[0].url.path.endswith("/API_MATERIAL_DOCUMENT_SRV/$batch")
