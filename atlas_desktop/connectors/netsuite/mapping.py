"""NetSuite rows and records <-> the canonical model (Product, StockLevel, adjustments, purchase orders)."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import lru_cache
from typing import Any

from atlas_desktop.connectors.netsuite.queries import parse_datetime
from atlas_desktop.domain.errors import InvalidResponse
from atlas_desktop.domain.model import Product, PurchaseOrder, StockChange, StockKey, StockLevel
from atlas_desktop.domain.quantity import NETSUITE as QUANTITY
from atlas_desktop.domain.quantity import (
    QuantityRefused,
    RejectedRow,
    erp_ref,
    quantity_within,
    read_quantity,
    require_writable,
)

DEFAULT_NDC_FIELD = "custitem_ndc_code"
DEFAULT_UNIT = "EA"


@dataclass(frozen=True)
class FieldMap:
    """Which NetSuite columns hold what, per connection (settings `field_mappings`)."""

    ndc_column: str = DEFAULT_NDC_FIELD
    unit: str = DEFAULT_UNIT
    timezone: str = "UTC"

    def ndc_alias(self) -> str:
        # itemid and upccode are selected under their own names; a custom field as `ndc`.
        return self.ndc_column if self.ndc_column in ("itemid", "upccode") else "ndc"


def text(row: Mapping[str, Any], name: str) -> str | None:
    value = row.get(name)
    if value is None:
        return None
    value = (value if type(value) is str else str(value)).strip()
    return value or None


def flag(row: Mapping[str, Any], name: str) -> bool:
    value = row.get(name)
    return value is True or (isinstance(value, str) and value.strip().upper() in ("T", "TRUE"))


def stock_quantity(value: object, key: StockKey) -> Decimal:
    """The quantity of a stock row, within what NetSuite can hold (domain/quantity.py), or QuantityRefused."""
    return _quantity_and_text(value, key)[0]


def _quantity_and_text(value: object, key: StockKey) -> tuple[Decimal, str]:
    """`stock_quantity` and its text (a stock row's observed version)."""
    if value is None or value == "":
        return _ZERO
    # str() first for record JSON numbers: SuiteQL sends strings; never via a binary float.
    text = value if type(value) is str else str(value)
    quantity = quantity_within(text, QUANTITY)
    if quantity is None:  # refused: read again to name the row in the error
        quantity = read_quantity(text, QUANTITY, item=erp_ref(key), what="the quantity on hand")
    return quantity, str(quantity)


_ZERO = (Decimal(0), str(Decimal(0)))


def iso_date(value: str | None) -> date | None:
    if not value:
        return None
    return _iso_date(value[:10])


@lru_cache(maxsize=4096)
def _iso_date(value: str) -> date | None:
    # Expiry dates repeat across lots and locations; parse each distinct one once.
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


def row_version(row: Mapping[str, Any]) -> str:
    """A digest of a row's values: changes whenever anything we read changes, even within one second."""
    parts = sorted((k, str(v)) for k, v in row.items() if k != "links")
    return hashlib.blake2b(repr(parts).encode(), digest_size=12).hexdigest()


@lru_cache(maxsize=16)
def _product_columns(ndc_alias: str) -> tuple[str, ...]:
    return ("id", "itemid", "upccode", "displayname", "stockunit", ndc_alias, "manufacturer", "modified")


def product_from_row(row: Mapping[str, Any], fields: FieldMap) -> Product:
    item_id, sku, upc, name, unit, ndc, manufacturer, modified = texts(
        row, _product_columns(fields.ndc_alias())
    )
    if item_id is None:
        raise InvalidResponse("NetSuite sent an item row without an id.", system="NetSuite")
    sku = sku or item_id
    attributes = {}
    if upc:
        attributes["upc_code"] = upc
    return Product(
        erp_item_id=item_id,
        sku=sku,
        name=name or sku,
        unit=unit or fields.unit,
        ndc_text=ndc,
        manufacturer=manufacturer,
        lot_tracked=flag(row, "islotitem"),
        inactive=flag(row, "isinactive"),
        last_modified=parse_datetime(modified, fields.timezone),
        attributes=attributes,
    )


def texts(row: Mapping[str, Any], names: tuple[str, ...]) -> list[str | None]:
    """`text` of several columns in one call (stock reads run it for every row of the catalog)."""
    return [
        (value.strip() or None)
        if type(value) is str
        else None
        if value is None
        else (str(value).strip() or None)
        for value in map(row.get, names)
    ]


_LOT_COLUMNS = ("item", "location", "stockunit", "lot", "expiry", "numid")
_PLAIN_COLUMNS = ("item", "location", "stockunit")


def stock_from_row(row: Mapping[str, Any], fields: FieldMap, *, lot_row: bool) -> StockLevel | RejectedRow:
    """One stock row; a quantity NetSuite cannot hold refuses this row alone (a RejectedRow in its place)."""
    if lot_row:
        item_id, location, unit, lot, expiry, lot_ref = texts(row, _LOT_COLUMNS)
        if lot is None or not (lot_ref and lot_ref.isascii() and lot_ref.isdigit()):
            lot_ref = None  # not an internal id: a write taking stock from the lot looks it up instead
    else:
        (item_id, location, unit), lot, expiry, lot_ref = texts(row, _PLAIN_COLUMNS), None, None, None
    if item_id is None or location is None:
        raise InvalidResponse("NetSuite sent a stock row without item or location.", system="NetSuite")
    key = StockKey(item_id=item_id, location_id=location, lot=lot)
    try:
        quantity, version = _quantity_and_text(row.get("qty"), key)
    except QuantityRefused as error:
        return RejectedRow(erp_ref(key), error, key=key)
    return StockLevel(
        key=key,
        quantity=quantity,
        unit=unit or fields.unit,
        expiry=iso_date(expiry),
        observed_version=version,
        lot_ref=lot_ref,
    )


def json_number(value: Decimal) -> int | float:
    """A Decimal for the JSON body. Whole numbers stay exact ints; fractions (half units) go through
    float, whose shortest repr round-trips any quantity of up to 15 significant digits exactly."""
    if value == value.to_integral_value():
        return int(value)
    if len(value.normalize().as_tuple().digits) > 15:
        # A refusal of this item's write, not a crash of the run: an exception here would stop every
        # later run at the same pending write.
        raise QuantityRefused(
            f"NetSuite cannot hold the quantity {str(value)[:40]} exactly (over 15 significant digits).",
            system="NetSuite",
        )
    return float(value)


def adjustment_line(change: StockChange, *, lot_number_id: str | None = None) -> dict[str, Any]:
    """One `inventory.items` line: `adjustQtyBy`, lots via inventoryDetail."""
    require_writable(change.delta, QUANTITY, item=erp_ref(change.key), what="The adjustment")
    quantity = json_number(change.delta)
    line: dict[str, Any] = {
        "item": {"id": change.key.item_id},
        "location": {"id": change.key.location_id},
        "adjustQtyBy": quantity,
    }
    if change.key.lot is not None:
        assignment: dict[str, Any] = {"quantity": quantity}
        if change.delta > 0:
            # receiptInventoryNumber is the lot text (it creates the lot or adds to it).
            assignment["receiptInventoryNumber"] = change.key.lot
            if change.expiry is not None:
                assignment["expirationDate"] = change.expiry.isoformat()
        else:
            # issueInventoryNumber refers to the existing lot by its internal id; never both.
            if lot_number_id is None:
                raise ValueError("a negative lot adjustment needs the lot's inventoryNumber id")
            assignment["issueInventoryNumber"] = {"id": lot_number_id}
        line["inventoryDetail"] = {"inventoryAssignment": {"items": [assignment]}}
    return line


def adjustment_record(
    lines: list[dict[str, Any]],
    key: str,
    *,
    account_id: str,
    subsidiary_id: str | None,
    location_id: str,
    tran_date: date,
    memo: str,
) -> dict[str, Any]:
    """An inventoryAdjustment carrying `lines`, written under the externalId `key`."""
    body: dict[str, Any] = {
        "externalId": key,
        "account": {"id": account_id},
        "adjLocation": {"id": location_id},
        "tranDate": tran_date.isoformat(),
        "memo": memo[:999],
        "inventory": {"items": lines},
    }
    if subsidiary_id:
        body["subsidiary"] = {"id": subsidiary_id}
    return body


def adjustment_body(
    change: StockChange,
    key: str,
    *,
    account_id: str,
    subsidiary_id: str | None,
    tran_date: date,
    lot_number_id: str | None = None,
) -> dict[str, Any]:
    """An inventoryAdjustment of one line."""
    line = adjustment_line(change, lot_number_id=lot_number_id)
    line["memo"] = key  # as a batched record's lines carry their change's key
    return adjustment_record(
        [line],
        key,
        account_id=account_id,
        subsidiary_id=subsidiary_id,
        location_id=change.key.location_id,
        tran_date=tran_date,
        memo=change.memo or f"Atlas Desktop: {change.reason}",
    )


def purchase_order_body(
    order: PurchaseOrder,
    *,
    vendor_id: str,
    item_ids: list[str],
    subsidiary_id: str | None,
    location_id: str | None,
    tran_date: date,
) -> dict[str, Any]:
    lines = []
    for line, item_id in zip(order.lines, item_ids, strict=True):
        require_writable(line.quantity, QUANTITY, item=f"item {item_id}", what="The order quantity")
        entry: dict[str, Any] = {
            "item": {"id": item_id},
            "quantity": json_number(line.quantity),
            "rate": json_number(line.unit_price),
            "description": line.name[:999],
        }
        if location_id:
            entry["location"] = {"id": location_id}
        lines.append(entry)
    body: dict[str, Any] = {
        "externalId": order.atlas_order_id,
        "entity": {"id": vendor_id},
        "tranDate": tran_date.isoformat(),
        "memo": f"Atlas order {order.number}"[:999],
        "item": {"items": lines},
    }
    if subsidiary_id:
        body["subsidiary"] = {"id": subsidiary_id}
    if location_id:
        body["location"] = {"id": location_id}
    return body
