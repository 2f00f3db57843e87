"""SAP records <-> the canonical model: products, stock rows, goods movements, purchase orders, key hashes."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from atlas_desktop.connectors.sap.config import EAN_SOURCE, SCRAP_REASONS, SapConfig
from atlas_desktop.connectors.sap.odata import (
    invalid,
    iso_date_payload,
    nav_results,
    parse_date,
    parse_datetime,
)
from atlas_desktop.domain.errors import ConfigError, ValidationFailed
from atlas_desktop.domain.model import Product, PurchaseOrder, StockChange, StockKey, StockLevel
from atlas_desktop.domain.ndc import ten_digits_from_gtin
from atlas_desktop.domain.packs import NDC_PREFIX, PER_PREFIX, per_text
from atlas_desktop.domain.quantity import SAP as QUANTITY
from atlas_desktop.domain.quantity import erp_ref, read_quantity, require_writable

SYSTEM = "SAP"
HEADER_TEXT_PREFIX = "ATL"
# Consumption and scrapping post to a cost center (account assignment); SAP refuses them without one.
COST_CENTER_MOVEMENTS = frozenset({"201", "551"})


def _hash32(key: str) -> str:
    return base64.b32encode(hashlib.sha256(key.encode("utf-8")).digest()).decode("ascii")


def header_text_for(key: str) -> str:
    """MaterialDocumentHeaderText holds 25 characters: "ATL" + 22 base32 chars (110 bits) of sha256(key)."""
    return HEADER_TEXT_PREFIX + _hash32(key)[:22]


def po_reference_for(key: str) -> str:
    """The PO reference fields hold 12 characters: "A" + 11 base32 chars (55 bits) of sha256(key)."""
    return "A" + _hash32(key)[:11]


def location_id(plant: str, storage_location: str) -> str:
    return f"{plant}/{storage_location}"


def split_location(location: str) -> tuple[str, str]:
    plant, sep, storage_location = location.partition("/")
    if not sep or not plant or not storage_location:
        raise ValidationFailed(
            f"'{location}' is not an SAP stock location",
            fix="SAP locations are written plant/storage location, e.g. 1010/0001.",
            system=SYSTEM,
        )
    return plant, storage_location


# --- reads -------------------------------------------------------------------------------------------

PRODUCT_SELECT = (
    "Product",
    "ProductType",
    "BaseUnit",
    "ProductStandardID",
    "IsMarkedForDeletion",
    "IsBatchManagementRequired",
    "LastChangeDateTime",
    "ProductGroup",
)


UNITS_NAV = "to_ProductUnitsOfMeasure"


def uses_ean_table(config: SapConfig) -> bool:
    return config.ndc_field in (EAN_SOURCE, "ean")


def product_select(config: SapConfig) -> str:
    fields = list(PRODUCT_SELECT)
    if not uses_ean_table(config) and config.ndc_field not in fields:
        fields.append(config.ndc_field)
    fields.extend(product_expand(config).split(","))
    return ",".join(fields)


def product_expand(config: SapConfig) -> str:
    """Descriptions, and with the EAN table the units of measure: how many base units each pack holds."""
    return f"to_Description,{UNITS_NAV}" if uses_ean_table(config) else "to_Description"


def _per_unit(row: Mapping[str, Any]) -> dict[str, str]:
    """AlternativeUnit -> base units in one of it (1 unit = QuantityNumerator / QuantityDenominator base)."""
    found = {}
    for unit in nav_results(row, UNITS_NAV):
        try:
            numerator = Decimal(str(unit.get("QuantityNumerator")))
            denominator = Decimal(str(unit.get("QuantityDenominator")))
        except ArithmeticError:
            continue
        if numerator.is_finite() and denominator.is_finite():
            per = per_text(numerator, denominator)
            if per is not None:
                found[str(unit.get("AlternativeUnit") or "")] = per
    return found


def _description(row: Mapping[str, Any], language: str) -> str | None:
    texts = nav_results(row, "to_Description")
    for text in texts:
        if str(text.get("Language", "")).upper() == language and text.get("ProductDescription"):
            return str(text["ProductDescription"])
    for text in texts:
        if text.get("ProductDescription"):
            return str(text["ProductDescription"])
    return None


def product_from_row(
    row: Mapping[str, Any], config: SapConfig, eans: Mapping[str, Sequence[str]] | None = None
) -> Product:
    """A_Product (+ to_Description) -> Product; ndc_text is the configured field as SAP holds it.

    From the EAN table (`eans`: GTINs per unit, main first) the NDC is the base unit's main GTIN; every
    unit's GTINs are kept as `gtin:<unit>` attributes, since each pack level has its own NDC package code,
    and each pack level's NDC digits and base units per pack as `ndc:<unit>` / `per:<unit>` (domain/packs.py).
    """
    material = row.get("Product")
    if not material:
        raise invalid("a product row has no Product key")
    base_unit = str(row.get("BaseUnit") or "")
    attributes = {
        name: str(row[name]) for name in ("ProductType", "ProductGroup") if row.get(name) not in (None, "")
    }
    if uses_ean_table(config):
        eans = eans or {}
        per_unit = _per_unit(row)
        for unit, gtins in sorted(eans.items()):
            attributes[f"gtin:{unit}"] = ",".join(gtins)
            # The 10 NDC digits each pack level's GTINs embed (their layout is for NDC matching to settle).
            ndcs = dict.fromkeys(d for d in map(ten_digits_from_gtin, gtins) if d)
            if ndcs:
                attributes[f"{NDC_PREFIX}{unit}"] = ",".join(ndcs)
                if unit != base_unit and unit in per_unit:
                    attributes[f"{PER_PREFIX}{unit}"] = per_unit[unit]
        # The base unit's GTIN; a product whose GTINs sit on other units only gives the first unit's.
        own = eans.get(base_unit) or next((g for _, g in sorted(eans.items()) if g), None)
        ndc_text = own[0] if own else None
    else:
        value = row.get(config.ndc_field)
        ndc_text = str(value).strip() if value not in (None, "") else None
    return Product(
        erp_item_id=str(material),
        sku=str(material),
        name=_description(row, config.language) or str(material),
        unit=base_unit,
        ndc_text=ndc_text or None,
        lot_tracked=bool(row.get("IsBatchManagementRequired")),
        inactive=bool(row.get("IsMarkedForDeletion")),
        last_modified=parse_datetime(row.get("LastChangeDateTime")),
        attributes=attributes,
    )


STOCK_SELECT = (
    "Material,Plant,StorageLocation,Batch,InventoryStockType,InventorySpecialStockType,"
    "MaterialBaseUnit,MatlWrhsStkQtyInMatlBaseUnit"
)
STOCK_ORDER = "Material,Plant,StorageLocation,Batch,InventoryStockType,InventorySpecialStockType"


def stock_key(row: Mapping[str, Any]) -> StockKey:
    batch = str(row.get("Batch") or "").strip()
    return StockKey(
        item_id=str(row.get("Material") or ""),
        location_id=location_id(str(row.get("Plant") or ""), str(row.get("StorageLocation") or "")),
        lot=batch or None,
    )


def stock_quantity(row: Mapping[str, Any], key: StockKey) -> Decimal:
    """A stock row's quantity within DEC 13,3 (domain/quantity.py), else QuantityRefused naming `key`."""
    value = row.get("MatlWrhsStkQtyInMatlBaseUnit")
    if value is None or value == "":
        return Decimal(0)
    if isinstance(value, float):  # some proxies re-encode; str() keeps the printed digits
        value = str(value)
    return read_quantity(value, QUANTITY, item=erp_ref(key), what="the unrestricted stock")


