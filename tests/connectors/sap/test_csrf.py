"""CSRF: one fetch per session, token and cookies kept together, refetch-and-retry once on 403 Required."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from decimal import Decimal

import httpx
import pytest

from atlas_desktop.domain.errors import AuthFailed
from atlas_desktop.domain.model import StockChange, StockKey

from .fake_sap import FakeSap
from .helpers import make


def receipt(n: int = 1) -> StockChange:
    return StockChange(StockKey("MAT-1", "1010/0001", "B1"), Decimal(n), "EA")


async def test_one_fetch_for_many_concurrent_writers() -> None:
    sap = FakeSap()
    connector = make(sap)
    results = await asyncio.gather(*(connector.adjust_stock(receipt(i + 1), f"key-{i}") for i in range(20)))
    assert sap.fetches == 1
    assert len({r.remote_id for r in results}) == 20


async def test_expired_token_refetched_once_and_write_retried() -> None:
    sap = FakeSap()
    connector = make(sap)
    await connector.adjust_stock(receipt(), "k1")
    sap.expire_sessions()
    result = await connector.adjust_stock(receipt(), "k2")
    assert sap.fetches == 2 and result.remote_number
    assert len(sap.posts) == 2  # the refused attempt posted nothing


async def test_expiry_under_concurrency_one_refetch_no_mixups() -> None:
    sap = FakeSap()
    connector = make(sap)
    await connector.adjust_stock(receipt(), "warm")
    sap.expire_sessions()
    results = await asyncio.gather(*(connector.adjust_stock(receipt(), f"k{i}") for i in range(15)))
    assert len(results) == 15
    assert sap.fetches == 2
    # every accepted write carried a token that belongs to the cookie it was sent with
    for request in sap.requests:
        if request.method == "POST" and request.headers.get("x-csrf-token") == "token-2-xyz":
            assert "SAP_SESSIONID_S4H_100=s2" in request.headers["cookie"]


async def test_refused_twice_is_auth_failed_with_cookie_hint() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "GET":
            return httpx.Response(200, json={"d": {}}, headers={"x-csrf-token": "t"})
        return httpx.Response(403, text="CSRF token validation failed", headers={"x-csrf-token": "Required"})

    connector = make(handler)
    with pytest.raises(AuthFailed) as info:
        await connector.adjust_stock(receipt(), "k")
    assert "CSRF" in info.value.message and "cookies" in info.value.fix


async def test_fetch_goes_to_service_root_with_trailing_slash() -> None:
    sap = FakeSap()
    connector = make(sap)
    await connector.adjust_stock(receipt(), "k")
    fetch = next(r for r in sap.requests if r.headers.get("x-csrf-token") == "Fetch")
    assert fetch.method == "GET"
    assert fetch.url.path == "/sap/opu/odata/sap/API_MATERIAL_DOCUMENT_SRV/"


async def test_tokens_of_two_services_fetched_at_once_each_keep_their_own_session() -> None:
    # The cookies of a fetch are read from the client's jar once its answer is in: a second fetch
    # answered meanwhile (a new session, its cookies overwriting the jar) must not lend its cookies to
    # the first token. Fetches go one at a time, the later one inside the session of the first.
    sessions: dict[str, str] = {}  # cookie -> token

    async def body() -> AsyncIterator[bytes]:
        await asyncio.sleep(0.02)  # the answer's body arrives after its headers
        yield b""

    async def handler(request: httpx.Request) -> httpx.Response:
        cookie = request.headers.get("cookie", "").partition("=")[2].partition(";")[0]
        if request.headers.get("x-csrf-token") == "Fetch":
            # the first fetch is answered later than the second when both are on the wire together
            await asyncio.sleep(0.01 if "STOCK" in request.url.path else 0.005)
            if cookie not in sessions:
                cookie = f"s{len(sessions)}"
                sessions[cookie] = f"token-{cookie}"
            headers = {
                "x-csrf-token": sessions[cookie],
                "set-cookie": f"SAP_SESSIONID_S4H_100={cookie}; path=/",
            }
            return httpx.Response(200, headers=headers, stream=_Stream(body()))
        valid = sessions.get(cookie) == request.headers.get("x-csrf-token")
        return httpx.Response(202 if valid else 403, headers={} if valid else {"x-csrf-token": "Required"})

    connector = make(handler)
    roots = ("/sap/opu/odata/sap/API_MATERIAL_STOCK_SRV", "/sap/opu/odata/sap/API_BATCH_SRV")
    await asyncio.gather(*(connector.csrf.session(root) for root in roots))
    for root in roots:
        answer = await connector.csrf.send("POST", f"{root}/$batch", service_root=root)
        assert answer.status_code == 202, root
    assert connector.csrf.fetches == 2 and len(sessions) == 1


class _Stream(httpx.AsyncByteStream):
    def __init__(self, chunks: AsyncIterator[bytes]) -> None:
        self._chunks = chunks

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self._chunks:
            yield chunk
