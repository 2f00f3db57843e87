"""Batched ERP stock writes (issue 21): many changes per NetSuite adjustment, within the line limit,
each batch's key frozen before it leaves, a refused line failing alone, a crash settled by one lookup.

The Pusher runs against the in-process NetSuite emulator through the real connector; the outbox is an
in-memory stand-in that keeps its state across "runs" (a new Pusher), as the database would.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest

from atlas_desktop.connectors.netsuite import batch_writes
from atlas_desktop.domain.enums import OutboxStatus
from atlas_desktop.domain.errors import InvalidResponse
from atlas_desktop.domain.model import Side
from atlas_desktop.domain.operations import ERP_ADJUST
from atlas_desktop.domain.outbox import OutboxEntry
from atlas_desktop.engine.keys import batch_key
from atlas_desktop.engine.push import Pusher
from atlas_desktop.sandbox.netsuite import NetSuiteEmulator
from atlas_desktop.sandbox.server_time import install_server_time
from tests.connectors.netsuite.emulator_support import Clock, connect, make_emulator
from tests.engine.fake_ports import AsyncPort


class Outbox:
    """The outbox's push-side contract, in memory (kept across runs like the database file)."""

    def __init__(self, entries: list[OutboxEntry]) -> None:
        self.entries = {e.id: e for e in entries}
        self.batches: dict[str, tuple[str, list[int]]] = {}  # key -> (state, entry ids)
        self.errors: dict[int, str] = {}

    def _set(self, outbox_id: int, **changes: Any) -> None:
        self.entries[outbox_id] = dataclasses.replace(self.entries[outbox_id], **changes)

    def pending_writes(self, _cid: str, *, limit: int, after_id: int) -> list[OutboxEntry]:
        open_ = (OutboxStatus.PENDING, OutboxStatus.SENDING, OutboxStatus.IN_DOUBT)
        rows = [e for i, e in sorted(self.entries.items()) if i > after_id and e.status in open_]
        return rows[:limit]

    def mark_sending_many(self, ids: list[int]) -> list[int]:
        for i in ids:
            self._set(i, status=OutboxStatus.SENDING)
        return list(ids)

    def freeze_batches(
        self, _cid: str, target: Side, batches: list[tuple[str, list[int]]]
    ) -> list[list[int]]:
        assert target is Side.ERP
        for key, ids in batches:
            for i in ids:
                self._set(i, status=OutboxStatus.SENDING, batch_key=key)
            self.batches[key] = ("sending", list(ids))
        return [list(ids) for _key, ids in batches]

    def settle_batches(self, answers: list[tuple[str, str, str | None]]) -> None:
        for key, state, _remote_id in answers:
            self.batches[key] = (state, self.batches[key][1])

    def mark_done_many(self, confirmed: list[tuple[int, str | None]]) -> int:
        for i, remote_id in confirmed:
            self._set(i, status=OutboxStatus.DONE, remote_id=remote_id)
        return len(confirmed)

    def mark_failed(self, outbox_id: int, error: str) -> None:
        self._set(outbox_id, status=OutboxStatus.FAILED)
        self.errors[outbox_id] = error

    def mark_in_doubt(self, outbox_id: int, error: str) -> None:
        self._set(outbox_id, status=OutboxStatus.IN_DOUBT)
        self.errors[outbox_id] = error

    def with_status(self, status: OutboxStatus) -> list[int]:
        return [i for i, e in self.entries.items() if e.status is status]


class Mirrors:
    def upsert_atlas_rows(self, _cid: str, rows: list[Any], _key: Callable[..., Any]) -> None:
        pass


def positions(emulator: NetSuiteEmulator, count: int) -> list[tuple[str, str]]:
    """Plain (not lot) item positions, all at the location holding most of them."""
    rows = emulator.state.query(
        "SELECT a.item, a.location FROM aggregateitemlocation a JOIN item i ON i.id = a.item "
        "WHERE i.islotitem = 'F' ORDER BY a.location, a.item"
    )
    by_location: dict[str, list[tuple[str, str]]] = {}
    for row in rows:
        by_location.setdefault(str(row[1]), []).append((str(row[0]), str(row[1])))
    best = max(by_location.values(), key=len)
    assert len(best) >= count, f"the catalog has {len(best)} plain positions at one location"
    return best[:count]


def on_hand(emulator: NetSuiteEmulator, item: str, location: str) -> Decimal:
    row = emulator.state.one(
        "SELECT quantityonhand FROM aggregateitemlocation WHERE item = ? AND location = ?", (item, location)
    )
    return Decimal(str(row[0])) if row and row[0] is not None else Decimal(0)


