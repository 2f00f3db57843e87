"""GS1 element strings (raw with FNC1, "]d2" prefix, parentheses) into GTIN, lot, expiry, serial, NDC."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from atlas_desktop.domain.gs1 import GS, Gs1Error, gtin_check_digit, is_valid_gtin, parse_gs1
from atlas_desktop.domain.ndc import NdcLayout

GTIN = "00312345678906"  # NDC 1234567890 as a unit GTIN


def test_datamatrix_scan_with_prefix_and_fnc1() -> None:
    data = parse_gs1(f"]d201{GTIN}17270131" + f"10LOT-42{GS}21SN0001")
    assert data.gtin == GTIN
    assert data.expiry == date(2027, 1, 31)
    assert data.lot == "LOT-42"
    assert data.serial == "SN0001"
    assert [c.hyphenated for c in data.ndc_candidates] == ["1234-5678-90", "12345-678-90", "12345-6789-0"]


def test_human_readable_parentheses_form() -> None:
    data = parse_gs1(f"(01){GTIN}(17)270131(10)LOT42(21)SN1")
    assert (data.gtin, data.expiry, data.lot, data.serial) == (GTIN, date(2027, 1, 31), "LOT42", "SN1")
    assert parse_gs1(f"(01) {GTIN} (10) LOT42").lot == "LOT42"  # spaces as printed under a barcode


def test_fixed_length_ais_need_no_separator_and_order_is_free() -> None:
    data = parse_gs1("17270131" + f"01{GTIN}" + "21ABC")
    assert (data.gtin, data.expiry, data.serial, data.lot) == (GTIN, date(2027, 1, 31), "ABC", None)


def test_leading_and_trailing_gs_and_gs1_128_prefix() -> None:
    data = parse_gs1(f"]C1{GS}01{GTIN}10A1{GS}")
    assert (data.gtin, data.lot) == (GTIN, "A1")


@pytest.mark.parametrize(
    ("yymmdd", "expected"),
    [
        ("130200", date(2013, 2, 28)),
        ("160200", date(2016, 2, 29)),
        ("241100", date(2024, 11, 30)),
        ("271200", date(2027, 12, 31)),
    ],
)
def test_expiry_day_00_means_last_day_of_month_including_leap_years(yymmdd: str, expected: date) -> None:
    assert parse_gs1(f"01{GTIN}17{yymmdd}").expiry == expected


def test_gtin_that_embeds_no_ndc_has_no_candidates() -> None:
    body = "0401234567890"
    gtin = body + str(gtin_check_digit(body))
    data = parse_gs1(f"(01){gtin}(10)X")
    assert data.gtin == gtin and data.ndc_candidates == ()


def test_message_without_gtin() -> None:
    data = parse_gs1("(10)LOT(21)S")
    assert data.gtin is None and data.ndc_candidates == () and data.lot == "LOT"


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("", "empty"),
        ("]d2", "empty"),
        ("hello", "cannot read"),
        (f"01{GTIN[:-1]}5", "wrong check digit (expected 6)"),
        (f"01{GTIN}17271301", "cannot read"),  # month 13
        ("(01)123", "cannot read"),
        ("]A0123456", "carries no GS1 data"),
    ],
)
def test_invalid_input_raises_a_clear_gs1_error(text: str, fragment: str) -> None:
    with pytest.raises(Gs1Error) as caught:
        parse_gs1(text)
    assert fragment in str(caught.value)
    assert isinstance(caught.value, ValueError)


def test_check_digit_helpers() -> None:
    assert gtin_check_digit("0031234567890") == 6
    assert gtin_check_digit("400638133393") == 1  # EAN-13 4006381333931
    assert is_valid_gtin("4006381333931") and is_valid_gtin(GTIN) and is_valid_gtin(GTIN[2:])
    assert not is_valid_gtin("4006381333932")
    assert not is_valid_gtin("40063813339")  # GTIN lengths are 8, 12, 13, 14
    assert not is_valid_gtin("abcdefghijklm")
    with pytest.raises(ValueError):
        gtin_check_digit("12a4")


# --- properties ------------------------------------------------------------------------------------

# Lot and serial: GS1 character set 82 minus "(" and ")" (which would end the field in the parentheses form).
_X = "!\"%&'*+,-./0123456789:;<=>?ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz"


@st.composite
def gtins(draw: st.DrawFn) -> str:
    body = draw(st.text(alphabet="0123456789", min_size=13, max_size=13))
    return body + str(gtin_check_digit(body))


def _yymmdd(day: date) -> str:
    return day.strftime("%y%m%d")


# Inside the -49/+50 year century window around today, so the two-digit year reads back as the same year.
_expiries = st.dates(min_value=date(2000, 1, 1), max_value=date(2060, 12, 31))
_fields = st.text(alphabet=_X, min_size=1, max_size=20)


@given(gtins(), _fields, _expiries, _fields)
def test_element_strings_round_trip_with_fnc1(gtin: str, lot: str, expiry: date, serial: str) -> None:
    raw = f"01{gtin}17{_yymmdd(expiry)}10{lot}{GS}21{serial}"
    for text in (raw, "]d2" + raw, "]d2" + GS + raw):
        data = parse_gs1(text)
        assert (data.gtin, data.lot, data.expiry, data.serial) == (gtin, lot, expiry, serial)
        assert bool(data.ndc_candidates) == (gtin[1:3] == "03")


@given(gtins(), _fields, _expiries, _fields)
def test_element_strings_round_trip_in_parentheses(gtin: str, lot: str, expiry: date, serial: str) -> None:
    data = parse_gs1(f"(01){gtin}(10){lot}(17){_yymmdd(expiry)}(21){serial}")
    assert (data.gtin, data.lot, data.expiry, data.serial) == (gtin, lot, expiry, serial)


@given(gtins(), _expiries, _fields, st.booleans())
def test_without_fnc1_when_the_only_variable_field_comes_last(
    gtin: str, expiry: date, value: str, as_lot: bool
) -> None:
    ai = "10" if as_lot else "21"
    data = parse_gs1(f"17{_yymmdd(expiry)}01{gtin}{ai}{value}")
    assert (data.gtin, data.expiry) == (gtin, expiry)
    assert (data.lot, data.serial) == ((value, None) if as_lot else (None, value))


@given(st.text(alphabet="0123456789", min_size=10, max_size=10), st.integers(min_value=0, max_value=8))
def test_ndc_gtins_give_the_three_readings_of_their_ten_digits(ten: str, indicator: int) -> None:
    body = f"{indicator}03{ten}"
    data = parse_gs1(f"01{body}{gtin_check_digit(body)}")
    assert [c.layout for c in data.ndc_candidates] == [NdcLayout.L4_4_2, NdcLayout.L5_3_2, NdcLayout.L5_4_1]
    assert {c.digits for c in data.ndc_candidates} == {ten}
