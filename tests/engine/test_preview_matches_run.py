"""The first-sync preview is the plan the run then executes: the same count of every kind of change.

A seeded sandbox world (both ERPs) with stock to carry, a renamed item, an expiry to correct and
confirmed marketplace orders: the preview's counts per kind must equal what the approved run wrote,
measured from the run's own records (its outbox writes) and the ERP's purchase orders.
"""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta
from decimal import Decimal

import pytest

from atlas_desktop.domain.enums import SyncType
from atlas_desktop.engine.api import RunStatus
from atlas_desktop.engine.changes import ChangeKind
from tests.engine import test_sync_e2e as e2e
from tests.engine.test_sync_e2e import World, matched

world = e2e.world  # the seeded sandbox world fixture, NetSuite or SAP


def _stir(world: World) -> None:
    """Give the first sync every kind of work: quantities both ways are the ERP's on a first sync, so
    Atlas gets them; a name the ERP changed; an expiry Atlas holds wrongly; orders to enter."""
    mappings = matched(world)
    stocked = [m for m in mappings if Decimal(world.atlas.row(m.atlas_inventory_id)["quantity"]) >= 3]
    world.atlas.sell(stocked[0].atlas_inventory_id, 2)  # Atlas below the ERP: Atlas goes up
    world.erp.issue(stocked[1], Decimal(1))  # the ERP below Atlas: Atlas goes down
    dated = next(
        m for m in mappings
        if m.lot and m not in stocked[:2] and world.atlas.row(m.atlas_inventory_id)["expiry_date"]
    )  # fmt: skip
    wrong = date.fromisoformat(world.atlas.row(dated.atlas_inventory_id)["expiry_date"]) + timedelta(days=30)
    world.atlas.edit_row(dated.atlas_inventory_id, expiry_date=wrong.isoformat())  # the ERP's date wins
    world.services.connections.update(
        world.connection_id, sync_scopes={"stock": True, "transactions": True, "product_master": True}
    )
    for m in mappings[:2]:
        world.atlas.create_order(
            [{"ndc": m.ndc_text_atlas, "name": m.item_name or "item", "quantity": "5", "unit_price": "2"}]
        )


@pytest.mark.parametrize("world", ["netsuite", "sap"], indirect=True)
async def test_the_preview_counts_every_kind_the_run_then_executes(world: World) -> None:
    engine, cid = world.engine, world.connection_id
    await engine.discover(cid)
    _stir(world)
    orders_before = world.erp.purchase_orders()

    plan = await engine.preview(cid)
    run = await engine.sync(cid, sync_type=SyncType.FULL, approve=True)
    assert run.status is RunStatus.SUCCESS, run.error_message

    listed = await engine.run_changes(run.sync_log_id)  # what the run's history entry opens
    done = Counter(change.kind for change in listed)
    assert done[ChangeKind.PURCHASE_ORDER] == world.erp.purchase_orders() - orders_before
    written = {change.mapping_id for change in listed if change.mapping_id is not None}
    done[ChangeKind.ALREADY_SAME] = len(matched(world)) - len(written)
    promised = {kind: count for kind, count in plan.kinds.items() if count}
    assert promised == {kind: count for kind, count in done.items() if count}
    assert done[ChangeKind.QUANTITY_TO_ATLAS] >= 2 and done[ChangeKind.PURCHASE_ORDER] >= 2
    assert done[ChangeKind.EXPIRY_TO_ATLAS] >= 1
    assert done[ChangeKind.ALREADY_SAME] > 20  # a first sync's agreeing keys are "already the same"
    assert plan.to_atlas + plan.to_erp + done[ChangeKind.PURCHASE_ORDER] == run.items_synced
    # The list the user can open holds one line per change, named and located.
    promised_list = Counter(change.kind for change in plan.changes)
    assert dict(promised_list) == {
        k: n for k, n in promised.items() if k is not ChangeKind.ALREADY_SAME
    }
    quantity = next(c for c in plan.changes if c.kind is ChangeKind.QUANTITY_TO_ATLAS)
    assert quantity.item and quantity.location and quantity.direction == "ERP → Atlas"
    assert Decimal(quantity.old) != Decimal(quantity.new)


@pytest.mark.parametrize("world", ["netsuite"], indirect=True)
async def test_a_later_preview_counts_what_the_approved_run_then_writes(world: World) -> None:
    engine, cid = world.engine, world.connection_id
    await engine.discover(cid)
    assert (await engine.sync(cid, approve=True)).status is RunStatus.SUCCESS
    _stir(world)  # sales, an issue, an expiry, orders: after the first sync, both directions
    plan = await engine.preview(cid)
    run = await engine.sync(cid, approve=True)
    assert run.status is RunStatus.SUCCESS, run.error_message
    done = Counter(change.kind for change in await engine.run_changes(run.sync_log_id))
    done[ChangeKind.CONFLICT] = run.conflicts_opened  # the expiry edited on Atlas: the ERP's to decide
    promised = Counter({kind: count for kind, count in plan.kinds.items() if count})
    del promised[ChangeKind.ALREADY_SAME]  # the preview merges every key, the run only those touched
    assert promised == +done
    assert done[ChangeKind.QUANTITY_TO_ERP] >= 1 and done[ChangeKind.PURCHASE_ORDER] >= 2


@pytest.mark.parametrize("world", ["netsuite", "sap"], indirect=True)
async def test_an_order_the_erp_cannot_take_is_promised_as_waiting_not_entered(world: World) -> None:
    engine, cid = world.engine, world.connection_id
    await engine.discover(cid)
    world.services.connections.update(cid, sync_scopes={"stock": True, "transactions": True})
    m = matched(world)[0]
    good = [{"ndc": m.ndc_text_atlas, "name": m.item_name or "item", "quantity": "2", "unit_price": "1"}]
    world.atlas.create_order(good)
    bad = world.atlas.create_order([{"ndc": "99999-999-99", "name": "Unknown to the ERP", "quantity": "1"}])
    world.atlas.create_order(good)  # behind the refused one: the run takes orders in turn
    orders_before = world.erp.purchase_orders()

    plan = await engine.preview(cid)
    run = await engine.sync(cid, sync_type=SyncType.FULL, approve=True)
    entered = world.erp.purchase_orders() - orders_before
    assert plan.kinds[ChangeKind.PURCHASE_ORDER] == entered >= 1
    assert plan.kinds[ChangeKind.ORDER_WAITING] == 2 and run.items_failed == 1
    waiting = [c for c in plan.changes if c.kind is ChangeKind.ORDER_WAITING]
    assert bad["number"] in waiting[0].item and "99999-999-99" in waiting[0].new
    assert f"behind order {bad['number']}" in waiting[1].new
