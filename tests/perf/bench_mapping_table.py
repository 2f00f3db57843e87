"""Benchmark (not collected by default: bench_*): the mapping table over 100,000 mappings, offscreen.

Measures the first paint (count + first page + painting the visible rows) and a filter change (typing a
search, new count, repaint); target < 200 ms each, on the best of 5 readings (the first paint's first
reading, cold, is printed too). Run: QT_QPA_PLATFORM=offscreen python -m pytest
tests/perf/bench_mapping_table.py -q -s -p no:cacheprovider
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtWidgets import QApplication, QTableView  # noqa: E402

from atlas_desktop.domain.connection import parse_connection  # noqa: E402
from atlas_desktop.domain.drafts import MappingDraft  # noqa: E402
from atlas_desktop.domain.enums import MappingStatus, MatchMethod  # noqa: E402
from atlas_desktop.store.db import Store  # noqa: E402
from atlas_desktop.store.keys import MemoryKeySource  # noqa: E402
from atlas_desktop.store.mappings import MappingRepository  # noqa: E402
from atlas_desktop.store.repositories import ConnectionRepository  # noqa: E402
from atlas_desktop.store.review_table import ReviewTable  # noqa: E402
from atlas_desktop.store.vault import Vault  # noqa: E402
from atlas_desktop.ui.monitoring.mapping_model import MappingTableModel  # noqa: E402
from atlas_desktop.ui.monitoring.mapping_view import configure_big_table  # noqa: E402

ROWS = 100_000
TARGET_MS = 200.0
# Best of several: on a shared machine one reading also counts the other processes' time.
REPEATS = 5


def fill(path: Path) -> tuple[Store, str]:
    store = Store.open(path)
    connections = ConnectionRepository(store, Vault(MemoryKeySource()))
    cid = connections.add(parse_connection({"account_id": "123", **{k: "a" * 64 for k in (
        "consumer_key", "consumer_secret", "token_id", "token_secret")}}))  # fmt: skip
    statuses = (MappingStatus.MATCHED,) * 8 + (MappingStatus.UNMATCHED_ATLAS, MappingStatus.AMBIGUOUS)

    def draft(i: int) -> MappingDraft:
        status = statuses[i % len(statuses)]
        paired = status is MappingStatus.MATCHED
        key = f"{i:011d}"
        return MappingDraft(
            atlas_inventory_id=f"A{i}", erp_item_id=str(i) if paired else None,
            erp_location_id="1" if paired else None, lot=f"L{i % 977}", ndc_key=key,
            ndc_text_atlas=f"{key[:5]}-{key[5:9]}-{key[9:]}", ndc_text_erp=None,
            item_name=f"Product {i:06d} tablets", status=status,
            match_method=MatchMethod.AUTO_NDC if paired else None,
        )  # fmt: skip

    MappingRepository(store).apply_discovery(cid, (draft(i) for i in range(ROWS)))
    return store, cid


def timed(step: Callable[[], None]) -> float:
    start = time.perf_counter()
    step()
    return (time.perf_counter() - start) * 1000


def test_mapping_table_with_100k_rows(tmp_path: Path, qapp: Any) -> None:
    store, cid = fill(tmp_path / "bench.db")
    try:
        model = MappingTableModel(ReviewTable(store))
        view = QTableView()
        configure_big_table(view)
        view.setModel(model)
        view.resize(1200, 700)
        view.show()
        QApplication.processEvents()

        def paint(**query: Any) -> None:
            model.set_query(cid, **query)
            view.viewport().repaint()

        def jump_to_end() -> None:
            model.set_query(cid)
            view.scrollToBottom()
            view.viewport().repaint()

        first_paint = timed(lambda: paint())
        assert model.rowCount() == ROWS
        steps = {
            "first paint": lambda: paint(),
            "search change": lambda: paint(search="Product 0421"),
            "status filter change": lambda: paint(status=MappingStatus.AMBIGUOUS),
            "jump to the last row": jump_to_end,
            "NDC search (informative)": lambda: paint(search="00004217"),
            "2-character search (informative)": lambda: paint(search="L9"),
        }
        best = {name: min(timed(step) for _ in range(REPEATS)) for name, step in steps.items()}
        paint(search="Product 0421")
        assert 100 <= model.rowCount() < ROWS
        paint(status=MappingStatus.AMBIGUOUS)
        assert model.rowCount() == ROWS // 10

        print(f"\n100,000 mappings, first paint {first_paint:.0f} ms; best of {REPEATS}: "
              + ", ".join(f"{name} {value:.0f} ms" for name, value in best.items())
              + f" (target < {TARGET_MS:.0f} ms)")  # fmt: skip
        assert best["first paint"] < TARGET_MS and best["search change"] < TARGET_MS
        assert best["status filter change"] < TARGET_MS
        view.close()
    finally:
        store.close()
