"""SuiteQL paging: concurrent pages in order, offsets multiples of the limit, slices past the row cap."""

from __future__ import annotations

import asyncio
import json
import re

import httpx
import pytest

from atlas_desktop.connectors.netsuite import build_connector
from atlas_desktop.domain.errors import InvalidResponse

from .helpers import answering_zone, make_spec, no_sleep, suiteql_response


class FakeItems:
    """Answers the products query over `count` items, honouring `item.id >= N`, limit, offset and a cap."""

    def __init__(self, ids: list[int], cap: int) -> None:
        self.ids = ids
        self.cap = cap
        self.in_flight = 0
        self.max_in_flight = 0
        self.calls: list[tuple[int, int, str]] = []

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            await asyncio.sleep(0.002)
            query = json.loads(request.content)["q"]
            limit, offset = int(request.url.params["limit"]), int(request.url.params["offset"])
            self.calls.append((offset, limit, query))
            if offset % limit or offset + limit > self.cap:
                return httpx.Response(
                    400,
                    json={"o:errorDetails": [{"detail": "bad offset", "o:errorCode": "INVALID_PARAMETER"}]},
                )
            match = re.search(r"item\.id >= (\d+)", query)
            rows = [i for i in self.ids if match is None or i >= int(match.group(1))]
            page = [
                {"id": str(i), "itemid": f"SKU{i}", "islotitem": "F"} for i in rows[offset : offset + limit]
            ]
            return suiteql_response(page, offset=offset, limit=limit, total=len(rows))
        finally:
            self.in_flight -= 1


@pytest.mark.parametrize("count", [0, 1, 999, 1000, 1001, 5300])
async def test_full_read_pages_concurrently_and_slices(count: int) -> None:
    ids = [i * 3 + 7 for i in range(count)]  # gaps, like real internal ids
    fake = FakeItems(ids, cap=2000)
    connector = build_connector(
        make_spec(),
        transport=httpx.MockTransport(answering_zone(fake)),
        sleep=no_sleep,
        page_size=500,
        max_rows_per_query=2000,
    )
    seen = [p.erp_item_id async for p in connector.products()]
    assert seen == [str(i) for i in ids]
    assert all(offset % limit == 0 and offset + limit <= 2000 for offset, limit, _ in fake.calls)
    if count > 1000:
        assert fake.max_in_flight > 1
        assert fake.max_in_flight <= 5
    if count > 2000:
        assert any("item.id >=" in q for _, _, q in fake.calls)
    assert connector.read_watermark("products") is not None
    await connector.aclose()


async def test_a_key_larger_than_a_slice_is_reported() -> None:
    async def same_item(request: httpx.Request) -> httpx.Response:
        limit, offset = int(request.url.params["limit"]), int(request.url.params["offset"])
        if "lastmodifieddate" in json.loads(request.content)["q"]:  # the change queries: nothing changed
            return suiteql_response([], offset=0, limit=limit, total=0)
        rows = [
            {"item": "5", "numid": str(n), "location": "1", "qty": "1", "lot": f"L{n}"}
            for n in range(offset, offset + limit)
        ]
        return suiteql_response(rows, offset=offset, limit=limit, total=10_000)

    connector = build_connector(
        make_spec(),
        transport=httpx.MockTransport(answering_zone(same_item)),
        sleep=no_sleep,
        page_size=100,
        max_rows_per_query=300,
    )
    with pytest.raises(InvalidResponse, match="more than 300 rows"):
        async for _ in connector.stock():
            pass
    await connector.aclose()


async def test_stops_early_without_fetching_everything_when_consumer_stops() -> None:
    fake = FakeItems(list(range(1, 5001)), cap=100_000)
    connector = build_connector(
        make_spec(), transport=httpx.MockTransport(answering_zone(fake)), sleep=no_sleep
    )
    stream = connector.products()
    async for product in stream:
        assert product.erp_item_id == "1"
        break
    await stream.aclose()  # type: ignore[attr-defined]
    assert len(fake.calls) <= 6
    await connector.aclose()