def changes(places: list[tuple[str, str]], count: int) -> list[OutboxEntry]:
    """`count` receipts spread over `places` (a place may get several lines in one record)."""
    entries = []
    for n in range(1, count + 1):
        item, location = places[n % len(places)]
        payload = {"item_id": item, "location_id": location, "delta": str(1 + n % 3), "unit": "EA"}
        entries.append(
            OutboxEntry(
                n, None, None, Side.ERP, ERP_ADJUST, payload, f"atl-{n:032x}", OutboxStatus.PENDING, 0, None
            )  # fmt: skip
        )
    return entries


def expected(emulator: NetSuiteEmulator, entries: list[OutboxEntry]) -> dict[tuple[str, str], Decimal]:
    result: dict[tuple[str, str], Decimal] = {}
    for e in entries:
        place = (e.payload["item_id"], e.payload["location_id"])
        result[place] = result.get(place, on_hand(emulator, *place)) + Decimal(e.payload["delta"])
    return result


def last_record(emulator: NetSuiteEmulator) -> int:
    row = emulator.state.one('SELECT MAX(id) FROM "transaction"')
    return int(row[0] or 0)


def most_lines_after(emulator: NetSuiteEmulator, record_id: int) -> int:
    """The most lines of an adjustment made after `record_id`."""
    row = emulator.state.one(
        'SELECT MAX(n) FROM (SELECT COUNT(*) AS n FROM transactionline l JOIN "transaction" t '
        "ON t.id = l.\"transaction\" WHERE t.recordtype = 'inventoryadjustment' AND l.mainline = 'F' "
        "AND t.id > ? GROUP BY t.id)",
        (record_id,),
    )
    return int(row[0] or 0)


def pusher(outbox: Outbox, erp: Any) -> Pusher:
    return Pusher(AsyncPort(outbox), AsyncPort(Mirrors()), "c1", erp=erp, atlas=None)


def assert_each_key_posted_once(emulator: NetSuiteEmulator, entries: list[OutboxEntry]) -> None:
    for e in entries:
        assert emulator.state.count_lines("inventoryadjustment", memo=e.idempotency_key) == 1, e.id


@pytest.fixture
def world() -> tuple[NetSuiteEmulator, Clock]:
    clock = Clock()
    return make_emulator(600, clock), clock


async def test_a_1001_change_push_never_sends_more_lines_than_the_setting(world) -> None:
    emulator, clock = world
    erp = connect(emulator, clock)
    entries = changes(positions(emulator, 20), 1001)
    want = expected(emulator, entries)
    outbox = Outbox(entries)

    stats = await pusher(outbox, erp).drain()

    assert stats.done == 1001 and stats.failed == stats.in_doubt == 0
    assert emulator.state.largest_transaction() == 500  # the default; the account's limit is 1,000
    assert {place: on_hand(emulator, *place) for place in want} == want
    assert_each_key_posted_once(emulator, entries)
    await erp.aclose()


async def test_lines_per_record_is_kept_and_never_above_the_account_limit(world) -> None:
    emulator, clock = world
    erp = connect(emulator, clock, settings={"lines_per_record": 1000})
    entries = changes(positions(emulator, 20), 1001)
    assert (await pusher(Outbox(entries), erp).drain()).done == 1001
    assert emulator.state.largest_transaction() == 1000  # a wave holds several records' worth
    small, mark = connect(emulator, clock, settings={"lines_per_record": 120}), last_record(emulator)
    more = changes(positions(emulator, 20), 1001)
    assert (await pusher(Outbox([dataclasses.replace(e, idempotency_key=e.idempotency_key + "b")
                                 for e in more]), small).drain()).done == 1001  # fmt: skip
    assert most_lines_after(emulator, mark) == 120
    await small.aclose()
    with pytest.raises(Exception, match="between 1 and 1000"):
        connect(emulator, clock, settings={"lines_per_record": 1001})
    await erp.aclose()


async def test_a_1000_change_push_takes_at_most_five_requests(world) -> None:
    emulator, clock = world
    erp = connect(emulator, clock)
    entries = changes(positions(emulator, 20), 1000)
    before = erp.api_calls
    assert (await pusher(Outbox(entries), erp).drain()).done == 1000
    assert erp.api_calls - before <= 5  # two waves: a lookup of the keys and one record each
    await erp.aclose()


