"""After a first sync, a run merges only the keys whose inputs changed, and every change exactly once.

Against the emulators: the keys handed to the merge are counted at plan(), run by run.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa

from atlas_desktop.domain.enums import MappingStatus
from atlas_desktop.domain.merge_rows import MergeRow
from atlas_desktop.engine import runner as runner_module
from atlas_desktop.engine.api import RunStatus
from atlas_desktop.engine.pull import Puller
from atlas_desktop.engine.push import Pusher
from tests.engine.test_sync_e2e import World, matched, sides, world  # noqa: F401 - the fixture


class MergedKeys:
    """The mapping ids plan() was given, per run (`next_run` starts a new list)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.runs: list[list[int]] = []
        original = runner_module.plan

        def counting(rows: Iterable[MergeRow], *args: Any, **kwargs: Any) -> Any:
            rows = list(rows)
            self.runs[-1].extend(row.mapping_id for row in rows)
            return original(rows, *args, **kwargs)

        monkeypatch.setattr(runner_module, "plan", counting)

    def next_run(self) -> None:
        self.runs.append([])


def _without_base(w: World) -> set[int]:
    """Keys the first sync could not settle (a side missing): merged, and skipped, on every run."""
    with w.services.store.session() as session:
        found = session.execute(
            sa.text(
                "SELECT m.id FROM erp_inventory_mappings m WHERE m.connection_id = :c AND m.status = :s "
                "AND NOT EXISTS (SELECT 1 FROM sync_bases b WHERE b.mapping_id = m.id)"
            ),
            {"c": w.connection_id, "s": MappingStatus.MATCHED.value},
        )
        return set(found.scalars())


async def _first_sync(w: World, merged: MergedKeys) -> None:
    engine, cid = w.engine, w.connection_id
    await engine.discover(cid)
    merged.next_run()
    first = await engine.sync(cid, approve=True)
    assert first.status is RunStatus.SUCCESS, first.error_message
    assert len(merged.runs[-1]) == len(matched(w))  # a first sync merges every key


