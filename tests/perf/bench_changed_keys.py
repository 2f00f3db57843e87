"""CPU of the lookups of the run after a first sync, on a catalog just first-synced: every mirror row
read and every base set by that first run (run on demand, prints figures): the changed keys, the item
names and the loop guard's recent decisions.

    PYTHONPATH=$PWD python tests/perf/bench_changed_keys.py [--items 100000]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from atlas_desktop.domain.change_window import ChangeWindow
from atlas_desktop.domain.drafts import DecisionDraft, MappingDraft
from atlas_desktop.domain.enums import MappingStatus, MatchMethod, SyncDirection, SyncType
from atlas_desktop.domain.model import AtlasInventoryRow, Product, StockKey, StockLevel
from atlas_desktop.domain.snapshots import BaseValues
from atlas_desktop.store.db import Store
from atlas_desktop.store.decisions import DecisionRepository
from atlas_desktop.store.mappings import MappingRepository
from atlas_desktop.store.mirrors import MirrorRepository
from atlas_desktop.store.models import ConnectionRow
from atlas_desktop.store.product_names import product_master_diffs
from atlas_desktop.store.runs import RunRepository


def _first_synced(store: Store, items: int) -> tuple[str, ChangeWindow]:
    with store.session() as session:
        row = ConnectionRow(erp_type="netsuite", connection_name="bench")
        session.add(row)
        session.flush()
        connection_id = row.id
    runs = RunRepository(store)
    run = runs.start(connection_id, SyncType.MANUAL, SyncDirection.BIDIRECTIONAL)
    started = datetime.now(UTC)
    mirrors, now, every = MirrorRepository(store), datetime.now(UTC), range(items)
    atlas = (AtlasInventoryRow(f"r{i}", "s", "n", Decimal(i % 50), "EA", 1, now) for i in every)
    mirrors.upsert_atlas_rows(connection_id, atlas, lambda text: None)
    stock = (StockLevel(StockKey(f"i{i}", "W", None), Decimal(i % 50), "EA") for i in every)
    mirrors.upsert_erp_stock(connection_id, stock)
    products = (Product(f"i{i}", "s", f"Drug {i}", "EA") for i in every)
    mirrors.upsert_erp_products(connection_id, products, lambda text: None)
    drafts = (MappingDraft(f"r{i}", f"i{i}", "W", None, "k", "n", "n", f"Drug {i}", MappingStatus.MATCHED,
                           MatchMethod.AUTO_NDC) for i in every)  # fmt: skip
    repo = MappingRepository(store)
    repo.apply_discovery(connection_id, drafts)
    product_master_diffs(store, connection_id)  # the first sight of every name
    reads_done = datetime.now(UTC)
    runs.reads_done(run, reads_done)
    ids = [row.mapping_id for row in repo.merge_inputs(connection_id)]
    decisions = DecisionRepository(store)
    for start in range(0, len(ids), 2000):
        decisions.record(connection_id, run, [
            DecisionDraft(m, BaseValues(Decimal((m - 1) % 50), None, "EA")) for m in ids[start : start + 2000]
        ])  # fmt: skip
    return connection_id, ChangeWindow(started, reads_done, run)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--items", type=int, default=100_000)
    items = parser.parse_args().items
    with tempfile.TemporaryDirectory() as folder:
        store = Store.open(Path(folder) / "bench.db")
        connection_id, window = _first_synced(store, items)
        repo = MappingRepository(store)
        for label, since in (("the first run's start", ChangeWindow.since(window.moved_since)),
                             ("the first run's marks", window)):  # fmt: skip
            settled: list[int] = []
            cpu = time.process_time()
            merged = sum(1 for _ in repo.merge_inputs(connection_id, changed_since=since, settled=settled))
            merge_cpu = time.process_time() - cpu
            cpu = time.process_time()
            names = product_master_diffs(store, connection_id, changed_since=since)
            names_cpu = time.process_time() - cpu
            print(
                f"{items:,} keys, window from {label}: merge lookup {merge_cpu:.2f} s CPU ({merged} merged, "
                f"{len(settled):,} settled); names lookup {names_cpu:.2f} s CPU ({len(names)} renamed)"
            )
        cpu = time.process_time()
        flips = DecisionRepository(store).recent_base_quantities(
            connection_id, datetime.now(UTC) - timedelta(hours=1), min_decisions=5
        )
        print(f"loop guard's recent decisions: {time.process_time() - cpu:.2f} s CPU ({len(flips)} keys)")
        store.close()


if __name__ == "__main__":
    main()
