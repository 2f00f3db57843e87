"""Column types SQLite lacks: exact decimals and aware UTC datetimes, both stored as text."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import String, Text
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator


class ExactDecimal(TypeDecorator[Decimal]):
    """A Decimal kept as its exact text form.

    SQLite has no decimal type: a NUMERIC column stores a float (0.1 comes back as
    0.1000000000000000055...). Text keeps every digit and the exponent, so what is written is
    what is read. Floats are refused: a quantity that has been a float has already lost digits.
    """

    impl = Text
    cache_ok = True

    # Reads no dialect: sqlutil's bulk paths call it with none.
    def process_bind_param(self, value: Any, dialect: Dialect | None) -> str | None:
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, Decimal | int):
            raise TypeError(
                f"a decimal column takes Decimal or int, not {type(value).__name__}; "
                "convert with Decimal(str) at the source"
            )
        number = Decimal(value)
        if not number.is_finite():
            raise ValueError(f"a decimal column takes finite numbers, not {number}")
        return str(number)

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        try:
            return Decimal(str(value))
        except InvalidOperation:
            raise ValueError(f"the database holds {value!r} where a decimal number belongs") from None


_FORMAT_WIDTH = len("2024-01-01T00:00:00.000000+00:00")


class UtcDateTime(TypeDecorator[datetime]):
    """An aware datetime stored as fixed-width UTC ISO text, so text order is time order.

    Naive datetimes are refused: their zone is a guess, and a wrong guess moves sync cursors by hours
    (changes made in those hours are then never read).
    """

    impl = String(_FORMAT_WIDTH)
    cache_ok = True

    # Reads no dialect: sqlutil's bulk paths call it with none.
    def process_bind_param(self, value: Any, dialect: Dialect | None) -> str | None:
        if value is None:
            return None
        if not isinstance(value, datetime):
            raise TypeError(f"a datetime column takes datetime, not {type(value).__name__}")
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(
                f"naive datetime {value.isoformat()} refused: pass an aware datetime, "
                "e.g. datetime.now(UTC) or value.replace(tzinfo=UTC)"
            )
        return value.astimezone(UTC).isoformat(timespec="microseconds")

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        parsed = datetime.fromisoformat(str(value))
        # Text without an offset can only come from SQLite itself (CURRENT_TIMESTAMP), which is UTC.
        if parsed.tzinfo is None:
            return parsed.replace(tzinfo=UTC)
        return parsed.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)
