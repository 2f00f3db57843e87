"""OData v2 JSON reading: every SAP date form to aware UTC, decimals, collections, __next origin guard."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import httpx
import pytest

from atlas_desktop.connectors.sap.odata import (
    any_of,
    datetimeoffset_literal,
    parse_date,
    parse_datetime,
    parse_decimal,
    parse_time,
    quote_literal,
    read_page,
    resolve_next,
)
from atlas_desktop.domain.errors import InvalidResponse

NOV_15 = datetime(2023, 11, 15, tzinfo=UTC)


@pytest.mark.parametrize(
    "text",
    [
        "/Date(1700006400000)/",
        "\\/Date(1700006400000)\\/",
        "/Date(1700006400000+0000)/",
        "/Date(1700006400000+0060)/",  # offset says the zone of entry; the ticks are UTC
        "/Date(1700006400000-0300)/",
        "2023-11-15T00:00:00",  # no offset = UTC (pyodata #231)
        "2023-11-15T00:00:00Z",
        "2023-11-15T01:00:00+01:00",
        "2023-11-15T00:00:00.0000000Z",  # Precision 7
    ],
)
def test_every_date_form_is_aware_utc(text: str) -> None:
    moment = parse_datetime(text)
    assert moment == NOV_15
    assert moment is not None and moment.utcoffset() == timedelta(0)


def test_fraction_of_seven_digits_kept_to_microseconds() -> None:
    assert parse_datetime("2016-09-02T06:15:47.1257050Z") == datetime(
        2016, 9, 2, 6, 15, 47, 125705, tzinfo=UTC
    )


def test_empty_dates() -> None:
    assert parse_datetime(None) is None
    assert parse_datetime("") is None
    assert parse_datetime("0000-00-00T00:00:00") is None  # pyodata #195


def test_bad_date_is_invalid_response() -> None:
    with pytest.raises(InvalidResponse, match="cannot read the date"):
        parse_datetime("yesterday")


def test_date_only_and_negative_ticks() -> None:
    assert parse_date("/Date(1919721600000)/") == date(2030, 11, 1)
    assert parse_datetime("/Date(-86400000)/") == datetime(1969, 12, 31, tzinfo=UTC)


def test_time() -> None:
    assert parse_time("PT13H05M09S") == timedelta(hours=13, minutes=5, seconds=9)
    assert parse_time(None) is None


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("1160.000", Decimal("1160.000")),
        ("100", Decimal(100)),
        ("0.00000000000001", Decimal("1E-14")),
        (7, Decimal(7)),
    ],
)
def test_decimals(raw: object, expected: Decimal) -> None:
    value = parse_decimal(raw)
    assert isinstance(value, Decimal) and value == expected


def test_bad_decimal() -> None:
    with pytest.raises(InvalidResponse):
        parse_decimal("12,5")
    with pytest.raises(InvalidResponse):
        parse_decimal("NaN")


def _response(body: object, url: str = "https://sap.example.com/sap/opu/odata/sap/X/A") -> httpx.Response:
    return httpx.Response(200, json=body, request=httpx.Request("GET", url))


def test_read_page_count_and_next() -> None:
    page = read_page(_response({"d": {"results": [{"a": 1}], "__count": "91", "__next": "A?$skiptoken=5"}}))
    assert page.rows == [{"a": 1}] and page.count == 91 and page.next_url == "A?$skiptoken=5"


def test_read_page_rejects_non_collection() -> None:
    with pytest.raises(InvalidResponse, match="not an OData collection"):
        read_page(_response({"d": {"Product": "X"}}))
    with pytest.raises(InvalidResponse, match="expected JSON"):
        read_page(httpx.Response(200, text="<html/>", request=httpx.Request("GET", "https://x/y")))


def test_next_link_same_origin_only() -> None:
    current = httpx.URL("https://sap.example.com/sap/opu/odata/sap/X/A?$top=5")
    assert resolve_next(current, "A?$skiptoken=100").params["$skiptoken"] == "100"
    absolute = resolve_next(current, "https://sap.example.com/sap/opu/odata/sap/X/A?$skiptoken=7")
    assert absolute.host == "sap.example.com"
    with pytest.raises(InvalidResponse, match="another server"):
        resolve_next(current, "https://evil.example.net/steal?$skiptoken=1")


def test_literals() -> None:
    assert quote_literal("O'Neil") == "'O''Neil'"
    assert (
        datetimeoffset_literal(datetime(2024, 1, 1, 2, tzinfo=UTC)) == "datetimeoffset'2024-01-01T02:00:00Z'"
    )
    assert any_of("Plant", ["1010"]) == "Plant eq '1010'"
    assert any_of("Plant", ["1010", "1020"]) == "(Plant eq '1010' or Plant eq '1020')"
