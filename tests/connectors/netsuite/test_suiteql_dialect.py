"""SuiteQL as Oracle shapes it (reference §9): row keys in any case, and IN lists of at most 1,000 values."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from typing import Any

import httpx
import pytest

from atlas_desktop.connectors.netsuite import queries
from atlas_desktop.connectors.netsuite.client import NetSuiteClient
from atlas_desktop.domain.model import StockChange, StockKey
from atlas_desktop.sandbox.netsuite.app import QueryLimits
from atlas_desktop.sandbox.netsuite.columns import ColumnCase

from .emulator_support import Clock, connect, make_emulator
from .test_against_emulator import as_map, emulator_stock

_IN_LIST = re.compile(r"\bIN \(([^()]*)\)")


def longest_in_list(query: str) -> int:
    return max((len(values.split(",")) for values in _IN_LIST.findall(query)), default=0)


# ---- row keys --------------------------------------------------------------------------------------------


def test_row_keys_are_read_case_insensitively() -> None:
    body = {"items": [{"ID": "7", "Qty": "2", "links": []}, {"id": "8"}], "hasMore": False, "totalResults": 2}
    page = NetSuiteClient._page_of(httpx.Response(200, json=body), "read", 0)
    assert page.items == [{"id": "7", "qty": "2", "links": []}, {"id": "8"}]


def test_row_keys_are_folded_row_by_row_when_the_case_changes_within_a_page() -> None:
    rows: list[object] = [
        {"id": "1", "qty": "1"},
        {"ID": "2", "qty": "2"},
        {"id": "3", "qty": "3"},
        {"Id": "4", "QTY": "4"},
    ]
    body = {"items": [*rows, "not a row"], "hasMore": False, "totalResults": 4}
    page = NetSuiteClient._page_of(httpx.Response(200, json=body), "read", 0)
    assert page.items == [{"id": str(n), "qty": str(n)} for n in range(1, 5)]


@pytest.mark.parametrize("case", [ColumnCase.UPPER, ColumnCase.AS_WRITTEN, ColumnCase.MIXED])
async def test_reads_and_writes_against_an_emulator_that_changes_key_case(case: ColumnCase) -> None:
    clock = Clock()
    emulator = make_emulator(60, clock, limits=QueryLimits(column_case=case))
    connector = connect(emulator, clock, settings={"default_location_id": "1"})
    report = await connector.test_connection()
    assert report.ok, report.first_failure
    assert {loc.code for loc in await connector.locations()} >= {"MAIN"}
    assert (await connector.ndc_field_candidates())[0].field == "custitem_ndc_code"

    products = [p async for p in connector.products()]
    assert len(products) == emulator.state.one("SELECT COUNT(*) FROM item")[0]
    first = next(p for p in products if p.erp_item_id == "100")
    row = emulator.state.one("SELECT itemid, custitem_ndc_code FROM item WHERE id = 100")
    assert (first.sku, first.ndc_text) == (row[0], row[1]) and first.last_modified is not None
    levels = [lv async for lv in connector.stock()]
    assert as_map(levels) == emulator_stock(emulator)
    assert all(lv.expiry is not None for lv in levels if lv.key.lot is not None)
    mark = connector.read_watermark("stock")

    # writes look lots and earlier writes up by SuiteQL too
    item = emulator.state.item_ids(lot=True, limit=1)[0]
    key = StockKey(str(item), "1", "CASE-LOT")
    written = await connector.adjust_stock(StockChange(key, Decimal(5), "EA", expiry=date(2029, 5, 31)), "k1")
    await connector.adjust_stock(StockChange(key, Decimal(-2), "EA"), "k2")
    assert emulator.state.stock(item, 1, "CASE-LOT") == Decimal(3)
    found = await connector.find_write("k1")
    assert found is not None and found.remote_id == written.remote_id

    clock.advance(5)
    changed = [lv async for lv in connector.stock(mark)]
    assert {lv.key.item_id for lv in changed} == {str(item)}
    assert as_map(changed)[(str(item), "1", "CASE-LOT")] == Decimal(3)
    await connector.aclose()


async def test_every_query_joins_in_oracle_syntax_not_ansi(monkeypatch: pytest.MonkeyPatch) -> None:
    """Oracle advises comma joins: ANSI joins are converted first and can time out on big accounts."""
    sent: list[str] = []
    page = NetSuiteClient.suiteql_page

    async def recording(self: NetSuiteClient, query: str, **kwargs: Any) -> Any:
        sent.append(query)
        return await page(self, query, **kwargs)

    monkeypatch.setattr(NetSuiteClient, "suiteql_page", recording)
    clock = Clock()
    emulator = make_emulator(60, clock)
    connector = connect(emulator, clock, settings={"default_location_id": "1"})
    assert (await connector.test_connection()).ok
    products = [p async for p in connector.products()]
    levels = [lv async for lv in connector.stock()]
    assert products and levels and as_map(levels) == emulator_stock(emulator)
    mark = connector.read_watermark("stock")
    item = emulator.state.item_ids(lot=True, limit=1)[0]
    key = StockKey(str(item), "1", "JOIN-LOT")
    await connector.adjust_stock(StockChange(key, Decimal(4), "EA", expiry=date(2029, 5, 31)), "j1")
    assert (await connector.find_write("j1")) is not None
    clock.advance(5)
    changed = [lv async for lv in connector.stock(mark)]
    assert as_map(changed)[(str(item), "1", "JOIN-LOT")] == Decimal(4)
    await connector.aclose()
    assert any(" FROM transaction" in q for q in sent)  # the incremental read was among them
    assert not [q for q in sent if re.search(r"\bJOIN\b", q, re.IGNORECASE)]


# ---- IN lists --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("build", [queries.lot_stock, queries.plain_stock])
def test_stock_queries_never_put_more_than_1000_values_in_one_in_list(build) -> None:  # type: ignore[no-untyped-def]
    ids = [str(n) for n in range(100, 2600)]
    query = build(None, ids)
    assert 0 < longest_in_list(query) <= queries.MAX_IN_LIST
    assert sorted(re.findall(r"\d+", " ".join(_IN_LIST.findall(query))), key=int) == ids  # none lost


def test_ndc_lookup_never_puts_more_than_1000_values_in_one_in_list() -> None:
    texts = [f"{n:05d}-0000-01" for n in range(1500)]
    query = queries.items_by_ndc("custitem_ndc_code", texts)
    assert 0 < longest_in_list(query) <= queries.MAX_IN_LIST
    assert query.count("'") == 2 * len(texts)


def test_a_short_list_stays_one_in_list() -> None:
    assert queries.in_list("item.id", ["1", "2"]) == "item.id IN (1, 2)"


async def test_stock_of_2500_items_reads_from_an_emulator_that_refuses_long_in_lists() -> None:
    clock = Clock()
    emulator = make_emulator(60, clock)
    connector = connect(emulator, clock)
    ids = [str(n) for n in range(100, 2600)]  # most do not exist: only the existing ones answer
    rows = [
        row
        async for row in connector.client.suiteql_rows(
            lambda after: queries.plain_stock(after, ids),
            lambda row: str(row["item"]),
            lambda row: (int(row["item"]), int(row["location"])),
        )
    ]
    plain = emulator.state.query(
        "SELECT a.item, a.location FROM aggregateitemlocation a JOIN item i ON i.id = a.item "
        "WHERE i.islotitem = 'F'"
    )
    assert rows and {(row["item"], row["location"]) for row in rows} == {(str(a), str(b)) for a, b in plain}
    await connector.aclose()


def test_an_empty_list_matches_nothing() -> None:
    assert "IN ()" not in queries.plain_stock(None, [])
