"""A slow 401 right after good calls is NetSuite being busy: retried before the credentials are blamed."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Any

import httpx
import pytest

from atlas_desktop.connectors.netsuite import build_connector
from atlas_desktop.domain.errors import AuthFailed, RateLimited
from atlas_desktop.domain.model import StockChange, StockKey

from .emulator_support import Clock, Sleeps, connect, make_emulator
from .helpers import error_response, make_spec, suiteql_response

SLOW = 0.05  # the client's threshold in these tests; real answers take a minute


class Account:
    """Answers SuiteQL at once and POSTs per script: "ok", "slow401" (after SLOW+) or "fast401"."""

    def __init__(self, script: list[str], *, suiteql: str = "ok") -> None:
        self.script = script
        self.suiteql = suiteql
        self.posts = 0

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/suiteql"):
            if self.suiteql == "slow401":
                await asyncio.sleep(SLOW * 1.5)
                return _invalid_login()
            return suiteql_response([], offset=0, limit=5, total=0)
        self.posts += 1
        step = self.script.pop(0) if self.script else "ok"
        if step == "slow401":
            await asyncio.sleep(SLOW * 1.5)
            return _invalid_login()
        if step == "fast401":
            return _invalid_login()
        return httpx.Response(
            204, headers={"Location": f"http://x/record/v1/inventoryAdjustment/{self.posts}"}
        )


def _invalid_login() -> httpx.Response:
    return error_response(
        401, "INVALID_LOGIN", "Invalid login attempt. For more details, see the Login Audit Trail."
    )


def connector_for(account: Account, sleeps: Sleeps) -> Any:
    spec = make_spec(settings={"adjustment_account_id": "2615", "subsidiary_id": "1"})
    connector = build_connector(spec, transport=httpx.MockTransport(account), sleep=sleeps)
    connector.client.slow_login_s = SLOW
    return connector


def change() -> StockChange:
    return StockChange(StockKey("5", "1"), Decimal(3), "EA")


async def test_a_slow_401_after_a_good_call_is_retried_with_backoff() -> None:
    account, sleeps = Account(["slow401", "slow401", "ok"]), Sleeps()
    connector = connector_for(account, sleeps)
    assert await connector.find_write("k0") is None  # a call that worked: the credentials are good
    result = await connector.adjust_stock(change(), "k1")
    assert result.remote_id == "3" and account.posts == 3
    assert len(sleeps.delays) == 2 and sleeps.delays[1] > sleeps.delays[0] > 0


async def test_a_slow_401_that_persists_is_reported_as_capacity_not_credentials() -> None:
    account, sleeps = Account(["slow401"] * 10), Sleeps()
    connector = connector_for(account, sleeps)
    await connector.find_write("k0")
    with pytest.raises(RateLimited) as raised:
        await connector.adjust_stock(change(), "k1")
    error = raised.value
    assert error.retryable and error.status == 401 and error.remote_code == "INVALID_LOGIN"
    assert "concurren" in error.message and "credentials" in error.message
    assert "concurrency" in (error.fix or "")
    assert account.posts == 1 + connector.client.capacity_retries


async def test_a_slow_401_with_no_good_call_before_blames_the_credentials() -> None:
    account, sleeps = Account(["slow401"]), Sleeps()
    connector = connector_for(account, sleeps)
    with pytest.raises(AuthFailed) as raised:
        await connector.adjust_stock(StockChange(StockKey("5", "1"), Decimal(3), "EA"), "k1")
    assert account.posts == 1 and sleeps.delays == []
    assert "account ID" in (raised.value.fix or "")
    assert "busy" in raised.value.message  # the slowness is mentioned as the other possible cause


async def test_a_quick_401_after_good_calls_blames_the_credentials_at_once() -> None:
    account, sleeps = Account(["fast401"]), Sleeps()
    connector = connector_for(account, sleeps)
    await connector.find_write("k0")
    with pytest.raises(AuthFailed) as raised:
        await connector.adjust_stock(change(), "k1")
    assert account.posts == 1 and sleeps.delays == []
    assert "worked earlier" in raised.value.message


async def test_good_calls_long_ago_do_not_vouch_for_the_credentials() -> None:
    account, sleeps = Account(["slow401"]), Sleeps()
    connector = connector_for(account, sleeps)
    await connector.find_write("k0")
    connector.client.capacity_window_s = 0.0  # "right after" has passed
    with pytest.raises(AuthFailed):
        await connector.adjust_stock(change(), "k1")
    assert account.posts == 1


async def test_the_emulators_slow_refusal_over_the_limit_is_ridden_out() -> None:
    clock = Clock()
    emulator = make_emulator(30, clock, concurrency_limit=1)
    sleeps = Sleeps()
    connector = connect(emulator, clock, sleep=sleeps)
    connector.client.slow_login_s = 0.1
    assert await connector.find_write("warm-up") is None
    emulator.faults.latency_ms = 300  # the first request holds the only slot for a while
    emulator.faults.over_limit = "slow_refusal"
    emulator.faults.over_limit_delay_s = 0.15
    results = await asyncio.gather(connector.find_write("a"), connector.find_write("b"))
    assert results == [None, None]
    assert emulator.middleware.stats.by_status[401] >= 1 and len(sleeps.delays) >= 1
    assert emulator.auth_failures == []
    await connector.aclose()


def test_capacity_settings_have_production_defaults() -> None:
    spec = make_spec()
    connector = build_connector(spec, transport=httpx.MockTransport(lambda r: httpx.Response(204)))
    assert connector.client.slow_login_s >= 10 and connector.client.capacity_retries >= 2
    assert connector.client.capacity_window_s > 0
