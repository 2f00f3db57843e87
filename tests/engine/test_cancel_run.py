"""A run the user cancels stops at a safe point; the next run ends where an uninterrupted run would have.

Issue 24: a long first sync needs a Cancel button, and cancelling must lose and double nothing (the
outbox carries what was decided and not sent yet, with the same keys).
"""

from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest

from atlas_desktop.domain.enums import SyncLogStatus
from atlas_desktop.engine.api import EngineEvent, RunProgress, RunStatus, RunSummary
from atlas_desktop.engine.runner import CANCELLED_MESSAGE
from tests.engine.test_sync_e2e import World, matched, sides, world  # noqa: F401 - `world` is a fixture


def cancel_at(built: World, phase: str) -> list[RunProgress]:
    """Cancel the connection's run at the first progress event of `phase`; returns the events seen."""
    seen: list[RunProgress] = []

    def on_event(event: EngineEvent) -> None:
        if isinstance(event, RunProgress):
            seen.append(event)
            if event.phase.startswith(phase) and len([e for e in seen if e.phase.startswith(phase)]) == 1:
                assert built.engine.cancel(built.connection_id) is True

    built.engine.events.subscribe(on_event)
    return seen


@pytest.mark.parametrize("phase", ["pull", "merge", "push"])
async def test_a_cancelled_run_then_a_normal_run_ends_as_an_uninterrupted_run(
    world: World,  # noqa: F811 - the fixture
    phase: str,
) -> None:
    engine, cid = world.engine, world.connection_id
    await engine.discover(cid)
    first = await engine.sync(cid, approve=True)
    assert first.status is RunStatus.SUCCESS, first.error_message
    mappings = matched(world)
    stocked = [m for m in mappings if sides(world, m)[0] >= 3][:6]
    expected = {m.id: sides(world, m)[0] for m in mappings}
    for mapping in stocked[:3]:  # both sides moved: a write to each side, two push waves
        world.atlas.sell(mapping.atlas_inventory_id, 2)
        world.erp.receive(mapping, Decimal(5))
        expected[mapping.id] += 3
    for mapping in stocked[3:]:
        world.atlas.sell(mapping.atlas_inventory_id, 1)
        expected[mapping.id] -= 1
    postings = world.erp.postings()

    seen = cancel_at(world, phase)
    cancelled = await engine.sync(cid)
    assert cancelled.status is RunStatus.CANCELLED and cancelled.error_message == CANCELLED_MESSAGE
    assert not [e for e in seen if e.phase.startswith(phase)][1:], "the run went on after the cancel"
    summary = world.services.connections.summary(cid)
    # Cancelling is neither a success nor a failure: the connection's record stays as the last run left it.
    assert summary.last_sync_status is SyncLogStatus.SUCCESS and summary.consecutive_failures == 0

    after = await engine.sync(cid)
    assert after.status is RunStatus.SUCCESS, after.error_message
    for mapping in mappings:
        assert sides(world, mapping) == (expected[mapping.id], expected[mapping.id]), mapping
    assert world.erp.postings() == postings + 6  # one posting per key moved: nothing lost, nothing twice
    idle = await engine.sync(cid)
    assert idle.status is RunStatus.SUCCESS and idle.items_synced == 0


async def test_cancel_with_nothing_running_says_so(world: World) -> None:  # noqa: F811 - the fixture
    assert world.engine.cancel(world.connection_id) is False


async def test_a_first_sync_reports_merge_and_push_progress_of_a_known_total(
    world: World,  # noqa: F811 - the fixture
) -> None:
    engine, cid = world.engine, world.connection_id
    await engine.discover(cid)
    seen: list[RunProgress] = []
    engine.events.subscribe(lambda e: seen.append(e) if isinstance(e, RunProgress) else None)
    first = await engine.sync(cid, approve=True)
    assert first.status is RunStatus.SUCCESS, first.error_message
    mapped = len(matched(world))
    merges = [e for e in seen if e.phase == "merge"]
    assert merges and all(e.total == mapped for e in merges) and merges[-1].done == mapped
    pushes = [e for e in seen if e.phase == "push"]
    assert pushes and pushes[-1].done == pushes[-1].total == first.items_synced


async def test_sync_now_while_a_run_is_being_cancelled_starts_a_new_run(
    world: World,  # noqa: F811 - the fixture
) -> None:
    """A run joins the one going on, but not one being cancelled: that outcome is not what was asked."""
    engine, cid = world.engine, world.connection_id
    await engine.discover(cid)
    await engine.sync(cid, approve=True)
    mapping = next(m for m in matched(world) if sides(world, m)[0] >= 3)
    world.atlas.sell(mapping.atlas_inventory_id, 1)
    expected = sides(world, mapping)[0]
    again: list[asyncio.Task[RunSummary]] = []

    def on_event(event: EngineEvent) -> None:
        if isinstance(event, RunProgress) and not again:
            assert engine.cancel(cid)
            again.append(asyncio.ensure_future(engine.sync(cid)))  # "Sync now" right after Cancel

    engine.events.subscribe(on_event)
    cancelled = await engine.sync(cid)
    assert cancelled.status is RunStatus.CANCELLED
    second = await again[0]
    assert second.status is RunStatus.SUCCESS and second.sync_log_id != cancelled.sync_log_id
    assert sides(world, mapping) == (expected, expected)
