"""Item names through the product master flow, against the emulators (issue 18 part 6).

SAP keeps 40 characters of a description: the flow used to overwrite long Atlas names with them ("…oral
suspension, 150 mL bottle" -> "…powder for oral "), and, with a NetSuite connection over the same rows,
rewrote them back and forth on every sync. Names now cross only when the ERP renamed the item.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from atlas_desktop.domain.operations import ATLAS_SET_FIELDS
from atlas_desktop.engine.api import RunStatus
from atlas_desktop.store.mappings import MappingRepository
from tests.engine.two_erps import TwoErps, two_erps


@pytest.fixture
def world(tmp_path: Path) -> Any:
    with two_erps(tmp_path, size=60) as built:
        yield built


def atlas_name(world: TwoErps, mapping: Any) -> str:
    return str(world.atlas.row(mapping.atlas_inventory_id)["name"])


def sap_rename(world: TwoErps, mapping: Any, name: str) -> None:
    """An SAP user edits the product description (the emulator keeps 40 characters, as SAP does)."""
    state = world.sap.emulator._ctx().state
    state.update("A_ProductDescription", (mapping.erp_item_id, "EN"), {"ProductDescription": name[:40]})
    state.update("A_Product", (mapping.erp_item_id,), {"LastChangeDateTime": state.now()})


def name_writes(world: TwoErps) -> int:
    with world.services.store.session() as session:
        return int(
            session.scalar(
                sa.text("SELECT count(*) FROM outbox WHERE operation = :op"), {"op": ATLAS_SET_FIELDS}
            )
        )


async def sync(world: TwoErps, connection_id: str, **options: Any) -> None:
    run = await world.engine.sync(connection_id, **options)
    assert run.status is RunStatus.SUCCESS, run.error_message


async def test_long_names_through_sap_are_never_cut_and_a_real_sap_rename_is_carried(world: TwoErps) -> None:
    sap = world.sap_id
    await world.engine.discover(sap)
    mappings = world.matched(sap)
    names = {m.id: atlas_name(world, m) for m in mappings}
    long = [m for m in mappings if len(names[m.id]) > 40]
    assert len(long) >= 51  # as in the report: 51 long names, 49 of them cut

    await sync(world, sap, approve=True)
    for _ in range(2):
        await sync(world, sap)
    assert {m.id: atlas_name(world, m) for m in mappings} == names  # none cut, none changed
    assert name_writes(world) == 0

    # A real rename in SAP is carried; a 40-character description over a longer Atlas name is not
    # (it may be cut), and Atlas-side names nobody renamed in SAP stay as they are.
    short = long[0]
    full = next(m for m in long if m.erp_item_id != short.erp_item_id)
    renamed = [m for m in mappings if m.erp_item_id == short.erp_item_id]  # its lots and locations
    sap_rename(world, short, "Amoxil 250 mg, 100 count")
    sap_rename(world, full, "Renamed in SAP with a description that is longer than forty")
    await sync(world, sap)
    assert {atlas_name(world, m) for m in renamed} == {"Amoxil 250 mg, 100 count"}
    assert atlas_name(world, full) == names[full.id]
    await sync(world, sap)
    assert name_writes(world) == len(renamed)  # no echo, no retry: the name seen is now SAP's
    untouched = {m.id for m in mappings} - {m.id for m in renamed}
    assert {i: atlas_name(world, m) for m in mappings if (i := m.id) in untouched} == {
        i: names[i] for i in untouched
    }


async def test_a_netsuite_rename_is_carried_but_a_first_sync_rewrites_no_name(world: TwoErps) -> None:
    netsuite = world.netsuite_id
    await world.engine.discover(netsuite)
    mappings = world.matched(netsuite)
    names = {m.id: atlas_name(world, m) for m in mappings}
    # Before the first sync the ERP already calls one item otherwise: that is no rename to carry.
    before = mappings[0]
    later = next(m for m in mappings if m.erp_item_id != before.erp_item_id)
    world.netsuite.emulator.state.edit_item(int(before.erp_item_id), displayname="NetSuite's own name 5 mg")
    await sync(world, netsuite, approve=True)
    await sync(world, netsuite)
    assert {m.id: atlas_name(world, m) for m in mappings} == names

    world.netsuite.emulator.state.edit_item(int(later.erp_item_id), displayname="Renamed in NetSuite 20 mg")
    await sync(world, netsuite)
    renamed = [m for m in mappings if m.erp_item_id == later.erp_item_id]  # its lots and locations
    assert {atlas_name(world, m) for m in renamed} == {"Renamed in NetSuite 20 mg"}
    await sync(world, netsuite)
    assert name_writes(world) == len(renamed)


async def test_names_do_not_ping_pong_between_two_connections_that_map_the_same_rows(
    world: TwoErps, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The 269 names rewritten on every sync: NetSuite's full names against SAP's cut ones. Part 5 now
    freezes such doubles; with that switched off here, the name rule alone must keep them still."""
    monkeypatch.setattr(MappingRepository, "settle_doubles", lambda self, connection_id: [])
    engine, netsuite, sap = world.engine, world.netsuite_id, world.sap_id
    await engine.discover(sap)
    with world.services.store.session() as session:  # an older version paired the rows twice
        session.execute(
            sa.text("UPDATE erp_inventory_mappings SET status = 'ignored' WHERE connection_id = :c "
                    "AND status = 'matched'"), {"c": sap},
        )  # fmt: skip
    await engine.discover(netsuite)
    with world.services.store.session() as session:
        session.execute(
            sa.text("UPDATE erp_inventory_mappings SET status = 'matched' WHERE connection_id = :c "
                    "AND status = 'ignored'"), {"c": sap},
        )  # fmt: skip
    shared = {m.atlas_inventory_id for m in world.matched(sap)} & {
        m.atlas_inventory_id for m in world.matched(netsuite)
    }
    assert len(shared) > 100
    names = {row_id: str(world.atlas.row(row_id)["name"]) for row_id in shared}
    for cid in (sap, netsuite):
        await sync(world, cid, approve=True)
    for _ in range(3):
        for cid in (sap, netsuite):
            await sync(world, cid)
    assert name_writes(world) == 0
    assert {row_id: str(world.atlas.row(row_id)["name"]) for row_id in shared} == names
