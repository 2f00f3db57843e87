"""AtlasClient.batch: one result per operation, 500 per request, a typed error per refused operation,
in doubt when no answer came, and single rows on a server without the batch route."""

from __future__ import annotations

import asyncio
from collections import Counter
from decimal import Decimal
from typing import Any

import httpx
import respx

from atlas_desktop.connectors.atlas import (
    AdjustOp,
    AtlasClient,
    AtlasVersionConflict,
    CreateOp,
    NewInventoryRow,
    UpdateOp,
    build_client,
)
from atlas_desktop.domain.errors import NetworkError, NotFound, ValidationFailed
from atlas_desktop.domain.secrets import Secret
from atlas_desktop.sandbox.atlas import AtlasEmulator
from tests.connectors.atlas.atlas_helpers import FakeClock, sample_rows


class Counting:
    """An ASGI wrapper counting requests by (method, path) on their way to the emulator."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.calls: Counter[tuple[str, str]] = Counter()

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            path = scope["path"]
            kind = "batch" if path.endswith("/batch") else "adjust" if path.endswith("/adjustments") else path
            self.calls[(scope["method"], kind)] += 1
        await self.app(scope, receive, send)


def counted_client(emulator: AtlasEmulator) -> tuple[AtlasClient, Counting]:
    counting = Counting(emulator.app)
    client = build_client(
        "http://127.0.0.1:8765",
        token=Secret(emulator.api_token),
        transport=httpx.ASGITransport(app=counting),
        sleep=_no_wait,
    )
    return client, counting


async def _no_wait(_seconds: float) -> None:
    return None


async def test_1200_adjustments_take_three_requests(emulator: AtlasEmulator) -> None:
    client, counting = counted_client(emulator)
    row_ids = [row["id"] for row in emulator.rows()]
    operations = [AdjustOp(f"a{n}", row_ids[n % len(row_ids)], Decimal("1")) for n in range(1200)]
    async with client:
        results = await client.batch(operations)  # type: ignore[arg-type]
    assert [r.key for r in results] == [f"a{n}" for n in range(1200)]
    assert all(r.row is not None and r.error is None for r in results)
    assert counting.calls == Counter({("POST", "batch"): 3})  # 500 + 500 + 200
    assert emulator.row(row_ids[0])["quantity"] == str(100 + 48)  # type: ignore[index]  # 1200 / 25 = 48


async def test_each_operation_gets_its_own_result_and_error(
    client: AtlasClient, emulator: AtlasEmulator
) -> None:
    a, b = (row["id"] for row in emulator.rows()[:2])
    version = emulator.row(b)["version"]  # type: ignore[index]
    emulator.sell(b, 1)  # now at version + 1
    new = NewInventoryRow("00071-0155-23", "New", Decimal("4"), "EA")
    results = await client.batch(
        [
            AdjustOp("k1", a, Decimal("2")),
            AdjustOp("k2", a, Decimal("-1000")),  # below zero: refused alone
            UpdateOp("k3", b, version, {"name": "renamed"}),  # stale version: 412 with the row
            AdjustOp("k4", "inv_gone", Decimal("1")),
            CreateOp("k5", new),
            AdjustOp("k6", a, Decimal("0")),  # refused before sending, like the single route
        ]
    )
    assert [r.key for r in results] == ["k1", "k2", "k3", "k4", "k5", "k6"]
    assert results[0].row is not None and results[0].row.quantity == Decimal(102)
    assert isinstance(results[1].error, ValidationFailed) and not results[1].error.retryable
    conflict = results[2].error
    assert isinstance(conflict, AtlasVersionConflict) and conflict.current is not None
    assert conflict.current.version == version + 1
    assert isinstance(results[3].error, NotFound)
    assert results[4].row is not None and results[4].row.name == "New"
    assert isinstance(results[5].error, ValidationFailed)


async def test_a_batch_without_an_answer_is_in_doubt_and_replays_by_key(emulator: AtlasEmulator) -> None:
    row_id = emulator.rows()[0]["id"]
    lost = {"answered": False}
    inner = emulator.app

    async def loses_the_first_answer(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["path"].endswith("/batch") and not lost["answered"]:
            lost["answered"] = True
            await inner(scope, receive, _drop)  # applied on the server, the answer never arrives
            raise httpx.ReadError("connection reset")
        await inner(scope, receive, send)

    client = build_client(
        "http://127.0.0.1:8765", token=Secret(emulator.api_token),
        transport=httpx.ASGITransport(app=loses_the_first_answer), sleep=_no_wait, max_retries=0,
    )  # fmt: skip
    operations = [AdjustOp(f"d{n}", row_id, Decimal("1")) for n in range(3)]
    async with client:
        first = await client.batch(operations)  # type: ignore[arg-type]
        assert all(isinstance(r.error, NetworkError) and r.error.retryable for r in first)
        assert emulator.row(row_id)["quantity"] == "103"  # type: ignore[index]  # it had landed
        again = await client.batch(operations)  # type: ignore[arg-type]
    assert [r.row.quantity for r in again if r.row is not None] == [Decimal(101), Decimal(102), Decimal(103)]
    assert emulator.row(row_id)["quantity"] == "103"  # type: ignore[index]  # nothing doubled


async def _drop(_message: Any) -> None:
    return None


async def test_a_server_without_the_route_gets_single_rows_from_then_on(clock: FakeClock) -> None:
    older = AtlasEmulator(rows=sample_rows(3), clock=clock, batch_route=False)
    client, counting = counted_client(older)
    a, b, _c = (row["id"] for row in older.rows())
    version = older.row(b)["version"]  # type: ignore[index]
    async with client:
        results = await client.batch(
            [
                AdjustOp("f1", a, Decimal("1")),
                AdjustOp("f2", a, Decimal("-1000")),
                AdjustOp("f3", a, Decimal("2")),
                UpdateOp("f4", b, version, {"expiry_date": "2029-01-31"}),
            ]
        )
        assert [r.error is None for r in results] == [True, False, True, True]
        assert isinstance(results[1].error, ValidationFailed)
        assert results[2].row is not None and results[2].row.quantity == Decimal(103)  # a's writes in order
        assert not client.batch_route
        await client.batch([AdjustOp("f5", a, Decimal("1"))])
    assert counting.calls[("POST", "batch")] == 1  # asked once, remembered
    assert (
        counting.calls[("POST", "adjust")] == 4 and counting.calls[("PATCH", f"/api/v1/inventory/{b}")] == 1
    )
    assert older.row(a)["quantity"] == "104"  # type: ignore[index]


@respx.mock
async def test_an_answer_with_results_out_of_order_is_in_doubt() -> None:
    url = "https://atlas.test"
    respx.post(f"{url}/api/v1/inventory/batch").mock(
        return_value=httpx.Response(200, json={"results": [{"key": "y", "status": 200, "row": {}}]})
    )
    client = build_client(url, token=Secret("atl_pat_respx_token_value"), sleep=_no_wait)
    async with client:
        results = await client.batch([AdjustOp("x", "inv_1", Decimal("1"))])
    assert isinstance(results[0].error, NetworkError) and results[0].error.in_doubt


class InFlight:
    """An ASGI wrapper that holds each batch request a moment and notes the most in flight at once."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.now = self.most = 0

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        self.now += 1
        self.most = max(self.most, self.now)
        try:
            await asyncio.sleep(0.02)
            await self.app(scope, receive, send)
        finally:
            self.now -= 1


async def _most_in_flight(row_ids: list[str]) -> tuple[int, list[str]]:
    emulator = AtlasEmulator(rows=sample_rows(1500))
    ids = [row["id"] for row in emulator.rows(limit=1500)]
    flight = InFlight(emulator.app)
    client = build_client(
        "http://127.0.0.1:8765", token=Secret(emulator.api_token), transport=httpx.ASGITransport(app=flight)
    )
    operations = [AdjustOp(f"k{n}", ids[int(row)], Decimal("1")) for n, row in enumerate(row_ids)]
    async with client:
        results = await client.batch(operations)  # type: ignore[arg-type]
    assert all(r.error is None for r in results)
    return flight.most, [r.key for r in results]


async def test_requests_of_different_rows_go_at_once_and_a_row_in_two_goes_in_order() -> None:
    most, keys = await _most_in_flight([str(n) for n in range(1200)])
    assert most == 3 and keys == [f"k{n}" for n in range(1200)]
    most, keys = await _most_in_flight([str(n) for n in range(1200)] + ["0"])  # row 0 in the 1st and 3rd
    assert most == 1 and keys == [f"k{n}" for n in range(1201)]
