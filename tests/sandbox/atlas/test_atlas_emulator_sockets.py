"""The Atlas emulator over sockets (uvicorn in a thread): a long-poll woken from another thread."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest

from atlas_desktop.connectors.atlas import build_client
from atlas_desktop.domain.secrets import Secret
from atlas_desktop.sandbox.atlas import build
from atlas_desktop.sandbox.catalog import Catalog
from atlas_desktop.sandbox.registry import SandboxOptions
from atlas_desktop.sandbox.server import running_sandbox


@pytest.mark.e2e
async def test_long_poll_over_sockets_is_woken_from_another_thread() -> None:
    options = SandboxOptions(catalog=Catalog(seed=3, size=30))
    emulator = build(options)
    with running_sandbox(options, emulators=[emulator]) as urls:
        async with build_client(urls["atlas"], token=Secret(emulator.api_token)) as atlas:
            head = (await atlas.changes_page(since=None)).cursor
            row = await atlas.inventory(page_size=1).__anext__()
            loop = asyncio.get_running_loop()
            changed_at: list[float] = []

            def sell() -> None:
                time.sleep(0.3)
                emulator.sell(row.id, 1)  # on this (non-server) thread
                changed_at.append(time.perf_counter())

            seller = loop.run_in_executor(None, sell)
            batch = await atlas.changes_page(since=head, wait=20)
            answered = time.perf_counter()
            await seller
        assert [r.id for r in batch.changes] == [row.id]
        latency = answered - changed_at[0]
        print(f"long-poll over sockets answered {latency * 1000:.1f} ms after the change")
        assert latency < 0.5
        async with httpx.AsyncClient(base_url=urls["atlas"]) as raw:
            assert (await raw.get("/api/v1/me")).status_code == 401
