"""The engine against NetSuite when ERP users move stock through every transaction type (reference §9)."""

from __future__ import annotations

from typing import Any

import pytest

from atlas_desktop.engine.api import RunStatus
from atlas_desktop.sandbox.netsuite.activity import Component

from .test_sync_e2e import World, matched, sides, world  # noqa: F401  (world is the fixture)


def _where(m: Any) -> tuple[int, int, str | None]:
    return int(m.erp_item_id), int(m.erp_location_id), m.lot


@pytest.mark.parametrize("world", ["netsuite"], indirect=True)
async def test_every_stock_moving_transaction_reaches_atlas_once(world: World) -> None:  # noqa: F811
    engine, cid = world.engine, world.connection_id
    await engine.discover(cid)
    first = await engine.sync(cid, approve=True)
    assert first.status is RunStatus.SUCCESS, first.error_message
    emulator = world.erp.emulator
    activity = emulator.activity
    rows = [m for m in matched(world) if sides(world, m)[1] >= 10]
    by_item: dict[str, list[Any]] = {}
    for m in rows:
        by_item.setdefault(f"{m.erp_item_id}/{m.lot}", []).append(m)
    source, target = next(pair for pair in by_item.values() if len(pair) >= 2)[:2]
    others = [m for m in rows if m.erp_item_id != source.erp_item_id]
    plain = [m for m in others if m.lot is None]
    component = plain[0]
    assembly = next(
        m for m in others if m.erp_location_id == component.erp_location_id and m is not component
    )
    received, shipped, cash, invoiced, quarantined = [m for m in others if m not in (component, assembly)][:5]
    expected = {m.id: sides(world, m)[1] for m in rows}

    activity.item_receipt(int(received.erp_item_id), int(received.erp_location_id), 4, received.lot)
    expected[received.id] += 4
    activity.fulfil(int(shipped.erp_item_id), int(shipped.erp_location_id), 3, shipped.lot)
    expected[shipped.id] -= 3
    activity.sell(int(cash.erp_item_id), int(cash.erp_location_id), 2, cash.lot)
    expected[cash.id] -= 2
    activity.sell(int(invoiced.erp_item_id), int(invoiced.erp_location_id), 1, invoiced.lot, invoice=True)
    expected[invoiced.id] -= 1
    item, location, lot = _where(source)
    activity.transfer(item, location, int(target.erp_location_id), 5, lot)
    expected[source.id] -= 5
    expected[target.id] += 5
    built, where, built_lot = _where(assembly)
    activity.build(built, where, 2, [Component(int(component.erp_item_id), 6)], built_lot)
    expected[assembly.id] += 2
    expected[component.id] -= 6
    item, location, lot = _where(quarantined)
    activity.change_status(item, location, 4, lot, to_status=2)  # on hand unchanged, not synced

    run = await engine.sync(cid)
    assert run.status is RunStatus.SUCCESS, run.error_message
    moved = (received, shipped, cash, invoiced, source, target, assembly, component)
    assert run.items_synced >= len(moved)
    for m in rows:
        assert sides(world, m) == (expected[m.id], expected[m.id]), m
    idle = await engine.sync(cid)  # nothing doubled: a second run finds nothing to do
    assert idle.status is RunStatus.SUCCESS and idle.items_synced == 0
    for m in rows:
        assert sides(world, m) == (expected[m.id], expected[m.id]), m
