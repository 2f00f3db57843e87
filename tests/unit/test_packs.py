"""Pack levels read back from product attributes: only usable ones, never the base unit."""

from __future__ import annotations

from decimal import Decimal

from atlas_desktop.domain.packs import PackLevel, pack_levels, per_text


def test_per_text_is_a_plain_decimal_or_nothing() -> None:
    assert per_text(Decimal(12), Decimal(1)) == "12"
    assert per_text(Decimal("24.000"), Decimal(2)) == "12"
    assert per_text(Decimal(1), Decimal(4)) == "0.25"
    assert per_text(Decimal(1), Decimal(3)) is None  # no exact factor: never a rounded one
    assert per_text(Decimal(0), Decimal(1)) is None
    assert per_text(Decimal(12), Decimal(0)) is None


def test_pack_levels_keep_units_with_an_ndc_and_a_factor_other_than_the_base() -> None:
    attributes = {
        "ndc:EA": "5432112345",
        "per:EA": "1",
        "ndc:CS": "5432112346, 5432112347",
        "per:CS": "12",
        "ndc:BX": "5432112348",  # no factor: cannot convert, so not a pack level
        "ndc:PL": "5432112349",
        "per:PL": "lots",
        "gtin:CS": "50354321123460",
    }
    assert pack_levels(attributes, "EA") == (PackLevel("CS", ("5432112346", "5432112347"), Decimal(12)),)
