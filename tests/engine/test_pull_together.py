"""The Atlas feed and the ERP read run at once; the first failure stops the other, raised as it is."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from atlas_desktop.engine.api import DiscoveryProgress, RunStatus
from atlas_desktop.engine.health import phase_words
from atlas_desktop.engine.pull import Puller, PullStats, together
from tests.engine.test_sync_e2e import World, world  # noqa: F401 - the fixture


async def test_the_steps_run_at_once() -> None:
    atlas_started, erp_started = asyncio.Event(), asyncio.Event()

    async def atlas() -> None:
        atlas_started.set()
        await erp_started.wait()  # one after the other, this would wait forever

    async def erp() -> None:
        erp_started.set()
        await atlas_started.wait()

    await asyncio.wait_for(together(atlas(), erp()), timeout=5)


async def test_the_first_failure_stops_the_other_and_is_raised_as_it_is() -> None:
    stopped = asyncio.Event()

    async def failing() -> None:
        await asyncio.sleep(0)
        raise KeyError("the ERP said no")

    async def long_read() -> None:
        try:
            await asyncio.sleep(30)
        finally:
            stopped.set()

    with pytest.raises(KeyError, match="the ERP said no"):
        await asyncio.wait_for(together(long_read(), failing()), timeout=5)
    assert stopped.is_set()


async def test_cancelling_the_caller_stops_every_step() -> None:
    stopped: list[str] = []

    async def read(name: str) -> None:
        try:
            await asyncio.sleep(30)
        finally:
            stopped.append(name)

    task = asyncio.ensure_future(together(read("atlas"), read("erp")))
    await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert sorted(stopped) == ["atlas", "erp"]


async def test_a_run_reads_atlas_and_the_erp_at_once(
    world: World,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    engine, cid = world.engine, world.connection_id
    await engine.discover(cid)
    erp_started = asyncio.Event()
    pull_atlas, pull_erp = Puller.pull_atlas, Puller.pull_erp

    async def atlas_after_the_erp_started(self: Puller) -> PullStats:
        await erp_started.wait()  # read one after the other, the run would wait here for ever
        return await pull_atlas(self)

    async def erp(self: Puller, **kwargs: Any) -> PullStats:
        erp_started.set()
        return await pull_erp(self, **kwargs)

    monkeypatch.setattr(Puller, "pull_atlas", atlas_after_the_erp_started)
    monkeypatch.setattr(Puller, "pull_erp", erp)
    run = await asyncio.wait_for(engine.sync(cid, approve=True), timeout=60)
    assert run.status is RunStatus.SUCCESS, run.error_message


async def test_while_both_sides_are_read_the_progress_is_one_count_that_only_grows(
    world: World,  # noqa: F811
) -> None:
    """Each side's own count would take turns on the screen (3,000 rows, then 1,000, then 3,500...)."""
    engine, cid = world.engine, world.connection_id
    seen: list[DiscoveryProgress] = []
    engine.events.subscribe(
        lambda event: seen.append(event) if isinstance(event, DiscoveryProgress) else None
    )
    await engine.discover(cid)  # reads both sides whole, as a first run would
    reads = [event for event in seen if event.phase != "match"]
    assert reads and {event.phase for event in reads} == {"pull"}
    counts = [event.done for event in reads]
    assert counts == sorted(counts) and counts[-1] >= len(world.atlas.rows())
    assert phase_words("pull", counts[-1]).startswith("Reading Atlas and the ERP: ")
