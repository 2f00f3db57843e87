"""CSRF: one fetch per session, token and cookies kept together, refetch-and-retry once on 403 Required."""

from __future__ import annotations

import asyncio
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
