"""SuiteQL: required header, row shape, joins, TO_DATE/TO_CHAR, paging, limits, refusals, incremental."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest

from atlas_desktop.sandbox.netsuite import NetSuiteEmulator

from .conftest import REST, ns_error, suiteql


async def rows(client: httpx.AsyncClient, q: str, **params: Any) -> list[dict[str, Any]]:
    response = await suiteql(client, q, **params)
    assert response.status_code == 200, response.text
    return response.json()["items"]


async def test_prefer_transient_is_required(client: httpx.AsyncClient) -> None:
    response = await client.post(f"{REST}/query/v1/suiteql", json={"q": "SELECT id FROM item"})
    assert response.status_code == 400
    detail = response.json()["o:errorDetails"][0]
    assert detail["o:errorCode"] == "INVALID_HEADER" and detail["o:errorHeader"] == "Prefer"


async def test_rows_have_lowercase_keys_string_values_and_empty_links(
    client: httpx.AsyncClient, emulator: NetSuiteEmulator
) -> None:
    items = await rows(
        client,
        "SELECT Item.ID, Item.ItemId AS SKU, item.totalquantityonhand, item.lastmodifieddate, item.mpn, "
        "UPPER(item.itemid) FROM item ORDER BY item.id",
        limit=5,
    )
    first = items[0]
    assert first["links"] == []
    assert set(first) == {
        "links",
        "id",
        "sku",
        "totalquantityonhand",
        "lastmodifieddate",
        "expr1",
    }  # mpn NULL: omitted
    assert all(isinstance(v, str) for k, v in first.items() if k != "links")
    assert first["id"] == "100" and first["expr1"] == first["sku"]
    month, day, year = first["lastmodifieddate"].split("/")  # account date format, date only
    seeded = emulator.clock() - timedelta(days=1)
    assert (int(month), int(day), int(year)) == (seeded.month, seeded.day, seeded.year)


async def test_join_builtin_df_and_to_char(client: httpx.AsyncClient, emulator: NetSuiteEmulator) -> None:
    q = (
        "SELECT n.item AS item, BUILTIN.DF(l.location) AS loc, l.quantityonhand AS qty, n.inventorynumber "
        "AS lot, "
        "TO_CHAR(n.expirationdate, 'YYYY-MM-DD') AS expiry FROM inventorynumberlocation l "
        "JOIN inventorynumber n ON n.id = l.inventorynumber WHERE n.item = 100 ORDER BY n.id, l.location"
    )
    items = await rows(client, q)
    assert items
    for row in items:
        lot_stock = emulator.state.stock(
            100,
            {"Main warehouse": 1, "East distribution center": 2, "West distribution center": 3}[row["loc"]],
            row["lot"],
        )
        assert row["qty"] == str(lot_stock)
        assert len(row["expiry"]) == 10 and row["expiry"][4] == "-"


async def test_left_join_keeps_non_lot_balances(
    client: httpx.AsyncClient, emulator: NetSuiteEmulator
) -> None:
    q = (
        "SELECT b.item, b.location, n.inventorynumber FROM inventorybalance b LEFT JOIN inventorynumber n "
        "ON n.id = b.inventorynumber JOIN item i ON i.id = b.item WHERE i.islotitem = 'F' ORDER BY b.item"
    )
    items = await rows(client, q)
    assert items and all("inventorynumber" not in row for row in items)


async def test_incremental_read_sees_stock_moves_through_transactions_not_item_dates(
    client: httpx.AsyncClient, emulator: NetSuiteEmulator
) -> None:
    watermark = (emulator.clock() - timedelta(seconds=1)).strftime("%Y-%m-%d %H:%M:%S")
    since = f"TO_DATE('{watermark}', 'YYYY-MM-DD HH24:MI:SS')"
    emulator.state.receive(100, 1, 7, "INC-LOT")
    changed_items = await rows(client, f"SELECT id FROM item WHERE lastmodifieddate >= {since}")
    assert changed_items == []  # stock moved; the item master did not change (reference §4)
    moves = await rows(
        client,
        "SELECT t.id, t.type, tl.item, tl.location, tl.quantity, TO_CHAR(t.lastmodifieddate, 'YYYY-MM-DD "
        "HH24:MI:SS') "
        "AS modified FROM transactionline tl JOIN transaction t ON t.id = tl.transaction "
        f"WHERE t.lastmodifieddate >= {since} AND tl.mainline = 'F' AND t.type IN ('InvAdjst', 'ItemRcpt') "
        "ORDER BY t.id",
    )
    assert [(m["type"], m["item"], m["location"], m["quantity"]) for m in moves] == [
        ("InvAdjst", "100", "1", "7")
    ]
    assert moves[0]["modified"] >= watermark
    lots = await rows(
        client,
        "SELECT n.inventorynumber AS lot, a.quantity FROM inventoryassignment a JOIN inventorynumber n "
        f"ON n.id = a.inventorynumber WHERE a.transaction = {moves[0]['id']}",
    )
    assert lots == [{"links": [], "lot": "INC-LOT", "quantity": "7"}]
    emulator.state.edit_item(101, displayname="changed")
    assert [
        r["id"] for r in await rows(client, f"SELECT id FROM item WHERE lastmodifieddate >= {since}")
    ] == ["101"]


async def test_paging_follows_next_without_gaps(
    client: httpx.AsyncClient, emulator: NetSuiteEmulator
) -> None:
    total = emulator.state.one("SELECT COUNT(*) FROM inventorynumber")[0]  # type: ignore[index]
    seen: list[str] = []
    offset = 0
    while True:
        response = await suiteql(client, "SELECT id FROM inventorynumber ORDER BY id", limit=7, offset=offset)
        body = response.json()
        assert body["totalResults"] == total and body["offset"] == offset
        seen += [row["id"] for row in body["items"]]
        if not body["hasMore"]:
            break
        offset += body["count"]
    assert seen == [str(i) for i in sorted(int(s) for s in seen)] and len(seen) == total


@pytest.mark.parametrize(
    ("params", "param"), [({"limit": 1001}, "limit"), ({"limit": 10, "offset": 5}, "offset")]
)
async def test_paging_limits(client: httpx.AsyncClient, params: dict[str, int], param: str) -> None:
    response = await suiteql(client, "SELECT id FROM item", **params)
    assert response.status_code == 400
    assert response.json()["o:errorDetails"][0]["o:errorQueryParam"] == param


async def test_rows_per_query_are_capped(client: httpx.AsyncClient, emulator: NetSuiteEmulator) -> None:
    emulator.limits.max_rows = 20
    body = (await suiteql(client, "SELECT id FROM item ORDER BY id", limit=10, offset=10)).json()
    assert body["count"] == 10 and body["hasMore"] is False and body["totalResults"] > 20
    refused = await suiteql(client, "SELECT id FROM item ORDER BY id", limit=10, offset=20)
    assert refused.status_code == 400 and ns_error(refused)[0] == "INVALID_PARAMETER"


async def test_filters_and_aggregates(client: httpx.AsyncClient, emulator: NetSuiteEmulator) -> None:
    items = await rows(
        client,
        "SELECT location, COUNT(*) AS n, SUM(quantityonhand) AS qty FROM aggregateitemlocation "
        "WHERE item BETWEEN 100 AND 120 AND location IN (1, 2) AND NOT (quantityonhand < 0) "
        "GROUP BY location ORDER BY location",
    )
    assert [row["location"] for row in items] == ["1", "2"]
    main = emulator.state.one(
        "SELECT COUNT(*), SUM(quantityonhand) FROM aggregateitemlocation WHERE item BETWEEN 100 AND 120 AND "
        "location = 1"
    )
    assert items[0]["n"] == str(main[0])  # type: ignore[index]
    like = await rows(
        client, "SELECT itemid FROM item WHERE itemid LIKE 'SKU-00000%' AND upccode IS NOT NULL"
    )
    assert len(like) == len(
        [r for r in await rows(client, "SELECT itemid FROM item") if r["itemid"].startswith("SKU-00000")]
    )
    assert (
        await rows(client, "SELECT itemid FROM item WHERE itemid LIKE 'sku-%'") == []
    )  # LIKE is case-sensitive


@pytest.mark.parametrize(
    "q",
    [
        "DELETE FROM item",
        "SELECT id FROM item; DROP TABLE item",
        "SELECT id FROM item WHERE id IN (SELECT item FROM inventorynumber)",
        "SELECT id FROM nosuchtable",
        "SELECT nosuchcolumn FROM item",
        "SELECT _account FROM transaction",
        "SELECT id FROM item i RIGHT JOIN location l ON l.id = i.id",
        "SELECT id FROM item WHERE lastmodifieddate > TO_DATE('2026-03-30', 'YYYY-MM-DD HH24:MI:SS')",
        "SELECT id FROM item WHERE lastmodifieddate > '2026-03-30'",
        "SELECT id, location FROM aggregateitemlocation JOIN inventorybalance ON inventorybalance.item = "
        "aggregateitemlocation.item",
        "SELECT sqlite_version() FROM item",
        "SELECT id FROM item UNION SELECT id FROM location",
        "",
    ],
)
async def test_unsupported_sql_is_refused(client: httpx.AsyncClient, q: str) -> None:
    response = await suiteql(client, q)
    assert response.status_code == 400, response.text
    code, detail = ns_error(response)
    assert code == "INVALID_PARAMETER" and detail.startswith("Invalid search query")


async def test_date_comparisons_in_the_account_format_and_to_date(client: httpx.AsyncClient) -> None:
    assert len(await rows(client, "SELECT id FROM item WHERE lastmodifieddate > '1/1/2020'")) > 0
    assert (
        len(
            await rows(
                client, "SELECT id FROM item WHERE lastmodifieddate > TO_DATE('2020-01-01', 'YYYY-MM-DD')"
            )
        )
        > 0
    )
    assert (
        await rows(client, "SELECT id FROM item WHERE lastmodifieddate > TO_DATE('01/01/2999', 'MM/DD/YYYY')")
        == []
    )


async def test_total_results_follow_writes(client: httpx.AsyncClient, emulator: NetSuiteEmulator) -> None:
    q = "SELECT id FROM inventorynumber WHERE item = 100 ORDER BY id"
    before = (await suiteql(client, q, limit=1)).json()["totalResults"]
    emulator.state.receive(100, 1, 2, "COUNT-LOT")
    assert (await suiteql(client, q, limit=1)).json()["totalResults"] == before + 1
