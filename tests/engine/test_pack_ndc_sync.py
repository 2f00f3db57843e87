"""End to end: an Atlas listing of cases (the case's NDC) pairs with the SAP product, counted in cases."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from atlas_desktop.app.engine_setup import build_engine
from atlas_desktop.app.paths import ProfilePaths
from atlas_desktop.app.services import open_services
from atlas_desktop.domain.connection import parse_connection
from atlas_desktop.domain.enums import MappingStatus
from atlas_desktop.domain.ndc import parse_ndc
from atlas_desktop.domain.secrets import Secret
from atlas_desktop.engine.api import RunStatus
from atlas_desktop.sandbox.atlas import build as build_atlas
from atlas_desktop.sandbox.catalog import Catalog
from atlas_desktop.sandbox.registry import SandboxOptions
from atlas_desktop.sandbox.sap import build as build_sap
from atlas_desktop.store.keys import MemoryKeySource
from tests.engine.test_sync_e2e import ATLAS_URL, ERP_URL, SapSide, World

EAN_TABLE = "A_ProductUnitsOfMeasureEAN"


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    options = SandboxOptions(catalog=Catalog(seed=11, size=40, today=date(2026, 11, 27)), seed=11)
    emulator = next(e for e in build_sap(options) if e.name == "sap-cloud")
    atlas = build_atlas(options)
    content = emulator.credential_files(ERP_URL)["sap-cloud.json"]
    content.setdefault("settings", {})["field_mappings"] = {"ndc_field": EAN_TABLE}
    with open_services(ProfilePaths(tmp_path / "profile"), key_source=MemoryKeySource()) as services:
        connection_id = services.connections.add(parse_connection(content))
        services.atlas_accounts.save(
            base_url=ATLAS_URL, auth_method="api_token", secrets={"api_token": Secret(atlas.api_token)}
        )
        engine = build_engine(
            services,
            transport=httpx.ASGITransport(app=emulator.app),
            atlas_options={"transport": httpx.ASGITransport(app=atlas.app)},
        )
        yield World(services, engine, connection_id, SapSide(emulator), atlas)


def mappings(world: World) -> list[Any]:
    return world.engine.repos.mappings.page(
        world.connection_id, status=None, search=None, offset=0, limit=10_000
    )


def case_ndc(world: World, mapping: Any) -> str:
    """The NDC a case carries: the digits its CS GTIN embeds, hyphenated as the each's label is."""
    eans = world.erp.emulator.tenant.context("T").state.table(EAN_TABLE).rows.values()
    cases = (e for e in eans if e["Product"] == mapping.erp_item_id and e["AlternativeUnit"] == "CS")
    gtin = next(cases)["ProductStandardID"]
    digits = gtin[3:13]
    labeler, product, _ = parse_ndc(world.atlas.row(mapping.atlas_inventory_id)["ndc"]).ten.split("-")
    cut = (len(labeler), len(labeler) + len(product))
    return f"{digits[: cut[0]]}-{digits[cut[0] : cut[1]]}-{digits[cut[1] :]}"


async def test_a_case_listing_matches_the_product_by_the_case_ndc_and_syncs_in_cases(world: World) -> None:
    engine, cid = world.engine, world.connection_id
    await engine.discover(cid)
    eaches = [m for m in mappings(world) if m.status is MappingStatus.MATCHED]
    # A product with a case GTIN and stock: its Atlas listing becomes a listing of cases.
    with_case = {m.erp_item_id for m in eaches if any(
        e["Product"] == m.erp_item_id and e["AlternativeUnit"] == "CS"
        for e in world.erp.emulator.tenant.context("T").state.table(EAN_TABLE).rows.values()
    )}  # fmt: skip
    mapping = next(m for m in eaches if m.erp_item_id in with_case and world.erp.stock(m) >= 1)
    top_up = (-world.erp.stock(mapping)) % 12 + 24  # a whole number of cases: 2 cases more at least
    world.erp.receive(mapping, top_up)
    cases = world.erp.stock(mapping) / 12
    world.atlas.edit_row(mapping.atlas_inventory_id, ndc=case_ndc(world, mapping), unit="CS")

    await engine.discover(cid)
    paired = next(m for m in mappings(world) if m.atlas_inventory_id == mapping.atlas_inventory_id)
    assert paired.status is MappingStatus.MATCHED, paired.note
    assert (paired.erp_item_id, paired.erp_location_id, paired.lot) == (
        mapping.erp_item_id, mapping.erp_location_id, mapping.lot,
    )  # fmt: skip
    assert "1 CS = 12" in (paired.note or "")

    first = await engine.sync(cid, approve=True)
    assert first.status is RunStatus.SUCCESS, first.error_message
    assert Decimal(world.atlas.row(paired.atlas_inventory_id)["quantity"]) == cases  # the ERP's, in cases

    each_before = world.erp.stock(paired)
    world.atlas.sell(paired.atlas_inventory_id, 1)  # one case sold on Atlas
    world.erp.receive(paired, Decimal(24))  # two cases received in eaches
    second = await engine.sync(cid)
    assert second.status is RunStatus.SUCCESS, second.error_message
    assert world.erp.stock(paired) == each_before - 12 + 24
    assert Decimal(world.atlas.row(paired.atlas_inventory_id)["quantity"]) == cases - 1 + 2
    idle = await engine.sync(cid)
    assert idle.status is RunStatus.SUCCESS and idle.items_synced == 0


