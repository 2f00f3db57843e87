"""Fault middleware: latency, concurrency cap, injected statuses, dropped connections, control, stats."""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from atlas_desktop.sandbox.catalog import Catalog
from atlas_desktop.sandbox.faults import ConnectionDropped, FaultConfig, FaultMiddleware, FaultRule
from atlas_desktop.sandbox.registry import SandboxOptions
from atlas_desktop.sandbox.server import running_sandbox


def netsuite_like_429() -> tuple[int, dict[str, str], bytes]:
    detail = {"o:errorCode": "CONCURRENCY_LIMIT_EXCEEDED"}
    body = {"title": "Bad Request", "status": 429, "o:errorDetails": [detail]}
    return 429, {"content-type": "application/vnd.oracle.resource+json"}, json.dumps(body).encode()


def odata_like_error(status: int) -> tuple[int, dict[str, str], bytes]:
    body = json.dumps({"error": {"code": f"E{status}"}}).encode()
    return status, {"content-type": "application/json"}, body


@dataclass
class FakeEmulator:
    """A tiny emulator: `POST /items` changes state, `GET /slow` waits for `gate`."""

    name: str = "fake"
    faults: FaultConfig = field(default_factory=FaultConfig)
    created: list[str] = field(default_factory=list)
    gate: asyncio.Event | None = None

    def __post_init__(self) -> None:
        async def hello(request: Request) -> JSONResponse:
            return JSONResponse({"hello": self.name})

        async def create(request: Request) -> JSONResponse:
            payload = await request.json()
            self.created.append(payload["sku"])
            return JSONResponse({"id": len(self.created), "sku": payload["sku"]}, status_code=201)

        async def slow(request: Request) -> JSONResponse:
            if self.gate is not None:
                await self.gate.wait()
            return JSONResponse({"slow": True})

        inner = Starlette(routes=[Route("/hello", hello), Route("/items", create, methods=["POST"]),
                                  Route("/slow", slow)])  # fmt: skip
        self.middleware = FaultMiddleware(
            inner, self.faults, rate_limited=netsuite_like_429, server_error=odata_like_error
        )
        self.app = self.middleware

    def credential_files(self, base_url: str) -> dict[str, dict]:
        return {f"{self.name}.json": {"base_url": base_url}}


def client_for(emulator: FakeEmulator) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=emulator.app), base_url="http://sandbox.test")


async def test_latency_is_added_before_each_request():
    emulator = FakeEmulator(faults=FaultConfig(latency_ms=120))
    async with client_for(emulator) as client:
        started = time.perf_counter()
        assert (await client.get("/hello")).status_code == 200
        assert time.perf_counter() - started >= 0.11


async def test_concurrency_cap_answers_with_the_emulators_own_429():
    emulator = FakeEmulator(faults=FaultConfig(concurrency_limit=2), gate=asyncio.Event())
    async with client_for(emulator) as client:
        held = [asyncio.create_task(client.get("/slow")) for _ in range(2)]
        await asyncio.sleep(0.05)
        over = await client.get("/hello")
        assert over.status_code == 429
        assert over.json()["o:errorDetails"][0]["o:errorCode"] == "CONCURRENCY_LIMIT_EXCEEDED"
        assert "retry-after" not in over.headers
        emulator.gate.set()
        assert [r.status_code for r in await asyncio.gather(*held)] == [200, 200]
        assert (await client.get("/hello")).status_code == 200, "slots are released"
    stats = emulator.middleware.stats
    assert stats.rejected_concurrency == 1 and stats.max_in_flight == 2 and stats.in_flight == 0


async def test_status_rule_fires_times_then_stops_and_429_uses_rate_limited_shape():
    faults = FaultConfig()
    faults.add("status", path="^/hello$", status=503, times=1)
    faults.add("status", path="^/slow$", method="GET", status=429)
    emulator = FakeEmulator(faults=faults)
    async with client_for(emulator) as client:
        first, second = await client.get("/hello"), await client.get("/hello")
        assert first.status_code == 503 and first.json() == {"error": {"code": "E503"}}
        assert second.status_code == 200
        limited = await client.get("/slow")
        assert limited.status_code == 429 and "CONCURRENCY_LIMIT_EXCEEDED" in limited.text
    assert faults.rules[0].times == 0
    assert emulator.middleware.stats.faults_fired == {"status": 2}


async def test_method_and_path_filters_and_seeded_probability_repeat():
    def run_pattern() -> list[int]:
        rule = FaultRule("status", path="/hello", method="GET", probability=0.5)
        faults = FaultConfig(seed=5, rules=[rule])
        emulator = FakeEmulator(faults=faults)

        async def go() -> list[int]:
            async with client_for(emulator) as client:
                assert (await client.post("/items", json={"sku": "A"})).status_code == 201, "method filter"
                return [(await client.get("/hello")).status_code for _ in range(40)]

        return asyncio.run(go())

    first = await asyncio.to_thread(run_pattern)
    assert first == await asyncio.to_thread(run_pattern)
    assert 8 < first.count(503) < 32


async def test_drop_before_never_reaches_the_app_in_process():
    emulator = FakeEmulator()
    emulator.faults.add("drop_before", path="^/items$", times=1)
    async with client_for(emulator) as client:
        with pytest.raises(httpx.TransportError):
            await client.post("/items", json={"sku": "A"})
        assert emulator.created == []
        assert (await client.post("/items", json={"sku": "B"})).status_code == 201
    assert emulator.created == ["B"]


