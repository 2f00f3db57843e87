"""Atlas JSON <-> domain values: rows, orders, times and decimal strings, checked field by field."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any

from atlas_desktop.connectors.atlas.errors import SYSTEM
from atlas_desktop.domain.errors import InvalidResponse
from atlas_desktop.domain.model import AtlasInventoryRow, PurchaseOrder, PurchaseOrderLine
from atlas_desktop.domain.quantity import ATLAS as QUANTITY
from atlas_desktop.domain.quantity import (
    QuantityRefused,
    RejectedRow,
    atlas_ref,
    quantity_within,
    read_quantity,
    refused,
)


def _bad(what: str, value: object) -> InvalidResponse:
    shown = repr(value)[:60]
    return InvalidResponse(f"{SYSTEM} sent {what} that cannot be read: {shown}", system=SYSTEM)


def decimal(value: object, what: str) -> Decimal:
    # The contract sends decimals as strings; a JSON number would already have been through a float.
    if not isinstance(value, str):
        raise _bad(f"{what} (not a decimal string)", value)
    return _decimal_text(value, what)


# A change feed repeats a small set of quantities, dates and second-resolution stamps over thousands of
# rows: parse each distinct text once (Decimal, date and datetime are immutable, so rows can share them).
@lru_cache(maxsize=4096)
def _decimal_text(value: str, what: str) -> Decimal:
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
    return _timestamp_text(value, what)


@lru_cache(maxsize=4096)
def _timestamp_text(value: str, what: str) -> datetime:
    text = value[:-1] + "+00:00" if value.endswith(("Z", "z")) else value
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise _bad(what, value) from None
    if moment.utcoffset() is None:
        raise _bad(f"{what} (no time zone)", value)
    try:
        return moment.astimezone(UTC)
    except OverflowError:  # e.g. 0001-01-01T00:00:00+01:00 lies before year 1 in UTC
        raise _bad(what, value) from None


def iso_date(value: object, what: str) -> date | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise _bad(what, value)
    return _iso_date_text(value, what)


@lru_cache(maxsize=4096)
def _iso_date_text(value: str, what: str) -> date:
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


_REQUIRED_TEXT = ("id", "ndc", "name", "unit")
_OPTIONAL_TEXT = ("sku", "lot_number", "location")


def read_row(data: object, parse: Callable[[object], AtlasInventoryRow]) -> AtlasInventoryRow | RejectedRow:
    """A row of a read (listing, change feed), parsed by `parse` (parse_row): a quantity Atlas cannot hold
    (domain/quantity.py) refuses this row alone, named by its id, and the page goes on.

    A deleted row lists nothing: a quantity it cannot hold is read as 0 rather than refusing the deletion.
    Write answers are not read here: a write that landed is never refused afterwards.
    """
    if not (type(data) is dict or isinstance(data, Mapping)) or type(data.get("id")) is not str:
        return parse(data)  # no id to name the row by: parse_row says what is wrong, for the page
    value = data.get("quantity")
    if type(value) is str and (held := quantity_within(value, QUANTITY)) is not None and str(held) == value:
        return parse(data)  # the usual row, its quantity held and in plain form: no need to name it
    ref = atlas_ref(data["id"])
    try:
        if not isinstance(value, str):  # a JSON number has been through a float already
            raise refused(QUANTITY, value, "it is not a decimal string", ref, "the quantity")
        quantity = read_quantity(value, QUANTITY, item=ref)
    except QuantityRefused as error:
        if data.get("deleted") is True:
            return parse({**data, "quantity": "0"})
        return RejectedRow(ref, error, atlas_id=data["id"])
    if str(quantity) != value.strip():  # an exponent form within bounds: stored plain
        return parse({**data, "quantity": format(quantity, "f")})
    return parse(data)


def parse_row(data: object) -> AtlasInventoryRow:
    if not (type(data) is dict or isinstance(data, Mapping)):
        raise _bad("an inventory row", data)
    version = data.get("version")
    if type(version) is not int:  # bool is an int subclass, and not a version
        raise _bad("a row version", version)
    deleted = data.get("deleted", False)
    if type(deleted) is not bool:
        raise _bad("a row 'deleted' flag", deleted)
    # One pass over the text fields (the full read parses every row of the catalog).
    get: Callable[[str], Any] = data.get  # JSON values, checked just below
    row_id, ndc, name, unit = get("id"), get("ndc"), get("name"), get("unit")
    sku, lot, location = get("sku"), get("lot_number"), get("location")
    if not (
        type(row_id) is str
        and type(ndc) is str
        and type(name) is str
        and type(unit) is str
        and (sku is None or type(sku) is str)
        and (lot is None or type(lot) is str)
        and (location is None or type(location) is str)
    ):
        for name_ in _REQUIRED_TEXT:
            _text(data, name_)
        for name_ in _OPTIONAL_TEXT:
            _text(data, name_, optional=True)
    return AtlasInventoryRow(
        id=row_id,
        ndc_text=ndc,
        name=name,
        quantity=decimal(data.get("quantity"), "a quantity"),
        unit=unit,
        version=version,
        updated_at=timestamp(data.get("updated_at"), "updated_at"),
        sku=sku,
        lot=lot,
        expiry=iso_date(data.get("expiry_date"), "expiry_date"),
        location=location,
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
