"""The connector against the in-process NetSuite emulator: reads, incremental reads, writes, faults, auth."""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta
from decimal import Decimal

import pytest

from atlas_desktop.connectors.netsuite.connection_test import PERMISSIONS, SIGNATURE
from atlas_desktop.domain.errors import ValidationFailed
from atlas_desktop.domain.model import StockChange, StockKey, StockLevel
from atlas_desktop.sandbox.netsuite import NetSuiteEmulator
from atlas_desktop.sandbox.netsuite.app import QueryLimits

from .emulator_support import Clock, Sleeps, connect, make_emulator


def emulator_stock(emulator: NetSuiteEmulator) -> dict[tuple[str, str, str | None], Decimal]:
    """Every stock position as the emulator holds it (lots per location, plain items per location)."""
    result: dict[tuple[str, str, str | None], Decimal] = {}
    for row in emulator.state.query(
        "SELECT n.item, l.location, n.inventorynumber, l.quantityonhand FROM inventorynumberlocation l "
        "JOIN inventorynumber n ON n.id = l.inventorynumber"
    ):
        result[(str(row[0]), str(row[1]), row[2])] = Decimal(str(row[3]))
    for row in emulator.state.query(
        "SELECT a.item, a.location, a.quantityonhand FROM aggregateitemlocation a "
        "JOIN item i ON i.id = a.item WHERE i.islotitem = 'F'"
    ):
        result[(str(row[0]), str(row[1]), None)] = Decimal(str(row[2]))
    return result


def as_map(levels: list[StockLevel]) -> dict[tuple[str, str, str | None], Decimal]:
    keys = Counter((lv.key.item_id, lv.key.location_id, lv.key.lot) for lv in levels)
    assert not [k for k, n in keys.items() if n > 1], "a stock position was reported twice"
    return {(lv.key.item_id, lv.key.location_id, lv.key.lot): lv.quantity for lv in levels}


async def test_full_read_of_10000_items_with_lots() -> None:
    clock = Clock()
    emulator = make_emulator(10_000, clock)
    connector = connect(emulator, clock)
    products = [p async for p in connector.products()]
    item_count = emulator.state.one("SELECT COUNT(*) FROM item")[0]
    assert len(products) == item_count and len({p.erp_item_id for p in products}) == item_count
    assert item_count > 9000
    lot_items = sum(p.lot_tracked for p in products)
    assert lot_items > 0.9 * item_count
    sample = next(p for p in products if p.erp_item_id == "100")
    row = emulator.state.one("SELECT itemid, custitem_ndc_code FROM item WHERE id = 100")
    assert sample.sku == row[0] and sample.ndc_text == row[1]

    levels = [lv async for lv in connector.stock()]
    assert as_map(levels) == emulator_stock(emulator)
    lots = [lv for lv in levels if lv.key.lot is not None]
    assert lots and all(lv.expiry is not None for lv in lots)
    calls = connector.api_calls
    # pages of 1000 rows: one request per page plus a few change queries, nothing per item
    assert calls < (len(products) + len(levels)) / 1000 + 10
    await connector.aclose()


async def test_reads_slice_past_the_per_query_cap() -> None:
    clock = Clock()
    emulator = make_emulator(1200, clock, limits=QueryLimits(max_rows=500))
    connector = connect(emulator, clock, page_size=100, max_rows_per_query=500)
    products = [p.erp_item_id async for p in connector.products()]
    ids = [str(r[0]) for r in emulator.state.query("SELECT id FROM item ORDER BY id")]
    assert products == ids
    levels = [lv async for lv in connector.stock()]
    assert as_map(levels) == emulator_stock(emulator)
    await connector.aclose()


