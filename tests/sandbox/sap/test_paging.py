"""Server-driven paging: default page, cap, __next with an opaque signed $skiptoken, __count, /$count."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

from atlas_desktop.sandbox.sap import SapEmulator

from .conftest import JSON, STOCK, client_for

ROWS = f"{STOCK}/A_MatlStkInAcctMod"


async def follow(client: httpx.AsyncClient, params: dict[str, str]) -> tuple[list[dict[str, Any]], int]:
    response = await client.get(ROWS, params=params, headers=JSON)
    pages = 1
    d = response.json()["d"]
    rows = list(d["results"])
    while "__next" in d:
        response = await client.get(d["__next"], headers=JSON)
        assert response.status_code == 200, response.text
        d = response.json()["d"]
        rows.extend(d["results"])
        pages += 1
    return rows, pages


async def test_no_top_gives_default_page_and_next(sap: SapEmulator, client: httpx.AsyncClient) -> None:
    total = len(sap.stock_rows())
    assert total > 100
    first = (await client.get(ROWS, params={"$inlinecount": "allpages"}, headers=JSON)).json()["d"]
    assert len(first["results"]) == 100
    assert first["__count"] == str(total)  # a string, as OData v2 JSON has it
    rows, pages = await follow(client, {"$inlinecount": "allpages"})
    keys = [r["__metadata"]["uri"] for r in rows]
    assert len(keys) == total == len(set(keys))
    assert pages == -(-total // 100)


async def test_top_above_cap_is_capped_with_next(make_sap: Any) -> None:
    sap = make_sap(page_cap=40)
    async with client_for(sap) as client:
        first = (await client.get(ROWS, params={"$top": "90"}, headers=JSON)).json()["d"]
        assert len(first["results"]) == 40 and "__next" in first
        rows, pages = await follow(client, {"$top": "90"})
        assert len(rows) == 90 and pages == 3  # 40 + 40 + 10: the client's $top is honoured across pages
        small = (await client.get(ROWS, params={"$top": "10", "$skip": "5"}, headers=JSON)).json()["d"]
        assert len(small["results"]) == 10 and "__next" not in small


async def test_skiptoken_is_opaque_and_bound_to_the_query(client: httpx.AsyncClient) -> None:
    first = (await client.get(ROWS, params={"$filter": "InventoryStockType eq '01'"}, headers=JSON)).json()[
        "d"
    ]
    next_url = first["__next"]
    query = parse_qs(urlsplit(next_url).query)
    token = query["$skiptoken"][0]
    assert not token.isdigit()  # not a row number a client could compute
    assert query["$filter"] == ["InventoryStockType eq '01'"]  # the original options travel with it
    tampered = token[:-2] + ("AA" if token[-2:] != "AA" else "BB")
    bad = await client.get(
        ROWS, params={"$filter": "InventoryStockType eq '01'", "$skiptoken": tampered}, headers=JSON
    )
    assert bad.status_code == 400 and "skiptoken" in bad.json()["error"]["message"]["value"]
    other_query = await client.get(
        ROWS, params={"$filter": "InventoryStockType eq '02'", "$skiptoken": token}, headers=JSON
    )
    assert other_query.status_code == 400
    plain_number = await client.get(ROWS, params={"$skiptoken": "100"}, headers=JSON)
    assert plain_number.status_code == 400


async def test_count_endpoint_is_plain_text(sap: SapEmulator, client: httpx.AsyncClient) -> None:
    response = await client.get(f"{ROWS}/$count", params={"$filter": "InventoryStockType eq '01'"})
    assert response.headers["content-type"].startswith("text/plain")
    expected = sum(1 for r in sap.stock_rows() if r["InventoryStockType"] == "01")
    assert response.text == str(expected)


async def test_filtered_paging_excludes_special_and_blocked_stock(
    sap: SapEmulator, client: httpx.AsyncClient
) -> None:
    everything = sap.stock_rows()
    assert {"02", "07"} <= {r["InventoryStockType"] for r in everything}
    assert "K" in {r["InventorySpecialStockType"] for r in everything}
    rows, _ = await follow(
        client, {"$filter": "InventoryStockType eq '01' and InventorySpecialStockType eq ''", "$top": "5000"}
    )
    assert {r["InventoryStockType"] for r in rows} == {"01"}
    assert all(isinstance(r["MatlWrhsStkQtyInMatlBaseUnit"], str) for r in rows)


async def test_json_required(client: httpx.AsyncClient) -> None:
    response = await client.get(ROWS)
    assert response.status_code == 406
    assert (await client.get(ROWS, params={"$format": "json", "$top": "1"})).status_code == 200
