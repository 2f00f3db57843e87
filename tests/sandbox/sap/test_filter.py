"""$filter grammar and literal typing: unit tests on the compiler and through HTTP (400, Gateway shape)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import httpx
import pytest

from atlas_desktop.sandbox.sap.odata.filter import compile_filter
from atlas_desktop.sandbox.sap.odata.literals import UriSyntaxError
from atlas_desktop.sandbox.sap.services.product import PRODUCT
from atlas_desktop.sandbox.sap.services.stock import STOCK

from .conftest import JSON
from .conftest import PRODUCT as PRODUCT_URL

ROWS: list[dict[str, Any]] = [
    {
        "Product": "A-1",
        "ProductStandardID": "00312345678906",
        "GrossWeight": Decimal("1.500"),
        "IsBatchManagementRequired": True,
        "LastChangeDateTime": datetime(2024, 1, 1, 12, tzinfo=UTC),
        "CreationDate": datetime(2023, 5, 1, tzinfo=UTC),
        "ProductGroup": "PHARMA",
        "Brand": None,
    },
    {
        "Product": "B-2",
        "ProductStandardID": "",
        "GrossWeight": Decimal("12.5"),
        "IsBatchManagementRequired": False,
        "LastChangeDateTime": datetime(2024, 6, 1, tzinfo=UTC),
        "CreationDate": datetime(2024, 5, 1, tzinfo=UTC),
        "ProductGroup": "OTC",
        "Brand": "ACME",
    },
    {
        "Product": "C-3",
        "ProductStandardID": "00398765432109",
        "GrossWeight": Decimal("0"),
        "IsBatchManagementRequired": True,
        "LastChangeDateTime": datetime(2025, 1, 1, tzinfo=UTC),
        "CreationDate": datetime(2024, 12, 1, tzinfo=UTC),
        "ProductGroup": "PHARMA",
        "Brand": "O'Neil",
    },
]


def matching(text: str) -> list[str]:
    predicate = compile_filter(text, PRODUCT)
    return [r["Product"] for r in ROWS if predicate(r)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Product eq 'A-1'", ["A-1"]),
        ("Product ne 'A-1'", ["B-2", "C-3"]),
        ("LastChangeDateTime gt datetimeoffset'2024-01-01T12:00:00Z'", ["B-2", "C-3"]),
        ("LastChangeDateTime ge datetimeoffset'2024-01-01T13:00:00+01:00'", ["A-1", "B-2", "C-3"]),
        ("LastChangeDateTime lt datetimeoffset'2024-06-01T00:00:00.0000000Z'", ["A-1"]),
        ("CreationDate le datetime'2024-05-01T00:00:00'", ["A-1", "B-2"]),
        ("GrossWeight gt 1.5M", ["B-2"]),
        ("GrossWeight ge 1.5M and GrossWeight lt 13", ["A-1", "B-2"]),
        ("ProductGroup eq 'PHARMA' and (Product eq 'A-1' or Product eq 'B-2')", ["A-1"]),
        ("ProductGroup eq 'PHARMA' and Product eq 'A-1' or Product eq 'B-2'", ["A-1", "B-2"]),
        ("not (ProductGroup eq 'PHARMA')", ["B-2"]),
        ("not ProductGroup eq 'PHARMA' or Product eq 'C-3'", ["B-2", "C-3"]),
        ("substringof('1234', ProductStandardID)", ["A-1"]),
        ("substringof('1234', ProductStandardID) eq true", ["A-1"]),
        ("startswith(Product, 'B')", ["B-2"]),
        ("endswith(Product, '3')", ["C-3"]),
        ("tolower(ProductGroup) eq 'otc'", ["B-2"]),
        ("Brand eq null", ["A-1"]),
        ("Brand eq 'O''Neil'", ["C-3"]),
        ("IsBatchManagementRequired eq true", ["A-1", "C-3"]),
        ("IsBatchManagementRequired", ["A-1", "C-3"]),
        ("ProductStandardID ne ''", ["A-1", "C-3"]),
    ],
)
def test_filter_grammar(text: str, expected: list[str]) -> None:
    assert matching(text) == expected


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("LastChangeDateTime gt datetime'2024-01-01T00:00:00'", "datetimeoffset"),  # wrong literal kind
        ("CreationDate gt datetimeoffset'2024-01-01T00:00:00Z'", "datetime'"),
        ("LastChangeDateTime gt datetimeoffset'2024-01-01T00:00:00'", "time zone"),  # offset missing
        ("Product eq 12", "quote the value"),
        ("GrossWeight eq '1.5'", "Edm.Decimal"),
        ("Nope eq 'x'", "Property 'Nope' not found"),
        ("Product eq 'A' and", "ends too early"),
        ("(Product eq 'A'", "expected ')'"),
        ("Product eq 'A' Product", "unexpected"),
        ("Product", "not a condition"),
        ("contains(Product, 'A')", "not supported"),
        ("Product gt null", "null"),
        ("datetime '2024-01-01T00:00:00' eq CreationDate", "not found"),  # no space allowed (pyodata doc)
    ],
)
def test_bad_filters_raise(text: str, fragment: str) -> None:
    with pytest.raises(UriSyntaxError, match=None) as info:
        compile_filter(text, PRODUCT)
    assert fragment.lower() in str(info.value).lower()


def test_numc_keys_match_in_any_padding() -> None:
    row = {"SDDocumentItem": "000000", "WBSElementInternalID": "00000000", "InventoryStockType": "01"}
    for text in (
        "SDDocumentItem eq '0'",
        "SDDocumentItem eq ''",
        "SDDocumentItem eq '000000'",
        "WBSElementInternalID eq '0' and InventoryStockType eq '01'",
    ):
        assert compile_filter(text, STOCK)(row) is True
    # A stock type is not NUMC: '1' is not '01'.
    assert compile_filter("InventoryStockType eq '1'", STOCK)(row) is False


async def test_bad_filter_is_400_in_gateway_shape(client: httpx.AsyncClient) -> None:
    response = await client.get(
        f"{PRODUCT_URL}/A_Product", params={"$filter": "LastChangeDateTime gt '2024-01-01'"}, headers=JSON
    )
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] and error["message"]["value"]
    assert error["innererror"]["errordetails"][0]["severity"] == "error"


async def test_delta_query_over_http(client: httpx.AsyncClient) -> None:
    response = await client.get(
        f"{PRODUCT_URL}/A_Product",
        params={
            "$filter": "LastChangeDateTime ge datetimeoffset'2000-01-01T00:00:00Z'",
            "$orderby": "LastChangeDateTime desc",
            "$select": "Product,LastChangeDateTime",
            "$top": "3",
        },
        headers=JSON,
    )
    assert response.status_code == 200
    results = response.json()["d"]["results"]
    assert len(results) == 3
    assert set(results[0]) == {"__metadata", "Product", "LastChangeDateTime"}
    assert results[0]["LastChangeDateTime"].startswith("/Date(") and results[0][
        "LastChangeDateTime"
    ].endswith("+0000)/")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Product eq 'A-1' or Product eq 'C-3' or Product eq 'Z-9'", ["A-1", "C-3"]),
        ("Brand eq null or Brand eq 'ACME'", ["A-1", "B-2"]),
        ("GrossWeight eq 1.5M or GrossWeight eq 0", ["A-1", "C-3"]),
        ("Product eq 'A-1' or Brand eq 'ACME' or Product eq 'C-3'", ["A-1", "B-2", "C-3"]),
        ("(Product eq 'A-1' or Product eq 'B-2') and ProductGroup eq 'OTC'", ["B-2"]),
        ("Product eq 'B-2' or Product eq 'A-1' and ProductGroup eq 'OTC'", ["B-2"]),
        ("not (Product eq 'A-1' or Product eq 'B-2')", ["C-3"]),
    ],
)
def test_an_or_of_equalities_selects_what_each_equality_would(text: str, expected: list[str]) -> None:
    """Such chains (hundreds of values from a client) are evaluated as one set lookup per row."""
    assert matching(text) == expected


def test_an_or_of_numc_equalities_matches_in_any_padding() -> None:
    row = {"SDDocumentItem": "000010", "WBSElementInternalID": "00000000", "InventoryStockType": "01"}
    assert compile_filter("SDDocumentItem eq '20' or SDDocumentItem eq '10'", STOCK)(row) is True
    assert compile_filter("SDDocumentItem eq '20' or SDDocumentItem eq '30'", STOCK)(row) is False