async def test_incremental_read_sees_exactly_the_changes_since_the_watermark() -> None:
    clock = Clock()
    emulator = make_emulator(600, clock)
    connector = connect(emulator, clock)
    [p async for p in connector.products()]
    [lv async for lv in connector.stock()]
    product_mark, stock_mark = connector.read_watermark("products"), connector.read_watermark("stock")

    clock.advance(5)
    state = emulator.state
    lot_items = state.item_ids(lot=True, limit=5)
    plain_item = state.item_ids(lot=False, limit=1)[0]
    edited = lot_items[0]
    state.edit_item(edited, displayname="Renamed by an ERP user")
    received = lot_items[1]
    state.receive(received, 1, 7, lot="NEWLOT1", expiry=date(2029, 1, 31))
    issued_lot = state.query(
        "SELECT n.inventorynumber, l.location, l.quantityonhand FROM inventorynumberlocation l JOIN "
        "inventorynumber n ON n.id = l.inventorynumber WHERE n.item = ? AND "
        "l.quantityonhand >= 1",
        (lot_items[2],),
    )[0]
    # the whole lot at that location is issued: the incremental read must report it at zero
    state.issue(lot_items[2], int(issued_lot[1]), Decimal(str(issued_lot[2])), lot=issued_lot[0])
    expiry_item = lot_items[3]
    expiry_lot = state.one("SELECT inventorynumber FROM inventorynumber WHERE item = ?", (expiry_item,))[0]
    state.set_expiry(expiry_item, expiry_lot, date(2030, 6, 30))
    state.receive(plain_item, 2, 4)

    changed_products = [p async for p in connector.products(product_mark)]
    assert [p.erp_item_id for p in changed_products] == [str(edited)]
    assert changed_products[0].name == "Renamed by an ERP user"

    levels = [lv async for lv in connector.stock(stock_mark)]
    items = {lv.key.item_id for lv in levels}
    assert items == {str(received), str(lot_items[2]), str(expiry_item), str(plain_item)}
    truth = emulator_stock(emulator)
    got = as_map(levels)
    assert all(truth[key] == qty for key, qty in got.items())
    assert got[(str(received), "1", "NEWLOT1")] == Decimal(7)
    assert got[(str(lot_items[2]), str(issued_lot[1]), issued_lot[0])] == 0
    assert next(lv.expiry for lv in levels if lv.key.lot == "NEWLOT1") == date(2029, 1, 31)
    assert date(2030, 6, 30) in {lv.expiry for lv in levels if lv.key.item_id == str(expiry_item)}

    # nothing changed since: the overlap window brings nothing back
    clock.advance(5)
    assert [p async for p in connector.products(connector.read_watermark("products"))] == []
    assert [lv async for lv in connector.stock(connector.read_watermark("stock"))] == []
    await connector.aclose()


async def test_adjustments_with_lots_positive_and_negative() -> None:
    clock = Clock()
    emulator = make_emulator(50, clock)
    connector = connect(emulator, clock)
    item = emulator.state.item_ids(lot=True, limit=1)[0]
    key = StockKey(str(item), "1", "ATLAS-LOT-1")
    change = StockChange(key, Decimal(10), "EA", expiry=date(2028, 2, 29))
    result = await connector.adjust_stock(change, "k-plus")
    assert emulator.state.stock(item, 1, "ATLAS-LOT-1") == Decimal(10)
    found = await connector.find_write("k-plus")
    assert found is not None and found.remote_id == result.remote_id and found.remote_number
    await connector.adjust_stock(StockChange(key, Decimal("-2.5"), "EA"), "k-minus")
    assert emulator.state.stock(item, 1, "ATLAS-LOT-1") == Decimal("7.5")
    with pytest.raises(ValidationFailed) as refused:
        await connector.adjust_stock(StockChange(key, Decimal(-100), "EA"), "k-too-much")
    assert refused.value.remote_code == "USER_ERROR"
    assert emulator.state.stock(item, 1, "ATLAS-LOT-1") == Decimal("7.5")
    levels = [lv async for lv in connector.stock()]
    level = next(lv for lv in levels if lv.key == key)
    assert level.quantity == Decimal("7.5") and level.expiry == date(2028, 2, 29)
    await connector.aclose()


async def test_retry_after_a_lost_response_does_not_post_twice() -> None:
    clock = Clock()
    emulator = make_emulator(50, clock)
    connector = connect(emulator, clock)
    emulator.faults.add("drop_after", method="POST", path="inventoryAdjustment", times=1)
    item = emulator.state.item_ids(lot=False, limit=1)[0]
    before = emulator.state.stock(item, 1)
    result = await connector.adjust_stock(StockChange(StockKey(str(item), "1"), Decimal(3), "EA"), "k-drop")
    assert emulator.state.count_transactions(external_id="k-drop") == 1
    assert emulator.state.stock(item, 1) == before + 3
    assert result.remote_number  # found again by its externalId, with NetSuite's number
    # the engine replaying the same key later does not post again either
    await connector.adjust_stock(StockChange(StockKey(str(item), "1"), Decimal(3), "EA"), "k-drop")
    assert emulator.state.count_transactions(external_id="k-drop") == 1
    await connector.aclose()


