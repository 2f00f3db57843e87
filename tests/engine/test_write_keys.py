"""Idempotency keys derive from the decision: the same change planned again gets the same key, two
decisions never share one, and a write leaves only once its record cannot be lost."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa

from atlas_desktop.domain.model import Side
from atlas_desktop.domain.operations import ERP_ADJUST
from atlas_desktop.engine.api import RunStatus
from atlas_desktop.engine.keys import write_key
from atlas_desktop.engine.plan import PlanCounts, plan
from atlas_desktop.store.db import Store, backup_database
from atlas_desktop.store.mappings import MappingRepository
from atlas_desktop.store.models import OutboxRow
from tests.engine.test_sync_e2e import World, matched, sides, world  # noqa: F401 - `world` is a fixture

SCOPE = "conn-1/7/2026-01-02T03:04:05.000000+00:00/12"


def test_a_key_is_a_hash_of_the_decision_in_the_old_format() -> None:
    key = write_key(SCOPE, Side.ERP, ERP_ADJUST, ("991", "30", "LOT-A"), Decimal("-3"))
    assert re.fullmatch(r"atl-[0-9a-f]{32}", key)
    assert key == write_key(SCOPE, Side.ERP, ERP_ADJUST, ("991", "30", "LOT-A"), Decimal("-3.000"))


def test_any_difference_in_the_decision_gives_another_key() -> None:
    base = (SCOPE, Side.ERP, ERP_ADJUST, ("991", "30", None), Decimal(-3))
    variants = [
        base,
        ("conn-1/7/2026-01-02T03:04:05.000000+00:00/13", *base[1:]),  # another decision recorded since
        ("conn-1/7/2026-01-02T03:04:06.000000+00:00/12", *base[1:]),  # the mapping id reused
        ("conn-2/7/2026-01-02T03:04:05.000000+00:00/12", *base[1:]),  # another connection
        (SCOPE, Side.ATLAS, *base[2:]),
        (SCOPE, Side.ERP, "atlas_adjust", *base[3:]),
        (SCOPE, Side.ERP, ERP_ADJUST, ("991", "31", None), Decimal(-3)),
        (SCOPE, Side.ERP, ERP_ADJUST, ("991", "30", "L1"), Decimal(-3)),
        (SCOPE, Side.ERP, ERP_ADJUST, ("991", "30", None), Decimal(3)),
        (SCOPE, Side.ERP, ERP_ADJUST, ("991", "30", None), Decimal("-3.5")),
        (SCOPE, Side.ATLAS, "atlas_set_expiry", ("inv_1",), date(2027, 1, 1)),
        (SCOPE, Side.ATLAS, "atlas_set_expiry", ("inv_1",), None),
        (SCOPE, Side.ATLAS, "atlas_set_fields", ("inv_1",), {"name": "A"}),
        (SCOPE, Side.ATLAS, "atlas_set_fields", ("inv_1",), {"name": "B"}),
    ]
    keys = {write_key(*variant) for variant in variants}
    assert len(keys) == len(variants)


def outbox_keys(store: Store, mapping_id: int) -> list[tuple[str, Decimal | None, str]]:
    """(operation, delta, key) of a mapping's writes, oldest first."""
    with store.session() as session:
        rows = session.execute(
            sa.select(OutboxRow.operation, OutboxRow.quantity_delta, OutboxRow.idempotency_key)
            .where(OutboxRow.mapping_id == mapping_id)
            .order_by(OutboxRow.id)
        ).all()
    return [(operation, delta, key) for operation, delta, key in rows]


def planned(mappings: MappingRepository, connection_id: str, mapping_id: int) -> list[Any]:
    rows = list(mappings.merge_inputs(connection_id, mapping_ids=[mapping_id]))
    return plan(rows, PlanCounts())


async def test_a_decision_planned_again_after_lost_commits_gets_the_same_keys(
    world: World,  # noqa: F811 - the fixture
) -> None:
    engine, cid = world.engine, world.connection_id
    await engine.discover(cid)
    await engine.sync(cid, approve=True)
    mapping = next(m for m in matched(world) if sides(world, m)[0] >= 3)
    world.atlas.sell(mapping.atlas_inventory_id, 2)
    world.erp.receive(mapping, Decimal(5))
    await engine.preview(cid)  # both sides read, nothing recorded
    # The database as a power cut would leave it if every commit of the next run were lost.
    before_run = backup_database(world.services.store.path, "power-cut")

    run = await engine.sync(cid)
    assert run.status is RunStatus.SUCCESS and run.items_synced == 2
    sent = sorted(key for _, _, key in outbox_keys(world.services.store, mapping.id)[-2:])

    with Store.open(before_run) as store:
        (draft,) = planned(MappingRepository(store), cid, mapping.id)
    assert sorted(write.idempotency_key for write in draft.writes) == sent


async def test_the_same_change_on_the_same_base_later_is_a_new_decision_with_new_keys(
    world: World,  # noqa: F811 - the fixture
) -> None:
    engine, cid = world.engine, world.connection_id
    await engine.discover(cid)
    await engine.sync(cid, approve=True)
    mapping = next(m for m in matched(world) if sides(world, m)[0] >= 3)
    start, _ = sides(world, mapping)
    postings = world.erp.postings()
    # base B -> sale -> B-1 -> receipt -> B -> the same sale again
    world.atlas.sell(mapping.atlas_inventory_id, 1)
    await engine.sync(cid)
    by_user = world.erp.postings()
    world.erp.receive(mapping, Decimal(1))
    by_user = world.erp.postings() - by_user  # SAP: a document item; NetSuite: an item receipt, no adjustment
    await engine.sync(cid)
    world.atlas.sell(mapping.atlas_inventory_id, 1)
    await engine.sync(cid)

    writes = outbox_keys(world.services.store, mapping.id)[-3:]
    assert [(operation, delta) for operation, delta, _ in writes] == [
        ("erp_adjust", -1), ("atlas_adjust", 1), ("erp_adjust", -1),
    ]  # fmt: skip
    assert writes[0][2] != writes[2][2]
    assert sides(world, mapping) == (start - 1, start - 1)
    assert world.erp.postings() == postings + by_user + 2  # both sales: neither taken for a repeat


async def test_a_wave_whose_record_cannot_be_made_durable_never_leaves(
    world: World,  # noqa: F811 - the fixture
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Why a pending write is sent without asking the ERP whether it landed: it can only have landed if
    # its record was lost after it left, and a wave leaves only once its record is in the database file.
    engine, cid = world.engine, world.connection_id
    await engine.discover(cid)
    await engine.sync(cid, approve=True)
    mapping = next(m for m in matched(world) if sides(world, m)[0] >= 3)
    start, _ = sides(world, mapping)
    world.atlas.sell(mapping.atlas_inventory_id, 2)
    world.erp.receive(mapping, Decimal(5))
    postings = world.erp.postings()
    store = world.services.store
    monkeypatch.setattr(store, "checkpoint", lambda: False)  # a reader held the log past the timeout

    run = await engine.sync(cid)
    assert run.status is RunStatus.FAILED and "durable" in (run.error_message or "")
    assert world.erp.postings() == postings  # nothing left
    assert sides(world, mapping) == (start - 2, start + 5)

    monkeypatch.undo()
    again = await engine.sync(cid)
    assert again.status is RunStatus.SUCCESS, again.error_message
    assert world.erp.postings() == postings + 1  # posted once
    assert sides(world, mapping) == (start + 3, start + 3)
