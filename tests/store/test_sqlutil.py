"""The bulk paths' plain-value helpers give exactly what the column types and json.dumps give."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest

from atlas_desktop.store.models import ErpStockRow
from atlas_desktop.store.sqlutil import decimal_text, flat_json, upsert_sql, utc_text
from atlas_desktop.store.types import ExactDecimal, UtcDateTime


@pytest.mark.parametrize(
    "values",
    [
        {},
        {"quantity": "12.50", "expiry": None, "unit": "EA"},
        {"name": 'Ä "quoted" \\ back\nslash \u2603 \x01', "ключ": "значение"},
        {"number": 5},  # not text: json.dumps's own answer
        {"nested": {"a": "b"}},
        {"flag": True, "none": None},
    ],
)
def test_flat_json_is_json_dumps(values: dict[str, Any]) -> None:
    assert flat_json(values) == json.dumps(values)


def test_flat_json_of_non_text_keys_is_json_dumps() -> None:
    assert flat_json({1: "a"}) == json.dumps({1: "a"})  # type: ignore[dict-item]


class _Text(str):
    pass


@pytest.mark.parametrize(
    "value",
    [
        datetime(2026, 3, 1, 12, 0, tzinfo=UTC),
        datetime(2026, 3, 1, 12, 0, 0, 7, tzinfo=UTC),
        datetime(2026, 3, 1, 7, 0, tzinfo=timezone(timedelta(hours=-5))),
        datetime(2026, 3, 1, 7, 0, tzinfo=timezone(timedelta(0), "Z")),  # UTC, but not the UTC object
        None,
    ],
)
def test_utc_text_is_the_column_types_text(value: datetime | None) -> None:
    assert utc_text(value) == UtcDateTime().process_bind_param(value, None)


@pytest.mark.parametrize("value", ["0.10", "1E+3", "-0", "12345678901234567890.123", "7"])
def test_decimal_text_is_the_column_types_text(value: str) -> None:
    assert decimal_text(Decimal(value)) == ExactDecimal().process_bind_param(Decimal(value), None)
    assert decimal_text(None) is None


def test_the_fast_paths_refuse_what_the_column_types_refuse() -> None:
    with pytest.raises(ValueError, match="naive"):
        utc_text(datetime(2026, 3, 1))
    with pytest.raises(ValueError, match="finite"):
        decimal_text(Decimal("NaN"))
    with pytest.raises(TypeError):
        decimal_text(1.5)  # type: ignore[arg-type]
    assert flat_json({"a": _Text("b")}) == '{"a": "b"}'


def test_positional_upsert_binds_the_order_given_and_refuses_one_that_misses_a_column() -> None:
    table = ErpStockRow.__table__
    names = [column.name for column in table.columns]
    order = list(reversed(names))
    sql = upsert_sql(table, ("connection_id",), order=order)
    assert f"({', '.join(order)}) VALUES ({', '.join('?' * len(order))})" in sql
    with pytest.raises(ValueError, match="each of"):
        upsert_sql(table, ("connection_id",), order=order[1:])
    with pytest.raises(ValueError, match="each of"):
        upsert_sql(table, ("connection_id",), order=[*order[1:], order[2]])
