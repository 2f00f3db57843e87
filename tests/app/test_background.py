"""The profile's background work runs in one process at a time; the other says who runs it and takes over."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest

from atlas_desktop.app.background import BackgroundTiming, BackgroundWork, ScheduleOwner
from atlas_desktop.app.engine_setup import build_engine
from atlas_desktop.app.paths import ProfilePaths
from atlas_desktop.app.services import Services, open_services
from atlas_desktop.domain.connection import parse_connection
from atlas_desktop.sandbox.catalog import Catalog
from atlas_desktop.sandbox.netsuite import build as build_netsuite
from atlas_desktop.sandbox.registry import SandboxOptions
from atlas_desktop.store.keys import MemoryKeySource

# Scheduled runs are not what these tests look at: the first one would come after an hour.
TIMING = BackgroundTiming(first_run_s=3600, takeover_s=0.1, reload_s=3600)


@pytest.fixture
def two_processes(tmp_path: Path) -> Iterator[tuple[Services, Services]]:
    """Two openings of one profile, as the window and the agent each hold one (locks are per opening)."""
    paths = ProfilePaths(tmp_path / "profile")
    with ExitStack() as stack:
        first = stack.enter_context(open_services(paths, key_source=MemoryKeySource()))
        second = stack.enter_context(open_services(paths, key_source=MemoryKeySource()))
        yield first, second


async def _until(condition: object, timeout: float = 5.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():  # type: ignore[operator]
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.02)


async def test_the_window_waits_for_the_agents_schedule_and_takes_it_over(
    two_processes: tuple[Services, Services],
) -> None:
    agent_services, window_services = two_processes
    agent_engine, window_engine = build_engine(agent_services), build_engine(window_services)
    seen: list[ScheduleOwner] = []
    agent = BackgroundWork(agent_services, agent_engine, role="agent", timing=TIMING)
    window = BackgroundWork(
        window_services, window_engine, role="window", timing=TIMING, on_change=lambda w: seen.append(w.owner)
    )
    try:
        await agent.start()
        await window.start()
        assert agent.running and agent.owner.here
        assert not window.running
        assert window.owner.describe() == f"Scheduled syncs run by the agent (process {agent.owner.pid})."
        await agent.stop()  # the agent ends: the window runs the schedule from its next try on
        await _until(lambda: window.owner.here)
        assert window.running
        assert window.owner.describe() == "Scheduled syncs run here."
        assert [owner.here for owner in seen] == [False, True]
    finally:
        await window.stop()
        await agent.stop()
        await agent_engine.aclose()
        await window_engine.aclose()


async def test_a_connection_activated_here_joins_the_schedule_on_request(tmp_path: Path) -> None:
    netsuite = build_netsuite(SandboxOptions(catalog=Catalog(seed=3, size=5)))
    spec = parse_connection(netsuite.credential_files("http://127.0.0.1:8123")["netsuite.json"])
    with open_services(ProfilePaths(tmp_path / "profile"), key_source=MemoryKeySource()) as services:
        connection_id = services.connections.add(spec)
        engine = build_engine(services)
        work = BackgroundWork(services, engine, role="window", timing=TIMING)
        try:
            await work.start()
            assert work.running and work.scheduled == []  # not activated yet: nothing to schedule
            services.connections.update(connection_id, sync_enabled=True)
            work.request_reload()  # what the window does after its wizard or settings
            await _until(lambda: work.scheduled == [connection_id])
        finally:
            await work.stop()
            await engine.aclose()
        assert not work.running
        assert not services.locks.scheduler().is_held_elsewhere()  # released for the next process


async def test_the_local_api_starts_and_stops_with_its_setting(tmp_path: Path) -> None:
    with open_services(ProfilePaths(tmp_path / "profile"), key_source=MemoryKeySource()) as services:
        engine = build_engine(services)
        work = BackgroundWork(services, engine, role="window", timing=TIMING)
        try:
            await work.start()
            assert work.urls == []  # off by default
            services.settings.set("management_api_port", 0)  # any free port
            services.settings.set("management_api_enabled", True)
            work.request_reload()  # what the window does when its settings dialog saves
            await _until(lambda: len(work.urls) == 1)
            assert work.urls[0].startswith("http://127.0.0.1:") and work.problems == []
            services.settings.set("management_api_enabled", False)
            work.request_reload()
            await _until(lambda: work.urls == [])
        finally:
            await work.stop()
            await engine.aclose()


async def test_a_webhook_enabled_through_the_api_is_served_at_once(tmp_path: Path) -> None:
    import httpx

    from atlas_desktop.store.webhooks import ApiKeyRepository

    with open_services(ProfilePaths(tmp_path / "profile"), key_source=MemoryKeySource()) as services:
        spec = parse_connection(
            build_netsuite(SandboxOptions(catalog=Catalog(seed=1, size=5))).credential_files(
                "http://127.0.0.1:9"
            )["netsuite.json"]
        )
        connection_id = services.connections.add(spec)
        engine = build_engine(services)
        work = BackgroundWork(services, engine, role="window", timing=TIMING)
        try:
            services.settings.set("management_api_port", 0)
            services.settings.set("management_api_enabled", True)
            await work.start()
            [api_url] = work.urls
            key = ApiKeyRepository(services.store, services.vault).ensure().reveal()
            async with httpx.AsyncClient(base_url=api_url, headers={"X-API-Key": key}) as client:
                enabled = await client.put(
                    f"/api/erp/connections/{connection_id}/webhook", json={"port": 18771}
                )
                assert enabled.status_code == 200, enabled.text
                url = enabled.json()["url"]
                assert url.startswith("http://127.0.0.1:18771/")
                await _until(lambda: len(work.urls) == 2, timeout=2.0)  # not at the next restart
                assert (await client.post(url, content=b"{}")).status_code == 401  # served: unsigned
                assert api_url in work.urls  # the API that took the change kept running
        finally:
            await work.stop()
            await engine.aclose()