# One per batch of the whole catalog is held during a full stock read: slots halve its size.
@dataclass(frozen=True, slots=True)
class BatchInfo:
    plant: str
    expiry: date | None
    manufactured: date | None


def batch_info(row: Mapping[str, Any]) -> BatchInfo:
    return BatchInfo(
        plant=str(row.get("BatchIdentifyingPlant") or ""),
        expiry=parse_date(row.get("ShelfLifeExpirationDate")),
        manufactured=parse_date(row.get("ManufactureDate")),
    )


def pick_batch(infos: list[BatchInfo] | None, plant: str) -> BatchInfo | None:
    """Plant-level batches win over material-level ones (BatchIdentifyingPlant '')."""
    if not infos:
        return None
    for info in infos:
        if info.plant == plant:
            return info
    for info in infos:
        if not info.plant:
            return info
    return infos[0]


def stock_level(key: StockKey, quantity: Decimal, unit: str, batch: BatchInfo | None) -> StockLevel:
    return StockLevel(key=key, quantity=quantity, unit=unit, expiry=batch.expiry if batch else None)


# --- writes ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Movement:
    """A goods movement ready to post: which movement type and code, and the item fields."""

    movement_type: str
    gm_code: str
    header_text: str
    item: dict[str, Any]


def movement_for(
    change: StockChange,
    key: str,
    config: SapConfig,
    *,
    manufacture_date: date | None = None,
) -> Movement:
    """StockChange -> goods movement: receipt 501/05, issue 201/03 + cost center, scrap 551/03 (settings)."""
    require_writable(abs(change.delta), QUANTITY, item=erp_ref(change.key), what="The goods movement")
    plant, storage_location = split_location(change.key.location_id)
    if change.delta > 0:
        purpose = "receipt"
    elif change.reason.lower() in SCRAP_REASONS:
        purpose = "scrap"
    else:
        purpose = "issue"
    movement_type = config.movement_type(purpose)
    item: dict[str, Any] = {
        "Material": change.key.item_id,
        "Plant": plant,
        "StorageLocation": storage_location,
        "GoodsMovementType": movement_type,
        "EntryUnit": change.unit,
        "QuantityInEntryUnit": format(abs(change.delta), "f"),
    }
    if change.key.lot:
        item["Batch"] = change.key.lot
    if purpose == "receipt":
        if change.expiry is not None:
            item["ShelfLifeExpirationDate"] = iso_date_payload(change.expiry)
        if manufacture_date is not None:
            item["ManufactureDate"] = iso_date_payload(manufacture_date)
    else:
        cost_center = (config.scrap_cost_center if purpose == "scrap" else None) or config.cost_center
        if cost_center:
            item["CostCenter"] = cost_center
        elif movement_type in COST_CENTER_MOVEMENTS:
            raise ConfigError(
                "cost_center",
                f"a goods {'scrapping' if purpose == 'scrap' else 'issue'} (movement type {movement_type}) "
                "needs a cost center",
                fix="Enter the cost center Atlas sales and write-offs are booked to in the SAP connection "
                "settings.",
            )
    if purpose == "scrap" and config.scrap_reason_code:
        item["GoodsMovementReasonCode"] = config.scrap_reason_code
    if change.memo:
        item["MaterialDocumentItemText"] = change.memo[:50]
    return Movement(movement_type, config.gm_code(movement_type), header_text_for(key), item)


