"""A whole sync against the emulators: the Atlas writes go in batches (issue 21), to the same end state.

Requests and operations are counted at the Atlas emulator's door.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest

from atlas_desktop.app.engine_setup import build_engine
from atlas_desktop.app.paths import ProfilePaths
from atlas_desktop.app.services import open_services
from atlas_desktop.domain.connection import parse_connection
from atlas_desktop.domain.secrets import Secret
from atlas_desktop.engine.api import RunStatus
from atlas_desktop.sandbox.atlas import AtlasEmulator
from atlas_desktop.sandbox.catalog import Catalog
from atlas_desktop.sandbox.netsuite import build as build_netsuite
from atlas_desktop.sandbox.registry import SandboxOptions
from atlas_desktop.store.keys import MemoryKeySource
from tests.engine.test_sync_e2e import ATLAS_URL, ERP_URL, NetSuiteSide, World, matched, sides


class AtlasWrites:
    """An ASGI door in front of the Atlas emulator counting write requests and the writes they carry."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.batches = 0  # POST /inventory/batch requests
        self.singles = 0  # single-row write requests
        self.batched = 0  # operations the batch requests carried

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        path = scope.get("path", "")
        if (
            scope["type"] != "http"
            or scope["method"] not in ("POST", "PATCH")
            or not path.startswith("/api/v1/inventory")
        ):
            await self.app(scope, receive, send)
            return
        chunks, more = [], True
        while more:
            message = await receive()
            chunks.append(message.get("body", b""))
            more = message.get("more_body", False)
        body = b"".join(chunks)
        operations = json.loads(body).get("operations") if path.endswith("/batch") else None
        if isinstance(operations, list):
            self.batches += 1
            self.batched += len(operations)
        else:
            self.singles += 1
        replayed = False

        async def replay() -> dict[str, Any]:
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)


def _world(tmp_path: Path, size: int, **atlas_options: Any) -> Iterator[tuple[World, AtlasWrites]]:
    options = SandboxOptions(catalog=Catalog(seed=11, size=size, today=date(2026, 11, 27)), seed=11)
    emulator = build_netsuite(options)
    atlas = AtlasEmulator(catalog=options.catalog, seed_value=11, **atlas_options)
    door = AtlasWrites(atlas.app)
    with open_services(ProfilePaths(tmp_path / "profile"), key_source=MemoryKeySource()) as services:
        connection_id = services.connections.add(
            parse_connection(emulator.credential_files(ERP_URL)["netsuite.json"])
        )
        services.atlas_accounts.save(
            base_url=ATLAS_URL, auth_method="api_token", secrets={"api_token": Secret(atlas.api_token)}
        )
        engine = build_engine(
            services,
            transport=httpx.ASGITransport(app=emulator.app),
            atlas_options={"transport": httpx.ASGITransport(app=door)},
        )
        yield World(services, engine, connection_id, NetSuiteSide(emulator), atlas), door


async def _first_sync(world: World) -> None:
    await world.engine.discover(world.connection_id)
    run = await world.engine.sync(world.connection_id, approve=True)
    assert run.status is RunStatus.SUCCESS, run.error_message


def _both_sides_agree(world: World) -> None:
    mappings = matched(world)
    assert mappings
    for mapping in mappings:
        atlas_qty, erp_qty = sides(world, mapping)
        assert atlas_qty == erp_qty, mapping


@pytest.fixture
def big(tmp_path: Path) -> Iterator[tuple[World, AtlasWrites]]:
    yield from _world(tmp_path, 1200)


async def test_a_first_sync_of_1200_items_sends_its_atlas_writes_in_a_few_batches(
    big: tuple[World, AtlasWrites],
) -> None:
    world, door = big
    await _first_sync(world)
    _both_sides_agree(world)
    writes = door.batched + door.singles
    assert writes >= 100  # the catalog gives the first sync many Atlas writes
    # A wave per write of a mapping, 500 writes a request (and a 412's retry): not one request per write.
    assert door.batches + door.singles <= math.ceil(writes / 500) + 3, (door.batches, door.singles, writes)


async def test_an_atlas_batch_answer_lost_is_replayed_by_key_and_nothing_doubles(tmp_path: Path) -> None:
    for world, _door in _world(tmp_path, 200):
        world.atlas.faults.add("drop_after", path="/api/v1/inventory/batch", method="POST", times=1)
        await world.engine.discover(world.connection_id)
        first = await world.engine.sync(world.connection_id, approve=True)
        assert first.status in (RunStatus.SUCCESS, RunStatus.PARTIAL), first.error_message
        again = await world.engine.sync(world.connection_id)
        assert again.status is RunStatus.SUCCESS, again.error_message
        assert all(rule.times == 0 for rule in world.atlas.faults.rules)  # the answer was lost
        _both_sides_agree(world)  # an adjustment applied twice would leave Atlas off the ERP


async def test_an_atlas_without_the_batch_route_is_written_one_row_at_a_time(tmp_path: Path) -> None:
    for world, door in _world(tmp_path, 200, batch_route=False):
        await _first_sync(world)
        _both_sides_agree(world)
        assert door.batches == 1  # the 404, remembered
        assert door.singles >= door.batched > 10  # then one request per write
