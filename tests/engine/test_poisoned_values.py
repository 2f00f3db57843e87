"""Absurd remote quantities, each one poisoned row among healthy ones, through the in-process emulators.

Issue 18, parts 3 and 4: a NetSuite "1e400", an Atlas "12345678901234567890.5", an SAP NaN... is refused
for its item alone. The other items sync; the run is partial and names the item; the value reaches
neither the mirror nor the other side; later runs keep working and name it again (the third alerts);
once the remote is corrected, the item converges with every movement made meanwhile kept.
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

from atlas_desktop.app.engine_setup import build_engine
from atlas_desktop.app.paths import ProfilePaths
from atlas_desktop.app.services import open_services
from atlas_desktop.domain.connection import parse_connection
from atlas_desktop.domain.secrets import Secret
from atlas_desktop.engine.api import ConnectionAlert, RunStatus, RunSummary
from atlas_desktop.sandbox.atlas import build as build_atlas
from atlas_desktop.sandbox.catalog import Catalog
from atlas_desktop.sandbox.registry import SandboxOptions
from atlas_desktop.store.keys import MemoryKeySource
from tests.engine.test_sync_e2e import ATLAS_URL, World, _emulator, matched, sides


class PoisonedWire(httpx.AsyncBaseTransport):
    """The ERP emulator behind a wire that shows chosen quantity texts for chosen stock positions, as a
    remote that holds them would send them (the NetSuite emulator's NUMERIC columns cannot hold them)."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.quantities: dict[tuple[str, str, str | None], str] = {}  # (item, location, lot) -> text

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        if not self.quantities or not request.url.path.endswith("/suiteql"):
            return response
        body = json.loads(await response.aread())
        for row in body.get("items", []):
            key = (str(row.get("item")), str(row.get("location")), row.get("lot") or None)
            if key in self.quantities and "qty" in row:
                row["qty"] = self.quantities[key]
        headers = {k: v for k, v in response.headers.items() if k.lower() not in ("content-length",)}
        return httpx.Response(response.status_code, headers=headers, content=json.dumps(body).encode())


@dataclass
class Poisoned(World):
    kind: str
    wire: PoisonedWire
    alerts: list[ConnectionAlert]


@pytest.fixture(params=["netsuite", "sap"])
def world(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Poisoned]:
    options = SandboxOptions(catalog=Catalog(seed=11, size=40, today=date(2026, 11, 27)), seed=11)
    emulator, side, content = _emulator(request.param, options, tmp_path / "keys")
    atlas = build_atlas(options)
    wire = PoisonedWire(httpx.ASGITransport(app=emulator.app))
    with open_services(ProfilePaths(tmp_path / "profile"), key_source=MemoryKeySource()) as services:
        spec = parse_connection(content)
        connection_id = services.connections.add(spec)
        services.atlas_accounts.save(
            base_url=ATLAS_URL, auth_method="api_token", secrets={"api_token": Secret(atlas.api_token)}
        )
        engine = build_engine(
            services, transport=wire, atlas_options={"transport": httpx.ASGITransport(app=atlas.app)}
        )
        alerts: list[ConnectionAlert] = []
        engine.events.subscribe(lambda e: alerts.append(e) if isinstance(e, ConnectionAlert) else None)
        yield Poisoned(services, engine, connection_id, side, atlas, request.param, wire, alerts)


def run_errors(world: World, run: RunSummary) -> list[Any]:
    """(item_ref, mapping_id, error_kind, message) of the item errors a run recorded."""
    with world.services.store.session() as session:
        return list(
            session.execute(
                sa.text(
                    "SELECT item_ref, mapping_id, error_kind, message FROM sync_item_errors "
                    "WHERE sync_log_id = :run ORDER BY id"
                ),
                {"run": run.sync_log_id},
            )
        )


def mirrored(world: World, m: Any) -> tuple[str, str]:
    """The quantity texts the store holds for the mapping's Atlas row and ERP position."""
    with world.services.store.session() as session:
        atlas = session.execute(
            sa.text("SELECT quantity FROM atlas_rows WHERE connection_id = :c AND atlas_id = :a"),
            {"c": world.connection_id, "a": m.atlas_inventory_id},
        ).scalar_one()
        erp = session.execute(
            sa.text(
                "SELECT quantity FROM erp_stock WHERE connection_id = :c AND item_id = :i "
                "AND location_id = :l AND lot = :lot"
            ),
            {"c": world.connection_id, "i": m.erp_item_id, "l": m.erp_location_id, "lot": m.lot or ""},
        ).scalar_one()
    return str(atlas), str(erp)


async def synced_world(world: Poisoned) -> tuple[Any, Any, Any, Decimal]:
    """First sync done; (poisoned mapping, healthy one sold on Atlas, healthy one restocked, its base)."""
    await world.engine.discover(world.connection_id)
    first = await world.engine.sync(world.connection_id, approve=True)
    assert first.status is RunStatus.SUCCESS, first.error_message
    stocked = [m for m in matched(world) if sides(world, m)[0] >= 3]
    poisoned, sold, restocked = stocked[0], stocked[1], stocked[2]
    base, erp = sides(world, poisoned)
    assert base == erp
    return poisoned, sold, restocked, base


def poison_erp(world: Poisoned, m: Any, text: str) -> None:
    """The ERP sends `text` as the position's quantity; a receipt of 1 makes the next read fetch it."""
    world.erp.receive(m, Decimal(1))
    if world.kind == "netsuite":  # on the wire: the emulator's NUMERIC columns cannot hold the text
        world.wire.quantities[(m.erp_item_id, m.erp_location_id, m.lot)] = text
    else:  # the SAP emulator holds any Decimal, and renders NaN and Infinity as they are
        world.erp.plant_drift(m, Decimal(text))


def heal_erp(world: Poisoned, m: Any, base: Decimal) -> Decimal:
    """The ERP holds a sane value again, read by the next run (a receipt of 1 on top); returns it."""
    world.wire.quantities.clear()
    if world.kind == "sap":
        world.erp.plant_drift(m, base + 5)
    world.erp.receive(m, Decimal(1))
    return world.erp.stock(m)


async def poisoned_runs(
    world: Poisoned, m: Any, sold: Any, restocked: Any, ref_part: str, says: str = "refused"
) -> None:
    """Three runs with the value still on the remote: each partial, naming `m`; the third alerts."""
    engine, cid = world.engine, world.connection_id
    before = {x.id: sides(world, x) for x in (sold, restocked)}
    world.atlas.sell(sold.atlas_inventory_id, 1)
    world.erp.receive(restocked, Decimal(2))
    for number in range(1, 4):
        run = await engine.sync(cid)
        assert run.status is RunStatus.PARTIAL, (number, run.error_message)
        assert run.items_failed == 1 and run.in_doubt == 0, number
        errors = run_errors(world, run)
        assert [(e.mapping_id, e.error_kind) for e in errors] == [(m.id, "out_of_bounds")], errors
        assert ref_part in errors[0].item_ref and says in errors[0].message
        alerted = [a for a in world.alerts if "in a row" in a.reason]
        assert bool(alerted) is (number == 3), (number, world.alerts)
    # The healthy items synced as usual, in the first of those runs.
    assert sides(world, sold) == (before[sold.id][0] - 1,) * 2
    assert sides(world, restocked) == (before[restocked.id][1] + 2,) * 2


ERP_CASES = [
    ("netsuite", "1e400"),
    ("netsuite", "99999999999999999999.5"),
    ("sap", "NaN"),
    ("sap", "Infinity"),
    ("sap", "12345678901.5"),  # beyond DEC 13,3
]


@pytest.mark.parametrize(("world", "value"), ERP_CASES, indirect=["world"])
async def test_an_absurd_erp_quantity_is_refused_for_its_item_alone(world: Poisoned, value: str) -> None:
    engine, cid = world.engine, world.connection_id
    m, sold, restocked, base = await synced_world(world)
    poison_erp(world, m, value)
    world.atlas.sell(m.atlas_inventory_id, 1)  # a sale on the poisoned item meanwhile: never lost

    await poisoned_runs(world, m, sold, restocked, m.erp_item_id)
    # Neither the mirror nor Atlas ever held the value; the Atlas sale waits, unwritten.
    assert Decimal(mirrored(world, m)[1]) == base
    assert world.atlas.row(m.atlas_inventory_id)["quantity"] == str(base - 1)

    # Corrected in the ERP: the item syncs on the next run, the sale and the receipts all kept.
    erp_now = heal_erp(world, m, base)
    healed = await engine.sync(cid)
    assert healed.status is RunStatus.SUCCESS, (healed.error_message, run_errors(world, healed))
    assert healed.items_failed == 0
    assert sides(world, m) == (erp_now - 1, erp_now - 1)
    assert engine.repos.explain.counts(cid).failing_items == 0  # the refusals are closed


@pytest.mark.parametrize("value", ["1e400", "12345678901234567890.5"])
async def test_an_absurd_atlas_quantity_is_refused_for_its_item_alone(world: Poisoned, value: str) -> None:
    engine, cid = world.engine, world.connection_id
    m, sold, restocked, base = await synced_world(world)
    world.atlas.state.update_row(m.atlas_inventory_id, {"quantity": value})
    world.erp.receive(m, Decimal(2))  # a receipt on the poisoned item meanwhile: never lost

    await poisoned_runs(world, m, sold, restocked, m.atlas_inventory_id)
    # Nothing was written to the ERP for it, and the mirror never held it.
    assert sides(world, m)[1] == base + 2
    assert mirrored(world, m)[0] == str(base)

    # The seller corrects the row (one unit sold meanwhile): it merges with the receipt.
    world.atlas.edit_row(m.atlas_inventory_id, quantity=base - 1)
    healed = await engine.sync(cid)
    assert healed.status is RunStatus.SUCCESS, (healed.error_message, run_errors(world, healed))
    assert sides(world, m) == (base + 1, base + 1)
    assert engine.repos.explain.counts(cid).failing_items == 0


WRITE_CASES = [("netsuite", "12345678901"), ("sap", "12345678901"), ("sap", "{base}.2345")]


@pytest.mark.parametrize(("world", "value"), WRITE_CASES, indirect=["world"])
async def test_a_value_the_other_side_cannot_hold_is_never_planned(world: Poisoned, value: str) -> None:
    """An Atlas value Atlas can hold (11 integer digits, 4 places) but the ERP cannot: no write is planned,
    the item fails, named, in every run until the value fits, and then syncs."""
    engine, cid = world.engine, world.connection_id
    m, sold, restocked, base = await synced_world(world)
    erp_before = world.erp.stock(m)
    world.atlas.edit_row(m.atlas_inventory_id, quantity=value.format(base=base))

    await poisoned_runs(world, m, sold, restocked, f"mapping {m.id}", says="cannot be written to")
    assert world.erp.stock(m) == erp_before  # nothing was posted for it

    world.atlas.edit_row(m.atlas_inventory_id, quantity=base - 1)
    healed = await engine.sync(cid)
    assert healed.status is RunStatus.SUCCESS, (healed.error_message, run_errors(world, healed))
    assert sides(world, m) == (base - 1, base - 1)
    assert engine.repos.explain.counts(cid).failing_items == 0


@pytest.mark.parametrize("world", ["netsuite"], indirect=True)
async def test_a_row_refused_during_discovery_is_reported_by_the_first_sync(world: Poisoned) -> None:
    """Discovery has no run to record a refusal with: it leaves the change-feed cursor before the row,
    so the first sync reads it again and names it."""
    engine, cid = world.engine, world.connection_id
    row = world.atlas.rows()[0]
    world.atlas.state.update_row(row["id"], {"quantity": "1e400"})
    await engine.discover(cid)
    first = await engine.sync(cid, approve=True)
    assert first.status is RunStatus.PARTIAL and first.items_failed == 1, first.error_message
    errors = run_errors(world, first)
    assert [(e.item_ref, e.error_kind) for e in errors] == [(f"Atlas row {row['id']}", "out_of_bounds")]
    for mapping in matched(world):  # every other item had its first sync
        assert sides(world, mapping)[0] == sides(world, mapping)[1]

    world.atlas.edit_row(row["id"], quantity=Decimal(4))
    healed = await engine.sync(cid)
    assert healed.status is RunStatus.SUCCESS, run_errors(world, healed)
    assert engine.repos.explain.counts(cid).failing_items == 0
