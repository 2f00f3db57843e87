"""The engine end to end against the in-process NetSuite and Atlas emulators.

Discover, approve the first sync, then move stock on both sides between runs and check that both
sides hold exactly base + every delta, with conflicts for what cannot be added.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from atlas_desktop.app.engine_setup import build_engine
from atlas_desktop.app.paths import ProfilePaths
from atlas_desktop.app.services import Services, open_services
from atlas_desktop.domain.connection import parse_connection
from atlas_desktop.domain.secrets import Secret
from atlas_desktop.engine.api import RunStatus
from atlas_desktop.engine.service import EngineService
from atlas_desktop.sandbox.atlas import build as build_atlas
from atlas_desktop.sandbox.catalog import Catalog
from atlas_desktop.sandbox.netsuite import build as build_netsuite
from atlas_desktop.sandbox.registry import SandboxOptions
from atlas_desktop.store.enums import MappingStatus, Resolution
from atlas_desktop.store.keys import MemoryKeySource

NS_URL = "http://127.0.0.1:8123"
ATLAS_URL = "http://127.0.0.1:8124"


@dataclass
class World:
    services: Services
    engine: EngineService
    connection_id: str
    netsuite: Any
    atlas: Any


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    options = SandboxOptions(catalog=Catalog(seed=11, size=40, today=date(2026, 11, 27)), seed=11)
    netsuite, atlas = build_netsuite(options), build_atlas(options)
    with open_services(ProfilePaths(tmp_path / "profile"), key_source=MemoryKeySource()) as services:
        spec = parse_connection(netsuite.credential_files(NS_URL)["netsuite.json"])
        connection_id = services.connections.add(spec)
        services.atlas_accounts.save(
            base_url=ATLAS_URL, auth_method="api_token", secrets={"api_token": Secret(atlas.api_token)}
        )
        engine = build_engine(
            services,
            transport=httpx.ASGITransport(app=netsuite.app),
            atlas_options={"transport": httpx.ASGITransport(app=atlas.app)},
        )
        yield World(services, engine, connection_id, netsuite, atlas)


def matched(world: World) -> list[Any]:
    return world.services.store and world.engine.repos.mappings.page(
        world.connection_id, status=MappingStatus.MATCHED, search=None, offset=0, limit=10_000
    )


def sides(world: World, mapping: Any) -> tuple[Decimal, Decimal]:
    atlas_row = world.atlas.row(mapping.atlas_inventory_id)
    erp = world.netsuite.state.stock(int(mapping.erp_item_id), int(mapping.erp_location_id), mapping.lot)
    return Decimal(atlas_row["quantity"]), erp


async def test_discover_first_sync_then_bidirectional_deltas(world: World) -> None:
    engine, cid = world.engine, world.connection_id
    found = await engine.discover(cid)
    assert found.matched > 20
    assert found.unmatched_atlas > 0 and found.unmatched_erp > 0  # the catalog's one-sided items

    preview = await engine.sync(cid)
    assert preview.status is RunStatus.PREVIEW and "first sync" in preview.plan.reason
    first = await engine.sync(cid, approve=True)
    assert first.status is RunStatus.SUCCESS, first.error_message
    mappings = matched(world)
    for mapping in mappings:
        atlas_qty, erp_qty = sides(world, mapping)
        assert atlas_qty == erp_qty, mapping

    # Between runs: a sale on Atlas and a receipt in the ERP on the same key, plus one-sided moves.
    stocked = [m for m in mappings if sides(world, m)[0] >= 3]
    both, atlas_only, erp_only = stocked[0], stocked[1], stocked[2]
    before = {m.id: sides(world, m)[1] for m in (both, atlas_only, erp_only)}
    world.atlas.sell(both.atlas_inventory_id, 2)
    world.netsuite.state.receive(int(both.erp_item_id), int(both.erp_location_id), Decimal(5), both.lot)
    world.atlas.sell(atlas_only.atlas_inventory_id, 1)
    world.netsuite.state.receive(
        int(erp_only.erp_item_id), int(erp_only.erp_location_id), Decimal(3), erp_only.lot
    )

    second = await engine.sync(cid)
    assert second.status is RunStatus.SUCCESS, second.error_message
    expected = {both.id: before[both.id] - 2 + 5, atlas_only.id: before[atlas_only.id] - 1,
                erp_only.id: before[erp_only.id] + 3}  # fmt: skip
    for mapping in (both, atlas_only, erp_only):
        assert sides(world, mapping) == (expected[mapping.id], expected[mapping.id])

    # An idle run writes nothing and reads only a handful of pages.
    idle = await engine.sync(cid)
    assert idle.status is RunStatus.SUCCESS and idle.items_synced == 0
    assert idle.api_calls_made <= 10
    for mapping in mappings:
        atlas_qty, erp_qty = sides(world, mapping)
        assert atlas_qty == erp_qty


async def test_clash_below_zero_becomes_a_conflict_resolved_through_the_outbox(world: World) -> None:
    engine, cid = world.engine, world.connection_id
    await engine.discover(cid)
    await engine.sync(cid, approve=True)
    mapping = next(m for m in matched(world) if sides(world, m)[0] >= 3)
    atlas_qty, erp_qty = sides(world, mapping)
    world.atlas.sell(mapping.atlas_inventory_id, atlas_qty)  # Atlas sold everything
    world.netsuite.state.issue(int(mapping.erp_item_id), int(mapping.erp_location_id), erp_qty, mapping.lot)

    run = await engine.sync(cid)
    assert run.conflicts_opened == 1
    conflicts = engine.repos.conflicts.open_conflicts(cid)
    assert [c.field for c in conflicts] == ["quantity"]
    assert sides(world, mapping) == (Decimal(0), Decimal(0))  # both untouched

    # A receipt lands after the conflict was recorded; the person then says the true count was 4.
    world.netsuite.state.receive(
        int(mapping.erp_item_id), int(mapping.erp_location_id), Decimal(3), mapping.lot
    )
    resolved = await engine.resolve_conflict(conflicts[0].id, Resolution.VALUE, "4")
    assert resolved.status is RunStatus.SUCCESS, resolved.error_message
    assert sides(world, mapping) == (Decimal(7), Decimal(7))  # the chosen 4, and the later receipt kept
    assert engine.repos.conflicts.count_open(cid) == 0
    history = engine.repos.conflicts.history(cid)
    assert history[0].resolution is Resolution.VALUE


async def test_lost_response_is_not_posted_twice(world: World) -> None:
    engine, cid = world.engine, world.connection_id
    await engine.discover(cid)
    await engine.sync(cid, approve=True)
    mapping = next(m for m in matched(world) if sides(world, m)[0] >= 3)
    _, erp_before = sides(world, mapping)
    world.atlas.sell(mapping.atlas_inventory_id, 1)
    world.netsuite.faults.add("drop_after", path="/record/v1/inventoryAdjustment", method="POST", times=1)

    # The adjustment lands but its answer is lost: the connector looks it up by externalId (or the next
    # run does, from the outbox) instead of posting it again.
    first = await engine.sync(cid)
    assert first.status in (RunStatus.SUCCESS, RunStatus.PARTIAL)
    second = await engine.sync(cid)
    assert second.status is RunStatus.SUCCESS, second.error_message
    assert world.netsuite.faults.rules == [] or all(rule.times == 0 for rule in world.netsuite.faults.rules)
    assert sides(world, mapping) == (erp_before - 1, erp_before - 1)
    assert world.netsuite.state.count_transactions("inventoryadjustment") == 1
