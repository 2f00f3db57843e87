"""Fill a tenant's tables from the pharma catalog: units and GTINs per pack level too."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from decimal import Decimal

from atlas_desktop.sandbox.catalog import Catalog, CatalogProduct, erp_items, gs1_check_digit, ndc_to_gtin14
from atlas_desktop.sandbox.sap.config import SapConfig
from atlas_desktop.sandbox.sap.services import batch, material_document, product, purchase_order, stock
from atlas_desktop.sandbox.sap.services.product import NDC_CUSTOM_FIELD
from atlas_desktop.sandbox.sap.state import Row, State

ALL_SCHEMAS = (product.SCHEMA, stock.SCHEMA, material_document.SCHEMA, batch.SCHEMA, purchase_order.SCHEMA)


def define_tables(state: State) -> None:
    for schema in ALL_SCHEMAS:
        for eset in schema.sets:
            state.define(eset.name, eset.type.key)


def at_midnight(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=UTC)


def seed(state: State, config: SapConfig, catalog: Catalog | None) -> None:
    """Products, plants, descriptions, batches and stock rows. Fast: plain dicts, no journal."""
    define_tables(state)
    if catalog is None:
        return
    created = datetime(2020, 1, 1, tzinfo=UTC)
    changed = datetime.combine(catalog.today, time(6, 0), tzinfo=UTC)
    plants = sorted({plant for plant, _ in config.locations.values()})
    products: list[Row] = []
    descriptions: list[Row] = []
    plant_rows: list[Row] = []
    material_stock: list[Row] = []
    batches: list[Row] = []
    stock_rows: list[Row] = []
    units: list[Row] = []
    eans: list[Row] = []
    for item in erp_items(catalog, "sap"):
        p = item.product
        products.append(_product(config, p, created, changed))
        gtins = pack_gtins(config, p)
        units.extend(unit_rows(config, p.sku, p.unit, gtins))
        eans.extend(ean_rows(p.sku, gtins))
        descriptions.append({"Product": p.sku, "Language": "EN", "ProductDescription": p.name[:40]})
        for plant in plants:
            plant_rows.append(
                {
                    "Product": p.sku,
                    "Plant": plant,
                    "PurchasingGroup": "001",
                    "CountryOfOrigin": "US",
                    "ProfileCode": "",
                    "AvailabilityCheckType": "02",
                    "IsBatchManagementRequired": p.lot_tracked,
                    "MRPType": "PD",
                    "ProcurementType": "F",
                    "IsInternalBatchManaged": p.lot_tracked,
                    "BaseUnit": p.unit,
                    "IsMarkedForDeletion": False,
                }
            )
        material_stock.append({"Material": p.sku, "MaterialBaseUnit": p.unit})
        for lot in item.lots:
            batches.append(
                {
                    "Material": p.sku,
                    "BatchIdentifyingPlant": "",
                    "Batch": lot.lot,
                    "Supplier": "",
                    "BatchBySupplier": "",
                    "CountryOfOrigin": "US",
                    "RegionOfOrigin": "",
                    "MatlBatchAvailabilityDate": None,
                    "ShelfLifeExpirationDate": at_midnight(lot.expiry),
                    "ManufactureDate": at_midnight(lot.manufacture_date),
                    "FreeDefinedDate1": None,
                    "CreationDateTime": created,
                    "LastChangeDateTime": changed,
                    "BatchIsMarkedForDeletion": False,
                    "MatlBatchIsInRstrcdUseStock": False,
                    "BatchExtWhseMgmtInternalId": "",
                }
            )
        for position, st in enumerate(item.stock):
            plant, sloc = config.locations[st.location]
            stock_rows.append(stock_row(p.sku, plant, sloc, st.lot or "", st.quantity, p.unit))
            if position == 0 and config.special_stock_every and p.index % config.special_stock_every == 0:
                # Rows a client must leave out by default: quality inspection, blocked, consignment.
                st_lot = st.lot or ""
                stock_rows.append(stock_row(p.sku, plant, sloc, st_lot, Decimal(5), p.unit, stock_type="02"))
                stock_rows.append(stock_row(p.sku, plant, sloc, st_lot, Decimal(3), p.unit, stock_type="07"))
                stock_rows.append(
                    stock_row(
                        p.sku, plant, sloc, st_lot, Decimal(12), p.unit, special="K", supplier="17300001"
                    )
                )
    state.load("A_Product", products)
    state.load("A_ProductDescription", descriptions)
    state.load("A_ProductPlant", plant_rows)
    state.load("A_ProductUnitsOfMeasure", units)
    state.load("A_ProductUnitsOfMeasureEAN", eans)
    state.load("A_MaterialStock", material_stock)
    state.load("Batch", batches)
    state.load("A_MatlStkInAcctMod", stock_rows)


def pack_gtins(config: SapConfig, p: CatalogProduct) -> dict[str, list[str]]:
    """GTINs per unit, main first: the base unit's GTIN-14 (+ its UPC-A for some products) and, for some
    products, a case GTIN-14 whose NDC has another package code (pack levels have their own NDCs)."""
    ndc_digits = p.ndc.replace("-", "")
    gtins = {p.unit: [p.gtin14]}
    if config.second_gtin_every and p.index % config.second_gtin_every == 0:
        upc = "3" + ndc_digits
        gtins[p.unit].append(upc + gs1_check_digit(upc))
    if config.case_gtin_every and p.index % config.case_gtin_every == 0:
        labeler, product, package = p.ndc.split("-")
        case_package = f"{(int(package) + 1) % 10 ** len(package):0{len(package)}d}"
        gtins["CS"] = [ndc_to_gtin14(f"{labeler}-{product}-{case_package}", indicator=5)]
    return gtins


def ean_rows(material: str, gtins: dict[str, list[str]]) -> list[Row]:
    return [
        {
            "Product": material,
            "AlternativeUnit": unit,
            "ConsecutiveNumber": f"{n:05d}",
            "ProductStandardID": gtin,
            "InternationalArticleNumberCat": "UC" if len(gtin) == 12 else "IC",
            "IsMainGlobalTradeItemNumber": n == 1,
        }
        for unit, codes in gtins.items()
        for n, gtin in enumerate(codes, start=1)
    ]


def unit_rows(
    config: SapConfig, material: str, base: str, gtins: dict[str, list[str]] | None = None
) -> list[Row]:
    """The base unit (1/1) and the alternative units maintained for it, each with its main GTIN."""
    gtins = gtins or {}
    rows = []
    for unit, numerator, denominator in ((base, 1, 1), *config.alternative_units.get(base, ())):
        rows.append(
            {
                "Product": material,
                "AlternativeUnit": unit,
                "QuantityNumerator": Decimal(numerator),
                "QuantityDenominator": Decimal(denominator),
                "GrossWeight": None,
                "WeightUnit": "",
                "GlobalTradeItemNumber": gtins[unit][0] if unit in gtins else "",
                "GlobalTradeItemNumberCategory": "IC" if unit in gtins else "",
                "LowerLevelPackagingUnit": "" if unit == base else base,
                "BaseUnit": base,
            }
        )
    return rows


def _product(config: SapConfig, p: CatalogProduct, created: datetime, changed: datetime) -> Row:
    ndc_field = (
        p.ndc if config.ndc_custom_field_every and p.index % config.ndc_custom_field_every == 0 else ""
    )
    return {
        "Product": p.sku,
        "ProductType": "HAWA",
        "CrossPlantStatus": "",
        "CreationDate": created,
        "CreatedByUser": "MIGRATION",
        "LastChangeDate": changed.replace(hour=0),
        "LastChangedByUser": "MIGRATION",
        "LastChangeDateTime": changed,
        "IsMarkedForDeletion": False,
        "ProductOldID": "",
        "GrossWeight": Decimal("0.100"),
        "WeightUnit": "KG",
        "NetWeight": Decimal("0.080"),
        "ProductGroup": "PHARMA",
        "BaseUnit": p.unit,
        "Division": "00",
        "IndustryStandardName": "",
        "ProductStandardID": p.gtin14,
        "InternationalArticleNumberCat": "IC",
        "IsBatchManagementRequired": p.lot_tracked,
        "ProductManufacturerNumber": "",
        "ManufacturerNumber": "",
        "Brand": "",
        "ProductHierarchy": "",
        NDC_CUSTOM_FIELD: ndc_field,
    }


def stock_row(
    material: str,
    plant: str,
    sloc: str,
    batch_: str,
    quantity: Decimal,
    unit: str,
    *,
    stock_type: str = "01",
    special: str = "",
    supplier: str = "",
) -> Row:
    return {
        "Material": material,
        "Plant": plant,
        "StorageLocation": sloc,
        "Batch": batch_,
        "Supplier": supplier,
        "Customer": "",
        "WBSElementInternalID": "00000000",
        "SDDocument": "",
        "SDDocumentItem": "000000",
        "InventorySpecialStockType": special,
        "InventoryStockType": stock_type,
        "WBSElementExternalID": "",
        "MaterialBaseUnit": unit,
        "MatlWrhsStkQtyInMatlBaseUnit": quantity,
    }


def add_bulk_stock(state: State, config: SapConfig, rows: int, *, prefix: str = "BULK") -> int:
    """Append `rows` unrestricted stock rows (4 batches x 2 storage locations per material) in well under
    a second per 100,000: for volume tests that do not need the catalog's realism. Returns materials added."""
    define_tables(state)
    stamp = datetime(2024, 1, 1, tzinfo=UTC)
    plant, slocs = "1010", ("0001", "0002")
    per_material = 8
    materials = -(-rows // per_material)
    products, plants, material_stock, batches, stock_rows = [], [], [], [], []
    made = 0
    for m in range(materials):
        sku = f"{prefix}-{m + 1:07d}"
        products.append(
            {
                "Product": sku,
                "ProductType": "HAWA",
                "CrossPlantStatus": "",
                "CreationDate": stamp,
                "CreatedByUser": "MIGRATION",
                "LastChangeDate": stamp,
                "LastChangedByUser": "MIGRATION",
                "LastChangeDateTime": stamp,
                "IsMarkedForDeletion": False,
                "ProductOldID": "",
                "GrossWeight": None,
                "WeightUnit": "",
                "NetWeight": None,
                "ProductGroup": "PHARMA",
                "BaseUnit": "EA",
                "Division": "00",
                "IndustryStandardName": "",
                "ProductStandardID": "",
                "InternationalArticleNumberCat": "",
                "IsBatchManagementRequired": True,
                "ProductManufacturerNumber": "",
                "ManufacturerNumber": "",
                "Brand": "",
                "ProductHierarchy": "",
                NDC_CUSTOM_FIELD: "",
            }
        )
        plants.append(
            {
                "Product": sku,
                "Plant": plant,
                "PurchasingGroup": "001",
                "CountryOfOrigin": "US",
                "ProfileCode": "",
                "AvailabilityCheckType": "02",
                "IsBatchManagementRequired": True,
                "MRPType": "PD",
                "ProcurementType": "F",
                "IsInternalBatchManaged": True,
                "BaseUnit": "EA",
                "IsMarkedForDeletion": False,
            }
        )
        material_stock.append({"Material": sku, "MaterialBaseUnit": "EA"})
        for b in range(per_material // len(slocs)):
            lot = f"L{m % 100000:05d}{b}"
            batches.append(
                {
                    "Material": sku,
                    "BatchIdentifyingPlant": "",
                    "Batch": lot,
                    "Supplier": "",
                    "BatchBySupplier": "",
                    "CountryOfOrigin": "US",
                    "RegionOfOrigin": "",
                    "MatlBatchAvailabilityDate": None,
                    "ShelfLifeExpirationDate": datetime(2027, 1 + b, 28, tzinfo=UTC),
                    "ManufactureDate": stamp,
                    "FreeDefinedDate1": None,
                    "CreationDateTime": stamp,
                    "LastChangeDateTime": stamp,
                    "BatchIsMarkedForDeletion": False,
                    "MatlBatchIsInRstrcdUseStock": False,
                    "BatchExtWhseMgmtInternalId": "",
                }
            )
            for sloc in slocs:
                if made < rows:
                    stock_rows.append(stock_row(sku, plant, sloc, lot, Decimal(10 + (m + b) % 90), "EA"))
                    made += 1
    state.load("A_Product", products)
    state.load("A_ProductPlant", plants)
    state.load("A_MaterialStock", material_stock)
    state.load("Batch", batches)
    state.load("A_MatlStkInAcctMod", stock_rows)
    return materials
