"""Benchmark (run on demand, not collected): the CPU of the store's bulk writes of a first sync.

A fresh profile database (Store.open, all migrations), one connection, then the writes a first sync of
`--rows` items makes, in the batch sizes the engine uses: the Atlas mirror, the ERP products and stock,
discovery's mapping inserts (apply_discovery, its search index included), recording one decision per
mapping, and a second pass over the Atlas mirror (every row an update). Prints the CPU seconds of each
(time.process_time: the database thread's work is all in this process).

Run: PYTHONPATH=$PWD python tests/perf/bench_store_writes.py --rows 100000
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from atlas_desktop.domain.drafts import DecisionDraft, MappingDraft, WriteDraft
from atlas_desktop.domain.enums import MappingStatus, MatchMethod
from atlas_desktop.domain.model import AtlasInventoryRow, ErpType, Product, Side, StockKey, StockLevel
from atlas_desktop.domain.snapshots import BaseValues
from atlas_desktop.store.db import Store
from atlas_desktop.store.decisions import DecisionRepository
from atlas_desktop.store.mappings import MappingRepository
from atlas_desktop.store.mirrors import MirrorRepository
from atlas_desktop.store.models import ConnectionRow

PULL_BATCH = 2000  # engine/pull.py BATCH
ATLAS_PAGE = 1000  # an Atlas change-feed page
RECORD_BATCH = 500  # engine/runner.py RECORD_BATCH
T0 = datetime(2026, 1, 1, tzinfo=UTC)


def _key(text: str | None) -> str | None:
    """A stand-in for the NDC key function: its cost is discovery's, not the store's."""
    return text.replace("-", "") if text else None


def _atlas(i: int, version: int) -> AtlasInventoryRow:
    ndc = f"{i % 99999:05d}-{i % 9999:04d}-{i % 99:02d}"
    return AtlasInventoryRow(
        id=f"A{i:07d}", ndc_text=ndc, name=f"Product {i} tablets 10 mg", quantity=Decimal(i % 500),
        unit="EA", version=version, updated_at=T0 + timedelta(seconds=i), sku=f"SKU-{i}",
        lot=f"L{i % 977}" if i % 3 else None, expiry=date(2027, 1 + i % 12, 1), location="MAIN",
    )  # fmt: skip


def _product(i: int) -> Product:
    return Product(
        erp_item_id=str(i), sku=f"SKU-{i}", name=f"Product {i} tablets 10 mg", unit="EA",
        ndc_text=f"{i % 99999:05d}-{i % 9999:04d}-{i % 99:02d}", manufacturer="Acme Pharma",
        lot_tracked=bool(i % 3), last_modified=T0 + timedelta(seconds=i), attributes={"class": "rx"},
    )  # fmt: skip


def _stock(i: int) -> StockLevel:
    return StockLevel(
        key=StockKey(str(i), "1", f"L{i % 977}" if i % 3 else None), quantity=Decimal(i % 500),
        unit="EA", expiry=date(2027, 1 + i % 12, 1), observed_version=str(i),
        updated_at=T0 + timedelta(seconds=i), lot_ref=str(i) if i % 3 else None,
    )  # fmt: skip


def _mapping(i: int) -> MappingDraft:
    return MappingDraft(
        atlas_inventory_id=f"A{i:07d}", erp_item_id=str(i), erp_location_id="1",
        lot=f"L{i % 977}" if i % 3 else None, ndc_key=f"{i:011d}", ndc_text_atlas=f"{i:011d}",
        ndc_text_erp=f"{i:011d}", item_name=f"Product {i} tablets 10 mg", status=MappingStatus.MATCHED,
        match_method=MatchMethod.AUTO_NDC,
    )  # fmt: skip


def _decision(mapping_id: int) -> DecisionDraft:
    base = BaseValues(Decimal(mapping_id % 500), date(2027, 1, 1), "EA")
    if mapping_id % 2:  # settled at once: its base is applied
        return DecisionDraft(mapping_id, base)
    write = WriteDraft(
        Side.ERP, "adjust", {"delta": "3", "item": str(mapping_id), "unit": "EA"}, f"k-{mapping_id}",
        Decimal(3),
    )  # fmt: skip
    return DecisionDraft(mapping_id, base, (write,))


def _batches(make: Callable[[int], object], rows: int, size: int) -> Iterator[list[object]]:
    for start in range(0, rows, size):
        yield [make(i) for i in range(start, min(rows, start + size))]


def _timed(label: str, work: Callable[[], object], figures: dict[str, float]) -> None:
    start = time.process_time()
    work()
    figures[label] = time.process_time() - start


def run(rows: int, folder: Path) -> dict[str, float]:
    store = Store.open(folder / "atlas.db")
    with store.session() as session:
        connection = ConnectionRow(erp_type=ErpType.NETSUITE, connection_name="bench")
        session.add(connection)
        session.flush()
        cid = connection.id
    mirrors, mappings = MirrorRepository(store), MappingRepository(store)
    decisions = DecisionRepository(store)
    # Inputs are built before the clock starts: only the store's work is timed.
    atlas = list(_batches(lambda i: _atlas(i, 1), rows, ATLAS_PAGE))
    products = list(_batches(_product, rows, PULL_BATCH))
    stock = list(_batches(_stock, rows, PULL_BATCH))
    drafts = [_mapping(i) for i in range(rows)]
    again = list(_batches(lambda i: _atlas(i, 2), rows, ATLAS_PAGE))
    figures: dict[str, float] = {}

    _timed("atlas mirror", lambda: [mirrors.upsert_atlas_rows(cid, b, _key) for b in atlas], figures)
    _timed("erp products", lambda: [mirrors.upsert_erp_products(cid, b, _key) for b in products], figures)
    _timed("erp stock", lambda: [mirrors.upsert_erp_stock(cid, b, seen_marker="m1") for b in stock], figures)
    _timed("discovery", lambda: mappings.apply_discovery(cid, drafts), figures)
    with store.session() as session:
        ids = [i for (i,) in session.connection().exec_driver_sql("SELECT id FROM erp_inventory_mappings")]
    recorded = [[_decision(i) for i in ids[s : s + RECORD_BATCH]] for s in range(0, len(ids), RECORD_BATCH)]
    _timed("decisions", lambda: [decisions.record(cid, None, b) for b in recorded], figures)
    _timed("atlas again", lambda: [mirrors.upsert_atlas_rows(cid, b, _key) for b in again], figures)
    store.close()
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    for _ in range(args.repeat):
        with tempfile.TemporaryDirectory() as folder:
            figures = run(args.rows, Path(folder))
        shown = "  ".join(f"{label} {seconds:5.2f}" for label, seconds in figures.items())
        print(f"{shown}  total {sum(figures.values()):5.2f}")


if __name__ == "__main__":
    main()
