"""Two connections (NetSuite, SAP) over one Atlas catalog: an Atlas row belongs to one of them.

Issue 18 part 5: both connections paired the same Atlas rows, so a sale of 3 was posted to NetSuite and
to SAP, and every sync rewrote names back and forth. Discovery and manual mapping now refuse a row
another connection maps; doubles left by older versions are frozen on both sides, reported once and
resolved by unmapping one side, after which the other carries what happened meanwhile, once.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from atlas_desktop.app import sync_commands
from atlas_desktop.domain.enums import MappingStatus
from atlas_desktop.domain.operations import ATLAS_SET_FIELDS
from atlas_desktop.engine.api import ConnectionAlert, RunStatus
from atlas_desktop.store.ownership import MappedElsewhere
from tests.engine.two_erps import TwoErps, two_erps


@pytest.fixture
def world(tmp_path: Path) -> Any:
    with two_erps(tmp_path) as built:
        yield built


async def approve_first_syncs(world: TwoErps, *connection_ids: str) -> None:
    for cid in connection_ids:
        run = await world.engine.sync(cid, approve=True)
        assert run.status in (RunStatus.SUCCESS, RunStatus.PARTIAL), run.error_message


def name_writes(world: TwoErps) -> int:
    with world.services.store.session() as session:
        return session.scalar(
            sa.text("SELECT count(*) FROM outbox WHERE operation = :op"), {"op": ATLAS_SET_FIELDS}
        )


async def test_discovery_leaves_out_rows_another_connection_maps_so_a_sale_posts_to_one_erp(
    world: TwoErps,
) -> None:
    engine, netsuite, sap = world.engine, world.netsuite_id, world.sap_id
    await engine.discover(netsuite)
    found = await engine.discover(sap)
    netsuite_rows = {m.atlas_inventory_id for m in world.matched(netsuite)}
    sap_rows = {m.atlas_inventory_id for m in world.matched(sap)}
    assert len(netsuite_rows) > 50 and not netsuite_rows & sap_rows
    ((owner, left_out),) = found.mapped_elsewhere
    assert owner == world.name(netsuite) and left_out > 50
    assert found.mapped_elsewhere_lines() == [f"{left_out:,} rows already mapped by connection '{owner}'"]

    await approve_first_syncs(world, netsuite, sap)
    mapping = next(m for m in world.matched(netsuite) if world.atlas_qty(m) >= 3)
    erp_before, sap_postings = world.netsuite.stock(mapping), world.sap.postings()
    world.atlas.sell(mapping.atlas_inventory_id, 3)
    for _ in range(2):
        for cid in (netsuite, sap):
            run = await engine.sync(cid)
            assert run.status is RunStatus.SUCCESS, run.error_message
    assert world.netsuite.stock(mapping) == erp_before - 3  # the sale reached one ERP, once
    assert world.sap.postings() == sap_postings
    assert name_writes(world) == 0  # nor are names rewritten back and forth


async def test_manual_mapping_refuses_a_row_another_connection_maps(world: TwoErps) -> None:
    engine, netsuite, sap = world.engine, world.netsuite_id, world.sap_id
    await engine.discover(netsuite)
    await engine.discover(sap)
    taken = world.matched(netsuite)[0]
    erp_side = next(iter(world.matched(sap, MappingStatus.UNMATCHED_ERP)))
    with pytest.raises(MappedElsewhere, match=f"already mapped by connection '{world.name(netsuite)}'"):
        await engine.db(
            engine.repos.mappings.map_manually, sap, taken.atlas_inventory_id,
            erp_side.erp_item_id, erp_side.erp_location_id, erp_side.lot,
        )  # fmt: skip


async def make_doubles(world: TwoErps) -> list[Any]:
    """The state an older version left: NetSuite synced, then SAP discovered and paired the same rows."""
    engine, netsuite, sap = world.engine, world.netsuite_id, world.sap_id
    await engine.discover(netsuite)
    await approve_first_syncs(world, netsuite)
    with world.services.store.session() as session:  # hide NetSuite's pairs while SAP discovers...
        session.execute(
            sa.text("UPDATE erp_inventory_mappings SET status = 'ignored' WHERE connection_id = :c "
                    "AND status = 'matched'"), {"c": netsuite},
        )  # fmt: skip
    await engine.discover(sap)
    with world.services.store.session() as session:  # ...and show them again: every shared row doubled
        session.execute(
            sa.text("UPDATE erp_inventory_mappings SET status = 'matched' WHERE connection_id = :c "
                    "AND status = 'ignored'"), {"c": netsuite},
        )  # fmt: skip
    doubled = {m.atlas_inventory_id for m in world.matched(sap)}
    return [m for m in world.matched(netsuite) if m.atlas_inventory_id in doubled]


async def test_doubles_from_before_are_frozen_reported_once_and_resolved_by_unmapping_one_side(
    world: TwoErps,
) -> None:
    engine, netsuite, sap = world.engine, world.netsuite_id, world.sap_id
    doubles = await make_doubles(world)
    assert len(doubles) > 50
    alerts: list[ConnectionAlert] = []
    engine.events.subscribe(lambda e: alerts.append(e) if isinstance(e, ConnectionAlert) else None)

    sale = next(m for m in doubles if world.atlas_qty(m) >= 3)
    sap_twin = next(m for m in world.matched(sap) if m.atlas_inventory_id == sale.atlas_inventory_id)
    netsuite_before, sap_before = world.netsuite.stock(sale), world.sap.stock(sap_twin)
    atlas_before = world.atlas_qty(sale)
    sap_run = await engine.sync(sap, approve=True)  # SAP's first sync: its doubles are left out
    world.atlas.sell(sale.atlas_inventory_id, 3)
    netsuite_run = await engine.sync(netsuite)

    # Neither ERP got the sale while both connections claim the row; each run said so once, by name.
    assert (world.netsuite.stock(sale), world.sap.stock(sap_twin)) == (netsuite_before, sap_before)
    assert world.atlas_qty(sale) == atlas_before - 3
    for run, cid, other in ((sap_run, sap, netsuite), (netsuite_run, netsuite, sap)):
        assert run.status is RunStatus.PARTIAL and run.items_failed == len(doubles)
        errors = engine.repos.runs.unreplayed_errors(cid)
        assert len(errors) == len(doubles)
        assert f"also mapped by connection '{world.name(other)}'" in errors[0].message
        assert "unmap it in one of them" in errors[0].message
        conflicts = world.matched(cid, MappingStatus.CONFLICT)  # `mappings list --status conflict`
        assert len(conflicts) == len(doubles) and all(world.name(other) in m.note for m in conflicts)
    assert len(alerts) == 2 and all("also mapped by connection" in alert.reason for alert in alerts)
    again = await engine.sync(netsuite)
    assert again.status is RunStatus.SUCCESS and len(alerts) == 2  # reported once

    # The user unmaps SAP's side: NetSuite takes the row back and carries the sale, once; SAP never.
    await engine.db(engine.repos.mappings.unmap, sap, sap_twin.id)
    for _ in range(2):
        for cid in (netsuite, sap):
            run = await engine.sync(cid)
            assert run.status is RunStatus.SUCCESS, run.error_message
    assert world.netsuite.stock(sale) == netsuite_before - 3
    assert world.sap.stock(sap_twin) == sap_before
    assert world.atlas_qty(sale) == atlas_before - 3


def test_cli_discover_says_which_connection_has_the_rows_left_out(
    world: TwoErps, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sync_commands, "build_engine", lambda services: world.new_engine())
    for cid in (world.netsuite_id, world.sap_id):
        args = argparse.Namespace(action="discover", id=cid)
        assert sync_commands.run_mappings(args, world.services) == sync_commands.EXIT_OK
    out = capsys.readouterr().out.splitlines()
    assert (
        out[-1].startswith("left out: ")
        and f"already mapped by connection '{world.name(world.netsuite_id)}'" in out[-1]
    )
    row = next(m for m in world.matched(world.netsuite_id))
    args = argparse.Namespace(
        action="map", id=world.sap_id, atlas_id=row.atlas_inventory_id, erp_item="X", location="Y", lot=None
    )
    with pytest.raises(MappedElsewhere, match=world.name(world.netsuite_id)):
        sync_commands.run_mappings(args, world.services)
