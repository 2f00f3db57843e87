"""The quantity checker at the door (domain/quantity.py): what each system can hold, and nothing else."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from atlas_desktop.domain.errors import ConnectorError, ErrorKind
from atlas_desktop.domain.model import ErpType, StockKey
from atlas_desktop.domain.quantity import (
    ATLAS,
    NETSUITE,
    SAP,
    QuantityBounds,
    QuantityRefused,
    atlas_ref,
    erp_bounds,
    erp_ref,
    is_read_ref,
    read_quantity,
    require_writable,
)

SYSTEMS = (SAP, NETSUITE, ATLAS)


@pytest.mark.parametrize(
    ("text", "sap", "netsuite", "atlas"),
    [
        ("1e400", False, False, False),
        ("99999999999999999999.5", False, False, False),
        ("12345678901234567890.5", False, False, False),
        ("NaN", False, False, False),
        ("-Infinity", False, False, False),
        ("sNaN", False, False, False),
        ("1e-400", False, False, False),
        ("abc", False, False, False),
        ("", False, False, False),
        ("12,5", False, False, False),
        ("12345678901.5", False, False, True),  # 11 integer digits: beyond 13,3
        ("9999999999.999", True, True, True),
        ("1.2345", False, True, True),  # 4 places: beyond SAP's 3
        ("0.123456", False, False, True),
        ("1160.00000000000000", True, True, True),  # trailing zeros are no places (SAP's metadata scale)
        ("-3", True, True, True),
        ("0E+400", True, True, True),
    ],
)
def test_each_system_takes_what_it_can_hold(text: str, sap: bool, netsuite: bool, atlas: bool) -> None:
    for bounds, expected in zip(SYSTEMS, (sap, netsuite, atlas), strict=True):
        try:
            read_quantity(text, bounds, item="item 7")
        except QuantityRefused as refused:
            assert not expected, (bounds.system, text, refused.message)
            assert refused.kind is ErrorKind.OUT_OF_BOUNDS and "item 7" in refused.message
            assert bounds.system in refused.message and refused.fix
        else:
            assert expected, (bounds.system, text)


def test_exponent_forms_within_bounds_come_back_plain() -> None:
    for text, plain in (("1.5E+2", "150"), ("0E+400", "0"), ("2E+1", "20")):
        value = read_quantity(text, SAP, item="x")
        assert str(value) == plain and value.as_tuple().exponent == 0
    assert str(read_quantity("1160.000", SAP, item="x")) == "1160.000"  # other forms are kept as sent


def test_long_texts_are_refused_before_they_are_parsed() -> None:
    with pytest.raises(QuantityRefused, match="characters long"):
        read_quantity("0." + "0" * 100_000 + "1", ATLAS, item="x")
    shown = "9" * 1000
    with pytest.raises(QuantityRefused) as refused:
        read_quantity(shown, ATLAS, item="x")
    assert len(refused.value.message) < 300  # a huge remote text is not copied whole into the message


def test_only_text_ints_and_decimals_are_read() -> None:
    assert read_quantity(12, NETSUITE, item="x") == 12
    assert read_quantity(Decimal("2.5"), NETSUITE, item="x") == Decimal("2.5")
    for value in (0.1, True, None, [1]):
        with pytest.raises(QuantityRefused):
            read_quantity(value, NETSUITE, item="x")


def test_writes_are_refused_beyond_the_target() -> None:
    require_writable(Decimal("-9999999999.999"), SAP, item="x", what="The change")
    with pytest.raises(QuantityRefused, match="cannot be written to SAP") as refused:
        require_writable(Decimal("1.2345"), SAP, item="Atlas row r1", what="The change")
    assert isinstance(refused.value, ConnectorError) and not refused.value.retryable
    assert "Atlas row r1" in refused.value.message


def test_refs_name_the_item_and_fit_the_error_table() -> None:
    key = StockKey("M" * 300, "1010/0001", "L" * 300)
    assert len(erp_ref(key)) <= 200 and is_read_ref(erp_ref(key))
    assert erp_ref(StockKey("5", "1")) == "ERP stock 5 at 1"
    assert erp_ref(StockKey("5", "1", "LOT-A")) == "ERP stock 5 at 1 lot LOT-A"
    assert atlas_ref("inv_1") == "Atlas row inv_1" and is_read_ref(atlas_ref("inv_1"))
    assert not is_read_ref("mapping 12") and not is_read_ref("order 7")
    assert erp_bounds(ErpType.SAP_ONPREM) is SAP and erp_bounds(ErpType.NETSUITE) is NETSUITE


def _within(bounds: QuantityBounds) -> st.SearchStrategy[Decimal]:
    largest = 10 ** (bounds.integer_digits + bounds.places) - 1  # in units of the last place
    return st.integers(-largest, largest).map(lambda n: Decimal(n).scaleb(-bounds.places))


@given(st.sampled_from(SYSTEMS).flatmap(lambda b: st.tuples(st.just(b), _within(b))))
def test_every_value_within_bounds_is_read_as_sent(case: tuple[QuantityBounds, Decimal]) -> None:
    bounds, value = case
    for form in (str(value), format(value, "f"), value):
        assert read_quantity(form, bounds, item="x") == value


@given(
    st.sampled_from(SYSTEMS),
    st.integers(1, 10**6),
    st.integers(0, 400),
)
def test_values_past_the_integer_digits_are_refused(bounds: QuantityBounds, digits: int, extra: int) -> None:
    value = Decimal(digits).scaleb(bounds.integer_digits + extra)  # at least integer_digits + 1 digits
    with pytest.raises(QuantityRefused, match="integer digits"):
        read_quantity(str(value), bounds, item="x")


@given(st.sampled_from(SYSTEMS), st.integers(1, 10**6).filter(lambda n: n % 10), st.integers(1, 30))
def test_values_past_the_places_are_refused(bounds: QuantityBounds, digits: int, extra: int) -> None:
    value = Decimal(digits).scaleb(-(bounds.places + extra))
    with pytest.raises(QuantityRefused, match="decimal places"):
        read_quantity(format(value, "f"), bounds, item="x")


@given(st.text(max_size=60))
def test_any_text_is_a_quantity_or_a_refusal_never_a_crash(text: str) -> None:
    try:
        value = read_quantity(text, ATLAS, item="x")
    except QuantityRefused:
        return
    assert value.is_finite() and ATLAS.problem(value) is None