async def test_a_bad_line_fails_alone_while_the_others_post(world) -> None:
    emulator, clock = world
    erp = connect(emulator, clock)
    entries = changes(positions(emulator, 10), 40)
    # Line 7 takes more than the position holds: NetSuite refuses the record, o:errorPath names the line.
    bad = entries[6]
    short = on_hand(emulator, bad.payload["item_id"], bad.payload["location_id"])
    entries[6] = dataclasses.replace(bad, payload={**bad.payload, "delta": str(-(short + 1000))})
    want = expected(emulator, [e for e in entries if e.id != bad.id])
    outbox = Outbox(entries)

    stats = await pusher(outbox, erp).drain()

    assert outbox.with_status(OutboxStatus.FAILED) == [bad.id]
    assert stats.done == 39 and stats.in_doubt == 0
    assert bad.payload["item_id"] in outbox.errors[bad.id]  # its own error, naming its item
    assert {place: on_hand(emulator, *place) for place in want} == want
    assert emulator.state.count_transactions("inventoryadjustment") == 1  # the 39 in one record
    await erp.aclose()


async def test_a_refusal_naming_no_line_is_halved_until_the_line_is_alone(world, monkeypatch) -> None:
    emulator, clock = world
    monkeypatch.setattr(batch_writes, "_refused_line", lambda _error: None)  # as if no o:errorPath came
    erp = connect(emulator, clock)
    entries = changes(positions(emulator, 10), 32)
    bad = entries[20]
    short = on_hand(emulator, bad.payload["item_id"], bad.payload["location_id"])
    entries[20] = dataclasses.replace(bad, payload={**bad.payload, "delta": str(-(short + 1000))})
    want = expected(emulator, [e for e in entries if e.id != bad.id])
    outbox = Outbox(entries)

    stats = await pusher(outbox, erp).drain()

    assert outbox.with_status(OutboxStatus.FAILED) == [bad.id]
    assert stats.done == 31
    assert {place: on_hand(emulator, *place) for place in want} == want
    assert emulator.state.count_transactions("inventoryadjustment") <= 6  # log2(32) halvings at most
    assert_each_key_posted_once(emulator, [e for e in entries if e.id != bad.id])
    await erp.aclose()


class Killed(BaseException):
    """The process dies: nothing after this point runs (not caught as an error)."""


async def test_a_crash_after_the_record_posted_is_settled_by_one_lookup(world) -> None:
    emulator, clock = world
    erp = connect(emulator, clock)
    entries = changes(positions(emulator, 10), 300)
    want = expected(emulator, entries)
    outbox = Outbox(entries)
    real = erp.adjust_stock_batches

    async def post_then_die(batches):  # type: ignore[no-untyped-def]
        await real(batches)
        raise Killed

    erp.adjust_stock_batches = post_then_die  # type: ignore[method-assign]
    with pytest.raises(Killed):
        await pusher(outbox, erp).drain()
    assert outbox.with_status(OutboxStatus.SENDING) and not outbox.with_status(OutboxStatus.DONE)
    erp.adjust_stock_batches = real  # type: ignore[method-assign]

    # The next run: a different wave shape would give another batch key; the frozen one is looked up.
    next_erp = connect(emulator, clock)
    before = next_erp.api_calls
    stats = await pusher(outbox, next_erp).drain()

    assert stats.done == 300 and not outbox.with_status(OutboxStatus.SENDING)
    assert next_erp.api_calls - before == 1  # one lookup of the batch's key, nothing sent
    assert emulator.state.count_transactions("inventoryadjustment") == 1
    assert {place: on_hand(emulator, *place) for place in want} == want
    assert_each_key_posted_once(emulator, entries)
    await erp.aclose()
    await next_erp.aclose()


async def test_a_lost_answer_leaves_the_batch_in_doubt_and_the_next_run_posts_nothing_twice(world) -> None:
    emulator, clock = world
    erp = connect(emulator, clock)
    entries = changes(positions(emulator, 10), 200)
    want = expected(emulator, entries)
    outbox = Outbox(entries)
    # The record posts, its answer is lost, and every lookup of it fails: the batch is in doubt.
    emulator.faults.add("drop_after", path="/record/v1/inventoryAdjustment", method="POST", times=1)
    emulator.faults.add("status", path="suiteql|eid:", status=503, times=50)

    stats = await pusher(outbox, erp).drain()
    assert stats.in_doubt == 200 and stats.failed == 0
    emulator.faults.rules.clear()

    stats = await pusher(outbox, erp).drain()

    assert stats.done == 200 and outbox.with_status(OutboxStatus.DONE) == [e.id for e in entries]
    assert emulator.state.count_transactions("inventoryadjustment") == 1
    assert {place: on_hand(emulator, *place) for place in want} == want
    assert_each_key_posted_once(emulator, entries)
    await erp.aclose()