async def test_after_a_first_sync_an_idle_run_merges_no_key(
    world: World,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    merged = MergedKeys(monkeypatch)
    await _first_sync(world, merged)
    for _ in range(2):
        merged.next_run()
        idle = await world.engine.sync(world.connection_id)
        assert idle.status is RunStatus.SUCCESS and idle.items_synced == 0
        assert set(merged.runs[-1]) == _without_base(world)


def _between_runs(act: Callable[[], None], monkeypatch: pytest.MonkeyPatch) -> None:
    act()


def _after_the_reads(act: Callable[[], None], monkeypatch: pytest.MonkeyPatch) -> None:
    """Once, right after a run read both sides: that run's merge cannot see it."""
    original = Puller.carry_refusals
    done = False

    async def then_act(self: Puller) -> None:
        nonlocal done
        await original(self)
        if not done:
            done = True
            act()

    monkeypatch.setattr(Puller, "carry_refusals", then_act)


def _during_the_push(act: Callable[[], None], monkeypatch: pytest.MonkeyPatch) -> None:
    """Once, as a run starts sending its writes (after its merge)."""
    original = Pusher.drain
    done = False

    async def act_then_drain(self: Pusher) -> Any:
        nonlocal done
        if not done:
            done = True
            act()
        return await original(self)

    monkeypatch.setattr(Pusher, "drain", act_then_drain)


@pytest.mark.parametrize("moment", [_between_runs, _after_the_reads, _during_the_push])
async def test_a_sale_and_a_receipt_arriving_at_any_point_are_merged_exactly_once(
    world: World,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
    moment: Callable[[Callable[[], None], pytest.MonkeyPatch], None],
) -> None:
    merged = MergedKeys(monkeypatch)
    await _first_sync(world, merged)
    stocked = [m for m in matched(world) if sides(world, m)[0] >= 3]
    sold, received = stocked[0], stocked[1]
    expected = {sold.id: sides(world, sold)[1] - 2, received.id: sides(world, received)[1] + 4}

    def act() -> None:
        world.atlas.sell(sold.atlas_inventory_id, 2)
        world.erp.receive(received, Decimal(4))

    moment(act, monkeypatch)
    for _ in range(4):
        merged.next_run()
        run = await world.engine.sync(world.connection_id)
        assert run.status is RunStatus.SUCCESS, run.error_message
    for mapping in (sold, received):
        assert sides(world, mapping) == (expected[mapping.id], expected[mapping.id])
        assert sum(run.count(mapping.id) for run in merged.runs[1:]) == 1, merged.runs
    unsettled = _without_base(world)
    assert not {sold.id, received.id} & unsettled
    assert set(merged.runs[-1]) == set(merged.runs[-2]) == unsettled  # carried, nothing merged again
    assert {key for run in merged.runs[1:] for key in run} - unsettled == {sold.id, received.id}


def _sell_one_each(w: World, count: int) -> list[Any]:
    """One unit sold on Atlas for each of the first `count` keys that have one."""
    sold = [m for m in matched(w) if sides(w, m)[0] >= 1][:count]
    for mapping in sold:
        w.atlas.sell(mapping.atlas_inventory_id, 1)
    return sold


@pytest.mark.parametrize("quiet_run_first", [False, True])
async def test_the_change_share_is_of_every_mapped_item(
    world: World,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
    quiet_run_first: bool,
) -> None:
    """A third of the keys sold on is under the share that asks for a preview: right after the first sync
    (the keys left out as settled count as unchanged) and after a quiet run, when the run merges only the
    keys that moved and every one of them changes."""
    merged = MergedKeys(monkeypatch)
    await _first_sync(world, merged)
    if quiet_run_first:
        merged.next_run()
        quiet = await world.engine.sync(world.connection_id)
        assert quiet.status is RunStatus.SUCCESS, quiet.plan
    sold = _sell_one_each(world, len(matched(world)) // 3)
    assert len(sold) >= 20  # enough keys for the share check to apply
    merged.next_run()
    run = await world.engine.sync(world.connection_id)
    assert run.status is RunStatus.SUCCESS, run.plan
    assert run.items_synced == len(sold)
    assert set(merged.runs[-1]) - _without_base(world) == {m.id for m in sold}


async def test_a_run_that_would_change_over_half_the_mapped_items_waits_for_approval(
    world: World,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    merged = MergedKeys(monkeypatch)
    await _first_sync(world, merged)
    sold = _sell_one_each(world, len(matched(world)) * 2 // 3)
    assert len(sold) > len(matched(world)) // 2
    held = await world.engine.sync(world.connection_id)
    assert held.status is RunStatus.PREVIEW and held.plan is not None
    assert "of the mapped items would change (more than 50%)" in held.plan.reason
    assert held.plan.to_erp == len(sold)
    approved = await world.engine.sync(world.connection_id, approve=True)
    assert approved.status is RunStatus.SUCCESS and approved.items_synced == len(sold)


async def test_after_a_first_sync_the_next_run_looks_only_at_rows_read_again(
    world: World,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The first sync's own reads and bases are not looked at again: only the rows its writes moved (as
    the writes answered, or read again) and the keys it could not settle are named at all."""
    merged = MergedKeys(monkeypatch)
    named: list[list[int]] = []
    original = runner_module._then_settled

    def spy(rows: Any, settled: list[int], *args: Any) -> Any:
        yield from original(rows, settled, *args)
        named[-1].extend(settled)

    monkeypatch.setattr(runner_module, "_then_settled", spy)
    named.append([])
    await _first_sync(world, merged)
    with world.services.store.session() as session:
        written = set(session.execute(sa.text(
            "SELECT mapping_id FROM outbox WHERE connection_id = :c"
        ), {"c": world.connection_id}).scalars())  # fmt: skip
    for _ in range(2):
        merged.next_run()
        named.append([])
        idle = await world.engine.sync(world.connection_id)
        assert idle.status is RunStatus.SUCCESS and idle.items_synced == 0
        looked_at = set(merged.runs[-1]) | set(named[-1])
        assert looked_at <= written | _without_base(world)
    assert len(matched(world)) > 2 * len(written)  # most keys are not looked at again
    assert named[-1] == []  # what the writes moved was looked at by the first idle run: the second names none
