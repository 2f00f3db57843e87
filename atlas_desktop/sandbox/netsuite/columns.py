"""The names a SuiteQL result row gives its columns: lower case as real REST SuiteQL does, or another case.

Rows come back keyed by lower-cased column names and aliases, and Oracle warns that
the casing "may not always be consistent and can change", so the emulator can answer in other casings to
show that a client never depends on it.
"""

from __future__ import annotations

from enum import StrEnum


class ColumnCase(StrEnum):
    LOWER = "lower"  # what REST SuiteQL returns (the default)
    UPPER = "upper"  # Oracle's own case for unquoted names
    AS_WRITTEN = "as_written"  # the alias or column exactly as the query spells it
    MIXED = "mixed"  # as written with a capital first letter: never all lower case


def column_key(case: ColumnCase, key: str, written: str) -> str:
    """The row key of one column; `key` is its lower-case name, `written` the query's spelling."""
    if case is ColumnCase.UPPER:
        return key.upper()
    if case is ColumnCase.AS_WRITTEN:
        return written
    if case is ColumnCase.MIXED:
        return written[:1].upper() + written[1:]
    return key
