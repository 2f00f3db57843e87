"""SuiteQL pages of one query: run once while the data stays as it is; each page what a fresh query gives."""

from __future__ import annotations

import sqlite3

import httpx

from atlas_desktop.sandbox.netsuite import NetSuiteEmulator
from atlas_desktop.sandbox.netsuite.query_results import QueryResults
from atlas_desktop.sandbox.netsuite.user_time import user_zone

from .conftest import suiteql

LOTS = (
    "SELECT inventorynumber.id AS id, inventorynumber.inventorynumber AS lot, "
    "TO_CHAR(inventorynumber.lastmodifieddate, 'YYYY-MM-DD HH24:MI:SS') AS modified "
    "FROM inventorynumber, item WHERE item.id = inventorynumber.item ORDER BY inventorynumber.id"
)


async def pages(client: httpx.AsyncClient, q: str, limit: int) -> list[dict[str, object]]:
    found: list[dict[str, object]] = []
    offset = 0
    while True:
        body = (await suiteql(client, q, limit=limit, offset=offset)).json()
        found += body["items"]
        if not body["hasMore"]:
            return found
        offset += limit


def statements(emulator: NetSuiteEmulator) -> list[str]:
    seen: list[str] = []
    emulator.state.db.set_trace_callback(seen.append)
    return seen


async def test_a_paged_query_runs_once_and_its_pages_are_the_whole_answer(
    client: httpx.AsyncClient, emulator: NetSuiteEmulator
) -> None:
    whole = (await suiteql(client, LOTS, limit=1000)).json()["items"]
    assert len(whole) > 20
    seen = statements(emulator)
    assert await pages(client, LOTS, limit=5) == whole
    assert len([s for s in seen if "ns_to_char" in s and "COUNT(*)" not in s]) == 1


async def test_a_write_between_pages_shows_in_the_next_page(
    client: httpx.AsyncClient, emulator: NetSuiteEmulator
) -> None:
    q = "SELECT id, inventorynumber FROM inventorynumber ORDER BY id"
    first = (await suiteql(client, q, limit=5, offset=0)).json()
    emulator.state.receive(100, 1, 2, "AAA-NEW-LOT")  # a new lot: the highest id, on the last page
    last_offset = (first["totalResults"]) // 5 * 5
    last = (await suiteql(client, q, limit=5, offset=last_offset)).json()
    assert last["totalResults"] == first["totalResults"] + 1
    assert last["items"][-1]["inventorynumber"] == "AAA-NEW-LOT"


async def test_another_user_zone_shows_the_times_in_it(
    client: httpx.AsyncClient, emulator: NetSuiteEmulator
) -> None:
    utc = (await suiteql(client, LOTS, limit=5, offset=5)).json()["items"]
    emulator.state.user_zone = user_zone("America/New_York")
    new_york = (await suiteql(client, LOTS, limit=5, offset=5)).json()["items"]
    assert [row["id"] for row in utc] == [row["id"] for row in new_york]
    assert all(a["modified"] != b["modified"] for a, b in zip(utc, new_york, strict=True))


def test_one_page_answers_are_not_kept() -> None:
    db = sqlite3.connect(":memory:")
    db.execute("CREATE TABLE t (id INTEGER)")
    db.executemany("INSERT INTO t VALUES (?)", [(i,) for i in range(10)])
    results = QueryResults(db)
    sql = "SELECT id FROM t ORDER BY id"
    assert results.page(sql, [], "UTC", offset=0, size=20, reachable=10) == [(i,) for i in range(10)]
    assert results.page(sql, [], "UTC", offset=4, size=3, reachable=10) == [(4,), (5,), (6,)]
    assert results.page(sql, [], "UTC", offset=8, size=3, reachable=10) == [(8,), (9,)]
    assert results.page(sql, [], "UTC", offset=0, size=3, reachable=5) == [(0,), (1,), (2,)]
    assert results.page(sql, [], "UTC", offset=3, size=3, reachable=5) == [(3,), (4,)]  # the cap
