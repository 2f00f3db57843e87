"""POST /api/v1/inventory/batch on the emulator, as atlas-cloud-api.md "Batch writes" specifies it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from atlas_desktop.sandbox.atlas import AtlasEmulator

BASE = "http://127.0.0.1:9999"
URL = "/api/v1/inventory/batch"


class Clock:
    def __init__(self) -> None:
        self.t = 1_800_000_000.0

    def __call__(self) -> float:
        return self.t


def rows(count: int) -> list[dict[str, Any]]:
    return [
        {"ndc": "00071-0155-23", "name": f"P{i}", "quantity": "10", "unit": "EA", "location": "MAIN"}
        for i in range(count)
    ]


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def emulator(clock: Clock) -> AtlasEmulator:
    return AtlasEmulator(rows=rows(3), clock=clock)


@pytest.fixture
async def raw(emulator: AtlasEmulator) -> AsyncIterator[httpx.AsyncClient]:
    headers = {"Authorization": f"Bearer {emulator.api_token}"}
    transport = httpx.ASGITransport(app=emulator.app)
    async with httpx.AsyncClient(transport=transport, base_url=BASE, headers=headers) as client:
        yield client


def ids(emulator: AtlasEmulator) -> list[str]:
    return [row["id"] for row in emulator.rows()]


def adjust(key: str, row_id: str, delta: str) -> dict[str, Any]:
    return {"op": "adjust", "key": key, "id": row_id, "delta": delta, "reason": "erp_sync", "reference": key}


async def test_each_operation_on_its_own_in_order(raw: httpx.AsyncClient, emulator: AtlasEmulator) -> None:
    a, b, _c = ids(emulator)
    version = emulator.row(b)["version"]  # type: ignore[index]
    new = {"ndc": "00071-0155-23", "name": "New", "quantity": "3", "unit": "EA"}
    operations = [
        adjust("k1", a, "5"),
        adjust("k2", a, "-20"),  # would go below zero: refused alone
        {"op": "update", "key": "k3", "id": b, "if_match": version, "set": {"expiry_date": "2028-01-31"}},
        {"op": "update", "key": "k4", "id": b, "if_match": version, "set": {"name": "stale"}},  # 412 now
        adjust("k5", "inv_missing", "1"),
        {"op": "create", "key": "k6", "row": new},
        adjust("k7", a, "-15"),  # applied after k1, in order: 10 + 5 - 15 = 0
    ]
    response = await raw.post(URL, json={"operations": operations})
    assert response.status_code == 200
    results = response.json()["results"]
    assert [r["key"] for r in results] == ["k1", "k2", "k3", "k4", "k5", "k6", "k7"]
    assert [r["status"] for r in results] == [200, 422, 200, 412, 404, 201, 200]
    assert results[0]["row"]["quantity"] == "15" and results[6]["row"]["quantity"] == "0"
    assert results[1]["error"]["code"] == "validation_failed" and "row" not in results[1]
    assert results[3]["error"]["code"] == "version_conflict"
    assert results[3]["error"]["details"]["current"]["expiry_date"] == "2028-01-31"
    assert results[4]["error"]["code"] == "not_found"
    assert results[5]["row"]["name"] == "New" and results[5]["row"]["version"] == 1
    assert emulator.row(a)["quantity"] == "0"  # type: ignore[index]
    assert emulator.row(b)["name"] == "P1"  # type: ignore[index]


async def test_keys_replay_across_batch_and_single_row_routes(
    raw: httpx.AsyncClient, emulator: AtlasEmulator, clock: Clock
) -> None:
    a, b, _c = ids(emulator)
    first = (await raw.post(URL, json={"operations": [adjust("j1", a, "2")]})).json()["results"][0]
    again = (await raw.post(URL, json={"operations": [adjust("j1", a, "2"), adjust("j2", b, "1")]})).json()
    assert again["results"][0] == first  # the first result, nothing changed
    assert emulator.row(a)["quantity"] == "12"  # type: ignore[index]
    # The single-row route knows the batch's key, and the batch knows the single route's.
    body = {"delta": "2", "reason": "erp_sync", "reference": "j1"}
    path = f"/api/v1/inventory/{a}/adjustments"
    single = await raw.post(path, json=body, headers={"Idempotency-Key": "j1"})
    assert single.status_code == 200 and single.headers["Idempotent-Replayed"] == "true"
    assert single.json() == first["row"]
    body = {"delta": "4", "reason": "erp_sync", "reference": "s1"}
    await raw.post(f"/api/v1/inventory/{b}/adjustments", json=body, headers={"Idempotency-Key": "s1"})
    replay = (await raw.post(URL, json={"operations": [adjust("s1", b, "4")]})).json()["results"][0]
    assert replay["status"] == 200 and replay["row"]["quantity"] == "15"  # 10 + 1 + 4, not + 4 again
    assert emulator.row(b)["quantity"] == "15"  # type: ignore[index]
    # The same key for another operation: that result alone is a 422.
    other = (await raw.post(URL, json={"operations": [adjust("j1", a, "3")]})).json()["results"][0]
    assert other["status"] == 422 and other["error"]["code"] == "validation_failed"
    # After 24 h a key is forgotten: the operation runs again.
    clock.t += 24 * 3600 + 1
    later = (await raw.post(URL, json={"operations": [adjust("j1", a, "2")]})).json()["results"][0]
    assert later["row"]["quantity"] == "14"


async def test_a_refused_operation_is_not_kept(raw: httpx.AsyncClient, emulator: AtlasEmulator) -> None:
    a = ids(emulator)[0]
    refused = (await raw.post(URL, json={"operations": [adjust("r1", a, "-11")]})).json()["results"][0]
    assert refused["status"] == 422
    emulator.edit_row(a, quantity="20")
    retried = (await raw.post(URL, json={"operations": [adjust("r1", a, "-11")]})).json()["results"][0]
    assert retried["status"] == 200 and retried["row"]["quantity"] == "9"


@pytest.mark.parametrize(
    ("operations", "field"),
    [
        ([], "operations"),
        ([{"op": "adjust", "id": "x", "delta": "1", "reason": "r"}] * 501, "operations"),
        ([{"op": "delete", "key": "k", "id": "x"}], "op"),
        ([{"op": "adjust", "id": "x", "delta": "1", "reason": "r"}], "key"),
        ([{"op": "adjust", "key": "k", "id": "x", "delta": "1", "reason": "r"}] * 2, "key"),
    ],
)
async def test_a_malformed_batch_is_refused_whole(
    raw: httpx.AsyncClient, emulator: AtlasEmulator, operations: list[dict[str, Any]], field: str
) -> None:
    a = ids(emulator)[0]
    valid = adjust("valid", a, "1")
    response = await raw.post(URL, json={"operations": [valid, *operations] if operations else []})
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "validation_failed"
    assert response.json()["error"]["details"]["field"] == field
    assert emulator.row(a)["quantity"] == "10"  # type: ignore[index]  # nothing applied, not even `valid`


async def test_500_operations_are_one_request(raw: httpx.AsyncClient, emulator: AtlasEmulator) -> None:
    a = ids(emulator)[0]
    operations = [adjust(f"m{n}", a, "1") for n in range(500)]
    response = await raw.post(URL, json={"operations": operations})
    assert response.status_code == 200 and len(response.json()["results"]) == 500
    assert emulator.row(a)["quantity"] == "510"  # type: ignore[index]


async def test_update_needs_if_match_and_known_fields(
    raw: httpx.AsyncClient, emulator: AtlasEmulator
) -> None:
    b = ids(emulator)[1]
    operations = [
        {"op": "update", "key": "u1", "id": b, "set": {"name": "x"}},
        {"op": "update", "key": "u2", "id": b, "if_match": 1, "set": {"colour": "red"}},
        {"op": "update", "key": "u3", "id": b, "if_match": 1, "set": {"name": "ok"}, "extra": 1},
    ]
    results = (await raw.post(URL, json={"operations": operations})).json()["results"]
    assert [r["status"] for r in results] == [422, 422, 422]
    assert results[0]["error"]["details"]["field"] == "if_match"
    assert emulator.row(b)["version"] == 1  # type: ignore[index]


async def test_an_emulator_without_the_route_answers_404(clock: Clock) -> None:
    older = AtlasEmulator(rows=rows(1), clock=clock, batch_route=False)
    headers = {"Authorization": f"Bearer {older.api_token}"}
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=older.app), base_url=BASE, headers=headers
    ) as client:
        response = await client.post(URL, json={"operations": [adjust("k", older.rows()[0]["id"], "1")]})
    assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"
    assert older.rows()[0]["quantity"] == "10"
