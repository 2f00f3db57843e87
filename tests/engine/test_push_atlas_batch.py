"""A wave's Atlas writes go through POST /inventory/batch: few requests, each write its own outcome.

The Pusher runs against the real Atlas client and the in-process emulator; the outbox is a small fake
(as in test_push_wave.py), so what is asserted is what reached Atlas.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import httpx
import pytest

from atlas_desktop.connectors.atlas import AtlasClient, build_client
from atlas_desktop.domain.enums import OutboxStatus
from atlas_desktop.domain.model import Side
from atlas_desktop.domain.operations import ATLAS_ADJUST, ATLAS_SET_EXPIRY
from atlas_desktop.domain.outbox import OutboxEntry
from atlas_desktop.domain.secrets import Secret
from atlas_desktop.engine.push import PATCH_ATTEMPTS, Pusher
from atlas_desktop.sandbox.atlas import AtlasEmulator
from tests.connectors.atlas.atlas_helpers import FakeClock, sample_rows
from tests.engine.fake_ports import AsyncPort

WRITES = "/api/v1/inventory"


def adjust(n: int, row_id: str, delta: str, status: OutboxStatus = OutboxStatus.PENDING) -> OutboxEntry:
    return OutboxEntry(n, n, n, Side.ATLAS, ATLAS_ADJUST, {"row_id": row_id, "delta": delta}, f"key-{n}",
                       status, 0, None)  # fmt: skip


class Decisions:
    """The outbox: pending writes, and what the Pusher recorded for each."""

    def __init__(self, entries: list[OutboxEntry]) -> None:
        self.entries = entries
        self.done: list[int] = []
        self.failed: list[int] = []
        self.in_doubt: list[int] = []

    def pending_writes(self, _cid: str, *, limit: int, after_id: int) -> list[OutboxEntry]:
        closed = set(self.done) | set(self.failed) | set(self.in_doubt)
        return [e for e in self.entries if e.id > after_id and e.id not in closed][:limit]

    def mark_sending_many(self, ids: list[int]) -> list[int]:
        return list(ids)

    def mark_done_many(self, confirmed: list[tuple[int, str | None]]) -> int:
        self.done += [i for i, _ in confirmed]
        return len(confirmed)

    def mark_failed(self, outbox_id: int, _error: str) -> None:
        self.failed.append(outbox_id)

    def mark_in_doubt(self, outbox_id: int, _error: str) -> None:
        self.in_doubt.append(outbox_id)


class Mirrors:
    def __init__(self) -> None:
        self.rows: list[Any] = []

    def upsert_atlas_rows(self, _cid: str, rows: list[Any], _key: Callable[..., Any]) -> None:
        self.rows += rows


def client_for(emulator: AtlasEmulator, **options: Any) -> AtlasClient:
    async def no_wait(_seconds: float) -> None:
        return None

    return build_client(
        "http://127.0.0.1:8124", token=Secret(emulator.api_token),
        transport=httpx.ASGITransport(app=emulator.app), sleep=no_wait, **options,
    )  # fmt: skip


def writes(emulator: AtlasEmulator) -> int:
    stats = emulator.fault_middleware.stats
    return stats.count("POST", WRITES) + stats.count("PATCH", WRITES)


async def drain(emulator: AtlasEmulator, decisions: Decisions, **options: Any) -> Pusher:
    async with client_for(emulator, **options) as atlas:
        pusher = Pusher(AsyncPort(decisions), AsyncPort(Mirrors()), "c1", erp=None, atlas=atlas)  # type: ignore[arg-type]
        await pusher.drain()
    return pusher


async def test_1200_writes_take_three_requests_not_1200() -> None:
    emulator = AtlasEmulator(rows=sample_rows(1200), clock=FakeClock())
    entries = [adjust(n + 1, row["id"], "2") for n, row in enumerate(emulator.rows(1200))]
    decisions = Decisions(entries)

    await drain(emulator, decisions)

    assert decisions.done == [e.id for e in entries]
    assert writes(emulator) == 3  # waves of 500: ceil(1200 / 500)
    assert all(Decimal(row["quantity"]) == 100 + n + 2 for n, row in enumerate(emulator.rows(1200)))


async def test_one_refused_write_fails_alone_and_a_changed_row_is_updated_on_its_version() -> None:
    emulator = AtlasEmulator(rows=sample_rows(4), clock=FakeClock())
    a, b, c, d = (row["id"] for row in emulator.rows())
    stale = emulator.row(c)["version"]  # type: ignore[index]
    emulator.sell(c, 1)  # a sale after the plan read the row: its set-expiry meets a 412
    expiry = OutboxEntry(4, 4, 4, Side.ATLAS, ATLAS_SET_EXPIRY, {"row_id": c, "expiry": "2029-03-31",
                         "version": stale}, "key-4", OutboxStatus.PENDING, 0, None)  # fmt: skip
    entries = [
        adjust(1, a, "1"),
        adjust(2, b, "-100000"),
        adjust(3, "inv_gone", "1"),
        expiry,
        adjust(5, d, "3"),
    ]
    decisions = Decisions(entries)

    pusher = await drain(emulator, decisions)

    assert decisions.done == [1, 4, 5] and decisions.failed == [2, 3] and decisions.in_doubt == []
    assert [e.id for e, _ in pusher.stats.errors] == [2, 3]
    assert emulator.row(a)["quantity"] == "101" and emulator.row(d)["quantity"] == "106"  # type: ignore[index]
    assert emulator.row(b)["quantity"] == "101"  # type: ignore[index]  # the refused write changed nothing
    assert emulator.row(c)["expiry_date"] == "2029-03-31"  # type: ignore[index]  # the sale kept as well
    assert emulator.row(c)["quantity"] == "101"  # type: ignore[index]
    assert writes(emulator) == 2  # the wave, then the 412's row again on its current version


async def test_a_batch_lost_on_the_way_back_is_in_doubt_then_replayed_by_key_never_doubled() -> None:
    emulator = AtlasEmulator(rows=sample_rows(3), clock=FakeClock())
    row_ids = [row["id"] for row in emulator.rows()]
    entries = [adjust(n + 1, row_id, "5") for n, row_id in enumerate(row_ids)]
    emulator.faults.add("drop_after", path="/api/v1/inventory/batch", method="POST", times=1)
    decisions = Decisions(entries)

    await drain(emulator, decisions, max_retries=0)  # applied by Atlas, the answer lost

    assert decisions.in_doubt == [1, 2, 3] and decisions.done == []
    assert [emulator.row(r)["quantity"] for r in row_ids] == ["105", "106", "107"]  # type: ignore[index]

    # The next run sends the in-doubt writes again with their keys: Atlas answers the first results.
    again = Decisions([adjust(e.id, e.payload["row_id"], "5", OutboxStatus.IN_DOUBT) for e in entries])
    await drain(emulator, again)

    assert again.done == [1, 2, 3]
    assert [emulator.row(r)["quantity"] for r in row_ids] == ["105", "106", "107"]  # type: ignore[index]


async def test_a_server_without_the_batch_route_gets_one_request_per_write() -> None:
    emulator = AtlasEmulator(rows=sample_rows(30), clock=FakeClock(), batch_route=False)
    entries = [adjust(n + 1, row["id"], "1") for n, row in enumerate(emulator.rows())]
    decisions = Decisions(entries)

    await drain(emulator, decisions)

    assert decisions.done == [e.id for e in entries]
    assert writes(emulator) == 1 + 30  # the 404 once, then the single-row route
    assert all(row["quantity"] == str(101 + n) for n, row in enumerate(emulator.rows()))


class SellingFirst(httpx.AsyncBaseTransport):
    """Someone sells one of `row_id` just before each of our writes reaches Atlas: every update is stale."""

    def __init__(self, emulator: AtlasEmulator, row_id: str, sales: int) -> None:
        self.inner = httpx.ASGITransport(app=emulator.app)
        self.emulator, self.row_id, self.sales = emulator, row_id, sales

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.method in ("POST", "PATCH") and request.url.path.startswith(WRITES) and self.sales:
            self.sales -= 1
            self.emulator.sell(self.row_id, 1)
        return await self.inner.handle_async_request(request)


@pytest.mark.parametrize("batched", [True, False], ids=["batch route", "one row"])
@pytest.mark.parametrize("sales", [1, PATCH_ATTEMPTS])
async def test_an_update_meeting_412_goes_again_on_the_current_version_a_few_times(
    batched: bool, sales: int
) -> None:
    emulator = AtlasEmulator(rows=sample_rows(1), clock=FakeClock())
    (row,) = emulator.rows()
    expiry = OutboxEntry(1, 1, 1, Side.ATLAS, ATLAS_SET_EXPIRY, {"row_id": row["id"], "expiry": "2029-03-31",
                         "version": row["version"]}, "key-1", OutboxStatus.PENDING, 0, None)  # fmt: skip
    decisions = Decisions([expiry])
    async with build_client(
        "http://127.0.0.1:8124", token=Secret(emulator.api_token),
        transport=SellingFirst(emulator, row["id"], sales),
    ) as atlas:  # fmt: skip
        pusher = Pusher(
            AsyncPort(decisions),
            AsyncPort(Mirrors()),
            "c1",
            erp=None,
            atlas=atlas,
            batch_atlas=batched,  # type: ignore[arg-type]
        )
        await pusher.drain()

    assert writes(emulator) == min(sales + 1, PATCH_ATTEMPTS)  # no read: each 412 carries the row
    assert Decimal(emulator.row(row["id"])["quantity"]) == Decimal(row["quantity"]) - sales  # type: ignore[index]
    if sales < PATCH_ATTEMPTS:
        assert decisions.done == [1] and emulator.row(row["id"])["expiry_date"] == "2029-03-31"  # type: ignore[index]
    else:
        assert decisions.done == [] and emulator.row(row["id"])["expiry_date"] != "2029-03-31"  # type: ignore[index]
        assert "kept changing" in pusher.stats.errors[0][1].message


async def test_several_writes_of_a_mapping_still_fill_each_batch_request() -> None:
    # 900 rows, the last 100 with three writes: 1,100 writes in three requests (ceil(1,100 / 500)), not
    # 500 + 400 heads then two waves of 100; each mapping's writes in order.
    emulator = AtlasEmulator(rows=sample_rows(900), clock=FakeClock())
    rows = [row["id"] for row in emulator.rows(900)]

    def write(n: int, mapping: int, delta: str) -> OutboxEntry:
        return dataclasses.replace(adjust(n, rows[mapping - 1], delta), mapping_id=mapping)

    firsts = [write(m, m, "2") for m in range(1, 901)]
    seconds = [write(1000 + m, m, "3") for m in range(801, 901)]
    thirds = [write(2000 + m, m, "4") for m in range(801, 901)]
    decisions = Decisions([*firsts, *seconds, *thirds])
    sent: list[int] = []
    batch = AtlasClient.batch

    async def counted(self: AtlasClient, ops: list[Any]) -> Any:
        sent.append(len(ops))
        return await batch(self, ops)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(AtlasClient, "batch", counted)
        await drain(emulator, decisions)

    assert sorted(decisions.done) == sorted(e.id for e in [*firsts, *seconds, *thirds])
    assert sent == [500, 500, 100]
    done = decisions.done
    assert all(done.index(m) < done.index(1000 + m) < done.index(2000 + m) for m in range(801, 901))
    for n, row in enumerate(emulator.rows(900)):
        assert Decimal(row["quantity"]) == 100 + n + 2 + (7 if n >= 800 else 0)
