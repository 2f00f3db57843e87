"""CPU per row outside SQLite in a first sync: NDC reading, discovery, planning, the connectors' row parsing.

Run by hand (not part of the test run): `PYTHONPATH=$PWD python tests/perf/bench_rows.py [size] [phase...]`.
Inputs come from the sandbox catalog (`size` products, 100,000 by default) and are built before the clock
starts; each phase prints the CPU seconds (time.process_time) of its work alone, the least of
BENCH_REPEAT runs (3). On a shared machine the
wall clock counts other processes too: compare the CPU figures, before and after, interleaved.
"""

from __future__ import annotations

import gc
import json
import os
import sys
import time
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

import httpx

from atlas_desktop.connectors.atlas.client import _built, _change_batch
from atlas_desktop.connectors.netsuite.client import NetSuiteClient
from atlas_desktop.connectors.netsuite.mapping import FieldMap
from atlas_desktop.connectors.netsuite.reads import _lot_levels_of, _products_of
from atlas_desktop.domain.enums import ConflictPolicy, SyncDirection
from atlas_desktop.domain.merge_rows import MergeRow
from atlas_desktop.domain.model import Location, StockKey
from atlas_desktop.domain.snapshots import AtlasValues, ErpValues
from atlas_desktop.engine.discovery import (
    AtlasRef,
    ErpProductRef,
    ErpStockRef,
    LocationResolver,
    discover,
    identify_ndc,
    unambiguous_key,
)
from atlas_desktop.engine.plan import PlanCounts, plan
from atlas_desktop.sandbox.catalog import Catalog, atlas_rows, erp_items

TODAY = date(2026, 11, 27)
STAMP = "2026-11-20 08:15:00"
UPDATED = datetime(2026, 11, 20, 8, 15, tzinfo=UTC)
NETSUITE_PAGE = 1000
ATLAS_PAGE = 1000


REPEAT = int(os.environ.get("BENCH_REPEAT", "3"))


def cpu(label: str, rows: int, work: Callable[[], object]) -> float:
    """The least CPU time of REPEAT runs (other processes on the machine only ever add to it)."""
    spent = []
    for _ in range(REPEAT):
        gc.collect()
        start = time.process_time()
        work()
        spent.append(time.process_time() - start)
    best = min(spent)
    print(f"{label:<46} {rows:>8,} rows {best:7.2f} s cpu {best / rows * 1e6:7.2f} us/row", flush=True)
    return best


class World:
    """The catalog's two views, as the connectors receive them and as discovery and the merge see them."""

    def __init__(self, size: int) -> None:
        catalog = Catalog(42, size, TODAY)
        self.erp = list(erp_items(catalog, "netsuite"))
        self.atlas = list(atlas_rows(Catalog(42, size, TODAY)))
        self.locations = sorted({s.location for item in self.erp for s in item.stock})

    # ---- NetSuite SuiteQL pages (JSON bytes, as the emulator answers) ----
    def netsuite_product_pages(self) -> list[bytes]:
        rows = [
            {
                "id": str(i + 1), "itemid": p.sku, "displayname": p.name, "ndc": p.ndc,
                "upccode": p.gtin14[2:], "islotitem": "T" if p.lot_tracked else "F", "isinactive": "F",
                "manufacturer": p.manufacturer, "stockunit": p.unit, "modified": STAMP,
            }
            for i, p in enumerate(item.product for item in self.erp)
        ]  # fmt: skip
        return _pages(rows, NETSUITE_PAGE)

    def netsuite_lot_pages(self) -> list[bytes]:
        rows = []
        numid = 0
        for i, item in enumerate(self.erp):
            expiries = {lot.lot: lot.expiry for lot in item.lots}
            for s in item.stock:
                if s.lot is None:
                    continue
                numid += 1
                rows.append(
                    {
                        "item": str(i + 1), "numid": str(numid), "location": s.location,
                        "qty": str(s.quantity), "lot": s.lot, "expiry": expiries[s.lot].isoformat(),
                        "lotmodified": STAMP, "stockunit": item.product.unit,
                    }
                )  # fmt: skip
        return _pages(rows, NETSUITE_PAGE)

    # ---- Atlas change feed pages ----
    def atlas_change_pages(self) -> list[bytes]:
        rows = [
            {
                "id": f"inv-{n}", "sku": r.sku, "ndc": r.ndc, "name": r.name, "lot_number": r.lot_number,
                "expiry_date": r.expiry_date.isoformat() if r.expiry_date else None,
                "quantity": str(r.quantity), "unit": r.unit, "location": r.location, "version": 1,
                "updated_at": "2026-11-20T08:15:00Z", "deleted": False,
            }
            for n, r in enumerate(self.atlas)
        ]  # fmt: skip
        pages = []
        for start in range(0, len(rows), ATLAS_PAGE):
            body = {"changes": rows[start : start + ATLAS_PAGE], "cursor": str(start), "has_more": True}
            pages.append(json.dumps(body).encode())
        return pages

    # ---- discovery's inputs (what the mirrors hand it) ----
    def discovery_inputs(self) -> tuple[list[AtlasRef], list[ErpProductRef], list[ErpStockRef]]:
        products = [ErpProductRef(str(i + 1), item.product.ndc, item.product.name)
                    for i, item in enumerate(self.erp)]  # fmt: skip
        stock = [ErpStockRef(str(i + 1), s.location, s.lot)
                 for i, item in enumerate(self.erp) for s in item.stock]  # fmt: skip
        atlas = [AtlasRef(f"inv-{n}", r.ndc, r.lot_number, r.location, r.name)
                 for n, r in enumerate(self.atlas)]  # fmt: skip
        return atlas, products, stock

    def merge_rows(self) -> list[MergeRow]:
        rows = []
        for n, item in enumerate(self.erp):
            expiries = {lot.lot: lot.expiry for lot in item.lots}
            for s in item.stock:
                expiry = expiries.get(s.lot) if s.lot else None
                atlas_q = s.quantity + (n % 20 == 0)  # 5 % differ, as in the catalog
                rows.append(
                    MergeRow(
                        len(rows) + 1, f"inv-{len(rows)}", StockKey(str(n + 1), s.location, s.lot),
                        None, SyncDirection.BIDIRECTIONAL, ConflictPolicy.MANUAL, None,
                        AtlasValues(atlas_q, expiry, item.product.unit, 1, False, UPDATED),
                        ErpValues(s.quantity, expiry, item.product.unit, str(s.quantity), None),
                        False, False, f"scope-{n}",
                    )
                )  # fmt: skip
        return rows


