"""Time building a 100,000-product catalog and its ERP/Atlas views (run by hand; not part of the test run)."""

from __future__ import annotations

import sys
import time
import tracemalloc
from collections.abc import Callable
from datetime import date

from atlas_desktop.sandbox.catalog import Catalog, atlas_rows, erp_items, overlap_report

TODAY = date(2026, 11, 27)


def timed(label: str, fn: Callable[[], object]) -> object:
    # CPU time too: on a shared machine the wall clock also counts other processes.
    start, cpu = time.perf_counter(), time.process_time()
    result = fn()
    print(f"{label:<44} {time.perf_counter() - start:6.2f} s wall {time.process_time() - cpu:6.2f} s cpu")
    return result


def main(size: int = 100_000) -> None:
    print(f"catalog size {size:,}")

    def fresh() -> Catalog:
        return Catalog(42, size, TODAY)

    timed("Catalog(...)", lambda: Catalog(42, size, TODAY))
    timed("products() (fresh catalog)", lambda: sum(1 for _ in fresh().products()))
    timed("list(erp_items(..., 'netsuite')) (fresh)", lambda: list(erp_items(fresh(), "netsuite")))
    timed("list(atlas_rows(...)) (fresh)", lambda: list(atlas_rows(fresh())))
    report = timed("overlap_report(...) (fresh)", lambda: overlap_report(fresh()))
    print(f"  {report.both=} {report.erp_stock_rows=} {report.atlas_rows=}")
    tracemalloc.start()
    for _ in erp_items(fresh(), "sap"):
        pass
    peak = tracemalloc.get_traced_memory()[1]
    print(f"{'peak traced memory, streaming erp_items':<44} {peak / 1e6:6.1f} MB")
    tracemalloc.stop()


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000)
