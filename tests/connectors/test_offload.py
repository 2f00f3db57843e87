"""Big pages are decoded and mapped off the event loop (the desktop window's thread), with the same results.

`loads_json` must be `json.loads` to the letter (values and errors); each connector's large pages must be
mapped on a worker thread, and reading with the work kept inline must give the very same records.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from atlas_desktop.connectors import offload
from atlas_desktop.connectors.atlas import client as atlas_client
from atlas_desktop.connectors.netsuite import client as netsuite_client
from atlas_desktop.connectors.netsuite import reads as netsuite_reads
from atlas_desktop.connectors.offload import loads_in_pieces, loads_json
from atlas_desktop.connectors.sap import paging as sap_paging
from atlas_desktop.connectors.sap import reads as sap_reads
from atlas_desktop.sandbox.atlas import AtlasEmulator
from atlas_desktop.sandbox.catalog import Catalog

from .atlas.atlas_helpers import make_client, sample_rows
from .netsuite.emulator_support import Clock, connect, make_emulator
from .sap.test_emulator import connect as sap_connect
from .sap.test_emulator import tenant

# ---- loads_json is json.loads -----------------------------------------------------------------------------
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=5), children, max_size=5)
    ),
    max_leaves=30,
)


@settings(max_examples=300, deadline=None)
@given(JSON_VALUES, st.sampled_from([None, 0, 2]), st.booleans())
def test_pieces_decode_exactly_what_json_loads_does(value: Any, indent: int | None, ascii_only: bool) -> None:
    text = json.dumps(value, indent=indent, ensure_ascii=ascii_only)
    assert loads_in_pieces(text) == json.loads(text)
    assert loads_in_pieces(f" \n{text}\t ") == json.loads(text)


@pytest.mark.parametrize(
    "text",
    ["", " ", "{", "[", "[1,]", "[1 2]", '{"a":1,}', '{"a" 1}', '{"a":}', "{a:1}", '{"a":1 "b":2}', "[1,2",
     '{"x":[1,2}', "{} x", '{"d":{"results":[{"a":1},]}}', '{"d":{"results":[{"a":1}}}'],
)  # fmt: skip
def test_pieces_refuse_what_json_loads_refuses(text: str) -> None:
    with pytest.raises(ValueError):
        json.loads(text)
    with pytest.raises(ValueError):
        loads_in_pieces(text)


def test_large_bodies_decode_in_pieces_and_small_ones_whole(monkeypatch: pytest.MonkeyPatch) -> None:
    rows = [{"Material": f"M{i}", "Qty": f"{i}.000", "to_X": {"results": [{"n": i}]}} for i in range(30_000)]
    body = json.dumps({"d": {"__count": str(len(rows)), "results": rows}}).encode()
    assert len(body) > offload.PIECEWISE_BYTES
    calls: list[int] = []
    real = offload.loads_in_pieces
    monkeypatch.setattr(offload, "loads_in_pieces", lambda text: calls.append(len(text)) or real(text))
    assert loads_json(body) == json.loads(body)
    assert loads_json(b'{"small": [1, 2]}') == {"small": [1, 2]}
    assert loads_json(b"\xef\xbb\xbf[1]") == [1]  # bytes with a UTF-8 BOM: as json.loads
    assert len(calls) == 1
    with pytest.raises(ValueError):
        loads_json("\ufeff" + " " * offload.PIECEWISE_BYTES + "[1]")  # a str with a BOM: as json.loads


# ---- each connector maps big pages on a worker thread ---------------------------------------------------
async def test_small_work_stays_inline_and_large_work_goes_to_a_thread() -> None:
    loop_thread = threading.get_ident()
    small = await offload.off_loop(10, offload.OFF_LOOP_ROWS, threading.get_ident)
    large = await offload.off_loop(offload.OFF_LOOP_ROWS, offload.OFF_LOOP_ROWS, threading.get_ident)
    assert small == loop_thread != large


class Threads:
    """Which threads ran the wrapped functions."""

    def __init__(self) -> None:
        self.seen: set[int] = set()

    def wrap(self, function: Callable[..., Any]) -> Callable[..., Any]:
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            self.seen.add(threading.get_ident())
            return function(*args, **kwargs)

        return wrapped


@pytest.fixture
def inline(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[], None]]:
    """Call to keep all offloaded work on the loop from then on (the reference read)."""

    async def on_the_loop(work: Callable[..., Any], *args: Any) -> Any:
        return work(*args)

    yield lambda: monkeypatch.setattr(asyncio, "to_thread", on_the_loop)


async def collect(source: Any) -> list[Any]:
    return [item async for item in source]


async def test_atlas_change_feed_pages_are_parsed_off_the_loop(
    monkeypatch: pytest.MonkeyPatch, inline: Callable[[], None]
) -> None:
    threads = Threads()
    monkeypatch.setattr(atlas_client, "parse_row", threads.wrap(atlas_client.parse_row))
    monkeypatch.setattr(atlas_client, "OFF_LOOP_BYTES", 1)  # every page, even the last, short one
    emulator = AtlasEmulator(rows=sample_rows(700))
    client = make_client(emulator)
    try:
        batches = await collect(client.changes(since=None))
        listing = await collect(client.inventory(page_size=1000))
        assert threads.seen and threading.get_ident() not in threads.seen
        inline()
        assert await collect(client.changes(since=None)) == batches
        assert await collect(client.inventory(page_size=1000)) == listing
    finally:
        await client.aclose()
    assert sum(len(batch.changes) for batch in batches) == len(listing) == 700


async def test_netsuite_suiteql_pages_are_mapped_off_the_loop(
    monkeypatch: pytest.MonkeyPatch, inline: Callable[[], None]
) -> None:
    threads = Threads()
    for name in ("product_from_row", "stock_from_row"):
        monkeypatch.setattr(netsuite_reads, name, threads.wrap(getattr(netsuite_reads, name)))
    monkeypatch.setattr(netsuite_reads, "OFF_LOOP_ROWS", 1)  # every page, even the last, short one
    monkeypatch.setattr(netsuite_client, "OFF_LOOP_BYTES", 1)
    clock = Clock()
    emulator = make_emulator(400, clock)
    connector = connect(emulator, clock)
    try:
        products = await collect(connector.products(None))
        stock = await collect(connector.stock(None))
        lot_levels = [level for level in stock if level.key.lot is not None]
        assert threads.seen and threading.get_ident() not in threads.seen
        inline()
        assert await collect(connector.products(None)) == products
        assert await collect(connector.stock(None)) == stock  # lot_ref included
        assert lot_levels and all(level.lot_ref for level in lot_levels)  # each lot's id from its row
    finally:
        await connector.aclose()
    assert len(products) > 300 and len(stock) > 400


async def test_sap_pages_are_decoded_and_mapped_off_the_loop(
    monkeypatch: pytest.MonkeyPatch, inline: Callable[[], None]
) -> None:
    threads = Threads()
    for name in ("product_from_row", "stock_key", "batch_info"):
        monkeypatch.setattr(sap_reads, name, threads.wrap(getattr(sap_reads, name)))
    monkeypatch.setattr(sap_reads, "OFF_LOOP_ROWS", 1)  # every page, even the last, short one
    monkeypatch.setattr(sap_paging, "OFF_LOOP_BYTES", 1)
    emulator = tenant("sap-cloud", Catalog(seed=7, size=400, today=date(2026, 11, 27)))
    connector = sap_connect(emulator)
    since = datetime(2000, 1, 1, tzinfo=UTC)  # incremental: every material document counts as new
    try:
        products = await collect(connector.products(None))
        stock = await collect(connector.stock(None))
        moved = await collect(connector.stock(since))
        assert threads.seen and threading.get_ident() not in threads.seen
        inline()
        assert await collect(connector.products(None)) == products
        assert await collect(connector.stock(None)) == stock
        assert await collect(connector.stock(since)) == moved
    finally:
        await connector.aclose()
    assert len(products) > 300 and len(stock) > 400


def test_remote_json_that_is_not_text_or_too_deep_is_a_value_error() -> None:
    import pytest

    from atlas_desktop.connectors.offload import PIECEWISE_BYTES, loads_json

    assert loads_json(b'{"name": "\\ud83d\\ude00 ok"}') == {"name": "\U0001f600 ok"}  # a valid pair
    padding = b" " * PIECEWISE_BYTES  # the piecewise path too
    for bad in (
        b'{"name": "Amoxicillin \\ud800"}',
        b'["\\udc00"]' + padding,
        b"[" * 100_000 + b"]" * 100_000,
        b'{"rows": [' + b"[" * 100_000 + b"]" * 100_000 + b"]}" + padding,
    ):
        with pytest.raises(ValueError):
            loads_json(bad)
