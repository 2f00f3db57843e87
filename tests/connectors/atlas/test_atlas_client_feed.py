"""The change feed across restarts with concurrent writes, and long-poll latency and reconnects."""

from __future__ import annotations

import asyncio
import random
import time
from decimal import Decimal

import httpx
import pytest

from atlas_desktop.connectors.atlas import AtlasClient, build_client
from atlas_desktop.domain.secrets import Secret
from atlas_desktop.sandbox.atlas import AtlasEmulator
from tests.connectors.atlas.atlas_helpers import BASE_URL, make_client, sample_rows


class LocalStore:
    """What the engine does: commit a batch's rows and its cursor together, or neither."""

    def __init__(self) -> None:
        self.rows: dict[str, tuple[int, bool]] = {}
        self.cursor: str | None = None
        self.committed: list[tuple[str, int]] = []

    def commit(self, changes: tuple, cursor: str) -> None:  # type: ignore[type-arg]
        for row in changes:
            self.committed.append((row.id, row.version))
            self.rows[row.id] = (row.version, row.deleted)
        self.cursor = cursor


async def _writer(emulator: AtlasEmulator, ids: list[str], rounds: int, seed: int) -> None:
    rng = random.Random(seed)
    for n in range(rounds):
        row_id = rng.choice(ids)
        action = rng.random()
        row = emulator.row(row_id)
        assert row is not None
        if row["deleted"]:
            continue
        if action < 0.05:
            emulator.delete_row(row_id)
        elif action < 0.5 and Decimal(row["quantity"]) >= 1:
            emulator.sell(row_id, 1)
        else:
            emulator.edit_row(row_id, name=f"edit {n}")
        if n % 3 == 0:
            emulator.add_row(ndc="00071-0155-23", name=f"new {n}", quantity="5")
        await asyncio.sleep(0)


@pytest.mark.parametrize("seed", [1, 2, 3])
async def test_cursor_never_skips_or_repeats_across_restarts(seed: int) -> None:
    emulator = AtlasEmulator(rows=sample_rows(120))
    ids = [r["id"] for r in emulator.rows()]
    store = LocalStore()
    rng = random.Random(seed)
    writer = asyncio.create_task(_writer(emulator, ids, 300, seed))
    restarts = 0
    while not writer.done() or restarts == 0:
        # A "process": a new client from the stored cursor; it crashes after a random number of batches,
        # one batch read but not committed (that batch must come again, the committed ones never).
        atlas = make_client(emulator)
        crash_after = rng.randint(1, 4)
        seen = 0
        async for batch in atlas.changes(since=store.cursor, limit=rng.randint(5, 30)):
            seen += 1
            if seen > crash_after:
                break  # crash: read, not committed
            store.commit(batch.changes, batch.cursor)
            await asyncio.sleep(0)
        await atlas.aclose()
        restarts += 1
        await asyncio.sleep(0)
    await writer
    async with make_client(emulator) as atlas:
        async for batch in atlas.changes(since=store.cursor, limit=50):
            store.commit(batch.changes, batch.cursor)
    # Never repeated: each (row, version) committed at most once.
    assert len(store.committed) == len(set(store.committed))
    # Never skipped: the local copy ends equal to Atlas, tombstones included.
    every_row, _, _ = emulator.state.changes(0, 100_000)
    truth = {row["id"]: (row["version"], row["deleted"]) for row in every_row}
    assert len(truth) > 120  # rows were added meanwhile
    assert store.rows == truth
    assert restarts > 3


async def test_long_poll_answers_within_100_ms_of_a_change(emulator: AtlasEmulator) -> None:
    async with make_client(emulator) as atlas:
        head = (await atlas.changes_page(since=None)).cursor
        row_id = emulator.rows()[0]["id"]

        async def sell_later() -> float:
            await asyncio.sleep(0.3)
            emulator.sell(row_id, 1)
            return time.perf_counter()

        seller = asyncio.create_task(sell_later())
        started = time.perf_counter()
        batch = await atlas.changes_page(since=head, wait=30)
        answered = time.perf_counter()
        changed_at = await seller
    latency = answered - changed_at
    print(f"long-poll answered {latency * 1000:.1f} ms after the change (waited {answered - started:.2f} s)")
    assert [r.id for r in batch.changes] == [row_id]
    assert latency < 0.5
    assert answered - started >= 0.25  # it did wait for the change


async def test_long_poll_ends_empty_when_the_wait_runs_out(emulator: AtlasEmulator) -> None:
    async with make_client(emulator) as atlas:
        head = (await atlas.changes_page(since=None)).cursor
        started = time.perf_counter()
        batch = await atlas.changes_page(since=head, wait=0.2)
    assert batch.changes == () and batch.cursor == head and not batch.has_more
    assert 0.15 <= time.perf_counter() - started < 2


