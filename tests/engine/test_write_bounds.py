"""The write side: no decision is kept whose quantities a side cannot hold (engine/bounds.py)."""

from __future__ import annotations

from decimal import Decimal

from atlas_desktop.domain.drafts import DecisionDraft, WriteDraft
from atlas_desktop.domain.model import Side
from atlas_desktop.domain.operations import ATLAS_ADJUST, ATLAS_SET_FIELDS, ERP_ADJUST
from atlas_desktop.domain.quantity import ATLAS, NETSUITE, SAP
from atlas_desktop.domain.snapshots import BaseValues
from atlas_desktop.engine.bounds import within_bounds
from atlas_desktop.engine.plan import PlanCounts


def draft(
    mapping_id: int, base: str, atlas_delta: str | None = None, erp_delta: str | None = None
) -> DecisionDraft:
    writes = []
    if atlas_delta is not None:
        writes.append(WriteDraft(Side.ATLAS, ATLAS_ADJUST, {"row_id": f"r{mapping_id}", "delta": atlas_delta},
                                 f"k-a{mapping_id}", Decimal(atlas_delta)))  # fmt: skip
    if erp_delta is not None:
        writes.append(WriteDraft(Side.ERP, ERP_ADJUST, {"item_id": f"i{mapping_id}", "location_id": "1",
                                 "delta": erp_delta}, f"k-e{mapping_id}", Decimal(erp_delta)))  # fmt: skip
    return DecisionDraft(mapping_id, BaseValues(Decimal(base), None, "EA"), tuple(writes))


def test_drafts_within_both_sides_are_kept_as_they_are() -> None:
    drafts = [draft(1, "10", erp_delta="-2"), draft(2, "9999999999.999", atlas_delta="0.5")]
    counts, refused = PlanCounts(to_atlas=1, to_erp=1), []
    assert within_bounds(drafts, ATLAS, SAP, counts, refused) == drafts
    assert refused == [] and (counts.to_atlas, counts.to_erp) == (1, 1)


def test_a_value_the_erp_cannot_hold_becomes_a_refusal_not_a_write() -> None:
    places = draft(1, "12.2345", erp_delta="0.2345")  # an Atlas value with 4 places, carried to SAP
    digits = draft(2, "12345678901", erp_delta="12345678000")  # 11 integer digits: Atlas yes, ERPs no
    kept_one = draft(3, "5", atlas_delta="1")
    counts, refused = PlanCounts(to_atlas=1, to_erp=2), []
    assert within_bounds([places, digits, kept_one], ATLAS, SAP, counts, refused) == [kept_one]
    assert [(r.mapping_id, r.ref) for r in refused] == [(1, "mapping 1"), (2, "mapping 2")]
    assert "SAP" in refused[0].error.message and "i1" in refused[0].error.message
    assert (counts.to_atlas, counts.to_erp) == (1, 0)
    # NetSuite holds 5 places, not 11 integer digits.
    assert len(within_bounds([places, digits], ATLAS, NETSUITE, PlanCounts(), [])) == 1


def test_a_merged_sum_past_a_side_is_refused_even_without_a_write_there() -> None:
    merged = draft(4, "1000000000000", atlas_delta="1")  # 13 integer digits: beyond Atlas too
    refused: list = []
    assert within_bounds([merged], ATLAS, NETSUITE, PlanCounts(to_atlas=1), refused) == []
    assert "merged quantity" in refused[0].error.message


def test_writes_without_a_quantity_are_not_judged() -> None:
    rename = DecisionDraft(5, None, (WriteDraft(Side.ATLAS, ATLAS_SET_FIELDS, {"row_id": "r5"}, "k-5"),))
    assert within_bounds([rename], ATLAS, SAP, PlanCounts(), []) == [rename]
