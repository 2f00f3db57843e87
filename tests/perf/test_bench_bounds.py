"""The benchmark's minimum counts requests at each API's real batch limits, not one per change."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_bounds  # noqa: E402


def test_netsuite_writes_one_adjustment_per_location_and_500_lines() -> None:
    changes = [("1", -1)] * 501 + [("2", -1)] * 10
    bound = bench_bounds.incremental("netsuite", 0, changes)
    assert bound.erp_writes == 3  # 500 + 1 at location 1, 10 at location 2
    assert "500 lines" in bound.explain()


def test_sap_writes_one_batch_whatever_the_documents_plus_the_token() -> None:
    receipts_and_issues = [("1010/0001", 1)] * 600 + [("1010/0001", -1)] * 5
    bound = bench_bounds.full_sync("sap", {"erp_items": 0, "atlas_rows": 0}, receipts_and_issues, 0)
    assert (
        bound.erp_writes == 2
    )  # CSRF fetch + one $batch carrying 3 documents (499 + 101 receipts, 5 issues)
    assert "in 3 material document(s)" in bound.explain()


def test_atlas_writes_500_a_request_and_nothing_to_write_costs_nothing() -> None:
    assert bench_bounds.atlas_requests(0) == 0
    assert bench_bounds.atlas_requests(1001) == 3
    assert bench_bounds.incremental("sap", 0, []).erp_writes == 0


def test_a_1000_change_push_minimum() -> None:
    # 500 ERP receipts -> Atlas, 500 Atlas sales -> ERP issues at 4 locations.
    across = [(str(i % 4), -1) for i in range(500)]
    netsuite = bench_bounds.incremental("netsuite", 500, across)
    assert (netsuite.erp_reads, netsuite.atlas_reads, netsuite.erp_writes, netsuite.atlas_writes) == (
        2,
        1,
        4,
        1,
    )
    sap = bench_bounds.incremental("sap", 500, across)
    assert (sap.erp_reads, sap.atlas_reads, sap.erp_writes, sap.atlas_writes) == (1, 1, 2, 1)


def test_realistic_bound_counts_each_line_spread_over_the_slots() -> None:
    one_record = bench_bounds.incremental("netsuite", 0, [("1", -1)])
    many_lines = bench_bounds.incremental("netsuite", 0, [("1", -1)] * 500)
    instant = many_lines.seconds(5, 20, "netsuite", "instant")
    assert instant == one_record.seconds(5, 20, "netsuite", "instant")
    assert many_lines.seconds(5, 20, "netsuite", "realistic") > one_record.seconds(
        5, 20, "netsuite", "realistic"
    )
