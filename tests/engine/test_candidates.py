"""Ranking the ERP positions an Atlas row may be: NDC in any form, then lot, quantity, location."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from atlas_desktop.domain.review_rows import ErpCandidate
from atlas_desktop.engine.candidates import obvious, rank, ten_digit_forms, unique_obvious


def _position(
    item: str, location: str, lot: str | None, ndc: str, qty: str, mapped: bool = False
) -> ErpCandidate:
    return ErpCandidate(item, location, lot, f"SKU-{item}", f"Item {item}", ndc, Decimal(qty), mapped)


def test_ten_digit_forms_are_the_padded_sources_of_a_key() -> None:
    assert ten_digit_forms("00116011616") == {"0116011616", "0011611616"}
    assert ten_digit_forms("12345067890") == {"1234567890"}
    assert ten_digit_forms("not a key") == set()


def test_same_ndc_lot_quantity_and_location_rank_first_and_are_obvious() -> None:
    positions = [
        _position("7", "2", "L1", "00116-0116-16", "5"),
        _position("7", "1", "L1", "00116-0116-16", "5"),
        _position("7", "1", "L2", "00116-0116-16", "9"),
        _position("9", "1", "L1", "99999-9999-99", "5"),
    ]
    ranked = rank(positions, ndc_text="0116011616", lot="l1 ", quantity=Decimal("5"), location="1")
    assert [(r.position.item_id, r.position.location_id, r.position.lot) for r in ranked][:3] == [
        ("7", "1", "L1"), ("7", "2", "L1"), ("9", "1", "L1"),
    ]  # fmt: skip
    assert ranked[0].reasons[0] == "same NDC read as 00116-0116-16"
    assert obvious(ranked) is ranked[0]


def test_no_obvious_one_when_two_free_positions_tie_or_the_best_is_taken() -> None:
    tie = [_position("7", "1", "L1", "12345-678-90", "5"), _position("7", "2", "L1", "12345-678-90", "5")]
    ranked = rank(tie, ndc_text="12345-0678-90", lot="L1", quantity=Decimal("5"), location=None)
    assert ranked[0].reasons[0] == "same NDC" and obvious(ranked) is None
    taken = [_position("7", "1", "L1", "12345-678-90", "5", mapped=True)]
    ranked = rank(taken, ndc_text="12345-0678-90", lot="L1", quantity=Decimal("5"), location="1")
    assert obvious(ranked) is None


def test_the_location_map_of_the_connection_counts_as_the_same_location() -> None:
    positions = [_position("7", "1000/0001", None, "12345-678-90", "5"),
                 _position("7", "1000/0002", None, "12345-678-90", "5")]  # fmt: skip
    ranked = rank(positions, ndc_text="1234567890", lot=None, quantity=None, location="main",
                  location_map={"MAIN": "1000/0002"})  # fmt: skip
    assert ranked[0].position.location_id == "1000/0002" and "same location" in ranked[0].reasons
    assert obvious(ranked) is ranked[0]


def test_accepting_every_obvious_match_never_pairs_one_position_twice() -> None:
    shared = _position("7", "1", "L1", "12345-678-90", "5")
    own = _position("8", "1", "L2", "22345-678-90", "5")

    def ranked(position: ErpCandidate) -> list[Any]:
        return rank([position], ndc_text=position.ndc_text, lot=position.lot, quantity=None, location=None)

    rows = [("row-a", ranked(shared)), ("row-b", ranked(shared)), ("row-c", ranked(own))]
    assert unique_obvious(rows) == [("row-c", own)]
