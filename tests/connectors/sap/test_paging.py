"""Paging: $top <= 5000 with $skip, parallel windows with a known total, __next followed whenever present."""

from __future__ import annotations

import asyncio

import httpx

from atlas_desktop.connectors.http import HttpClient, HttpSettings
from atlas_desktop.connectors.sap.paging import Pager, Query

from .helpers import BASE, no_sleep


class Collection:
    """Serves rows 0..n-1 with a server cap; past the cap a __next with an opaque $skiptoken."""

    def __init__(self, n: int, cap: int = 5000, count: bool = True, next_beyond_top: bool = False) -> None:
        self.n, self.cap, self.count, self.next_beyond_top = n, cap, count, next_beyond_top
        self.requests: list[httpx.URL] = []
        self.in_flight = self.max_in_flight = 0

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        await asyncio.sleep(0.001)
        self.in_flight -= 1
        params = request.url.params
        self.requests.append(request.url)
        token = params.get("$skiptoken")
        if token:
            skip, top = (int(x) for x in token.split("-"))
        else:
            skip, top = int(params.get("$skip", 0)), int(params.get("$top", 100))
        assert top <= 5000
        end = min(self.n, skip + top)
        take = min(end - skip, self.cap)
        rows = [{"i": i} for i in range(skip, skip + max(take, 0))]
        d: dict = {"results": rows}
        if params.get("$inlinecount") == "allpages" and self.count:
            d["__count"] = str(self.n)
        if skip + take < end or (self.next_beyond_top and skip + take < self.n):
            d["__next"] = (
                f"{BASE}/svc/Set?$skiptoken={skip + take}-{top - take if not self.next_beyond_top else top}"
            )
        return httpx.Response(200, json={"d": d})


def pager(handler, page_size: int = 5000, concurrency: int = 4) -> Pager:  # type: ignore[no-untyped-def]
    http = HttpClient(
        HttpSettings(base_url=BASE, max_concurrency=concurrency),
        transport=httpx.MockTransport(handler),
        sleep=no_sleep,
    )
    return Pager(http, page_size=page_size, concurrency=concurrency)


async def read_all(p: Pager) -> list[int]:
    return [row["i"] for row in await p.all(Query("/svc/Set", orderby="i"))]


async def test_parallel_windows_in_order() -> None:
    coll = Collection(23_456)
    p = pager(coll)
    assert await read_all(p) == list(range(23_456))
    assert len(coll.requests) == 5
    assert coll.max_in_flight > 1  # windows after the first ran concurrently
    assert all(u.params["$top"] == "5000" for u in coll.requests)
    assert coll.requests[0].params["$inlinecount"] == "allpages"


async def test_server_cap_below_top_adapts_and_follows_next() -> None:
    coll = Collection(1_050, cap=100)
    p = pager(coll, page_size=500)
    assert await read_all(p) == list(range(1_050))
    # first page short with __next: later windows use the server's cap, no duplicates, no gaps
    assert len(coll.requests) == 11


async def test_next_followed_without_count() -> None:
    coll = Collection(730, cap=100, count=False)
    p = pager(coll, page_size=300)
    assert await read_all(p) == list(range(730))
    assert any("$skiptoken" in str(u) for u in coll.requests) or len(coll.requests) >= 8


async def test_next_that_runs_past_the_window_is_cut_at_the_window() -> None:
    coll = Collection(1_000, cap=100, next_beyond_top=True, count=False)
    p = pager(coll, page_size=250)
    assert await read_all(p) == list(range(1_000))


async def test_empty_collection_one_request() -> None:
    coll = Collection(0)
    p = pager(coll)
    assert await read_all(p) == []
    assert len(coll.requests) == 1


async def test_exact_multiple_of_page_size() -> None:
    coll = Collection(10_000)
    p = pager(coll)
    assert await read_all(p) == list(range(10_000))
    assert len(coll.requests) == 2


async def test_windows_ahead_wait_undecoded_until_their_turn(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The windows fetched ahead are held as bytes: when the reader holds a page, at most that page and
    none of the windows ahead are decoded (a decoded page takes about three times its bytes)."""
    from atlas_desktop.connectors.sap import paging

    decoded: list[int] = []
    real = paging.read_page

    def counting(response: httpx.Response):  # type: ignore[no-untyped-def]
        decoded.append(1)
        return real(response)

    monkeypatch.setattr(paging, "read_page", counting)
    coll = Collection(6 * 100)
    p = pager(coll, page_size=100, concurrency=4)
    seen = 0
    async for page in p.pages(Query("/svc/Set", orderby="i")):
        seen += 1
        await asyncio.sleep(0.02)  # the windows ahead have long arrived
        assert len(decoded) == seen, "a window ahead was decoded before its turn"
        assert page[0]["i"] == (seen - 1) * 100
    assert seen == 6
    assert coll.max_in_flight > 1  # still fetched concurrently


def test_rows_forget_their_metadata_and_their_childrens() -> None:
    from atlas_desktop.connectors.sap.odata import read_page

    meta = {"uri": "http://h/svc/Set('1')", "type": "svc.Type"}
    body = {
        "d": {
            "results": [
                {
                    "__metadata": meta,
                    "Product": "1",
                    "to_Description": {"results": [{"__metadata": meta, "ProductDescription": "Aspirin"}]},
                }
            ]
        }
    }
    request = httpx.Request("GET", f"{BASE}/svc/Set")
    page = read_page(httpx.Response(200, json=body, request=request))
    assert page.rows == [{"Product": "1", "to_Description": {"results": [{"ProductDescription": "Aspirin"}]}}]


async def test_the_windows_after_the_first_page_go_out_while_the_reader_takes_it() -> None:
    coll = Collection(10 * 100)
    p = pager(coll, page_size=100, concurrency=4)
    pages = p.pages(Query("/svc/Set", orderby="i"))
    first = await anext(pages)
    await asyncio.sleep(0.02)  # the reader storing the first page
    assert first[0]["i"] == 0 and len(coll.requests) == 1 + 4
    await pages.aclose()  # stops there: the windows sent ahead are dropped, nothing left running
    assert not [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
    assert await read_all(pager(coll, page_size=100)) == list(range(1000))
