"""Benchmark (run on demand, not collected): discovery's peak memory and CPU against the catalog's size.

Seeds a fresh profile's mirrors with the sandbox catalog of `--items` products (NetSuite), then runs
discovery as the engine does (drafts written by apply_discovery) in a fresh process per source:
`memory` (the whole ERP side held in memory) and `scratch` (scratch tables, a chunk of Atlas rows at a
time). Each prints its resident memory just before discovery, its peak (VmHWM) after, and the CPU seconds
(time.process_time) of discovery and its writes (`--no-apply`: of discovery alone, drafts counted).

Run: PYTHONPATH=$PWD python tests/perf/bench_discovery_memory.py --items 100000 [--sources scratch memory]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from datetime import UTC, date, datetime
from itertools import islice
from pathlib import Path
from typing import TypeVar

from bench_memory import peak_rss_mb

from atlas_desktop.domain.discovery_counts import DiscoveryCounts
from atlas_desktop.domain.drafts import MappingDraft
from atlas_desktop.domain.enums import MappingStatus
from atlas_desktop.domain.model import AtlasInventoryRow, ErpType, Location, Product, StockKey, StockLevel
from atlas_desktop.engine.discovery import LocationResolver, identify_ndc, unambiguous_key
from atlas_desktop.engine.discovery_source import discover_in_memory, discover_in_scratch
from atlas_desktop.sandbox.catalog import Catalog, atlas_rows, erp_items
from atlas_desktop.store.db import Store
from atlas_desktop.store.discovery_scratch import DiscoveryScratches
from atlas_desktop.store.mappings import MappingRepository
from atlas_desktop.store.mirrors import MirrorRepository
from atlas_desktop.store.models import ConnectionRow

TODAY = date(2026, 11, 27)
UPDATED = datetime(2026, 11, 20, 8, 15, tzinfo=UTC)
BATCH = 2000
T = TypeVar("T")


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _batches(rows: Iterable[T], size: int = BATCH) -> Iterator[list[T]]:
    remaining = iter(rows)
    while batch := list(islice(remaining, size)):
        yield batch


def seed(path: Path, items: int) -> tuple[str, list[str]]:
    store = Store.open(path)
    with store.session() as session:
        row = ConnectionRow(erp_type=ErpType.NETSUITE, connection_name="bench")
        session.add(row)
        session.flush()
        connection_id = row.id
    mirrors = MirrorRepository(store)
    locations: set[str] = set()
    for batch in _batches(erp_items(Catalog(42, items, TODAY), "netsuite")):
        products = [
            Product(str(item.product.index), item.product.sku, item.product.name, item.product.unit,
                    ndc_text=item.product.ndc, manufacturer=item.product.manufacturer,
                    lot_tracked=item.product.lot_tracked, attributes={"class": "rx"})
            for item in batch
        ]  # fmt: skip
        mirrors.upsert_erp_products(connection_id, products, unambiguous_key)
        levels = [
            StockLevel(StockKey(str(item.product.index), s.location, s.lot), s.quantity, item.product.unit)
            for item in batch
            for s in item.stock
        ]
        locations.update(s.location for item in batch for s in item.stock)
        mirrors.upsert_erp_stock(connection_id, levels)
    rows = (
        AtlasInventoryRow(f"inv-{n:07d}", r.ndc, r.name, r.quantity, r.unit, 1, UPDATED, sku=r.sku,
                          lot=r.lot_number, expiry=r.expiry_date, location=r.location)
        for n, r in enumerate(atlas_rows(Catalog(42, items, TODAY)))
    )  # fmt: skip
    for page in _batches(rows):
        mirrors.upsert_atlas_rows(connection_id, page, unambiguous_key)
    store.close()
    return connection_id, sorted(locations)


def _drafts_only(connection_id: str, drafts: Iterable[MappingDraft]) -> DiscoveryCounts:
    """Stands in for apply_discovery to time discovery alone: counts the drafts, writes nothing."""
    statuses = Counter(draft.status for draft in drafts)
    return DiscoveryCounts(
        matched=statuses[MappingStatus.MATCHED], unmatched_erp=statuses[MappingStatus.UNMATCHED_ERP]
    )


def run(path: Path, connection_id: str, locations: list[str], source: str, apply: bool) -> None:
    store = Store.open(path)
    resolver = LocationResolver([Location(code, code, code) for code in locations])
    write = MappingRepository(store).apply_discovery if apply else _drafts_only
    before = _rss_mb()
    start = time.process_time()
    if source == "memory":
        counts = write(connection_id, discover_in_memory(MirrorRepository(store), connection_id, resolver))
    else:
        with discover_in_scratch(DiscoveryScratches(store), connection_id, resolver) as drafts:
            counts = write(connection_id, drafts)
    cpu = time.process_time() - start
    identify_ndc.cache_clear()
    peak = peak_rss_mb()
    print(
        f"{source:<8} rss before {before:7.1f} MB  peak {peak:7.1f} MB  (+{peak - before:6.1f})  "
        f"cpu {cpu:6.2f} s  matched {counts.matched:,} unmatched_erp {counts.unmatched_erp:,}",
        flush=True,
    )
    store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--sources", nargs="+", default=["memory", "scratch"], choices=["memory", "scratch"])
    parser.add_argument("--repeat", type=int, default=1, help="run the sources in turn this many times")
    parser.add_argument("--no-apply", action="store_true", help="count the drafts instead of writing them")
    parser.add_argument("--run", nargs=3, metavar=("DB", "CONNECTION", "SOURCE"), help=argparse.SUPPRESS)
    parser.add_argument("--locations", default="", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.run:
        db, connection_id, source = args.run
        run(Path(db), connection_id, args.locations.split(","), source, not args.no_apply)
        return
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "atlas.db"
        start = time.perf_counter()
        connection_id, locations = seed(path, args.items)
        print(f"seeded {args.items:,} items in {time.perf_counter() - start:.0f} s", flush=True)
        for source in args.sources * args.repeat:  # interleaved: the machine's load changes meanwhile
            # A fresh process per source: a peak is a process's high-water mark, and the first would mask
            # the second. Each run replaces the mappings the one before wrote: drop them first.
            store = Store.open(path)
            with store.session() as session:
                session.connection().exec_driver_sql("DELETE FROM erp_inventory_mappings")
            store.close()
            subprocess.run(
                [sys.executable, __file__, "--run", str(path), connection_id, source,
                 "--locations", ",".join(locations), *(["--no-apply"] if args.no_apply else [])],
                check=True,
            )  # fmt: skip


if __name__ == "__main__":
    main()
