"""SuiteQL's Oracle dialect (reference §9): comma joins and (+), ROWNUM, CASE, NVL, BUILTIN.DF, IN limits,
and the configurable casing of row keys."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from atlas_desktop.sandbox.netsuite import NetSuiteEmulator
from atlas_desktop.sandbox.netsuite.columns import ColumnCase

from .conftest import ns_error, suiteql


async def rows(client: httpx.AsyncClient, q: str, **params: Any) -> list[dict[str, Any]]:
    response = await suiteql(client, q, **params)
    assert response.status_code == 200, response.text
    return [{k: v for k, v in row.items() if k != "links"} for row in response.json()["items"]]


async def refusal(client: httpx.AsyncClient, q: str) -> str:
    response = await suiteql(client, q)
    assert response.status_code == 400, response.text
    code, detail = ns_error(response)
    assert code == "INVALID_PARAMETER" and detail.startswith("Invalid search query")
    return detail


# ---- comma joins and (+) ---------------------------------------------------------------------------------


async def test_comma_join_matches_the_ansi_join(client: httpx.AsyncClient) -> None:
    ansi = await rows(
        client,
        "SELECT n.item, l.location, l.quantityonhand FROM inventorynumberlocation l "
        "JOIN inventorynumber n ON n.id = l.inventorynumber WHERE n.item < 110 "
        "ORDER BY n.item, l.inventorynumber, l.location",
    )
    oracle = await rows(
        client,
        "SELECT n.item, l.location, l.quantityonhand FROM inventorynumberlocation l, inventorynumber n "
        "WHERE n.id = l.inventorynumber AND n.item < 110 ORDER BY n.item, l.inventorynumber, l.location",
    )
    assert ansi and oracle == ansi


async def test_plus_marker_is_a_left_outer_join(client: httpx.AsyncClient) -> None:
    ansi = await rows(
        client,
        "SELECT b.item, b.location, n.inventorynumber FROM inventorybalance b LEFT JOIN inventorynumber n "
        "ON n.id = b.inventorynumber ORDER BY b.item, b.location, n.inventorynumber",
    )
    oracle = await rows(
        client,
        "SELECT b.item, b.location, n.inventorynumber FROM inventorybalance b, inventorynumber n "
        "WHERE n.id(+) = b.inventorynumber ORDER BY b.item, b.location, n.inventorynumber",
    )
    assert oracle == ansi
    assert any("inventorynumber" not in row for row in oracle)  # rows without a lot are kept


async def test_a_marked_filter_belongs_to_the_join_not_the_where(client: httpx.AsyncClient) -> None:
    items = await rows(client, "SELECT id FROM item ORDER BY id")
    joined = await rows(
        client,
        "SELECT i.id, n.inventorynumber FROM item i, inventorynumber n "
        "WHERE n.item(+) = i.id AND n.inventorynumber(+) = 'NO-SUCH-LOT' ORDER BY i.id",
    )
    assert joined == items  # every item once, none with a lot: the filter only narrowed the join


@pytest.mark.parametrize(
    ("q", "code"),
    [
        (
            "SELECT i.id FROM item i, inventorynumber n WHERE n.item(+) = i.id OR i.id = 100",
            "ORA-01719",
        ),
        ("SELECT i.id FROM item i, inventorynumber n WHERE n.item(+) IN (100, 101)", "ORA-01719"),
        (
            "SELECT i.id FROM item i, inventorynumber n JOIN location l ON l.id = n.item "
            "WHERE n.item(+) = i.id",
            "ORA-25156",
        ),
        ("SELECT n.item(+) FROM item i, inventorynumber n WHERE n.item = i.id", "ORA-30563"),
        (
            "SELECT i.id FROM item i, inventorynumber n, location l WHERE n.item(+) = l.id(+)",
            "ORA-01468",
        ),
        (
            "SELECT i.id FROM item i, inventorynumber n WHERE n.item(+) = i.id AND i.id(+) = n.item",
            "ORA-01416",
        ),
    ],
)
async def test_misplaced_plus_markers_are_refused_as_oracle_does(
    client: httpx.AsyncClient, q: str, code: str
) -> None:
    assert code in await refusal(client, q)


# ---- ROWNUM ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("condition", "count"),
    [
        ("ROWNUM <= 10", 10),
        ("ROWNUM < 3", 2),
        ("ROWNUM = 1", 1),
        ("3 >= ROWNUM", 3),
        ("ROWNUM > 1", 0),  # Oracle numbers only rows that pass, so the first row never does
        ("ROWNUM = 2", 0),
        ("ROWNUM <= 5 AND itemtype = 'InvtPart' AND ROWNUM <= 4", 4),
    ],
)
async def test_rownum_limits_the_rows(client: httpx.AsyncClient, condition: str, count: int) -> None:
    assert len(await rows(client, f"SELECT id FROM item WHERE {condition}")) == count


async def test_rownum_picks_rows_before_sorting_and_grouping(client: httpx.AsyncClient) -> None:
    picked = await rows(client, "SELECT id FROM item WHERE ROWNUM <= 5 ORDER BY id DESC")
    assert [r["id"] for r in picked] == sorted((r["id"] for r in picked), key=int, reverse=True)
    everything = await rows(client, "SELECT id FROM item ORDER BY id DESC")
    assert picked != everything[:5]  # the last five ids were not the first five rows read
    counted = await rows(client, "SELECT COUNT(*) AS n FROM item i WHERE ROWNUM <= 7 AND i.id >= 100")
    assert counted == [{"n": "7"}]
    joined = await rows(
        client,
        "SELECT BUILTIN.DF(l.location) AS loc, n.item FROM inventorynumberlocation l, inventorynumber n "
        "WHERE n.id = l.inventorynumber AND ROWNUM <= 3 ORDER BY 2",
    )
    assert len(joined) == 3 and all(row["loc"] and row["item"] for row in joined)


@pytest.mark.parametrize(
    "q",
    [
        "SELECT id FROM item WHERE ROWNUM <= 10 OR id = 100",
        "SELECT ROWNUM, id FROM item",
        "SELECT id FROM item WHERE ROWNUM <= id",
        "SELECT id FROM item ORDER BY ROWNUM",
    ],
)
async def test_rownum_elsewhere_is_refused(client: httpx.AsyncClient, q: str) -> None:
    assert "ROWNUM" in await refusal(client, q)


# ---- CASE, NVL, BUILTIN.DF -------------------------------------------------------------------------------


async def test_case_when_searched_and_simple(client: httpx.AsyncClient, emulator: NetSuiteEmulator) -> None:
    got = await rows(
        client,
        "SELECT id, CASE WHEN islotitem = 'T' THEN 'lots' WHEN id < 0 THEN 'never' ELSE 'plain' END AS kind, "
        "CASE itemtype WHEN 'InvtPart' THEN 1 END AS inv, CASE WHEN id < 0 THEN 'x' END AS nothing "
        "FROM item ORDER BY id",
    )
    flags = dict(emulator.state.query("SELECT id, islotitem FROM item"))
    assert got and all(
        row["kind"] == ("lots" if flags[int(row["id"])] == "T" else "plain") and row["inv"] == "1"
        for row in got
    )
    assert all("nothing" not in row for row in got)  # a CASE without a match is NULL: left out
    counted = await rows(client, "SELECT SUM(CASE WHEN islotitem = 'T' THEN 1 ELSE 0 END) AS lots FROM item")
    assert counted == [{"lots": str(sum(1 for v in flags.values() if v == "T"))}]


@pytest.mark.parametrize(
    "q",
    [
        "SELECT CASE WHEN id = 1 THEN 'a' FROM item",
        "SELECT CASE id END FROM item",
        "SELECT NVL(mpn, 'a', 'b') FROM item",
        "SELECT NVL(mpn) FROM item",
    ],
)
async def test_malformed_case_and_nvl_are_refused(client: httpx.AsyncClient, q: str) -> None:
    await refusal(client, q)


async def test_nvl_fills_nulls(client: httpx.AsyncClient) -> None:
    got = await rows(client, "SELECT id, NVL(mpn, 'none') AS mpn, mpn AS raw FROM item WHERE ROWNUM <= 20")
    assert got and all(row["mpn"] == row.get("raw", "none") for row in got)


async def test_builtin_df_gives_item_and_location_names(
    client: httpx.AsyncClient, emulator: NetSuiteEmulator
) -> None:
    got = await rows(
        client,
        "SELECT a.item, BUILTIN.DF(a.item) AS itemname, BUILTIN.DF(a.location) AS locname "
        "FROM aggregateitemlocation a WHERE a.item = 100 ORDER BY a.location",
    )
    names = dict(emulator.state.query("SELECT id, name FROM location"))
    item_name = emulator.state.one("SELECT itemid FROM item WHERE id = 100")[0]  # type: ignore[index]
    assert got and all(row["itemname"] == item_name for row in got)
    assert {row["locname"] for row in got} <= set(names.values())


# ---- IN lists --------------------------------------------------------------------------------------------


async def test_an_in_list_holds_at_most_1000_values(
    client: httpx.AsyncClient, emulator: NetSuiteEmulator
) -> None:
    thousand = ", ".join(str(100 + n) for n in range(1000))
    items = emulator.state.one("SELECT COUNT(*) FROM item")[0]  # type: ignore[index]
    assert len(await rows(client, f"SELECT id FROM item WHERE id IN ({thousand})")) == items
    detail = await refusal(client, f"SELECT id FROM item WHERE id IN ({thousand}, 5000)")
    assert "ORA-01795: maximum number of expressions in a list is 1000" in detail
    split = await rows(client, f"SELECT id FROM item WHERE id IN ({thousand}) OR id IN (5000)")
    assert len(split) == items  # Oracle's own advice: OR-ed lists of at most 1,000


# ---- casing of row keys ----------------------------------------------------------------------------------

Q = "SELECT Item.ID, item.ItemId AS Sku, item.displayname, UPPER(item.itemid) FROM item ORDER BY item.id"


@pytest.mark.parametrize(
    ("case", "keys"),
    [
        (ColumnCase.LOWER, {"id", "sku", "displayname", "expr1"}),
        (ColumnCase.UPPER, {"ID", "SKU", "DISPLAYNAME", "EXPR1"}),
        (ColumnCase.AS_WRITTEN, {"ID", "Sku", "displayname", "expr1"}),
        (ColumnCase.MIXED, {"ID", "Sku", "Displayname", "Expr1"}),
    ],
)
async def test_row_key_casing_is_a_setting(
    client: httpx.AsyncClient, emulator: NetSuiteEmulator, case: ColumnCase, keys: set[str]
) -> None:
    emulator.limits.column_case = case
    got = (await suiteql(client, Q, limit=1)).json()["items"][0]
    assert set(got) == keys | {"links"}
    star = (await suiteql(client, "SELECT * FROM location WHERE id = 1")).json()["items"][0]
    assert ("name" in star) if case in (ColumnCase.LOWER, ColumnCase.AS_WRITTEN) else ("name" not in star)


def test_lower_case_is_the_default(emulator: NetSuiteEmulator) -> None:
    assert emulator.limits.column_case is ColumnCase.LOWER


async def test_top_n_takes_the_first_rows_after_sorting(client: httpx.AsyncClient) -> None:
    top = await rows(client, "SELECT TOP 3 id FROM item ORDER BY id DESC")
    assert top == (await rows(client, "SELECT id FROM item ORDER BY id DESC"))[:3]
    response = await suiteql(client, "SELECT TOP 5 id FROM item ORDER BY id", limit=2, offset=2)
    assert response.json()["totalResults"] == 5 and len(response.json()["items"]) == 2
