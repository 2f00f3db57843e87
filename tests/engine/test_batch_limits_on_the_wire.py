"""Independent checks of the batch limits (issue 21), made on what reached the emulator, not on the writer's
own bookkeeping: no NetSuite adjustment of more than `lines_per_record` (never above 1,000) lines, no SAP
material document of 500 items, no $batch change set of two operations.

The emulators run leniently here (no line limit, multi-operation change sets accepted, no FI limit), so
a breach would be accepted and seen, not refused: these tests prove the client keeps the limits. A wave
may hold more writes than one document takes, so the cut at the limit is what is tested.
"""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import httpx
import pytest

from atlas_desktop.engine import push as push_module
from atlas_desktop.sandbox.netsuite.records import WriteLimits
from atlas_desktop.sandbox.sap.batch import ChangeSet, parse_batch
from tests.connectors.netsuite.emulator_support import Clock, make_emulator
from tests.connectors.sap.test_emulator import tenant
from tests.engine import test_erp_batches as netsuite_batches
from tests.engine import test_erp_batches_sap as sap_batches
from tests.engine.test_erp_batches import Outbox, pusher


class Wire(httpx.AsyncBaseTransport):
    """An ASGI transport that keeps every request it passes to the emulator."""

    def __init__(self, app: Any) -> None:
        self.inner = httpx.ASGITransport(app=app)
        self.requests: list[httpx.Request] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        await request.aread()
        self.requests.append(request)
        return await self.inner.handle_async_request(request)

    def posts(self, path_end: str) -> list[httpx.Request]:
        return [r for r in self.requests if r.method == "POST" and r.url.path.endswith(path_end)]


@pytest.fixture(autouse=True)
def large_waves(monkeypatch: pytest.MonkeyPatch) -> None:
    # Waves of up to 2,000 writes: more than one document may carry, so only the writer's cut keeps it.
    monkeypatch.setattr(push_module, "WAVE_LIMIT", 2000)


async def test_no_netsuite_adjustment_carries_more_lines_than_the_setting(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clock = Clock()
    emulator = make_emulator(600, clock, write_limits=WriteLimits(max_lines=100_000))
    wire = Wire(emulator.app)
    monkeypatch.setattr(httpx, "ASGITransport", lambda app: wire)
    entries = netsuite_batches.changes(netsuite_batches.positions(emulator, 20), 1501)
    for lines_per_record in (1000, 300):
        wire.requests.clear()
        erp = netsuite_batches.connect(emulator, clock, settings={"lines_per_record": lines_per_record})
        batch = [replace(e, idempotency_key=f"{e.idempotency_key}-{lines_per_record}") for e in entries]

        stats = await pusher(Outbox(batch), erp).drain()

        assert stats.done == len(batch)
        sizes = [len(json.loads(r.content)["inventory"]["items"]) for r in wire.posts("/inventoryAdjustment")]
        assert sum(sizes) == len(batch)  # every change in some record: each record seen on the wire
        assert max(sizes) == lines_per_record  # filled to the setting, never past it
        await erp.aclose()


def sap_change_sets(wire: Wire) -> list[list[tuple[str, dict[str, Any]]]]:
    """Every change set of every $batch request, as (method, JSON body) of each operation it carried."""
    change_sets = []
    for request in wire.posts("/$batch"):
        parts = parse_batch(request.content, request.headers["content-type"])
        change_sets += [
            [(op.method, json.loads(op.body)) for op in part.operations]
            for part in parts
            if isinstance(part, ChangeSet)
        ]
    return change_sets


async def test_no_sap_document_of_500_items_and_one_operation_per_change_set(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    emulator = tenant("sap-cloud", multi_operation_changesets=True, fi_line_limit=1_000_000)
    wire = Wire(emulator.app)
    monkeypatch.setattr(httpx, "ASGITransport", lambda app: wire)
    connector = sap_batches.erp(emulator)
    spots = sap_batches.places(emulator, 30)
    made = sap_batches.entries(spots, 1500, issues_every=4)

    stats = await pusher(Outbox(made), connector).drain()

    assert stats.done == len(made) and stats.failed == stats.in_doubt == 0
    change_sets = sap_change_sets(wire)
    assert change_sets and all(len(operations) == 1 for operations in change_sets)
    assert {method for ((method, _body),) in change_sets} == {"POST"}
    items = [len(body["to_MaterialDocumentItem"]) for ((_method, body),) in change_sets]
    assert sum(items) == len(made)  # every change in some document: each document seen on the wire
    assert max(items) == 499
    await connector.aclose()
