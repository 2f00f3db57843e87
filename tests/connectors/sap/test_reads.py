"""Reads against scripted answers: product NDC sources, stock filter, batch-expiry join, incremental stock."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import httpx

from atlas_desktop.domain.model import StockKey

from .helpers import make, odata

P = "/sap/opu/odata/sap/API_PRODUCT_SRV"
S = "/sap/opu/odata/sap/API_MATERIAL_STOCK_SRV"
B = "/sap/opu/odata/sap/API_BATCH_SRV"
M = "/sap/opu/odata/sap/API_MATERIAL_DOCUMENT_SRV"

PRODUCTS = [
    {
        "Product": "MAT-1",
        "BaseUnit": "EA",
        "ProductStandardID": "00312345678906",
        "YY1_NDCCode_PRD": "12345-678-90",
        "IsBatchManagementRequired": True,
        "IsMarkedForDeletion": False,
        "LastChangeDateTime": "/Date(1700006400000+0000)/",
        "to_Description": {"results": [
            {"Language": "DE", "ProductDescription": "Amoxicillin DE"},
            {"Language": "EN", "ProductDescription": "Amoxicillin 500mg"},
        ]},
    },
    {"Product": "MAT-2", "BaseUnit": "PAK", "ProductStandardID": "", "LastChangeDateTime": None,
     "to_Description": {"results": []}},
]  # fmt: skip

STOCK = [
    {"Material": "MAT-1", "Plant": "1010", "StorageLocation": "0001", "Batch": "B1", "MaterialBaseUnit": "EA",
     "InventoryStockType": "01", "InventorySpecialStockType": "", "MatlWrhsStkQtyInMatlBaseUnit": "1160.000"},
    {"Material": "MAT-1", "Plant": "1010", "StorageLocation": "0001", "Batch": "B1", "MaterialBaseUnit": "EA",
     "InventoryStockType": "08", "InventorySpecialStockType": "", "MatlWrhsStkQtyInMatlBaseUnit": "0.5"},
    {"Material": "MAT-2", "Plant": "1020", "StorageLocation": "0002", "Batch": "", "MaterialBaseUnit": "PAK",
     "InventoryStockType": "01", "InventorySpecialStockType": "", "MatlWrhsStkQtyInMatlBaseUnit": "7"},
]  # fmt: skip

BATCHES = [
    {"Material": "MAT-1", "BatchIdentifyingPlant": "", "Batch": "B1",
     "ShelfLifeExpirationDate": "/Date(1919721600000)/", "ManufactureDate": None},
]  # fmt: skip


class Router:
    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []
        self.stock = STOCK

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        path = request.url.path
        if path == f"{P}/A_Product":
            return odata(PRODUCTS, count=len(PRODUCTS))
        if path == f"{P}/A_ProductUnitsOfMeasureEAN":
            return odata([
                {"Product": "MAT-1", "ProductStandardID": "4006381333931",
                 "IsMainGlobalTradeItemNumber": False},
                {"Product": "MAT-1", "ProductStandardID": "00312345678906",
                 "IsMainGlobalTradeItemNumber": True},
            ])  # fmt: skip
        if path == f"{S}/A_MatlStkInAcctMod":
            return odata(self.stock, count=len(self.stock))
        if path == f"{B}/Batch":
            return odata(BATCHES, count=len(BATCHES))
        if path == f"{M}/A_MaterialDocumentHeader":
            return odata([
                {"MaterialDocument": "4900000001", "MaterialDocumentYear": "2025",
                 "to_MaterialDocumentItem": {
                    "results": [
                        {"Material": "MAT-1", "Plant": "1010", "StorageLocation": "0001", "Batch": "B1",
                         "MaterialBaseUnit": "EA"},
                        {"Material": "MAT-3", "Plant": "1010", "StorageLocation": "0001", "Batch": "",
                         "MaterialBaseUnit": "EA"},
                    ]}},
            ], count=1)  # fmt: skip
        return httpx.Response(404)

    def last(self, suffix: str) -> httpx.Request:
        return next(r for r in reversed(self.requests) if r.url.path.endswith(suffix))


async def test_products_with_gtin_as_ndc_text_and_english_name() -> None:
    router = Router()
    connector = make(router)
    products = [p async for p in connector.products()]
    first, second = products
    assert first.erp_item_id == "MAT-1" and first.name == "Amoxicillin 500mg"
    assert first.ndc_text == "00312345678906" and first.lot_tracked and not first.inactive
    assert first.last_modified == datetime(2023, 11, 15, tzinfo=UTC)
    assert second.ndc_text is None and second.name == "MAT-2"
    request = router.last("A_Product")
    assert request.url.params["$expand"] == "to_Description"
    assert "to_Description" in request.url.params["$select"]
    assert int(request.url.params["$top"]) <= 5000


async def test_products_custom_ndc_field_and_ean_source() -> None:
    router = Router()
    custom = make(router, settings={"field_mappings": {"ndc_field": "YY1_NDCCode_PRD"}})
    assert [p.ndc_text async for p in custom.products()][0] == "12345-678-90"
    assert "YY1_NDCCode_PRD" in router.last("A_Product").url.params["$select"]
    ean = make(router, settings={"field_mappings": {"ndc_field": "A_ProductUnitsOfMeasureEAN"}})
    assert [p.ndc_text async for p in ean.products()][0] == "00312345678906"  # the main GTIN wins


async def test_incremental_products_filter_with_overlap() -> None:
    router = Router()
    connector = make(router)
    since = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
    assert len([p async for p in connector.products(since)]) == 2
    params = router.last("A_Product").url.params
    assert params["$filter"] == "LastChangeDateTime ge datetimeoffset'2025-03-01T11:55:00Z'"
    assert params["$orderby"].startswith("LastChangeDateTime")
    assert connector.products_watermark is not None
    assert connector.read_watermark("products") == connector.products_watermark
    assert connector.read_watermark("stock") is None  # no stock read yet


async def test_stock_unrestricted_by_default_with_expiry_joined() -> None:
    router = Router()
    router.stock = [STOCK[0], STOCK[2]]
    connector = make(router)
    levels = [s async for s in connector.stock()]
    assert levels[0].key == StockKey("MAT-1", "1010/0001", "B1")
    assert levels[0].quantity == Decimal("1160.000") and levels[0].expiry == date(2030, 11, 1)
    assert levels[1].key == StockKey("MAT-2", "1020/0002", None) and levels[1].expiry is None
    params = router.last("A_MatlStkInAcctMod").url.params
    assert params["$filter"] == "InventoryStockType eq '01' and InventorySpecialStockType eq ''"


async def test_stock_configured_types_and_plants_sum_per_position() -> None:
    router = Router()
    connector = make(
        router, settings={"field_mappings": {"stock_types": ["01", "08"], "plants": ["1010", "1020"]}}
    )
    levels = [s async for s in connector.stock()]
    assert levels[0].quantity == Decimal("1160.500") and len(levels) == 2
    assert router.last("A_MatlStkInAcctMod").url.params["$filter"] == (
        "(InventoryStockType eq '01' or InventoryStockType eq '08') and InventorySpecialStockType eq '' "
        "and (Plant eq '1010' or Plant eq '1020')"
    )


async def test_incremental_stock_rereads_moved_materials_and_reports_emptied_positions() -> None:
    router = Router()
    router.stock = [STOCK[0]]
    connector = make(router)
    levels = [s async for s in connector.stock(datetime(2025, 3, 2, 8, tzinfo=UTC))]
    header = router.last("A_MaterialDocumentHeader").url.params
    assert header["$filter"] == "CreationDate ge datetime'2025-03-01T00:00:00'"
    stock = router.last("A_MatlStkInAcctMod").url.params["$filter"]
    assert "(Material eq 'MAT-1' or Material eq 'MAT-3')" in stock
    by_key = {level.key: level for level in levels}
    assert by_key[StockKey("MAT-1", "1010/0001", "B1")].quantity == Decimal("1160.000")
    assert by_key[StockKey("MAT-3", "1010/0001", None)].quantity == 0  # no stock row left: zero