async def test_follow_changes_reconnects_after_network_faults(emulator: AtlasEmulator) -> None:
    sleeps: list[float] = []

    async def record(seconds: float) -> None:
        sleeps.append(seconds)
        await asyncio.sleep(0)

    atlas = make_client(emulator, sleep=record, max_retries=0)
    head = (await atlas.changes_page(since=None)).cursor
    emulator.faults.add("drop_before", path="/api/v1/inventory/changes", times=3)
    emulator.faults.add("status", status=503, path="/api/v1/inventory/changes", times=2)
    row_id = emulator.rows()[2]["id"]

    async def sell_later() -> None:
        await asyncio.sleep(0.05)
        emulator.sell(row_id, 3)

    seller = asyncio.create_task(sell_later())
    follower = atlas.follow_changes(since=head, wait=5)
    batch = await asyncio.wait_for(follower.__anext__(), timeout=10)
    await follower.aclose()
    await seller
    await atlas.aclose()
    assert [r.id for r in batch.changes] == [row_id]
    assert len(sleeps) == 5  # one backoff per failed attempt, growing (full jitter under a rising cap)
    assert all(0 <= s <= 60 for s in sleeps)


async def test_follow_changes_stops_on_auth_failure(emulator: AtlasEmulator) -> None:
    from atlas_desktop.domain.errors import AuthFailed

    async with make_client(emulator, token="atl_pat_not_valid_at_all") as atlas:
        with pytest.raises(AuthFailed):
            await atlas.follow_changes(since=None, wait=1).__anext__()


async def test_eleven_concurrent_long_polls_the_eleventh_gets_429(emulator: AtlasEmulator) -> None:
    transport = httpx.ASGITransport(app=emulator.app)
    async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as raw:
        headers = {"Authorization": f"Bearer {emulator.api_token}"}
        head = (await raw.get("/api/v1/inventory/changes", headers=headers)).json()["cursor"]
        polls = [
            asyncio.create_task(raw.get(f"/api/v1/inventory/changes?since={head}&wait=5", headers=headers))
            for _ in range(10)
        ]
        while emulator.in_flight < 10:
            await asyncio.sleep(0.01)
        eleventh = await raw.get("/api/v1/me", headers=headers)
        assert eleventh.status_code == 429 and eleventh.headers["Retry-After"] == "1"
        assert eleventh.json()["error"]["code"] == "rate_limited"
        other = emulator.issue_token()
        assert (await raw.get("/api/v1/me", headers={"Authorization": f"Bearer {other}"})).status_code == 200
        emulator.sell(emulator.rows()[0]["id"], 1)
        answers = await asyncio.gather(*polls)
    assert all(a.status_code == 200 and len(a.json()["changes"]) == 1 for a in answers)


async def test_client_with_many_concurrent_reads_stays_under_the_limit(emulator: AtlasEmulator) -> None:
    async with build_client(
        BASE_URL, token=Secret(emulator.api_token), transport=httpx.ASGITransport(app=emulator.app)
    ) as atlas:
        assert isinstance(atlas, AtlasClient)
        results = await asyncio.gather(*(atlas.me() for _ in range(40)))
    assert len(results) == 40
    assert emulator.fault_middleware.stats.by_status.get(429, 0) == 0


class CountingTransport(httpx.AsyncBaseTransport):
    """The emulator, counting the change-feed requests it was sent."""

    def __init__(self, emulator: AtlasEmulator) -> None:
        self.inner = httpx.ASGITransport(app=emulator.app)
        self.feed_requests = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/inventory/changes"):
            self.feed_requests += 1
        return await self.inner.handle_async_request(request)


async def test_the_next_batch_is_read_while_the_caller_stores_one_and_dropped_when_it_stops() -> None:
    emulator = AtlasEmulator(rows=sample_rows(40))
    transport = CountingTransport(emulator)
    async with build_client(BASE_URL, token=Secret(emulator.api_token), transport=transport) as atlas:
        feed = atlas.changes(since=None, limit=10)
        first = await anext(feed)
        for _ in range(20):  # the caller storing `first`: the next page is on its way meanwhile
            await asyncio.sleep(0)
        assert transport.feed_requests == 2
        second = await anext(feed)
        assert [r.id for r in second.changes] == [r["id"] for r in emulator.rows()][10:20]
        await feed.aclose()  # stops with the third page in flight: cancelled, nothing left running
        assert not [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        store = LocalStore()
        store.commit(first.changes + second.changes, second.cursor)
        async for batch in atlas.changes(since=store.cursor, limit=10):
            store.commit(batch.changes, batch.cursor)
        assert sorted(store.rows) == sorted(r["id"] for r in emulator.rows())