def material_document_payload(movement: Movement, posting_date: date) -> dict[str, Any]:
    """The deep insert of KBA 3027233's shape: header + to_MaterialDocumentItem as a plain array."""
    day = iso_date_payload(posting_date)
    return {
        "PostingDate": day,
        "DocumentDate": day,
        "GoodsMovementCode": movement.gm_code,
        "MaterialDocumentHeaderText": movement.header_text,
        "to_MaterialDocumentItem": [movement.item],
    }


def purchase_order_payload(
    order: PurchaseOrder, key: str, config: SapConfig, *, order_date: date
) -> dict[str, Any]:
    """A_PurchaseOrder deep insert (+ to_PurchaseOrderItem); the key hash goes in a reference field."""
    missing = [
        name
        for name, value in (
            ("company_code", config.company_code),
            ("purchasing_organization", config.purchasing_org),
            ("purchasing_group", config.purchasing_group),
            ("po_plant", config.po_plant),
        )
        if not value
    ]
    if missing:
        raise ConfigError(
            missing[0],
            f"purchase orders need {', '.join(missing)} in the SAP connection settings",
            fix="Enter the company code, purchasing organisation, purchasing group and plant for "
            "Atlas orders.",
        )
    supplier = config.suppliers.get(order.supplier_atlas_id) or config.default_supplier
    if not supplier:
        raise ConfigError(
            "default_supplier",
            f"no SAP supplier is set for the Atlas supplier {order.supplier_name}",
            fix="Map the Atlas supplier to an SAP supplier number, or set a default supplier.",
        )
    items = []
    for index, line in enumerate(order.lines, start=1):
        if not line.erp_item_id:
            raise ValidationFailed(
                f"order {order.number} line {index} ({line.name}, NDC {line.ndc_text}) has no SAP material",
                fix="Map this NDC to an SAP material in Atlas Desktop, then replay the order.",
                system=SYSTEM,
            )
        material = f"material {line.erp_item_id}"
        require_writable(line.quantity, QUANTITY, item=material, what="The order quantity")
        item: dict[str, Any] = {
            "PurchaseOrderItem": str(index * 10),
            "Material": line.erp_item_id,
            "Plant": config.po_plant,
            "OrderQuantity": format(line.quantity, "f"),
            "PurchaseOrderQuantityUnit": line.unit,
            "NetPriceAmount": format(line.unit_price, "f"),
            "DocumentCurrency": line.currency,
            "PurchaseOrderItemText": line.name[:40],
        }
        if config.po_storage_location:
            item["StorageLocation"] = config.po_storage_location
        items.append(item)
    if not items:
        raise ValidationFailed(f"order {order.number} has no lines", system=SYSTEM)
    return {
        "CompanyCode": config.company_code,
        "PurchaseOrderType": config.po_type,
        "Supplier": supplier,
        "PurchasingOrganization": config.purchasing_org,
        "PurchasingGroup": config.purchasing_group,
        "DocumentCurrency": order.lines[0].currency,
        "PurchaseOrderDate": iso_date_payload(order_date),
        config.po_reference_field: po_reference_for(key),
        "to_PurchaseOrderItem": items,
    }
