"""Cached OData value parsing: repeated texts give equal values, bad texts fail every time."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from atlas_desktop.connectors.sap.odata import parse_date, parse_datetime, parse_decimal
from atlas_desktop.domain.errors import InvalidResponse


def test_repeated_dates_and_numbers_parse_to_the_same_values() -> None:
    for _ in range(3):
        assert parse_datetime("/Date(1795759200000+0000)/") == datetime(2026, 11, 27, 6, tzinfo=UTC)
        assert parse_date("\\/Date(1848614400000)\\/") == date(2028, 7, 31)
        assert parse_decimal(" 184.000 ") == Decimal("184.000")
        assert str(parse_decimal("184.000")) == "184.000"  # the scale SAP sent is kept
        assert str(parse_decimal("184")) == "184"  # an equal number written differently keeps its text
    assert parse_date(datetime(2028, 7, 31, tzinfo=UTC)) == date(2028, 7, 31)
    assert parse_date("") is None and parse_date(None) is None
    assert parse_date("0000-00-00T00:00:00") is None


@pytest.mark.parametrize("parse, text", [(parse_datetime, "yesterday"), (parse_date, "31.07.2028"),
                                         (parse_decimal, "12,5"), (parse_decimal, "NaN")])  # fmt: skip
def test_bad_values_fail_every_time(parse, text) -> None:  # type: ignore[no-untyped-def]
    for _ in range(2):  # an error is never cached as a value
        with pytest.raises(InvalidResponse):
            parse(text)
