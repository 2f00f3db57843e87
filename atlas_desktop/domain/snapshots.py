"""Plain values of one mapped key as the merge sees it: the base, the Atlas side, the ERP side."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any


@dataclass(frozen=True, slots=True)
class BaseValues:
    """What both sides last agreed on (or what a decision will make the base)."""

    quantity: Decimal
    expiry: date | None
    unit: str

    def __post_init__(self) -> None:
        if not isinstance(self.quantity, Decimal):
            raise TypeError("BaseValues.quantity must be a Decimal")

    def to_json(self) -> dict[str, Any]:
        """JSON-safe form: the Decimal as its exact text, the date as ISO."""
        return {
            "quantity": str(self.quantity),
            "expiry": self.expiry.isoformat() if self.expiry else None,
            "unit": self.unit,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> BaseValues:
        expiry = data.get("expiry")
        return cls(
            quantity=Decimal(str(data["quantity"])),
            expiry=date.fromisoformat(expiry) if expiry else None,
            unit=str(data.get("unit") or ""),
        )


@dataclass(frozen=True, slots=True)
class AtlasValues:
    quantity: Decimal
    expiry: date | None
    unit: str
    version: int
    deleted: bool
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class ErpValues:
    quantity: Decimal
    expiry: date | None
    unit: str
    version: str | None
    updated_at: datetime | None
    lot_ref: str | None = None  # the ERP's id of the lot, for the write (StockLevel.lot_ref)
