"""The engine end to end against the in-process ERP (NetSuite, SAP) and Atlas emulators.

Discover, approve the first sync, then move stock on both sides between runs and check that both
sides hold exactly base + every delta, with conflicts for what cannot be added.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from atlas_desktop.app.certificate_renewal import CertificateRenewal
from atlas_desktop.app.engine_setup import build_engine
from atlas_desktop.app.key_files import inline_private_key
from atlas_desktop.app.netsuite_certificates import CertificateFolder
from atlas_desktop.app.paths import ProfilePaths
from atlas_desktop.app.services import Services, open_services
from atlas_desktop.connectors.netsuite import queries as netsuite_queries
from atlas_desktop.domain.connection import parse_connection
from atlas_desktop.domain.enums import MappingStatus, Resolution
from atlas_desktop.domain.errors import AuthFailed
from atlas_desktop.domain.secrets import Secret
from atlas_desktop.engine import push as push_module
from atlas_desktop.engine import runner as runner_module
from atlas_desktop.engine.api import RunStatus
from atlas_desktop.engine.factory import build_erp_connector
from atlas_desktop.engine.service import EngineService
from atlas_desktop.sandbox.atlas import build as build_atlas
from atlas_desktop.sandbox.catalog import Catalog
from atlas_desktop.sandbox.netsuite import build as build_netsuite
from atlas_desktop.sandbox.netsuite.m2m import DEFAULT_ROLE
from atlas_desktop.sandbox.registry import SandboxOptions
from atlas_desktop.sandbox.sap import build as build_sap
from atlas_desktop.store.keys import MemoryKeySource

ERP_URL = "http://127.0.0.1:8123"
ATLAS_URL = "http://127.0.0.1:8124"


class NetSuiteSide:
    """ERP-user actions on the NetSuite emulator, addressed by a mapping's ERP key.

    Users move stock as they do in NetSuite: an item receipt brings it in, fulfilments, cash sales and
    invoices take it out in turn (adjustments are what Atlas's own writes post)."""

    OUTBOUND = ("fulfilment", "cash sale", "invoice")

    def __init__(self, emulator: Any) -> None:
        self.emulator = emulator
        self.faults = emulator.faults
        self.issued: list[str] = []  # the outbound kind of each issue, in order

    def stock(self, m: Any) -> Decimal:
        return self.emulator.state.stock(int(m.erp_item_id), int(m.erp_location_id), m.lot)

    def receive(self, m: Any, quantity: Decimal) -> None:
        self.emulator.activity.item_receipt(int(m.erp_item_id), int(m.erp_location_id), quantity, m.lot)

    def issue(self, m: Any, quantity: Decimal) -> None:
        kind = self.OUTBOUND[len(self.issued) % len(self.OUTBOUND)]
        item, location, activity = int(m.erp_item_id), int(m.erp_location_id), self.emulator.activity
        if kind == "fulfilment":
            activity.fulfil(item, location, quantity, m.lot)
        else:
            activity.sell(item, location, quantity, m.lot, invoice=kind == "invoice")
        self.issued.append(kind)

    def postings(self) -> int:
        # Lines, not records: a batched adjustment carries many changes, each one line (reference §9).
        return self.emulator.state.count_lines("inventoryadjustment")

    def purchase_orders(self) -> int:
        return self.emulator.state.count_transactions("purchaseorder")

    def plant_drift(self, m: Any, quantity: Decimal) -> None:
        """Change a balance behind everyone's back: no transaction, so incremental reads cannot see it."""
        state = self.emulator.state
        lot_id = state.lot_id(int(m.erp_item_id), m.lot) if m.lot else None
        state.db.execute(
            "UPDATE inventorybalance SET quantityonhand = ?, quantityavailable = ?"
            " WHERE item = ? AND location = ? AND IFNULL(inventorynumber, 0) = ?",
            (str(quantity), str(quantity), int(m.erp_item_id), int(m.erp_location_id), lot_id or 0),
        )
        if lot_id is not None:
            state.db.execute(
                "UPDATE inventorynumberlocation SET quantityonhand = ?, quantityavailable = ?"
                " WHERE inventorynumber = ? AND location = ?",
                (str(quantity), str(quantity), lot_id, int(m.erp_location_id)),
            )

    write_path = "/record/v1/inventoryAdjustment"


class SapSide:
    def __init__(self, emulator: Any) -> None:
        self.emulator = emulator
        self.faults = emulator.faults

    @staticmethod
    def _where(m: Any) -> tuple[str, str, str]:
        plant, _, storage_location = m.erp_location_id.partition("/")
        return m.erp_item_id, plant, storage_location

    def stock(self, m: Any) -> Decimal:
        return self.emulator.unrestricted_stock(*self._where(m), m.lot or "")

    def receive(self, m: Any, quantity: Decimal) -> None:
        self.emulator.post_goods_receipt(*self._where(m), quantity, batch=m.lot or "")

    def issue(self, m: Any, quantity: Decimal) -> None:
        self.emulator.post_goods_issue(*self._where(m), quantity, batch=m.lot or "")

    def postings(self) -> int:
        # Items, not documents: a batched document carries many changes, each one item (reference §13).
        return len(self.emulator.material_document_items())

    def purchase_orders(self) -> int:
        return len(self.emulator.purchase_orders())

    def plant_drift(self, m: Any, quantity: Decimal) -> None:
        """Change a stock row behind everyone's back: no material document, so no incremental read sees it."""
        material, plant, storage_location = self._where(m)
        key = (material, plant, storage_location, m.lot or "", "", "", "00000000", "", "000000", "", "01")
        self.emulator._ctx().state.table("A_MatlStkInAcctMod").get(key)["MatlWrhsStkQtyInMatlBaseUnit"] = (
            quantity
        )

    write_path = "API_MATERIAL_DOCUMENT_SRV/(A_MaterialDocumentHeader|\\$batch)"  # stock changes go batched


@dataclass
class World:
    services: Services
    engine: EngineService
    connection_id: str
    erp: Any
    atlas: Any


def _emulator(kind: str, options: SandboxOptions, key_dir: Path) -> tuple[Any, Any, dict[str, Any]]:
    if kind == "netsuite":
        emulator = build_netsuite(options)
        return emulator, NetSuiteSide(emulator), emulator.credential_files(ERP_URL)["netsuite.json"]
    if kind == "netsuite-m2m":  # OAuth 2.0 client credentials, its key read from a PEM file as at import
        emulator = build_netsuite(options)
        emulator.key_dir = key_dir
        content = inline_private_key(emulator.write_config_files(ERP_URL)["netsuite-m2m.json"])
        return emulator, NetSuiteSide(emulator), content  # type: ignore[return-value]
    emulator = next(e for e in build_sap(options) if e.name == "sap-cloud")
    return emulator, SapSide(emulator), emulator.credential_files(ERP_URL)["sap-cloud.json"]


@pytest.fixture(params=["netsuite", "sap"])  # "netsuite-m2m" where a test asks for it
def world(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[World]:
    options = SandboxOptions(catalog=Catalog(seed=11, size=40, today=date(2026, 11, 27)), seed=11)
    emulator, side, content = _emulator(request.param, options, tmp_path / "keys")
    atlas = build_atlas(options)
    with open_services(ProfilePaths(tmp_path / "profile"), key_source=MemoryKeySource()) as services:
        spec = parse_connection(content)
        connection_id = services.connections.add(spec)
        services.atlas_accounts.save(
            base_url=ATLAS_URL, auth_method="api_token", secrets={"api_token": Secret(atlas.api_token)}
        )
        engine = build_engine(
            services,
            transport=httpx.ASGITransport(app=emulator.app),
            atlas_options={"transport": httpx.ASGITransport(app=atlas.app)},
        )
        yield World(services, engine, connection_id, side, atlas)


def matched(world: World) -> list[Any]:
    return world.services.store and world.engine.repos.mappings.page(
        world.connection_id, status=MappingStatus.MATCHED, search=None, offset=0, limit=10_000
    )


def sides(world: World, mapping: Any) -> tuple[Decimal, Decimal]:
    atlas_row = world.atlas.row(mapping.atlas_inventory_id)
    return Decimal(atlas_row["quantity"]), world.erp.stock(mapping)


@pytest.mark.parametrize("world", ["netsuite", "netsuite-m2m", "sap"], indirect=True)
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
    world.erp.receive(both, Decimal(5))
    world.atlas.sell(atlas_only.atlas_inventory_id, 1)
    world.erp.receive(erp_only, Decimal(3))

    second = await engine.sync(cid)
    assert second.status is RunStatus.SUCCESS, second.error_message
    expected = {both.id: before[both.id] - 2 + 5, atlas_only.id: before[atlas_only.id] - 1,
                erp_only.id: before[erp_only.id] + 3}  # fmt: skip
    for mapping in (both, atlas_only, erp_only):
        assert sides(world, mapping) == (expected[mapping.id], expected[mapping.id])

    # Every run and write is in the audit trail, and the chain is intact.
    report = engine.repos.audit.verify()
    assert report.ok and report.count >= 3 + second.items_synced

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
    world.erp.issue(mapping, erp_qty)

    run = await engine.sync(cid)
    assert run.conflicts_opened == 1
    conflicts = engine.repos.conflicts.open_conflicts(cid)
    assert [c.field for c in conflicts] == ["quantity"]
    assert sides(world, mapping) == (Decimal(0), Decimal(0))  # both untouched

    # A receipt lands after the conflict was recorded; the person then says the true count was 4.
    world.erp.receive(mapping, Decimal(3))
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
    postings_before = world.erp.postings()
    world.erp.faults.add("drop_after", path=world.erp.write_path, method="POST", times=1)

    # The adjustment lands but its answer is lost: the connector looks it up by externalId (or the next
    # run does, from the outbox) instead of posting it again.
    first = await engine.sync(cid)
    assert first.status in (RunStatus.SUCCESS, RunStatus.PARTIAL)
    second = await engine.sync(cid)
    assert second.status is RunStatus.SUCCESS, second.error_message
    assert all(rule.times == 0 for rule in world.erp.faults.rules)  # the fault did fire
    assert sides(world, mapping) == (erp_before - 1, erp_before - 1)
    assert world.erp.postings() == postings_before + 1


async def test_confirmed_orders_become_purchase_orders_once_and_are_linked(world: World) -> None:
    engine, cid = world.engine, world.connection_id
    world.services.connections.update(cid, sync_scopes={"stock": True, "transactions": True})
    await engine.discover(cid)
    await engine.sync(cid, approve=True)
    mapping = matched(world)[0]
    purchase_orders_before = world.erp.purchase_orders()
    order = world.atlas.create_order(
        [
            {
                "ndc": mapping.ndc_text_atlas,
                "name": mapping.item_name or "item",
                "quantity": "12",
                "unit_price": "3.5",
            }
        ]
    )
    run = await engine.sync(cid)
    assert run.status is RunStatus.SUCCESS, [e.message for e in engine.repos.runs.unreplayed_errors(cid)]
    link = world.atlas.order_link(order["id"])
    assert link is not None and link["erp_document_id"]
    assert world.erp.purchase_orders() == purchase_orders_before + 1
    again = await engine.sync(cid)  # the cursor moved on; a replay would find the same PO anyway
    assert again.status is RunStatus.SUCCESS
    assert world.erp.purchase_orders() == purchase_orders_before + 1


async def test_an_order_the_erp_refuses_blocks_nothing_else_and_is_retried(world: World) -> None:
    engine, cid = world.engine, world.connection_id
    world.services.connections.update(cid, sync_scopes={"stock": True, "transactions": True})
    await engine.discover(cid)
    await engine.sync(cid, approve=True)
    before = world.erp.purchase_orders()
    bad = world.atlas.create_order([{"ndc": "99999-999-99", "name": "Unknown to the ERP", "quantity": "1"}])
    run = await engine.sync(cid)
    assert run.status is RunStatus.PARTIAL and run.items_failed == 1
    errors = engine.repos.runs.unreplayed_errors(cid)
    assert len(errors) == 1 and bad["number"] in errors[0].item_ref
    assert world.atlas.order_link(bad["id"]) is None and world.erp.purchase_orders() == before
    again = await engine.sync(cid)  # still refused: tried again, never skipped
    assert again.items_failed == 1


async def test_a_key_that_ping_pongs_is_quarantined_as_a_conflict(world: World) -> None:
    engine, cid = world.engine, world.connection_id
    await engine.discover(cid)
    await engine.sync(cid, approve=True)
    mapping = next(m for m in matched(world) if sides(world, m)[0] >= 10)
    # Something keeps undoing the change: +5, -5, +5, ... With the first sync's base that is
    # B, B+5, B, B+5, B, B+5: four returns to an earlier value, one more than the guard allows.
    for step in range(5):
        if step % 2 == 0:
            world.atlas.edit_row(mapping.atlas_inventory_id, quantity=str(sides(world, mapping)[0] + 5))
        else:
            world.atlas.sell(mapping.atlas_inventory_id, 5)
        run = await engine.sync(cid)
        assert run.conflicts_opened == 0, step
    world.atlas.sell(mapping.atlas_inventory_id, 5)
    run = await engine.sync(cid)
    assert run.conflicts_opened == 1
    (conflict,) = engine.repos.conflicts.open_conflicts(cid)
    assert conflict.mapping_id == mapping.id and "back and forth" in (conflict.note or "")


async def test_reconciliation_reports_drift_the_cursor_missed_and_fixes_it(world: World) -> None:
    engine, cid = world.engine, world.connection_id
    await engine.discover(cid)
    await engine.sync(cid, approve=True)
    mapping = next(m for m in matched(world) if sides(world, m)[0] >= 3)
    atlas_qty, erp_qty = sides(world, mapping)
    world.erp.plant_drift(mapping, erp_qty + 7)
    quiet = await engine.sync(cid)
    assert quiet.items_synced == 0  # the incremental read cannot see it
    assert sides(world, mapping) == (atlas_qty, erp_qty + 7)

    report = await engine.reconcile(cid)
    assert [d["mapping_id"] for d in report.drift] == [mapping.id]
    runs = engine.repos.runs.recent(cid)
    assert any(r.sync_type.value == "reconcile" and r.error_details for r in runs)
    assert report.fix is not None and report.fix.status is RunStatus.SUCCESS
    assert sides(world, mapping) == (erp_qty + 7, erp_qty + 7)


async def test_preview_never_writes_even_when_nothing_needs_approval(world: World) -> None:
    engine, cid = world.engine, world.connection_id
    await engine.discover(cid)
    await engine.sync(cid, approve=True)
    mapping = next(m for m in matched(world) if sides(world, m)[0] >= 3)
    before = sides(world, mapping)
    world.atlas.sell(mapping.atlas_inventory_id, 1)  # one small change: no preview would be needed
    plan = await engine.preview(cid)
    assert plan.to_erp == 1
    assert sides(world, mapping) == (before[0] - 1, before[1])  # the ERP was not written


async def test_product_master_flows_from_the_erp_to_atlas(world: World) -> None:
    if not isinstance(world.erp, NetSuiteSide):
        pytest.skip("the NetSuite emulator offers an item-master edit helper")
    engine, cid = world.engine, world.connection_id
    await engine.discover(cid)
    await engine.sync(cid, approve=True)
    mapping = matched(world)[0]
    world.erp.emulator.state.edit_item(int(mapping.erp_item_id), displayname="Renamed in the ERP 10 mg")
    run = await engine.sync(cid)
    assert run.status is RunStatus.SUCCESS, run.error_message
    assert world.atlas.row(mapping.atlas_inventory_id)["name"] == "Renamed in the ERP 10 mg"
    idle = await engine.sync(cid)
    assert idle.items_synced == 0  # no echo: the names agree now


async def test_an_approved_run_recorded_as_planned_still_renames_items_it_moves_stock_for(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Approved runs store each chunk of decisions as soon as it is planned. The product master leaves out
    keys with a pending decision, so it must be read before this run's own decisions are stored."""
    if not isinstance(world.erp, NetSuiteSide):
        pytest.skip("the NetSuite emulator offers an item-master edit helper")
    monkeypatch.setattr(runner_module, "RECORD_BATCH", 1)  # every planned chunk is stored at once
    engine, cid = world.engine, world.connection_id
    await engine.discover(cid)
    first = await engine.sync(cid, approve=True)
    assert first.status is RunStatus.SUCCESS, first.error_message
    mapping = next(m for m in matched(world) if not m.lot)
    atlas_qty, erp_qty = sides(world, mapping)
    world.erp.receive(mapping, Decimal(4))
    world.erp.emulator.state.edit_item(int(mapping.erp_item_id), displayname="Renamed while restocked")
    run = await engine.sync(cid, approve=True)
    assert run.status is RunStatus.SUCCESS, run.error_message
    assert sides(world, mapping) == (erp_qty + 4, erp_qty + 4)
    assert world.atlas.row(mapping.atlas_inventory_id)["name"] == "Renamed while restocked"


async def test_writes_are_audited_wave_by_wave_so_a_crash_mid_push_keeps_them(
    world: World, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    engine, cid = world.engine, world.connection_id
    # Waves of 2: the SAP world's first sync has 3 writes (it had more while SAP's cut names were written).
    monkeypatch.setattr(push_module, "WAVE_LIMIT", 2)
    monkeypatch.setattr(push_module, "WAVE_MAX", 2)  # batching ERPs would otherwise fill their documents
    decisions = engine.repos.decisions
    recorded_waves = 0
    original = decisions.mark_done_many

    def crash_on_the_second_wave(confirmed: Any) -> int:
        nonlocal recorded_waves
        recorded_waves += 1
        if recorded_waves == 2:
            raise RuntimeError("the process dies here")
        return original(confirmed)

    monkeypatch.setattr(decisions, "mark_done_many", crash_on_the_second_wave)
    await engine.discover(cid)
    with pytest.raises(RuntimeError, match="dies here"):
        await engine.sync(cid, approve=True)

    out = tmp_path / "audit.json"
    engine.repos.audit.export(out, fmt="json")
    writes = [entry for entry in json.loads(out.read_text()) if entry["action"] == "write"]
    assert len(writes) == 2  # the first wave, confirmed and recorded before the crash
    assert engine.repos.audit.verify().ok


@pytest.mark.parametrize("world", ["netsuite"], indirect=True)
async def test_a_sale_from_a_lot_in_a_fresh_process_posts_with_the_mirrored_lot_id(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine, cid = world.engine, world.connection_id
    await engine.discover(cid)
    assert (await engine.sync(cid, approve=True)).status is RunStatus.SUCCESS
    lot_mapping = next(m for m in matched(world) if m.lot and sides(world, m)[0] >= 2)
    atlas_qty, erp_qty = sides(world, lot_mapping)
    # A new engine (a restarted app): nothing learnt in memory, only what the store kept.
    fresh = build_engine(
        world.services,
        transport=httpx.ASGITransport(app=world.erp.emulator.app),
        atlas_options={"transport": httpx.ASGITransport(app=world.atlas.app)},
    )
    lookups: list[tuple[str, str]] = []
    original = netsuite_queries.lot_number_id

    def counted_lookup(item_id: str, lot: str) -> str:
        lookups.append((item_id, lot))
        return original(item_id, lot)

    monkeypatch.setattr(netsuite_queries, "lot_number_id", counted_lookup)
    world.atlas.sell(lot_mapping.atlas_inventory_id, 2)
    run = await fresh.sync(cid)
    assert run.status is RunStatus.SUCCESS, run.error_message
    assert sides(world, lot_mapping) == (atlas_qty - 2, erp_qty - 2)
    assert lookups == []  # the adjustment named the lot by the id the first sync's read stored


async def test_a_side_with_no_stock_at_all_fails_the_run_and_writes_nothing(world: World) -> None:
    engine, cid = world.engine, world.connection_id
    await engine.discover(cid)
    assert (await engine.sync(cid, approve=True)).status is RunStatus.SUCCESS
    postings = world.erp.postings()
    with world.services.store.session() as session:  # the ERP mirror lost (a read that stored nothing)
        session.execute(sa.text("DELETE FROM erp_stock WHERE connection_id = :c"), {"c": cid})
    run = await engine.sync(cid)
    assert run.status is RunStatus.FAILED and "returned no stock at all" in (run.error_message or "")
    assert run.items_synced == 0 and world.erp.postings() == postings


@pytest.mark.parametrize("world", ["netsuite-m2m"], indirect=True)
async def test_an_oauth2_m2m_connection_passes_the_connection_test_with_one_token(world: World) -> None:
    report = await world.engine.test_connection(world.connection_id)
    assert report.ok, [(step.name, step.cause) for step in report.steps]
    assert "OAuth 2.0 access token" in [step.name for step in report.steps]
    await world.engine.discover(world.connection_id)
    assert world.erp.emulator.m2m.tokens_issued <= 2  # one for the test's token step, one for the reads


@pytest.mark.parametrize("world", ["netsuite-m2m"], indirect=True)
async def test_a_certificate_renewal_keeps_syncing_with_the_old_key_until_the_new_id_gives_a_token(
    world: World,
) -> None:
    engine, cid, emulator = world.engine, world.connection_id, world.erp.emulator
    connections = world.services.connections
    await engine.discover(cid)
    await engine.sync(cid)
    assert (await engine.sync(cid, approve=True)).status is RunStatus.SUCCESS
    before = connections.get(cid)
    old_id, old_key = before.settings["certificate_id"], before.secrets["private_key"]
    renewal = CertificateRenewal(
        connections,
        CertificateFolder(world.services.paths.root),
        lambda spec: build_erp_connector(spec, transport=httpx.ASGITransport(app=emulator.app)),
        engine.forget_connector,
    )
    pending = renewal.start(cid)
    assert pending.path.exists() and renewal.start(cid) == pending  # asked again: the same new pair

    mapping = matched(world)[0]
    world.erp.receive(mapping, Decimal(4))
    during = await engine.sync(cid)  # the old key still signs: no sync gap while the user uploads
    assert during.status is RunStatus.SUCCESS and during.items_synced >= 1
    assert connections.get(cid).secrets["private_key"] == old_key

    new_id = emulator.m2m.upload_certificate(
        emulator.integration.client_id, "Atlas Integration User", DEFAULT_ROLE, pending.path.read_bytes()
    )
    with pytest.raises(AuthFailed):  # a mistyped ID yields no token: nothing switches
        await renewal.finish(cid, "Wrong-certificate-id-0123")
    assert connections.get(cid).settings["certificate_id"] == old_id
    assert (await engine.sync(cid)).status is RunStatus.SUCCESS

    await renewal.finish(cid, new_id)
    switched = connections.get(cid)
    assert switched.settings["certificate_id"] == new_id and switched.secrets["private_key"] != old_key
    assert "pending_private_key" not in switched.secrets
    assert "pending_certificate_file" not in switched.settings
    assert switched.settings["certificate_expires"] == pending.not_after.isoformat()
    emulator.m2m.revoke(old_id)  # the user removes the old mapping in NetSuite: syncs go on
    world.erp.receive(mapping, Decimal(2))
    after = await engine.sync(cid)
    assert after.status is RunStatus.SUCCESS and after.items_synced >= 1


@pytest.mark.parametrize("world", ["netsuite-m2m"], indirect=True)
async def test_a_running_engine_takes_a_renewal_made_elsewhere_at_its_next_run(world: World) -> None:
    """The CLI's renew-certificate runs in its own process and cannot tell the agent's engine to drop its
    connector: the next run sees the stored key and Certificate ID changed and signs with the new ones."""
    engine, cid, emulator = world.engine, world.connection_id, world.erp.emulator
    connections = world.services.connections
    await engine.discover(cid)
    assert (await engine.sync(cid, approve=True)).status is RunStatus.SUCCESS
    cached = await engine.erp(cid)
    idle = await engine.sync(cid)  # nothing changed in the store: the same connector, the same token
    assert idle.status is RunStatus.SUCCESS and await engine.erp(cid) is cached
    old_id = connections.get(cid).settings["certificate_id"]
    elsewhere = CertificateRenewal(  # no forget_connector: the engine is not told
        connections,
        CertificateFolder(world.services.paths.root),
        lambda spec: build_erp_connector(spec, transport=httpx.ASGITransport(app=emulator.app)),
    )
    pending = elsewhere.start(cid)
    new_id = emulator.m2m.upload_certificate(
        emulator.integration.client_id, "Atlas Integration User", DEFAULT_ROLE, pending.path.read_bytes()
    )
    await elsewhere.finish(cid, new_id)
    emulator.m2m.revoke(old_id)  # the user removes the old mapping, as the CLI then says they may
    refusals = len(emulator.m2m.failures)
    mapping = matched(world)[0]
    world.erp.receive(mapping, Decimal(3))
    after = await engine.sync(cid)
    assert after.status is RunStatus.SUCCESS and after.items_synced >= 1, after.error_message
    assert emulator.m2m.failures[refusals:] == []  # not even one refused try with the old key
