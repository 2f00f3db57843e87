"""Slow and numerous clients cannot stall the local API: requests must arrive whole within a deadline."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest

from atlas_desktop.app.api import protocol, start_api_server
from tests.webhooks.world import World


async def _open_slow(port: int, count: int) -> list[tuple[asyncio.StreamReader, asyncio.StreamWriter]]:
    """Connections that start a request and never finish its headers (slowloris)."""
    held = []
    for _ in range(count):
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"POST /api/erp/webhooks/netsuite/x HTTP/1.1\r\nHost: a\r\nX-Slow: ")
        await writer.drain()
        held.append((reader, writer))
    return held


async def test_slow_clients_are_cut_off_and_others_are_served(
    world: World, api_key: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(protocol, "REQUEST_READ_S", 0.5)
    server = await start_api_server(world.services, world.engine, host="127.0.0.1", port=0)
    try:
        slow = await _open_slow(server.port, 60)
        async with httpx.AsyncClient(base_url=server.url) as client:
            started = time.monotonic()
            answer = await client.get("/api/erp/connections", headers={"X-API-Key": api_key})
            assert answer.status_code == 200 and time.monotonic() - started < 2.0
        # Past the deadline every slow connection has been closed by the server (EOF on read).
        closed = await asyncio.wait_for(
            asyncio.gather(*(reader.read() for reader, _ in slow)), timeout=5.0
        )
        assert len(closed) == 60
        for _, writer in slow:
            writer.close()
    finally:
        await server.stop()


async def test_a_body_sent_a_byte_at_a_time_is_cut_off(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(protocol, "REQUEST_READ_S", 0.5)
    server = await start_api_server(world.services, world.engine, host="127.0.0.1", port=0)
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        writer.write(
            b"POST /api/erp/webhooks/netsuite/x HTTP/1.1\r\nHost: a\r\nContent-Length: 1000\r\n\r\n{"
        )
        await writer.drain()
        started = time.monotonic()
        await asyncio.wait_for(reader.read(), timeout=5.0)
        assert time.monotonic() - started < 3.0
        writer.close()
    finally:
        await server.stop()


async def test_connections_beyond_the_cap_are_refused(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(protocol, "MAX_CONNECTIONS", 10)
    server = await start_api_server(world.services, world.engine, host="127.0.0.1", port=0)
    try:
        held = await _open_slow(server.port, 10)
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        assert await asyncio.wait_for(reader.read(), timeout=2.0) == b""  # closed at once
        writer.close()
        for _, w in held:
            w.close()
    finally:
        await server.stop()
