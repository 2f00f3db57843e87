"""Benchmark (run by hand; not collected): the mapping search index's bulk build in a first discovery.

A catalog of N items (the sandbox's, as the full bench seeds it) becomes the mirrors and the mappings a
first NetSuite discovery writes (one per Atlas row and per ERP stock row left unpaired); the mappings go
through `MappingRepository.apply_discovery`, and the CPU seconds of `BulkIndexing.finish` (the index
build) and of the whole call are printed, with the search times over the result.
Run: PYTHONPATH=$PWD python tests/perf/bench_search_index.py [items, default 100000] [repeats, default 1]
"""

from __future__ import annotations

import sys
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path

from atlas_desktop.domain.connection import parse_connection
from atlas_desktop.domain.drafts import MappingDraft
from atlas_desktop.domain.enums import MappingStatus, MatchMethod
from atlas_desktop.domain.ndc import candidate_keys
from atlas_desktop.sandbox.atlas.state import ulid
from atlas_desktop.sandbox.catalog import Catalog, atlas_rows, erp_items, ndc_to_11
from atlas_desktop.store import search_index
from atlas_desktop.store.db import Store
from atlas_desktop.store.keys import MemoryKeySource
from atlas_desktop.store.mappings import MappingRepository
from atlas_desktop.store.repositories import ConnectionRepository
from atlas_desktop.store.review_table import ReviewTable
from atlas_desktop.store.vault import Vault

TODAY = date(2026, 11, 27)
EPOCH_MS = 1_764_000_000_000
LOCATIONS = {"MAIN": "1", "EAST": "2", "WEST": "3"}
SEARCHES = ("Lisinopril 20", "SKU-0421", "59385-29", "V78", "inv_01", "mg")


def _key(ndc: str) -> str | None:
    keys = candidate_keys(ndc)
    return next(iter(keys)) if len(keys) == 1 else None


def world(items: int) -> tuple[list[tuple], list[tuple], list[MappingDraft]]:
    """(Atlas mirror rows, ERP products, mapping drafts) of a first discovery over `items` products."""
    catalog = Catalog(42, items, TODAY)
    now = datetime.now(UTC).isoformat()
    products, erp_stock = [], {}
    for item in erp_items(catalog, "netsuite"):
        p = item.product
        products.append((str(p.index + 1), p.sku, p.name, p.unit, p.ndc, ndc_to_11(p.ndc), now))
        for row in item.stock:
            erp_stock[p.index, row.location, row.lot] = p
    mirror, drafts = [], []
    for n, row in enumerate(atlas_rows(catalog)):
        atlas_id = f"inv_{ulid(EPOCH_MS, n)}"
        mirror.append((atlas_id, row.sku, row.ndc, _key(row.ndc), row.name, row.lot_number, row.unit, now))
        p = erp_stock.pop((row.product_index, row.location, row.lot_number), None)
        item, location = (str(row.product_index + 1), LOCATIONS[row.location]) if p else (None, None)
        paired = p is not None
        drafts.append(MappingDraft(
            atlas_id, item, location,
            row.lot_number, _key(row.ndc), row.ndc, p.ndc if p else None, row.name,
            MappingStatus.MATCHED if paired else MappingStatus.UNMATCHED_ATLAS,
            MatchMethod.AUTO_NDC if paired else None,
        ))  # fmt: skip
    for (_, location, lot), p in erp_stock.items():
        drafts.append(MappingDraft(
            None, str(p.index + 1), LOCATIONS[location], lot, ndc_to_11(p.ndc), None, p.ndc, p.name,
            MappingStatus.UNMATCHED_ERP, None,
        ))  # fmt: skip
    return mirror, products, drafts


def fill_mirrors(store: Store, cid: str, mirror: list[tuple], products: list[tuple]) -> None:
    with store.session() as session:
        connection = session.connection()
        connection.exec_driver_sql(
            "INSERT INTO atlas_rows (connection_id, atlas_id, sku, ndc_text, ndc_key, name, lot, quantity, "
            f"unit, version, updated_at, deleted, observed_at) VALUES ('{cid}', ?, ?, ?, ?, ?, ?, '1', ?, 1, "
            "?, 0, ?)",
            [(*row, row[-1]) for row in mirror],
        )
        connection.exec_driver_sql(
            "INSERT INTO erp_products (connection_id, item_id, sku, name, unit, ndc_text, ndc_key, "
            "lot_tracked, inactive, attributes, observed_at) "
            f"VALUES ('{cid}', ?, ?, ?, ?, ?, ?, 1, 0, '{{}}', ?)",
            products,
        )


def run(items: int, drafts_world: tuple[list[tuple], list[tuple], list[MappingDraft]]) -> None:
    mirror, products, drafts = drafts_world
    spent: list[float] = []
    original = search_index.BulkIndexing.finish

    def finish(self: search_index.BulkIndexing) -> None:
        cpu = time.process_time()
        original(self)
        spent.append(time.process_time() - cpu)

    search_index.BulkIndexing.finish = finish  # type: ignore[method-assign]
    try:
        with tempfile.TemporaryDirectory() as tmp:
            store = Store.open(Path(tmp) / "atlas.db")
            try:
                connections = ConnectionRepository(store, Vault(MemoryKeySource()))
                cid = connections.add(parse_connection({"account_id": "123", **{k: "a" * 64 for k in (
                    "consumer_key", "consumer_secret", "token_id", "token_secret")}}))  # fmt: skip
                fill_mirrors(store, cid, mirror, products)
                cpu = time.process_time()
                MappingRepository(store).apply_discovery(cid, iter(drafts))
                total = time.process_time() - cpu
                size = sum(f.stat().st_size for f in Path(tmp).glob("atlas.db*"))
                print(f"{items:,} items, {len(drafts):,} mappings: BulkIndexing.finish {spent[0]:.2f} CPU s, "
                      f"apply_discovery {total:.2f} CPU s, database {size / 1e6:.0f} MB")  # fmt: skip
                table = ReviewTable(store)
                for text in SEARCHES:
                    start = time.perf_counter()
                    count = table.count(cid, search=text)
                    table.page(cid, status=None, search=text, offset=0, limit=100)
                    print(f"  search {text!r}: {count:,} rows, count + first page "
                          f"{(time.perf_counter() - start) * 1000:.0f} ms")  # fmt: skip
            finally:
                store.close()
    finally:
        search_index.BulkIndexing.finish = original  # type: ignore[method-assign]


def main() -> None:
    items = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    repeats = int(sys.argv[2]) if len(sys.argv) > 2 else 1
    built = world(items)
    for _ in range(repeats):
        run(items, built)


if __name__ == "__main__":
    main()
