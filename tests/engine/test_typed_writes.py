"""Plan builds typed operations; what it stores is what it stored before they were typed: the same names,
payloads and write keys for the same decision (a changed key would post a pending write twice after an
upgrade). The expected values were taken from plan.py before operations were typed."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import pytest

from atlas_desktop.domain.model import StockKey
from atlas_desktop.engine.merge import MergeDecision
from atlas_desktop.engine.plan import PlanCounts, product_master_drafts, writes_for

SCOPE = "conn-1/7/2026-01-02T03:04:05.000000+00:00/12"


def _row(factor: Decimal | None = None, lot: str | None = "LOT-A", lot_ref: str | None = None) -> Any:
    atlas = SimpleNamespace(
        quantity=Decimal(24) if factor else Decimal("10.5"), expiry=date(2027, 1, 31), version=4, unit="CS"
    )
    erp = SimpleNamespace(quantity=Decimal("12.000"), expiry=date(2027, 2, 28), unit="EA", lot_ref=lot_ref)
    return SimpleNamespace(
        mapping_id=7, atlas_inventory_id="inv_7", erp_key=StockKey("991", "30", lot), key_scope=SCOPE,
        unit_factor=factor, atlas=atlas, erp=erp,
    )  # fmt: skip


CASES = [
    (
        _row(),
        MergeDecision(Decimal("1.500"), Decimal(-3), date(2027, 2, 28), set_atlas_expiry=True),
        [
            ("atlas_adjust", '{"delta": "1.500", "row_id": "inv_7", "was": "10.5"}',
             "atl-9d3acb8fd9a15b09b3d51a436823af03", Decimal("1.500")),
            ("atlas_set_expiry",
             '{"expiry": "2027-02-28", "previous_expiry": "2027-01-31", "row_id": "inv_7", "version": 4}',
             "atl-d14fc5ada164e7f4b272c9bb537d029b", None),
            ("erp_adjust", '{"delta": "-3", "expiry": "2027-02-28", "item_id": "991", "location_id": "30", '
             '"lot": "LOT-A", "unit": "EA", "was": "12.000"}',
             "atl-2caaa902dd657ee35b90966a80c6832e", Decimal(-3)),
        ],
    ),
    (  # a pack-level pair (Atlas counts cases of 12) without a lot, the ERP's lot id known
        _row(Decimal(12), lot=None, lot_ref="lot-77"),
        MergeDecision(Decimal(-24), Decimal("2.25"), None, set_atlas_expiry=True),
        [
            ("atlas_adjust", '{"delta": "-2", "row_id": "inv_7", "was": "2"}',
             "atl-5ee604ea977c2462f0231670f17f4daa", Decimal(-24)),
            ("atlas_set_expiry",
             '{"expiry": null, "previous_expiry": "2027-01-31", "row_id": "inv_7", "version": 4}',
             "atl-a5b03f531be9a30fcdfda68450e88a42", None),
            ("erp_adjust", '{"delta": "2.25", "expiry": "2027-02-28", "item_id": "991", "location_id": "30", '
             '"lot": null, "lot_ref": "lot-77", "unit": "EA", "was": "12.000"}',
             "atl-a05df9ef9fa8d3af8a7a5d61641c4f63", Decimal("2.25")),
        ],
    ),
]  # fmt: skip


@pytest.mark.parametrize(("row", "decision", "stored"), CASES)
def test_a_decision_stores_the_names_payloads_and_keys_it_stored_before(
    row: Any, decision: MergeDecision, stored: list[tuple[str, str, str, Decimal | None]]
) -> None:
    writes = writes_for(row, decision)
    assert [
        (w.operation, json.dumps(dict(w.payload), sort_keys=True), w.idempotency_key, w.quantity_delta)
        for w in writes
    ] == stored
    assert [w.target.value for w in writes] == ["atlas", "atlas", "erp"]


def test_a_product_master_write_stores_what_it_stored_before() -> None:
    diff = SimpleNamespace(
        mapping_id=8, atlas_inventory_id="inv_8", erp_name="Amoxicillin 500 mg", atlas_name="Amoxicilin",
        atlas_version=3, key_scope=SCOPE,
    )  # fmt: skip
    [draft] = product_master_drafts([diff], PlanCounts())
    [write] = draft.writes
    assert (write.operation, json.dumps(dict(write.payload), sort_keys=True), write.idempotency_key) == (
        "atlas_set_fields",
        '{"fields": {"name": "Amoxicillin 500 mg"}, "previous": {"name": "Amoxicilin"}, "row_id": "inv_8", '
        '"version": 3}',
        "atl-a2b30e31e0d054f17444b40477690a58",
    )
