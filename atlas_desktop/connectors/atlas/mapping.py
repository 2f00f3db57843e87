"""Atlas JSON <-> domain values: rows, orders, times and decimal strings, checked field by field."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from atlas_desktop.connectors.atlas.errors import SYSTEM
from atlas_desktop.domain.errors import InvalidResponse
from atlas_desktop.domain.model import AtlasInventoryRow, PurchaseOrder, PurchaseOrderLine


def _bad(what: str, value: object) -> InvalidResponse:
    shown = repr(value)[:60]
    return InvalidResponse(f"{SYSTEM} sent {what} that cannot be read: {shown}", system=SYSTEM)


def decimal(value: object, what: str) -> Decimal:
    # The contract sends decimals as strings; a JSON number would already have been through a float.
    if not isinstance(value, str):
        raise _bad(f"{what} (not a decimal string)", value)
    try:
        number = Decimal(value)
    except InvalidOperation:
        raise _bad(what, value) from None
    if not number.is_finite():
        raise _bad(what, value)
    return number


def timestamp(value: object, what: str) -> datetime:
    if not isinstance(value, str):
        raise _bad(what, value)
    text = value[:-1] + "+00:00" if value.endswith(("Z", "z")) else value
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise _bad(what, value) from None
    if moment.utcoffset() is None:
        raise _bad(f"{what} (no time zone)", value)
    return moment.astimezone(UTC)


def iso_date(value: object, what: str) -> date | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise _bad(what, value)
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise _bad(what, value) from None


def rfc3339(moment: datetime) -> str:
    if moment.utcoffset() is None:
        raise ValueError("times sent to Atlas must be timezone-aware")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _text(data: Mapping[str, Any], name: str, *, optional: bool = False) -> Any:
    value = data.get(name)
    if value is None and optional:
        return None
    if not isinstance(value, str):
        raise _bad(f"a row field '{name}'", value)
    return value


def parse_row(data: object) -> AtlasInventoryRow:
    if not isinstance(data, Mapping):
        raise _bad("an inventory row", data)
    version = data.get("version")
    if isinstance(version, bool) or not isinstance(version, int):
        raise _bad("a row version", version)
    deleted = data.get("deleted", False)
    if not isinstance(deleted, bool):
        raise _bad("a row 'deleted' flag", deleted)
    return AtlasInventoryRow(
        id=_text(data, "id"),
        ndc_text=_text(data, "ndc"),
        name=_text(data, "name"),
        quantity=decimal(data.get("quantity"), "a quantity"),
        unit=_text(data, "unit"),
        version=version,
        updated_at=timestamp(data.get("updated_at"), "updated_at"),
        sku=_text(data, "sku", optional=True),
        lot=_text(data, "lot_number", optional=True),
        expiry=iso_date(data.get("expiry_date"), "expiry_date"),
        location=_text(data, "location", optional=True),
        deleted=deleted,
    )


def parse_order(data: object) -> PurchaseOrder:
    if not isinstance(data, Mapping):
        raise _bad("an order", data)
    supplier = data.get("supplier")
    lines = data.get("lines")
    if not isinstance(supplier, Mapping) or not isinstance(lines, list):
        raise _bad("an order's supplier or lines", data.get("id"))
    parsed = []
    for line in lines:
        if not isinstance(line, Mapping):
            raise _bad("an order line", line)
        parsed.append(
            PurchaseOrderLine(
                ndc_text=_text(line, "ndc"),
                name=_text(line, "name"),
                quantity=decimal(line.get("quantity"), "an order quantity"),
                unit=_text(line, "unit"),
                unit_price=decimal(line.get("unit_price"), "a unit price"),
                currency=_text(line, "currency"),
            )
        )
    return PurchaseOrder(
        atlas_order_id=_text(data, "id"),
        number=_text(data, "number"),
        supplier_name=_text(supplier, "name"),
        supplier_atlas_id=_text(supplier, "atlas_id"),
        lines=tuple(parsed),
        created_at=timestamp(data.get("created_at"), "created_at"),
    )


@dataclass(frozen=True, slots=True)
class NewInventoryRow:
    """A row to list on Atlas for an ERP item not listed yet (POST /api/v1/inventory)."""

    ndc_text: str
    name: str
    quantity: Decimal
    unit: str
    sku: str | None = None
    lot: str | None = None
    expiry: date | None = None
    location: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.quantity, Decimal):
            raise TypeError("NewInventoryRow.quantity must be a Decimal")

    def to_json(self) -> dict[str, Any]:
        return {
            "sku": self.sku,
            "ndc": self.ndc_text,
            "name": self.name,
            "lot_number": self.lot,
            "expiry_date": self.expiry.isoformat() if self.expiry else None,
            "quantity": decimal_text(self.quantity),
            "unit": self.unit,
            "location": self.location,
        }


def decimal_text(value: Decimal) -> str:
    """A plain decimal string (no exponent), as the contract's quantities are."""
    if not isinstance(value, Decimal) or not value.is_finite():
        raise TypeError("quantities sent to Atlas must be finite Decimal values")
    return format(value, "f")
