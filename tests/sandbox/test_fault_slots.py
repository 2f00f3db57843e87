"""Concurrency slots of the fault middleware: freed when the answer is out, not when the app returns."""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import dataclass, field

import httpx
import pytest

from atlas_desktop.sandbox.catalog import Catalog
from atlas_desktop.sandbox.faults import FaultConfig, FaultMiddleware, Receive, Scope, Send
from atlas_desktop.sandbox.registry import SandboxOptions
from atlas_desktop.sandbox.server import running_sandbox

LIMIT = 3
PER_SLOT = 15


@dataclass
class AfterworkEmulator:
    """Answers at once, then keeps working a little (logging, cleanup, a Starlette BackgroundTask).

    `/stream` sends its body in two chunks and waits for `gate` in between; `/boom` answers, then fails.
    """

    name: str = "afterwork"
    faults: FaultConfig = field(default_factory=lambda: FaultConfig(concurrency_limit=LIMIT))
    after_s: float = 0.02
    gate: asyncio.Event | None = None

    def __post_init__(self) -> None:
        self.middleware = FaultMiddleware(self._inner, self.faults)
        self.app = self.middleware

    async def _inner(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = [(b"content-type", b"text/plain")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        if scope["path"] == "/stream":
            await send({"type": "http.response.body", "body": b"first ", "more_body": True})
            assert self.gate is not None
            await self.gate.wait()
        await send({"type": "http.response.body", "body": b"done", "more_body": False})
        await asyncio.sleep(self.after_s)
        if scope["path"] == "/boom":
            raise RuntimeError("after the answer")

    def credential_files(self, base_url: str) -> dict[str, dict]:
        return {f"{self.name}.json": {"base_url": base_url}}


async def _sequential_per_slot(client: httpx.AsyncClient) -> Counter[int]:
    """LIMIT workers, each sending its next request as soon as its last answer arrived."""
    statuses: Counter[int] = Counter()

    async def worker() -> None:
        for _ in range(PER_SLOT):
            response = await client.get("/work")
            statuses[response.status_code] += 1

    await asyncio.gather(*(worker() for _ in range(LIMIT)))
    return statuses


def _assert_clean_stats(stats: dict) -> None:
    assert stats["rejected_concurrency"] == 0
    assert stats["by_status"] == {"200": LIMIT * PER_SLOT}
    assert stats["in_flight"] == 0
    assert 1 <= stats["max_in_flight"] <= LIMIT


def test_a_client_within_the_limit_never_gets_a_429_over_a_real_socket() -> None:
    emulator = AfterworkEmulator()
    with running_sandbox(SandboxOptions(Catalog(1, 10)), emulators=[emulator]) as urls:
        url = urls[emulator.name]

        async def go() -> Counter[int]:
            limits = httpx.Limits(max_connections=LIMIT, max_keepalive_connections=LIMIT)
            async with httpx.AsyncClient(base_url=url, limits=limits, timeout=30) as client:
                return await _sequential_per_slot(client)

        assert asyncio.run(go()) == {200: LIMIT * PER_SLOT}
        _assert_clean_stats(httpx.get(f"{url}/_sandbox/stats").json())


async def test_a_client_within_the_limit_never_gets_a_429_in_process() -> None:
    emulator = AfterworkEmulator()
    transport = httpx.ASGITransport(app=emulator.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://sandbox.test") as client:
        assert await _sequential_per_slot(client) == {200: LIMIT * PER_SLOT}
    _assert_clean_stats(emulator.middleware.stats.to_dict())


async def test_the_slot_is_held_until_the_last_body_chunk_then_counted_once() -> None:
    emulator = AfterworkEmulator(faults=FaultConfig(concurrency_limit=1), gate=asyncio.Event())
    stats = emulator.middleware.stats
    transport = httpx.ASGITransport(app=emulator.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://sandbox.test") as client:
        streaming = asyncio.create_task(client.get("/stream"))
        while stats.in_flight == 0:
            await asyncio.sleep(0.005)
        # Half an answer is not an answer: the slot stays taken and the next request is refused.
        assert (await client.get("/work")).status_code == 429
        assert stats.in_flight == 1
        emulator.gate.set()
        assert (await streaming).text == "first done"
        assert stats.in_flight == 0
        # An app that fails after its answer went out frees its slot once, not twice.
        with pytest.raises(RuntimeError):
            await client.get("/boom")
        assert stats.in_flight == 0
        assert (await client.get("/work")).status_code == 200
    assert stats.in_flight == 0 and stats.max_in_flight == 1 and stats.rejected_concurrency == 1


async def test_an_injected_status_and_a_dropped_connection_free_their_slot() -> None:
    faults = FaultConfig(concurrency_limit=1)
    faults.add("status", path="^/work$", status=503, times=1)
    faults.add("drop_after", path="^/work$", times=1)
    emulator = AfterworkEmulator(faults=faults)
    transport = httpx.ASGITransport(app=emulator.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://sandbox.test") as client:
        assert (await client.get("/work")).status_code == 503
        with pytest.raises(httpx.RemoteProtocolError):
            await client.get("/work")
        assert (await client.get("/work")).status_code == 200
    stats = emulator.middleware.stats
    assert stats.in_flight == 0 and stats.rejected_concurrency == 0
    assert stats.by_status == {503: 1, 200: 2}  # drop_after: the app answered 200, the client never heard it
