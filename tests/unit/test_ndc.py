"""NDC parsing, the 11-digit matching key, the 10-digit reversal and the GTIN-14 round trip."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from atlas_desktop.domain.gs1 import gtin_check_digit, is_valid_gtin
from atlas_desktop.domain.ndc import (
    TEN_DIGIT_LAYOUTS,
    AmbiguousNdc,
    Ndc,
    NdcError,
    NdcLayout,
    candidate_keys,
    canonical_key,
    display_ndc,
    ndc_candidates,
    parse_ndc,
)

# --- examples: every layout -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "layout", "segments", "eleven"),
    [
        ("1234-5678-90", NdcLayout.L4_4_2, ("1234", "5678", "90"), "01234567890"),
        ("12345-678-90", NdcLayout.L5_3_2, ("12345", "678", "90"), "12345067890"),
        ("12345-6789-0", NdcLayout.L5_4_1, ("12345", "6789", "0"), "12345678900"),
        ("12345-6789-01", NdcLayout.L5_4_2, ("12345", "6789", "01"), "12345678901"),
        ("12345678901", NdcLayout.L5_4_2, ("12345", "6789", "01"), "12345678901"),
        ("0002-3232-30", NdcLayout.L4_4_2, ("0002", "3232", "30"), "00002323230"),
    ],
)
def test_parses_each_layout_to_its_segments_and_billing_form(
    text: str, layout: NdcLayout, segments: tuple[str, str, str], eleven: str
) -> None:
    ndc = parse_ndc(text)
    assert (ndc.labeler, ndc.product, ndc.package) == segments
    assert ndc.layout is layout
    assert ndc.eleven == eleven
    assert ndc.key == eleven
    assert ndc.hyphenated == "-".join(segments)


def test_twelve_digit_6_4_2_has_no_eleven_and_keys_on_its_twelve_digits() -> None:
    for text in ("123456-7890-12", "123456789012", "NDC 123456 7890 12"):
        ndc = parse_ndc(text)
        assert ndc.layout is NdcLayout.L6_4_2
        assert (ndc.labeler, ndc.product, ndc.package) == ("123456", "7890", "12")
        assert ndc.eleven is None
        assert ndc.key == "123456789012"
        assert ndc.ten is None
    with pytest.raises(NdcError, match="12-digit 6-4-2"):
        parse_ndc("123456-7890-12").to_gtin14()


@pytest.mark.parametrize(
    "text",
    [" 12345-678-90 ", "NDC 12345-678-90", "ndc:12345-678-90", "NDC# 12345 678 90", "12345\u2013678\u201390"],
)
def test_tolerates_prefix_whitespace_and_other_separators(text: str) -> None:
    assert parse_ndc(text) == Ndc("12345", "678", "90", NdcLayout.L5_3_2)


def test_fda_star_placeholder_names_the_padding_segment() -> None:
    ndc = parse_ndc("12345-*678-09")
    assert ndc == Ndc("12345", "678", "09", NdcLayout.L5_3_2)
    assert parse_ndc("*1234-5678-90").layout is NdcLayout.L4_4_2
    with pytest.raises(NdcError, match=r"'\*'"):
        parse_ndc("1234-*5678-90")  # the star must stand where the short segment is


# --- the 10-digit form and its reversal -------------------------------------------------------------


def test_eleven_digits_reverse_only_when_one_segment_is_zero_led() -> None:
    assert parse_ndc("01234567890").ten == "1234-5678-90"
    assert parse_ndc("12345-0678-90").ten == "12345-678-90"
    assert parse_ndc("12345-6789-00").ten == "12345-6789-0"
    # pharma.md 4.1: 12345-0678-09 could be 12345-678-09 or 12345-0678-9.
    ambiguous = parse_ndc("12345-0678-09")
    assert ambiguous.ten is None
    assert ambiguous.key == "12345067809"
    assert parse_ndc("12345-6789-12").ten is None  # no padding at all: no 10-digit NDC pads to this


def test_to_gtin14_refuses_an_eleven_digit_ndc_it_cannot_reverse() -> None:
    with pytest.raises(NdcError) as caught:
        parse_ndc("12345-0678-09").to_gtin14()
    assert "12345-678-09" in str(caught.value) and "12345-0678-9" in str(caught.value)
    with pytest.raises(NdcError, match="zero-padded"):
        parse_ndc("12345-6789-12").to_gtin14()


def test_to_gtin14_from_a_reversible_eleven_uses_the_ten_digit_form() -> None:
    assert parse_ndc("12345-0678-90").to_gtin14() == parse_ndc("12345-678-90").to_gtin14()


# --- GTIN ------------------------------------------------------------------------------------------


def test_gtin14_layout_and_known_check_digit() -> None:
    # 0 03 1234567890 + mod-10 check: 3*(0+3+2+4+6+8+0) + (0+1+3+5+7+9) = 69+25 = 94 -> 6
    assert parse_ndc("1234-5678-90").to_gtin14() == "00312345678906"
    assert parse_ndc("12345-678-90").to_gtin14() == "00312345678906"  # same 10 digits, same GTIN


@pytest.mark.parametrize("indicator", range(9))
def test_gtin_round_trip_for_every_indicator(indicator: int) -> None:
    ndc = parse_ndc("0378-4517-93")
    gtin = ndc.to_gtin14(indicator)
    assert len(gtin) == 14 and gtin[0] == str(indicator) and gtin[1:3] == "03"
    assert gtin[3:13] == "0378451793"
    assert is_valid_gtin(gtin)
    found = ndc_candidates(gtin)
    assert {c.layout for c in found} == set(TEN_DIGIT_LAYOUTS)
    assert ndc in found
    with pytest.raises(AmbiguousNdc):
        parse_ndc(gtin)


@pytest.mark.parametrize("indicator", [-1, 9, 10])
def test_gtin_indicator_outside_packaging_levels_is_refused(indicator: int) -> None:
    with pytest.raises(NdcError, match="indicator"):
        parse_ndc("0378-4517-93").to_gtin14(indicator)


def test_gtin12_and_gtin13_forms_embed_the_same_ndc() -> None:
    gtin14 = parse_ndc("0378-4517-93").to_gtin14()
    upc, ean13 = gtin14[2:], gtin14[1:]
    assert "0378-4517-93" in {c.hyphenated for c in ndc_candidates(ean13)}
    # A bare 12-digit "3…" with a valid check digit could also be a 6-4-2 NDC: both readings come back.
    readings = ndc_candidates(upc)
    assert readings[0] == Ndc(upc[:6], upc[6:10], upc[10:], NdcLayout.L6_4_2)
    assert {c.hyphenated for c in readings[1:]} == {"0378-4517-93", "03784-517-93", "03784-5179-3"}
    with pytest.raises(AmbiguousNdc, match="6-4-2 NDC or a UPC"):
        parse_ndc(upc)


def test_twelve_digits_that_are_no_valid_upc_are_a_6_4_2_ndc() -> None:
    upc = parse_ndc("0378-4517-93").to_gtin14()[2:]
    wrong_check = upc[:-1] + str((int(upc[-1]) + 1) % 10)
    assert parse_ndc(wrong_check).layout is NdcLayout.L6_4_2


def test_gtin_without_03_after_the_indicator_is_not_an_ndc() -> None:
    body = "0401234567890"  # a plain GTIN-13-based GTIN-14, no NDC inside
    gtin = body + str(gtin_check_digit(body))
    with pytest.raises(NdcError, match="does not embed an NDC"):
        ndc_candidates(gtin)


def test_gtin_with_a_bad_check_digit_is_refused_with_the_expected_digit() -> None:
    with pytest.raises(NdcError, match="check digit is wrong.*expected 6"):
        parse_ndc("00312345678905")


def test_gs1_element_string_yields_the_ndc_of_ai_01() -> None:
    raw = "]d2" + "01" + "00312345678906" + "17" + "270131" + "10" + "LOT1" + "\x1d" + "21" + "SN9"
    assert {c.key for c in ndc_candidates(raw)} == {"01234567890", "12345067890", "12345678900"}
    assert candidate_keys("(01)00312345678906(10)A") == candidate_keys("00312345678906")
    assert len(ndc_candidates("01003123456789061727013110ABC")) == 3
    with pytest.raises(NdcError, match="no GTIN"):
        ndc_candidates("(10)LOT1")
    with pytest.raises(NdcError, match="not a readable GS1"):
        ndc_candidates("(01)0031234567890")


# --- ambiguity -------------------------------------------------------------------------------------


def test_bare_ten_digits_are_never_guessed() -> None:
    with pytest.raises(AmbiguousNdc) as caught:
        parse_ndc("1234567890")
    assert [c.hyphenated for c in caught.value.candidates] == ["1234-5678-90", "12345-678-90", "12345-6789-0"]
    assert isinstance(caught.value, NdcError) and isinstance(caught.value, ValueError)
    assert "12345-678-90" in str(caught.value) and "hyphens" in str(caught.value)
    assert candidate_keys("1234567890") == {"01234567890", "12345067890", "12345678900"}
    with pytest.raises(AmbiguousNdc):
        canonical_key("1234567890")


def test_unambiguous_inputs_give_one_candidate_and_one_key() -> None:
    assert canonical_key("12345-678-90") == "12345067890"
    assert canonical_key("NDC 12345067890") == "12345067890"
    assert candidate_keys("12345-678-90") == {"12345067890"}
    assert len(ndc_candidates("12345-0678-09")) == 1  # 11 digits: the key is fixed even if `ten` is not


def test_cross_layout_key_collision_is_the_same_padded_ndc() -> None:
    # 1234-0567-89 and 01234-567-89 pad to the same 11 digits: billing treats them as one product.
    assert canonical_key("1234-0567-89") == canonical_key("01234-567-89") == "01234056789"


# --- garbage ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("", "empty"),
        ("NDC", "empty"),
        ("12345-67a-90", "contains 'a'"),
        ("abcdefghij", "contains 'a'"),
        ("123456789", "9 digits is not an NDC length"),
        ("123456789012345", "15 digits"),
        ("123-4567-890", "3-4-3 digits are not an NDC layout"),
        ("1234-567-890", "4-3-3"),
        ("0123-45678-90", "4-5-2"),
        ("12345-678", "three segments"),
        ("1-2-3-4", "three segments"),
        ("00312345678905", "check digit"),
    ],
)
def test_garbage_gets_a_message_saying_what_is_wrong_and_what_is_right(text: str, fragment: str) -> None:
    with pytest.raises(NdcError) as caught:
        parse_ndc(text)
    message = str(caught.value)
    assert fragment in message
    assert "1234-5678-90 (4-4-2)" in message  # the hint shows what a valid NDC looks like
    assert not isinstance(caught.value, AmbiguousNdc)


def test_ndc_constructor_rejects_segments_that_do_not_fit_the_layout() -> None:
    with pytest.raises(NdcError):
        Ndc("123", "4567", "89", NdcLayout.L4_4_2)
    with pytest.raises(NdcError):
        Ndc("12a4", "5678", "90", NdcLayout.L4_4_2)
    with pytest.raises(NdcError):
        Ndc("١٢٣٤", "5678", "90", NdcLayout.L4_4_2)  # non-ASCII digits are not NDC digits


# --- properties ------------------------------------------------------------------------------------


def _digits(n: int) -> st.SearchStrategy[str]:
    return st.text(alphabet="0123456789", min_size=n, max_size=n)


@st.composite
def ten_digit_ndcs(draw: st.DrawFn, layouts: tuple[NdcLayout, ...] = TEN_DIGIT_LAYOUTS) -> Ndc:
    layout = draw(st.sampled_from(layouts))
    a, b, c = layout.lengths
    return Ndc(draw(_digits(a)), draw(_digits(b)), draw(_digits(c)), layout)


@given(ten_digit_ndcs())
def test_eleven_pads_exactly_the_short_segment_with_one_zero(ndc: Ndc) -> None:
    eleven = ndc.eleven
    assert eleven is not None and len(eleven) == 11 and eleven.isdigit()
    labeler, product, package = eleven[:5], eleven[5:9], eleven[9:]
    padded = {
        NdcLayout.L4_4_2: ("0" + ndc.labeler, ndc.product, ndc.package),
        NdcLayout.L5_3_2: (ndc.labeler, "0" + ndc.product, ndc.package),
        NdcLayout.L5_4_1: (ndc.labeler, ndc.product, "0" + ndc.package),
    }[ndc.layout]
    assert (labeler, product, package) == padded
    assert parse_ndc(ndc.hyphenated) == ndc
    assert parse_ndc(eleven).key == ndc.key
    # Reversing the 11 digits gives the original back whenever it is unambiguous, and None otherwise.
    assert parse_ndc(eleven).ten in (ndc.hyphenated, None)


@given(ten_digit_ndcs(), st.integers(min_value=0, max_value=8))
def test_gtin_round_trip_keeps_the_ten_digits_and_the_key(ndc: Ndc, indicator: int) -> None:
    gtin = ndc.to_gtin14(indicator)
    assert is_valid_gtin(gtin)
    found = ndc_candidates(gtin)
    assert {c.digits for c in found} == {ndc.digits}
    assert ndc.key in {c.key for c in found}
    assert ndc in found


@given(ten_digit_ndcs(), ten_digit_ndcs())
def test_keys_are_equal_exactly_when_the_padded_segments_are(a: Ndc, b: Ndc) -> None:
    # What holds across layouts: the key is the 5-4-2 zero-padded triple, nothing more, nothing less.
    def padded(n: Ndc) -> tuple[str, str, str]:
        return n.labeler.zfill(5), n.product.zfill(4), n.package.zfill(2)

    assert (a.key == b.key) == (padded(a) == padded(b))


@given(st.sampled_from(TEN_DIGIT_LAYOUTS).flatmap(lambda layout: st.tuples(*[ten_digit_ndcs((layout,))] * 2)))
def test_distinct_ndcs_of_one_layout_have_distinct_keys(pair: tuple[Ndc, Ndc]) -> None:
    a, b = pair
    assert (a.key == b.key) == (a == b)


@given(_digits(10))
def test_any_bare_ten_digits_give_three_candidates_one_per_layout(digits: str) -> None:
    found = ndc_candidates(digits)
    assert [c.layout for c in found] == list(TEN_DIGIT_LAYOUTS)
    assert all(c.digits == digits for c in found)


@pytest.mark.parametrize(
    ("key", "shown"),
    [("73994023282", "73994-0232-82"), ("123456789012", "123456-7890-12"), ("", ""), ("A-1", "A-1")],
)
def test_keys_are_shown_in_the_hyphenated_form_people_read(key: str, shown: str) -> None:
    assert display_ndc(key) == shown


def test_the_shown_form_parses_back_to_the_same_key() -> None:
    assert canonical_key(display_ndc("00002143380")) == "00002143380"


# --- the short reading of plain forms agrees with the general one -------------------------------------


def _general(text: str) -> tuple[Ndc, ...] | str:
    # An "NDC " prefix sends any text through the general reading (prefix, separators, GS1).
    try:
        return ndc_candidates("NDC " + text)
    except NdcError:
        return "error"


def _short(text: str) -> tuple[Ndc, ...] | str:
    try:
        return ndc_candidates(text)
    except NdcError:
        return "error"


@pytest.mark.parametrize(
    "text",
    ["1234-5678-90", "12345-678-90", "12345-6789-0", "12345-6789-01", "123456-7890-12", "0123456789",
     "01234567890", "312345678906", "00312345678906", "1234-567-89", "12345-6789-012", " 12345-678-90\t"],
)  # fmt: skip
def test_plain_forms_read_as_the_general_reading_reads_them(text: str) -> None:
    assert _short(text) == _general(text)


@given(st.text(alphabet="0123456789-", max_size=16))
def test_digit_and_hyphen_texts_read_as_the_general_reading_reads_them(text: str) -> None:
    if text.strip():
        assert _short(text) == _general(text)


def test_reading_an_ndc_does_not_load_biip_until_a_gtin_is_checked() -> None:
    """biip loads its GS1 prefix table on import: start-up (the store's views import this module) skips it."""
    code = (
        "import sys\n"
        "from atlas_desktop.domain.ndc import ndc_candidates\n"
        "ndc_candidates('12345-6789-01')\n"
        "assert 'biip' not in sys.modules, 'biip loaded by a plain NDC'\n"
        "ndc_candidates('00312345678906')\n"
        "assert 'biip' in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=Path(__file__).resolve().parents[2])
