"""Batched SAP stock writes (issue 21): up to 499 items per material document, receipts and issues in
separate documents, one document per change set of a $batch, a crash settled by one lookup.

The Pusher runs against the in-process SAP emulator (which refuses a change set of two operations and a
valuated document past 999 FI lines) through the real connector; the outbox is test_erp_batches's.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections import Counter
from decimal import Decimal
from typing import Any

import pytest

from atlas_desktop.domain.enums import OutboxStatus
from atlas_desktop.domain.errors import ConfigError, InvalidResponse
from atlas_desktop.domain.model import Side, StockChange, StockKey, WriteResult
from atlas_desktop.domain.operations import ERP_ADJUST
from atlas_desktop.domain.outbox import OutboxEntry
from atlas_desktop.sandbox.sap import SapEmulator
from atlas_desktop.sandbox.server_time import install_server_time
from tests.connectors.sap.test_emulator import connect, tenant
from tests.engine.test_erp_batches import Killed, Outbox, pusher

MATDOC = "/sap/opu/odata/sap/API_MATERIAL_DOCUMENT_SRV/"
Place = tuple[str, str, str, str, str]  # material, plant, storage location, batch, unit


@pytest.fixture
def emulator() -> SapEmulator:
    return tenant("sap-cloud")


def erp(emulator: SapEmulator, **settings: Any) -> Any:
    cost_center = sorted(emulator.config.cost_centers)[0]
    return connect(emulator, settings={"cost_center": cost_center, **settings})


def places(emulator: SapEmulator, count: int) -> list[Place]:
    units = {p["Product"]: p["BaseUnit"] for p in emulator.products()}
    found = []
    for row in emulator.stock_rows():
        if row["InventoryStockType"] == "01" and not row["InventorySpecialStockType"]:
            if Decimal(row["MatlWrhsStkQtyInMatlBaseUnit"]) > 50:
                m = row["Material"]
                found.append((m, row["Plant"], row["StorageLocation"], row["Batch"], units[m]))
    assert len(found) >= count
    return found[:count]


def on_hand(emulator: SapEmulator, place: Place) -> Decimal:
    return emulator.unrestricted_stock(*place[:4])


def entries(spots: list[Place], count: int, *, issues_every: int = 0) -> list[OutboxEntry]:
    made = []
    for n in range(1, count + 1):
        material, plant, sloc, batch, unit = spots[n % len(spots)]
        delta = -1 if issues_every and n % issues_every == 0 else 1 + n % 2
        payload = {"item_id": material, "location_id": f"{plant}/{sloc}", "lot": batch or None,
                   "delta": str(delta), "unit": unit}  # fmt: skip
        made.append(OutboxEntry(n, None, None, Side.ERP, ERP_ADJUST, payload, f"atl-{n:032x}",
                                OutboxStatus.PENDING, 0, None))  # fmt: skip
    return made


def expected(emulator: SapEmulator, spots: list[Place], made: list[OutboxEntry]) -> dict[Place, Decimal]:
    want = {place: on_hand(emulator, place) for place in spots}
    for e in made:
        place = next(p for p in spots if (p[0], f"{p[1]}/{p[2]}", p[3] or None) ==
                     (e.payload["item_id"], e.payload["location_id"], e.payload["lot"]))  # fmt: skip
        want[place] += Decimal(e.payload["delta"])
    return want


def new_documents(emulator: SapEmulator, before: set[str]) -> list[dict[str, Any]]:
    return [d for d in emulator.material_documents() if d["MaterialDocument"] not in before]


def items_per_document(emulator: SapEmulator, documents: list[dict[str, Any]]) -> Counter[str]:
    numbers = {d["MaterialDocument"] for d in documents}
    return Counter(
        i["MaterialDocument"] for i in emulator.material_document_items() if i["MaterialDocument"] in numbers
    )


def each_key_once(emulator: SapEmulator, made: list[OutboxEntry]) -> None:
    for e in made:
        assert len(emulator.material_document_items(e.idempotency_key)) == 1, e.id


async def test_a_1000_change_push_never_sends_a_500_item_document(emulator: SapEmulator) -> None:
    connector = erp(emulator)
    spots = places(emulator, 30)
    made = entries(spots, 1000, issues_every=4)
    want = expected(emulator, spots, made)
    before = {d["MaterialDocument"] for d in emulator.material_documents()}
    calls = connector.api_calls

    stats = await pusher(Outbox(made), connector).drain()

    assert stats.done == 1000 and stats.failed == stats.in_doubt == 0
    documents = new_documents(emulator, before)
    sizes = items_per_document(emulator, documents)
    assert max(sizes.values()) <= 499 and sum(sizes.values()) == 1000
    codes = {d["MaterialDocument"]: d["GoodsMovementCode"] for d in documents}
    for item in emulator.material_document_items():
        if item["MaterialDocument"] in codes:  # receipts (05) and issues (03) never share a document
            assert (item["GoodsMovementType"] == "501") == (codes[item["MaterialDocument"]] == "05")
    assert {place: on_hand(emulator, place) for place in spots} == want
    each_key_once(emulator, made)
    # Per wave: the keys looked up (header and item texts, 40 per request) and ONE $batch of documents.
    assert connector.api_calls - calls <= 2 * (2 * 13 + 1) + 2
    # Receipts only: one wave (several documents' worth) fills two documents to the limit.
    receipts = [dataclasses.replace(e, idempotency_key=e.idempotency_key + "r") for e in entries(spots, 1000)]
    before = {d["MaterialDocument"] for d in emulator.material_documents()}
    assert (await pusher(Outbox(receipts), connector).drain()).done == 1000
    assert sorted(items_per_document(emulator, new_documents(emulator, before)).values()) == [2, 499, 499]
    with pytest.raises(ConfigError, match="between 1 and 499"):
        erp(emulator, items_per_document=500)


async def test_a_refused_item_fails_alone_while_the_others_post(emulator: SapEmulator) -> None:
    connector = erp(emulator)
    spots = places(emulator, 8)
    made = entries(spots, 24, issues_every=3)
    bad = made[8]  # an issue: take far more than the position holds
    made[8] = dataclasses.replace(bad, payload={**bad.payload, "delta": "-100000"})
    want = expected(emulator, spots, [e for e in made if e.id != bad.id])
    outbox = Outbox(made)

    stats = await pusher(outbox, connector).drain()

    assert outbox.with_status(OutboxStatus.FAILED) == [bad.id] and stats.done == 23
    assert bad.payload["item_id"] in outbox.errors[bad.id]
    assert {place: on_hand(emulator, place) for place in spots} == want
    each_key_once(emulator, [e for e in made if e.id != bad.id])


async def test_a_crash_after_the_batch_posted_is_settled_by_one_lookup_per_document(
    emulator: SapEmulator,
) -> None:
    connector = erp(emulator)
    spots = places(emulator, 10)
    made = entries(spots, 300, issues_every=5)
    want = expected(emulator, spots, made)
    before = {d["MaterialDocument"] for d in emulator.material_documents()}
    outbox = Outbox(made)
    real = connector.adjust_stock_batches

    async def post_then_die(batches):  # type: ignore[no-untyped-def]
        await real(batches)
        raise Killed

    connector.adjust_stock_batches = post_then_die  # type: ignore[method-assign]
    with pytest.raises(Killed):
        await pusher(outbox, connector).drain()
    connector.adjust_stock_batches = real  # type: ignore[method-assign]
    assert len(new_documents(emulator, before)) == 2  # receipts and issues

    again = erp(emulator)
    requests = emulator.app.stats
    gets, posts = requests.count("GET", MATDOC), requests.count("POST", MATDOC)
    stats = await pusher(outbox, again).drain()

    assert stats.done == 300
    assert (
        requests.count("GET", MATDOC) - gets == 2 and requests.count("POST", MATDOC) == posts
    )  # a lookup each
    assert len(new_documents(emulator, before)) == 2
    assert {place: on_hand(emulator, place) for place in spots} == want
    each_key_once(emulator, made)


async def test_a_lost_batch_answer_leaves_documents_in_doubt_and_nothing_posts_twice(
    emulator: SapEmulator,
) -> None:
    connector = erp(emulator)
    spots = places(emulator, 10)
    made = entries(spots, 100, issues_every=5)
    want = expected(emulator, spots, made)
    outbox = Outbox(made)
    emulator.faults.add("drop_after", path=r"\$batch", method="POST", times=2)  # receipts', issues' $batch

    first = await pusher(outbox, connector).drain()
    assert first.in_doubt == 100 and first.failed == 0

    second = await pusher(outbox, connector).drain()
    assert second.done == 100
    assert {place: on_hand(emulator, place) for place in spots} == want
    each_key_once(emulator, made)


async def test_a_change_posted_in_a_document_is_found_by_its_item_text(emulator: SapEmulator) -> None:
    # A decision planned again after lost commits carries its keys: the engine asks before sending.
    connector = erp(emulator)
    made = entries(places(emulator, 4), 6)
    assert (await pusher(Outbox(made), connector).drain()).done == 6
    keys = [e.idempotency_key for e in made]
    found = await connector.posted_before([*keys, "atl-never"])
    assert sorted(found) == sorted(keys)
    assert len({w.remote_id for w in found.values()}) == 1  # all in one document


async def test_an_unreadable_batch_answer_leaves_its_documents_in_doubt_not_failed(
    emulator: SapEmulator,
) -> None:
    connector = erp(emulator)
    spots = places(emulator, 6)
    made = entries(spots, 30, issues_every=3)
    want = expected(emulator, spots, made)
    outbox = Outbox(made)
    writer = connector.writer
    real = writer.send_batch

    async def posted_but_unreadable(payloads):  # type: ignore[no-untyped-def]
        await real(payloads)
        raise InvalidResponse("cannot read the $batch answer", system="SAP")

    writer.send_batch = posted_but_unreadable  # type: ignore[method-assign]
    first = await pusher(outbox, connector).drain()
    writer.send_batch = real  # type: ignore[method-assign]
    assert first.failed == 0 and first.in_doubt == 30

    assert (await pusher(outbox, connector).drain()).done == 30
    assert {place: on_hand(emulator, place) for place in spots} == want
    each_key_once(emulator, made)


async def test_a_rounds_documents_go_in_several_batch_requests_at_once(emulator: SapEmulator) -> None:
    # Gateway posts a $batch's documents one after another: a round's documents spread over up to
    # max_concurrency $batch requests in flight together use the server's parallel slots.
    install_server_time(emulator, "sap", "realistic", sleep=lambda _seconds: asyncio.sleep(0.02))
    connector = erp(emulator, max_concurrency=3)
    spots = places(emulator, 8)
    made = entries(spots, 8)
    want = expected(emulator, spots, made)
    requests = emulator.app.stats
    requests.reset()

    batches = [([(_change(e), e.idempotency_key)], f"atl-batch-{e.id}") for e in made]
    answers = await connector.adjust_stock_batches(batches)

    assert all(isinstance(result, WriteResult) for (result,) in answers)
    assert requests.count("POST", MATDOC + "$batch") == 3
    assert requests.max_in_flight == 3
    assert {place: on_hand(emulator, place) for place in spots} == want
    each_key_once(emulator, made)
    await connector.aclose()


def _change(entry: OutboxEntry) -> StockChange:
    p = entry.payload
    return StockChange(StockKey(p["item_id"], p["location_id"], p["lot"]), Decimal(p["delta"]), p["unit"])