async def test_429_is_retried_with_backoff() -> None:
    clock = Clock()
    emulator = make_emulator(1500, clock, concurrency_limit=2)
    sleeps = Sleeps()
    connector = connect(emulator, clock, sleep=sleeps)
    emulator.faults.add("status", status=429, path="suiteql", times=2)
    products = [p async for p in connector.products()]
    assert len(products) == emulator.state.one("SELECT COUNT(*) FROM item")[0]
    assert connector.http.stats.retries >= 2 and len(sleeps.delays) >= 2
    assert connector.api_errors >= 2
    await connector.aclose()


async def test_connection_test_passes_and_discovery_lists_choices() -> None:
    clock = Clock()
    emulator = make_emulator(50, clock)
    connector = connect(emulator, clock)
    report = await connector.test_connection()
    assert report.ok, report.first_failure
    locations = await connector.locations()
    assert {loc.code for loc in locations} >= {"MAIN"}
    accounts = await connector.list_accounts()
    assert accounts[0].detail in ("COGS", "Expense")
    fields = await connector.ndc_field_candidates()
    assert fields[0].field == "custitem_ndc_code" and fields[0].share == 1.0
    await connector.aclose()


async def test_connection_test_with_a_wrong_secret() -> None:
    clock = Clock()
    emulator = make_emulator(10, clock)
    connector = connect(emulator, clock, file_overrides={"token_secret": "0" * 64})
    report = await connector.test_connection()
    failure = report.first_failure
    assert failure is not None and failure.name == SIGNATURE
    assert "consumer secret or token secret" in failure.cause
    assert any("signature" in reason.lower() for reason in emulator.auth_failures)
    assert [s.skipped for s in report.steps if s.name == PERMISSIONS] == [True]
    await connector.aclose()


async def test_connection_test_with_a_lowercase_sandbox_realm() -> None:
    clock = Clock()
    emulator = make_emulator(10, clock)
    connector = connect(emulator, clock, account_id="1234567_sb1")
    report = await connector.test_connection()
    failure = report.first_failure
    assert failure is not None and failure.name == SIGNATURE
    assert "lowercase" in failure.cause and "1234567_SB1" in failure.cause
    assert any("realm" in reason.lower() for reason in emulator.auth_failures)
    await connector.aclose()


async def test_purchase_order_from_an_atlas_order() -> None:
    from datetime import UTC, datetime

    from atlas_desktop.domain.model import PurchaseOrder, PurchaseOrderLine

    clock = Clock()
    emulator = make_emulator(50, clock)
    connector = connect(emulator, clock, settings={"default_location_id": "1"})
    vendor = emulator.state.one("SELECT companyname FROM vendor ORDER BY id")[0]
    ndc = emulator.state.one("SELECT custitem_ndc_code FROM item WHERE id = 101")[0]
    order = PurchaseOrder(
        atlas_order_id="atlas-ord-9",
        number="A-9",
        supplier_name=vendor,
        supplier_atlas_id="s1",
        lines=(PurchaseOrderLine(ndc, "Item", Decimal(6), "EA", Decimal("3.25"), "USD"),),
        created_at=datetime.now(UTC) - timedelta(hours=1),
    )
    result = await connector.create_purchase_order(order, "po-1")
    again = await connector.create_purchase_order(order, "po-1")
    assert again.remote_id == result.remote_id
    assert emulator.state.count_transactions("purchaseorder", external_id="atlas-ord-9") == 1
    line = emulator.state.one(
        "SELECT item, quantity FROM transactionline WHERE \"transaction\" = ? AND mainline = 'F'",
        (int(result.remote_id),),
    )
    assert (line[0], Decimal(str(line[1]))) == (101, Decimal(6))
    await connector.aclose()
