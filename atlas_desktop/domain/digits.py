"""Whole numbers from outside (headers, query strings, file names): ASCII digits only, bounded length.

`str.isdigit()` is true for "²" and "٣", which `int()` then refuses or reads as another number;
every number that crosses our boundary is checked here instead.
"""

from __future__ import annotations


def is_ascii_digits(text: str) -> bool:
    """True for a non-empty string of 0-9 only."""
    return bool(text) and text.isascii() and text.isdigit()


def ascii_int(text: str, *, max_digits: int = 18) -> int | None:
    """The value of a string of at most `max_digits` ASCII digits; None for anything else."""
    if len(text) > max_digits or not is_ascii_digits(text):
        return None
    return int(text)
