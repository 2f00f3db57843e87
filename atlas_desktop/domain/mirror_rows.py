"""Each side's rows as the local mirrors hold them: the Atlas listing, the ERP products and stock."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from atlas_desktop.domain.model import StockKey


@dataclass(frozen=True, slots=True)
class AtlasMirror:
    atlas_id: str
    sku: str | None
    ndc_text: str
    ndc_key: str | None
    name: str
    lot: str | None
    expiry: date | None
    quantity: Decimal
    unit: str
    location: str | None
    version: int
    updated_at: datetime
    deleted: bool
    observed_at: datetime


@dataclass(frozen=True, slots=True)
class ErpProductMirror:
    item_id: str
    sku: str
    name: str
    unit: str
    ndc_text: str | None
    ndc_key: str | None
    manufacturer: str | None
    lot_tracked: bool
    inactive: bool
    last_modified: datetime | None
    observed_at: datetime
    attributes: dict[str, Any]


@dataclass(frozen=True, slots=True)
class ErpStockMirror:
    item_id: str
    location_id: str
    lot: str | None
    quantity: Decimal
    unit: str
    expiry: date | None
    version: str | None
    updated_at: datetime | None
    observed_at: datetime
    seen_marker: str | None
    lot_ref: str | None = None

    @property
    def key(self) -> StockKey:
        return StockKey(self.item_id, self.location_id, self.lot)
