"""Over-limit requests answered slowly (NetSuite's slow "Invalid login attempt") instead of an instant 429."""

from __future__ import annotations

import asyncio
import json
import time

import pytest

from atlas_desktop.sandbox.faults import FaultConfig, FaultConfigError, FaultMiddleware

from .test_faults import FakeEmulator, client_for


def slow_refusal() -> tuple[int, dict[str, str], bytes]:
    return 401, {"content-type": "application/json"}, json.dumps({"refused": "slowly"}).encode()


def emulator_with(faults: FaultConfig) -> FakeEmulator:
    emulator = FakeEmulator(faults=faults, gate=asyncio.Event())
    emulator.middleware = FaultMiddleware(
        emulator.middleware.app,
        faults,
        rate_limited=emulator.middleware.rate_limited,
        refused_slowly=slow_refusal,
    )
    emulator.app = emulator.middleware
    return emulator


def test_the_default_stays_an_instant_rejection() -> None:
    faults = FaultConfig()
    assert faults.over_limit == "reject" and faults.to_dict()["over_limit"] == "reject"


async def test_over_limit_requests_get_the_slow_refusal_after_the_delay() -> None:
    faults = FaultConfig(concurrency_limit=1, over_limit="slow_refusal", over_limit_delay_s=0.2)
    emulator = emulator_with(faults)
    async with client_for(emulator) as client:
        held = asyncio.create_task(client.get("/slow"))
        await asyncio.sleep(0.05)
        started = time.perf_counter()
        over = await client.get("/hello")
        waited = time.perf_counter() - started
        assert over.status_code == 401 and over.json() == {"refused": "slowly"}
        assert waited >= 0.19
        assert emulator.middleware.stats.in_flight == 1, "a refused request never held a slot"
        emulator.gate.set()
        assert (await held).status_code == 200
        assert (await client.get("/hello")).status_code == 200
    stats = emulator.middleware.stats
    assert stats.rejected_concurrency == 1 and stats.by_status[401] == 1


async def test_without_a_slow_answer_of_its_own_the_emulator_sends_its_429_late() -> None:
    faults = FaultConfig(concurrency_limit=1, over_limit="slow_refusal", over_limit_delay_s=0.05)
    emulator = FakeEmulator(faults=faults, gate=asyncio.Event())
    async with client_for(emulator) as client:
        held = asyncio.create_task(client.get("/slow"))
        await asyncio.sleep(0.02)
        assert (await client.get("/hello")).status_code == 429
        emulator.gate.set()
        await held


async def test_the_control_endpoint_switches_the_mode() -> None:
    faults = FaultConfig(concurrency_limit=3)
    emulator = emulator_with(faults)
    async with client_for(emulator) as client:
        changed = await client.put(
            "/_sandbox/faults", json={"over_limit": "slow_refusal", "over_limit_delay_s": 1}
        )
        assert changed.status_code == 200, changed.text
        assert faults.over_limit == "slow_refusal" and faults.over_limit_delay_s == 1.0
        bad = await client.put("/_sandbox/faults", json={"over_limit": "explode"})
        assert bad.status_code == 400 and "over_limit" in bad.json()["error"]
        bad = await client.put("/_sandbox/faults", json={"over_limit_delay_s": -1})
        assert bad.status_code == 400 and "over_limit_delay_s" in bad.json()["error"]
        reset = (await client.delete("/_sandbox/faults")).json()
        assert reset["over_limit"] == "reject"


def test_config_validation_names_the_field() -> None:
    with pytest.raises(FaultConfigError, match="over_limit"):
        FaultConfig().update({"over_limit": "sometimes"})
    copied = FaultConfig(over_limit="slow_refusal", over_limit_delay_s=2.5).copy()
    assert copied.over_limit == "slow_refusal" and copied.over_limit_delay_s == 2.5
