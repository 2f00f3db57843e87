"""The remote writes a decision makes, as typed operations, and their codec to the outbox's stored form.

The outbox stores an operation name and a JSON payload per write (decimals as strings, dates as ISO
text). `encode` writes exactly the names and keys the outbox has always held and `decode` reads them
back, so rows written by any earlier version decode without a migration. Quantities stay Decimal in an
operation; a connector turns them into its wire form.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, ClassVar

from atlas_desktop.domain.model import Side, StockChange, StockKey

# The stored operation names: part of every outbox row and of every write key (engine/keys.py).
ATLAS_ADJUST = "atlas_adjust"
ATLAS_SET_EXPIRY = "atlas_set_expiry"
ERP_ADJUST = "erp_adjust"
ATLAS_SET_FIELDS = "atlas_set_fields"

DEFAULT_UNIT = "EA"  # the unit of an ERP change whose payload names none


@dataclass(frozen=True, slots=True)
class AtlasAdjust:
    """Add `delta` (in the Atlas row's own unit) to an Atlas row's quantity. `was`: its quantity before,
    in that unit, so a run's list can say old -> new."""

    row_id: str
    delta: Decimal
    was: Decimal | None = None

    target: ClassVar[Side] = Side.ATLAS


@dataclass(frozen=True, slots=True)
class AtlasSetExpiry:
    """Set an Atlas row's expiry (None clears it); `version` is the row version it was planned on."""

    row_id: str
    expiry: date | None
    previous_expiry: date | None = None
    version: int | None = None

    target: ClassVar[Side] = Side.ATLAS


@dataclass(frozen=True, slots=True)
class AtlasSetFields:
    """Set fields of an Atlas row (the product master: its name); `previous` holds the values replaced."""

    row_id: str
    fields: Mapping[str, Any]
    version: int | None = None
    previous: Mapping[str, Any] | None = None

    target: ClassVar[Side] = Side.ATLAS


@dataclass(frozen=True, slots=True)
class ErpAdjust:
    """Post `delta` (in `unit`) to one ERP stock position. `was`: its quantity before; `lot_ref`: the ERP's
    own id of the lot as last read, which saves the connector a lookup."""

    key: StockKey
    delta: Decimal
    unit: str = DEFAULT_UNIT
    was: Decimal | None = None
    expiry: date | None = None
    lot_ref: str | None = None

    target: ClassVar[Side] = Side.ERP

    def stock_change(self) -> StockChange:
        return StockChange(self.key, self.delta, self.unit, self.expiry, lot_ref=self.lot_ref)


WriteOp = AtlasAdjust | AtlasSetExpiry | AtlasSetFields | ErpAdjust

# Names of the Atlas operations the batch route carries.
ATLAS_OPERATIONS = frozenset({ATLAS_ADJUST, ATLAS_SET_EXPIRY, ATLAS_SET_FIELDS})


class UnknownOperation(ValueError):
    """An outbox row names an operation this version cannot carry out."""


def _text(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def _day(value: date | None) -> str | None:
    return None if value is None else value.isoformat()


def _decimal(value: Any) -> Decimal | None:
    return None if value is None else Decimal(value)


def _date(value: Any) -> date | None:
    return date.fromisoformat(value) if value else None


def encode(op: WriteOp) -> tuple[str, dict[str, Any]]:
    """The stored form of `op`: its operation name and a JSON-safe payload, key for key as stored."""
    match op:
        case AtlasAdjust():
            return ATLAS_ADJUST, {"row_id": op.row_id, "delta": str(op.delta), "was": _text(op.was)}
        case AtlasSetExpiry():
            return ATLAS_SET_EXPIRY, {
                "row_id": op.row_id,
                "expiry": _day(op.expiry),
                "previous_expiry": _day(op.previous_expiry),
                "version": op.version,
            }
        case AtlasSetFields():
            previous = dict(op.previous) if op.previous is not None else None
            return ATLAS_SET_FIELDS, {
                "row_id": op.row_id,
                "fields": dict(op.fields),
                "version": op.version,
                "previous": previous,
            }
        case ErpAdjust():
            payload: dict[str, Any] = {
                "item_id": op.key.item_id,
                "location_id": op.key.location_id,
                "lot": op.key.lot,
                "delta": str(op.delta),
                "was": _text(op.was),
                "unit": op.unit,
                "expiry": _day(op.expiry),
            }
            if op.lot_ref is not None:  # absent rather than null: the form stored before it existed
                payload["lot_ref"] = op.lot_ref
            return ERP_ADJUST, payload


def decode(operation: str, payload: Mapping[str, Any]) -> WriteOp:
    """The operation an outbox row holds. Keys added over time are optional, as older rows lack them."""
    if operation == ATLAS_ADJUST:
        return AtlasAdjust(payload["row_id"], Decimal(payload["delta"]), _decimal(payload.get("was")))
    if operation == ATLAS_SET_EXPIRY:
        return AtlasSetExpiry(
            payload["row_id"],
            _date(payload.get("expiry")),
            _date(payload.get("previous_expiry")),
            payload.get("version"),
        )
    if operation == ATLAS_SET_FIELDS:
        return AtlasSetFields(
            payload["row_id"], dict(payload["fields"]), payload.get("version"), payload.get("previous")
        )
    if operation == ERP_ADJUST:
        return ErpAdjust(
            StockKey(payload["item_id"], payload["location_id"], payload.get("lot")),
            Decimal(payload["delta"]),
            payload.get("unit") or DEFAULT_UNIT,
            _decimal(payload.get("was")),
            _date(payload.get("expiry")),
            payload.get("lot_ref"),
        )
    raise UnknownOperation(
        f"the outbox holds a write of operation {operation!r}, which this version of Atlas Desktop does "
        f"not know (it knows {', '.join(sorted([*ATLAS_OPERATIONS, ERP_ADJUST]))}): it was written by "
        "a newer version. Run that version again until its pending writes are sent, then change version."
    )