def _pages(rows: list[dict[str, Any]], size: int) -> list[bytes]:
    return [
        json.dumps({"items": rows[i : i + size], "hasMore": i + size < len(rows), "totalResults": len(rows),
                    "offset": i, "count": len(rows[i : i + size])}).encode()
        for i in range(0, len(rows), size)
    ]  # fmt: skip


def _responses(pages: list[bytes]) -> list[httpx.Response]:
    return [httpx.Response(200, content=body, headers={"Content-Type": "application/json"}) for body in pages]


def bench_ndc(world: World) -> None:
    erp_texts = [item.product.ndc for item in world.erp]
    atlas_texts = [r.ndc for r in world.atlas]

    def run() -> None:
        identify_ndc.cache_clear()
        for text in erp_texts:
            unambiguous_key(text)
        identify_ndc.cache_clear()
        for text in atlas_texts:
            unambiguous_key(text)
        identify_ndc.cache_clear()

    cpu("ndc: unambiguous_key (ERP products, Atlas rows)", len(erp_texts) + len(atlas_texts), run)


def bench_discovery(world: World) -> None:
    atlas, products, stock = world.discovery_inputs()
    resolver = LocationResolver([Location(code, code, code) for code in world.locations])

    def run() -> None:
        identify_ndc.cache_clear()
        for _draft in discover(atlas, products, stock, resolver):
            pass
        identify_ndc.cache_clear()

    cpu("discovery: discover() (Atlas rows + ERP stock)", len(atlas) + len(stock), run)


def bench_plan(world: World) -> None:
    rows = world.merge_rows()
    cpu("plan: plan() over first-sync merge rows", len(rows), lambda: plan(rows, PlanCounts()))


def bench_netsuite(world: World) -> None:
    fields = FieldMap(ndc_column="custitem_ndc_code")
    products = _responses(world.netsuite_product_pages())
    lots = _responses(world.netsuite_lot_pages())
    window = datetime(2026, 11, 27, tzinfo=UTC)
    n_products = sum(len(json.loads(r.content)["items"]) for r in products)
    n_lots = sum(len(json.loads(r.content)["items"]) for r in lots)

    def run_products() -> None:
        for i, response in enumerate(products):
            page = NetSuiteClient._page_of(response, "reading items", i * NETSUITE_PAGE)
            _products_of(page.items, fields, window, {})

    def run_lots() -> None:
        for i, response in enumerate(lots):
            page = NetSuiteClient._page_of(response, "reading stock", i * NETSUITE_PAGE)
            _lot_levels_of(page.items, fields, window)

    cpu("netsuite: item pages -> Product", n_products, run_products)
    cpu("netsuite: lot stock pages -> StockLevel", n_lots, run_lots)


def bench_atlas(world: World) -> None:
    pages = _responses(world.atlas_change_pages())
    rows = len(world.atlas)

    def run() -> None:
        for response in pages:
            _built(response, "reading the change feed", _change_batch)

    cpu("atlas: change feed pages -> AtlasInventoryRow", rows, run)


PHASES: dict[str, Callable[[World], None]] = {
    "ndc": bench_ndc,
    "discovery": bench_discovery,
    "plan": bench_plan,
    "netsuite": bench_netsuite,
    "atlas": bench_atlas,
}


def main(argv: list[str]) -> None:
    size = int(argv[0]) if argv and argv[0].isdigit() else 100_000
    phases = [a for a in argv if not a.isdigit()] or list(PHASES)
    world = World(size)
    print(f"catalog {size:,} products: {len(world.erp):,} in the ERP, {len(world.atlas):,} Atlas rows")
    for name in phases:
        PHASES[name](world)


if __name__ == "__main__":
    main(sys.argv[1:])
