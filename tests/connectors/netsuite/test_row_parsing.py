"""Fast row parsing (fixed-layout datetimes, cached values) gives exactly what strptime and Decimal give."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from atlas_desktop.connectors.netsuite.mapping import FieldMap, stock_from_row
from atlas_desktop.connectors.netsuite.queries import parse_datetime
from atlas_desktop.domain.errors import InvalidResponse
from atlas_desktop.domain.model import StockKey
from atlas_desktop.domain.quantity import QuantityRefused, RejectedRow


def _strptime_reference(text: str | None, timezone: str) -> datetime | None:
    if not text:
        return None
    try:
        naive = datetime.strptime(text.strip(), "%Y-%m-%d %H:%M:%S")
    except ValueError:
        return None
    # fold=1: a wall time of the hour DST repeats is its later instant (the reads' safe side)
    return naive.replace(tzinfo=ZoneInfo(timezone), fold=1).astimezone(UTC)


@pytest.mark.parametrize("timezone", ["UTC", "America/Los_Angeles", "Europe/Berlin"])
@pytest.mark.parametrize(
    "text",
    [
        "2026-11-26 23:12:38",
        " 2026-11-26 23:12:38 ",
        "2026-1-5 3:4:5",  # strptime accepts unpadded fields: so must we
        "2024-02-29 00:00:00",
        "2026-02-29 00:00:00",  # no such day
        "2026-13-26 23:12:38",
        "2026-+1-26 23:12:38",  # int() would take '+1'; the layout check must not
        "2026-11-26T23:12:38",
        "2026-03-29 02:30:00",  # skipped by the spring-forward in Berlin
        "2026-11-01 01:30:00",  # ambiguous in Los Angeles: read as the second occurrence
        "nonsense",
        "",
        None,
    ],
)
def test_parse_datetime_matches_strptime(text: str | None, timezone: str) -> None:
    expected = _strptime_reference(text, timezone)
    got = parse_datetime(text, timezone)
    assert got == expected
    if got is not None:
        assert got.utcoffset() is not None and got.utcoffset().total_seconds() == 0


def test_parse_datetime_honours_the_account_time_zone_on_repeated_values() -> None:
    text = "2026-07-01 12:00:00"
    assert parse_datetime(text, "UTC") == datetime(2026, 7, 1, 12, tzinfo=UTC)
    assert parse_datetime(text, "America/Los_Angeles") == datetime(2026, 7, 1, 19, tzinfo=UTC)
    assert parse_datetime(text, "UTC") == datetime(2026, 7, 1, 12, tzinfo=UTC)  # cache keyed by zone too


def test_stock_rows_parse_the_same_with_repeated_and_odd_values() -> None:
    fields = FieldMap(unit="EA")
    lot_row = {"item": " 100 ", "location": 1, "qty": "4.50", "lot": "L1", "expiry": "2028-12-31",
               "stockunit": ""}  # fmt: skip
    level = stock_from_row(lot_row, fields, lot_row=True)
    assert level.key == StockKey("100", "1", "L1")
    assert level.quantity == Decimal("4.50") and level.observed_version == "4.50"
    assert level.unit == "EA" and level.expiry == date(2028, 12, 31)
    # The same quantity text again (cached) and an equal but differently written one keep their own text.
    assert stock_from_row(lot_row, fields, lot_row=True).observed_version == "4.50"
    plain_row = {"item": "7", "location": "2", "qty": "4.5", "lot": "ignored"}
    plain = stock_from_row(plain_row, fields, lot_row=False)
    assert plain.key.lot is None and plain.expiry is None and plain.observed_version == "4.5"
    assert stock_from_row({"item": "7", "location": "2", "qty": 3}, fields, lot_row=False).quantity == 3
    bad_expiry = stock_from_row({**lot_row, "expiry": "2028-02-30"}, fields, lot_row=True)
    assert bad_expiry.expiry is None


@pytest.mark.parametrize("qty", ["abc", "NaN", "Infinity", "1e400", "99999999999999999999.5", "0.123456"])
def test_bad_quantities_refuse_their_row_every_time(qty: str) -> None:
    row = {"item": "1", "location": "2", "qty": qty}
    for _ in range(2):  # a failure is never cached as a value
        refused = stock_from_row(row, FieldMap(), lot_row=False)
        assert isinstance(refused, RejectedRow) and refused.key == StockKey("1", "2")
        assert isinstance(refused.error, QuantityRefused)
        assert refused.ref == "ERP stock 1 at 2" and repr(qty)[:20] in refused.error.message


def test_a_stock_row_without_its_keys_is_refused() -> None:
    with pytest.raises(InvalidResponse):
        stock_from_row({"item": "1", "location": "  ", "qty": "1"}, FieldMap(), lot_row=True)