async def test_eaches_that_are_no_whole_case_are_refused_for_the_listing_not_rounded(world: World) -> None:
    engine, cid = world.engine, world.connection_id
    await engine.discover(cid)
    await engine.sync(cid, approve=True)
    eans = world.erp.emulator.tenant.context("T").state.table(EAN_TABLE).rows.values()
    with_case = {e["Product"] for e in eans if e["AlternativeUnit"] == "CS"}
    mapping = next(m for m in mappings(world)
                   if m.status is MappingStatus.MATCHED and m.erp_item_id in with_case)  # fmt: skip
    world.erp.receive(mapping, (-world.erp.stock(mapping)) % 12 + 12)
    world.atlas.edit_row(
        mapping.atlas_inventory_id,
        ndc=case_ndc(world, mapping), unit="CS", quantity=str(world.erp.stock(mapping) / 12),
    )  # fmt: skip
    await engine.discover(cid)
    await engine.sync(cid)
    listing = Decimal(world.atlas.row(mapping.atlas_inventory_id)["quantity"])
    world.erp.receive(mapping, Decimal(5))  # 5 eaches: 5/12 of a case
    run = await engine.sync(cid)
    assert run.status is RunStatus.PARTIAL and run.items_failed == 1
    assert Decimal(world.atlas.row(mapping.atlas_inventory_id)["quantity"]) == listing  # not rounded


async def test_an_order_for_cases_becomes_a_purchase_order_line_in_cases(world: World) -> None:
    engine, cid = world.engine, world.connection_id
    world.services.connections.update(cid, sync_scopes={"stock": True, "transactions": True})
    await engine.discover(cid)
    eans = world.erp.emulator.tenant.context("T").state.table(EAN_TABLE).rows.values()
    with_case = {e["Product"] for e in eans if e["AlternativeUnit"] == "CS"}
    mapping = next(m for m in mappings(world)
                   if m.status is MappingStatus.MATCHED and m.erp_item_id in with_case)  # fmt: skip
    line = {"ndc": case_ndc(world, mapping), "name": "case", "quantity": "2", "unit_price": "40"}
    world.atlas.create_order([line])
    items = world.erp.emulator._ctx().state.table("A_PurchaseOrderItem").rows
    before = set(items)
    run = await engine.sync(cid, approve=True)
    assert run.status is RunStatus.SUCCESS, [e.message for e in engine.repos.runs.unreplayed_errors(cid)]
    new = [items[key] for key in set(items) - before]  # the sandbox's own confirmed orders come too
    ours = [(i["OrderQuantity"], i["PurchaseOrderQuantityUnit"])
            for i in new if i["Material"] == mapping.erp_item_id]  # fmt: skip
    assert [entry for entry in ours if entry[1] == "CS"] == [(Decimal(2), "CS")]


async def test_a_conflict_on_a_case_listing_says_its_values_are_in_base_units(world: World) -> None:
    engine, cid = world.engine, world.connection_id
    await engine.discover(cid)
    eans = world.erp.emulator.tenant.context("T").state.table(EAN_TABLE).rows.values()
    with_case = {e["Product"] for e in eans if e["AlternativeUnit"] == "CS"}
    mapping = next(m for m in mappings(world)
                   if m.status is MappingStatus.MATCHED and m.erp_item_id in with_case)  # fmt: skip
    world.erp.receive(mapping, (-world.erp.stock(mapping)) % 12 + 12)
    world.atlas.edit_row(mapping.atlas_inventory_id, ndc=case_ndc(world, mapping), unit="CS")
    await engine.discover(cid)
    await engine.sync(cid, approve=True)
    cases = Decimal(world.atlas.row(mapping.atlas_inventory_id)["quantity"])
    world.atlas.sell(mapping.atlas_inventory_id, cases)  # every case sold on Atlas ...
    world.erp.issue(mapping, world.erp.stock(mapping))  # ... and every each issued in SAP
    run = await engine.sync(cid)
    assert run.conflicts_opened == 1
    [conflict] = engine.repos.conflicts.open_conflicts(cid)
    assert Decimal(conflict.base_value or "") == cases * 12  # in eaches, as the merge sees both sides
    assert "EA" in (conflict.note or "") and "CS of 12" in (conflict.note or "")