async def test_drop_after_changes_state_but_the_response_is_lost_in_process():
    emulator = FakeEmulator()
    emulator.faults.add("drop_after", path="^/items$", method="POST", times=1)
    async with client_for(emulator) as client:
        with pytest.raises(httpx.RemoteProtocolError) as caught:
            await client.post("/items", json={"sku": "A"})
        assert isinstance(caught.value, ConnectionDropped)
    assert emulator.created == ["A"], "the write landed: an in-doubt write"
    stats = emulator.middleware.stats
    assert stats.faults_fired == {"drop_after": 1} and stats.by_status == {201: 1}


async def test_delay_rule_slows_the_response_after_the_app_answered():
    emulator = FakeEmulator()
    emulator.faults.add("delay", path="^/items$", delay_s=0.15)
    async with client_for(emulator) as client:
        started = time.perf_counter()
        response = await client.post("/items", json={"sku": "A"})
        assert response.status_code == 201 and time.perf_counter() - started >= 0.14
    assert emulator.created == ["A"]


def test_drops_over_a_real_uvicorn_socket(tmp_path: Path):
    emulator = FakeEmulator()
    options = SandboxOptions(Catalog(1, 10))
    sandbox = running_sandbox(options, emulators=[emulator])
    with sandbox as urls, httpx.Client(base_url=urls["fake"]) as client:
        control = f"{urls['fake']}/_sandbox/faults"
        rules = [{"kind": "drop_before", "path": "^/items$", "times": 1},
                 {"kind": "drop_after", "path": "^/items$", "times": 1}]  # fmt: skip
        assert httpx.put(control, json={"rules": rules}).status_code == 200
        with pytest.raises(httpx.RemoteProtocolError):
            client.post("/items", json={"sku": "never"})
        assert emulator.created == []
        with pytest.raises(httpx.RemoteProtocolError):
            client.post("/items", json={"sku": "landed"})
        assert emulator.created == ["landed"]
        assert client.post("/items", json={"sku": "ok"}).status_code == 201, "a new connection works"
        stats = httpx.get(f"{urls['fake']}/_sandbox/stats").json()
        assert stats["faults_fired"] == {"drop_before": 1, "drop_after": 1}
        assert stats["by_route"] == {"POST /items": 3}


async def test_control_endpoint_reads_changes_and_resets_the_config():
    faults = FaultConfig(latency_ms=0, concurrency_limit=5)
    emulator = FakeEmulator(faults=faults)
    async with client_for(emulator) as client:
        assert (await client.get("/_sandbox/faults")).json()["concurrency_limit"] == 5
        changed = await client.put(
            "/_sandbox/faults",
            json={"concurrency_limit": 1, "rules": [{"kind": "status", "path": "^/hello$", "status": 500}]},
        )
        assert changed.status_code == 200 and changed.json()["rules"][0]["status"] == 500
        assert faults.concurrency_limit == 1, "the emulator's own FaultConfig object is changed in place"
        assert (await client.get("/hello")).status_code == 500
        added = await client.post("/_sandbox/faults/rules", json={"kind": "delay", "delay_s": 0.01})
        assert [r["kind"] for r in added.json()["rules"]] == ["status", "delay"]
        bad = await client.put("/_sandbox/faults", json={"rules": [{"kind": "explode"}]})
        assert bad.status_code == 400 and "kind" in bad.json()["error"]
        assert len(faults.rules) == 2, "a rejected update changes nothing"
        assert (await client.put("/_sandbox/faults", json={"latency_ms": -1})).status_code == 400
        assert (await client.patch("/_sandbox/faults", json={})).status_code == 405
        reset = (await client.delete("/_sandbox/faults")).json()
        assert reset["rules"] == [] and reset["concurrency_limit"] == 5
        assert (await client.get("/hello")).status_code == 200


async def test_stats_count_requests_by_route_and_ignore_control_requests():
    emulator = FakeEmulator()
    emulator.faults.add("status", path="^/slow$", status=502)
    async with client_for(emulator) as client:
        for _ in range(3):
            await client.get("/hello?x=1")
        await client.post("/items", json={"sku": "A"})
        await client.get("/slow")
        await client.get("/_sandbox/faults")
        stats = (await client.get("/_sandbox/stats", params={"method": "GET", "prefix": "/hel"})).json()
        assert stats["total"] == 5 and stats["matched"] == 3
        assert stats["by_route"] == {"GET /hello": 3, "POST /items": 1, "GET /slow": 1}
        assert stats["by_status"] == {"200": 3, "201": 1, "502": 1}
        assert stats["faults_fired"] == {"status": 1}
        assert emulator.middleware.stats.count(prefix="/") == 5
        await client.delete("/_sandbox/stats")
        assert (await client.get("/_sandbox/stats")).json()["total"] == 0


def test_rule_validation_names_the_field():
    with pytest.raises(ValueError, match="probability"):
        FaultRule("status", probability=2)
    with pytest.raises(ValueError, match="path"):
        FaultRule("status", path="(")
    with pytest.raises(ValueError, match="kind"):
        FaultRule("teleport")
