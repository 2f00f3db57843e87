"""The canonical model both sides of a sync are translated into. Quantities Decimal, times aware UTC."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import StrEnum


class ErpType(StrEnum):
    NETSUITE = "netsuite"
    SAP_CLOUD = "sap_cloud"
    SAP_ONPREM = "sap_onprem"

    @property
    def is_sap(self) -> bool:
        return self in (ErpType.SAP_CLOUD, ErpType.SAP_ONPREM)


class Side(StrEnum):
    ATLAS = "atlas"
    ERP = "erp"


def utc_now() -> datetime:
    return datetime.now(UTC)


def require_aware(moment: datetime | None, what: str) -> None:
    if moment is not None and moment.utcoffset() is None:
        raise ValueError(f"{what} must be timezone-aware (got a naive datetime)")


@dataclass(frozen=True, slots=True)
class Location:
    """A stock location as the ERP names it. `id` is what StockKey.location_id holds."""

    id: str
    name: str
    code: str = ""


@dataclass(frozen=True, slots=True)
class StockKey:
    """One stock position: an item at a location, in one lot (None for items without lots)."""

    item_id: str
    location_id: str
    lot: str | None = None


@dataclass(frozen=True, slots=True)
class StockLevel:
    """What a system reports for one StockKey. `observed_version` is the system's change marker;
    `lot_ref` the ERP's own id of the lot where a write must name it (NetSuite: the inventorynumber)."""

    key: StockKey
    quantity: Decimal
    unit: str
    expiry: date | None = None
    observed_version: str | None = None
    updated_at: datetime | None = None
    lot_ref: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.quantity, Decimal):
            raise TypeError("StockLevel.quantity must be a Decimal")
        require_aware(self.updated_at, "StockLevel.updated_at")


@dataclass(frozen=True, slots=True)
class Product:
    """Item master data as an ERP holds it. `ndc_text` is the NDC or GTIN exactly as the ERP stores it."""

    erp_item_id: str
    sku: str
    name: str
    unit: str
    ndc_text: str | None = None
    manufacturer: str | None = None
    lot_tracked: bool = False
    inactive: bool = False
    last_modified: datetime | None = None
    attributes: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        require_aware(self.last_modified, "Product.last_modified")


@dataclass(frozen=True, slots=True)
class StockChange:
    """A relative stock movement to post: positive = receipt, negative = issue. `lot_ref` as last read
    (see StockLevel); a connector that needs it and gets None looks it up."""

    key: StockKey
    delta: Decimal
    unit: str
    expiry: date | None = None
    reason: str = "atlas_sync"
    memo: str = ""
    lot_ref: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.delta, Decimal):
            raise TypeError("StockChange.delta must be a Decimal")
        if self.delta == 0:
            raise ValueError("a stock change of zero posts nothing")


@dataclass(frozen=True, slots=True)
class WriteResult:
    """The outcome of one remote write, found again later by `idempotency_key`."""

    idempotency_key: str
    remote_id: str
    remote_number: str | None = None
    applied_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class PurchaseOrderLine:
    ndc_text: str
    name: str
    quantity: Decimal
    unit: str
    unit_price: Decimal
    currency: str
    erp_item_id: str | None = None


@dataclass(frozen=True, slots=True)
class PurchaseOrder:
    """A confirmed Atlas marketplace order, to be entered in the ERP as a purchase order."""

    atlas_order_id: str
    number: str
    supplier_name: str
    supplier_atlas_id: str
    lines: tuple[PurchaseOrderLine, ...]
    created_at: datetime

    def __post_init__(self) -> None:
        require_aware(self.created_at, "PurchaseOrder.created_at")


@dataclass(frozen=True, slots=True)
class AtlasInventoryRow:
    """One Atlas listing row: one lot of one product at one location."""

    id: str
    ndc_text: str
    name: str
    quantity: Decimal
    unit: str
    version: int
    updated_at: datetime
    sku: str | None = None
    lot: str | None = None
    expiry: date | None = None
    location: str | None = None
    deleted: bool = False

    def __post_init__(self) -> None:
        if not isinstance(self.quantity, Decimal):
            raise TypeError("AtlasInventoryRow.quantity must be a Decimal")
        require_aware(self.updated_at, "AtlasInventoryRow.updated_at")


@dataclass(frozen=True, slots=True)
class StepResult:
    """One step of a connection test: what was checked, and if it failed, why and what to do."""

    name: str
    ok: bool
    detail: str = ""
    cause: str = ""
    fix: str = ""
    skipped: bool = False


@dataclass(frozen=True, slots=True)
class ConnectionReport:
    steps: tuple[StepResult, ...]

    @property
    def ok(self) -> bool:
        return bool(self.steps) and all(step.ok or step.skipped for step in self.steps)

    @property
    def first_failure(self) -> StepResult | None:
        return next((step for step in self.steps if not step.ok and not step.skipped), None)
