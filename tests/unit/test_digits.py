"""Numbers from outside: only ASCII digits, never longer than asked."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from atlas_desktop.domain.digits import ascii_int, is_ascii_digits


def test_unicode_digits_and_signs_are_not_numbers() -> None:
    for text in ("²", "٣", "1²", "+1", "-1", " 1", "1_000", "", "0x1f", "１"):
        assert ascii_int(text) is None, text
        assert not is_ascii_digits(text) or text == ""
    assert ascii_int("0042") == 42
    assert ascii_int("9" * 19) is None and ascii_int("9" * 19, max_digits=19) == int("9" * 19)


@given(st.text(max_size=30))
def test_any_text_gives_a_bounded_int_or_none(text: str) -> None:
    value = ascii_int(text, max_digits=12)
    assert value is None or 0 <= value < 10**12