async def test_a_batch_not_found_goes_again_under_its_own_key(world) -> None:
    emulator, clock = world
    erp = connect(emulator, clock)
    spots = positions(emulator, 10)
    # A run froze a batch of 30 and died (or lost its answer) before it knew whether the record landed.
    frozen = batch_key([f"atl-{n:032x}" for n in range(1, 31)])
    first = [
        dataclasses.replace(e, status=OutboxStatus.IN_DOUBT, batch_key=frozen) for e in changes(spots, 30)
    ]
    fresh = [dataclasses.replace(e, id=e.id + 100, idempotency_key=e.idempotency_key + "f") for e in first]
    fresh = [dataclasses.replace(e, status=OutboxStatus.PENDING, batch_key=None) for e in fresh]
    outbox = Outbox([*first, *fresh])
    want = expected(emulator, [*first, *fresh])

    stats = await pusher(outbox, erp).drain()

    assert stats.done == 60
    # Looked up, not found: the 30 went as they were, not mixed with the fresh 30, so were the first send
    # still landing NetSuite would refuse its key a second time.
    assert emulator.state.count_transactions("inventoryadjustment", external_id=frozen) == 1
    assert {place: on_hand(emulator, *place) for place in want} == want
    assert_each_key_posted_once(emulator, [*first, *fresh])
    await erp.aclose()


async def test_a_write_whose_batch_key_was_lost_is_found_by_its_line(world) -> None:
    emulator, clock = world
    erp = connect(emulator, clock)
    made = changes(positions(emulator, 10), 20)
    want = expected(emulator, made)
    assert (await pusher(Outbox(made), erp).drain()).done == 20
    # A power cut took the commit that froze the batch: 19 writes are "sending" with no batch key (one
    # was settled meanwhile, so batching them again gives another key), their own keys no externalId.
    lost = [dataclasses.replace(e, status=OutboxStatus.SENDING, batch_key=None) for e in made[:-1]]
    outbox = Outbox([*lost, dataclasses.replace(made[-1], status=OutboxStatus.DONE)])

    stats = await pusher(outbox, erp).drain()

    assert stats.done == 19
    assert {place: on_hand(emulator, *place) for place in want} == want
    assert_each_key_posted_once(emulator, made)
    await erp.aclose()


async def test_an_unreadable_answer_to_a_record_leaves_it_in_doubt_not_failed(world) -> None:
    emulator, clock = world
    erp = connect(emulator, clock)
    made = changes(positions(emulator, 10), 20)
    want = expected(emulator, made)
    outbox = Outbox(made)
    real = erp.client.create_record

    async def created_but_unreadable(*args, **kwargs):  # type: ignore[no-untyped-def]
        await real(*args, **kwargs)
        raise InvalidResponse("NetSuite answered HTTP 200 with a body Atlas Desktop cannot read.")

    erp.client.create_record = created_but_unreadable  # type: ignore[method-assign]
    first = await pusher(outbox, erp).drain()
    erp.client.create_record = real  # type: ignore[method-assign]
    assert first.failed == 0 and first.in_doubt == 20

    assert (await pusher(outbox, erp).drain()).done == 20
    assert {place: on_hand(emulator, *place) for place in want} == want
    assert_each_key_posted_once(emulator, made)
    await erp.aclose()


async def test_a_wave_fills_every_record_the_account_posts_at_once(world) -> None:
    # A record costs its own second besides its lines: a wave of one record's worth leaves the account's
    # other request slots idle while it posts.
    emulator, clock = world
    install_server_time(emulator, "netsuite", "realistic", sleep=lambda _seconds: asyncio.sleep(0.02))
    erp = connect(emulator, clock, settings={"lines_per_record": 200, "concurrency": 5})
    entries = changes(positions(emulator, 20), 1000)
    requests = emulator.middleware.stats
    requests.reset()

    assert (await pusher(Outbox(entries), erp).drain()).done == 1000

    assert requests.count("POST", "/services/rest/record/v1/inventoryAdjustment") == 5
    assert requests.max_in_flight == 5
    assert_each_key_posted_once(emulator, entries)
    await erp.aclose()
