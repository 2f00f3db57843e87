"""An incremental sync of 1,000 changes (half Atlas sales, half ERP receipts) takes at most 20 requests
in all, counted at the transport (issue 21): reads, lookups and batched writes on both sides.

Not counted away: the pull's reads. SAP re-reads the stock and batches of every material that moved, many
materials per filter and many filters per $batch: the bound holds whether the changes sit on the catalog's
first rows or are spread over all of it (1,400 items, some 850 materials)."""

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
from atlas_desktop.domain.secrets import Secret
from atlas_desktop.engine.api import RunStatus
from atlas_desktop.sandbox.atlas import build as build_atlas
from atlas_desktop.sandbox.catalog import Catalog
from atlas_desktop.sandbox.registry import SandboxOptions
from atlas_desktop.sandbox.sap import build as build_sap
from atlas_desktop.store.keys import MemoryKeySource
from tests.engine.test_sync_e2e import ATLAS_URL, ERP_URL, SapSide, World, _emulator

CHANGES = 1000


class Counted(httpx.AsyncBaseTransport):
    """Every request that reaches an emulator, as (method, path)."""

    def __init__(self, app: Any) -> None:
        self.inner = httpx.ASGITransport(app=app)
        self.requests: list[tuple[str, str]] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.requests.append((request.method, request.url.path))
        return await self.inner.handle_async_request(request)


@pytest.fixture(params=["netsuite", "sap-onprem"])
def counted_world(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[World, Counted, Counted]]:
    options = SandboxOptions(catalog=Catalog(seed=42, size=1400, today=date(2026, 11, 27)), seed=42)
    if request.param == "sap-onprem":
        emulator = next(e for e in build_sap(options) if e.name == "sap-onprem")
        side, content = SapSide(emulator), emulator.credential_files(ERP_URL)["sap-onprem.json"]
    else:
        emulator, side, content = _emulator("netsuite", options, tmp_path / "keys")
    atlas = build_atlas(options)
    erp_wire, atlas_wire = Counted(emulator.app), Counted(atlas.app)
    with open_services(ProfilePaths(tmp_path / "profile"), key_source=MemoryKeySource()) as services:
        connection_id = services.connections.add(parse_connection(content))
        services.atlas_accounts.save(
            base_url=ATLAS_URL, auth_method="api_token", secrets={"api_token": Secret(atlas.api_token)}
        )
        engine = build_engine(services, transport=erp_wire, atlas_options={"transport": atlas_wire})
        yield World(services, engine, connection_id, side, atlas), erp_wire, atlas_wire


@pytest.mark.parametrize("spread", [False, True], ids=["first-rows", "spread"])
async def test_an_incremental_push_of_1000_changes_takes_at_most_20_requests(
    counted_world: tuple[World, Counted, Counted], spread: bool
) -> None:
    world, erp_wire, atlas_wire = counted_world
    engine, cid = world.engine, world.connection_id
    await engine.discover(cid)
    first = await engine.sync(cid, approve=True)
    assert first.status is RunStatus.SUCCESS, first.error_message
    mappings = engine.repos.mappings.page(
        cid, status=MappingStatus.MATCHED, search=None, offset=0, limit=10_000
    )
    eligible = [m for m in mappings if m.atlas_quantity is not None and m.atlas_quantity >= 2]
    if spread:  # every n-th position of the catalog, sales and receipts taking turns
        chosen = [eligible[n * len(eligible) // CHANGES] for n in range(CHANGES)]
        atlas_side = set(range(0, CHANGES, 2))
    else:
        chosen, atlas_side = eligible[:CHANGES], set(range(CHANGES // 2))
    assert len(chosen) == CHANGES == len({m.id for m in chosen})
    if spread:
        assert len({m.erp_item_id for m in chosen}) > 800
    for index, mapping in enumerate(chosen):
        if index in atlas_side:
            world.atlas.sell(mapping.atlas_inventory_id, Decimal(1))
        else:
            world.erp.receive(mapping, Decimal(2))
    postings = world.erp.postings()
    erp_wire.requests.clear()
    atlas_wire.requests.clear()

    run = await engine.sync(cid)

    assert run.status is RunStatus.SUCCESS, run.error_message
    assert run.items_synced == CHANGES
    assert world.erp.postings() > postings  # the Atlas sales reached the ERP
    requests = [*erp_wire.requests, *atlas_wire.requests]
    assert len(requests) <= 20, requests
    # No write of the wave was asked for before it went (a pending write never left); the one read of
    # material documents is the pull's (documents since the watermark).
    lookups = [path for method, path in erp_wire.requests if method == "GET" and "MaterialDocument" in path]
    assert len(lookups) <= 1 and not [path for path in lookups if "Item" in path], lookups
