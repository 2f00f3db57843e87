"""A conflict as a person decides it: the three values, its state, and the mapping it belongs to."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from atlas_desktop.domain.enums import ConflictStatus, Resolution


@dataclass(frozen=True, slots=True)
class ConflictView:
    id: int
    connection_id: str
    mapping_id: int
    field: str
    base_value: str | None
    atlas_value: str | None
    erp_value: str | None
    atlas_changed_at: datetime | None
    erp_changed_at: datetime | None
    status: ConflictStatus
    resolution: Resolution | None  # None on a resolved conflict: closed because both sides agreed
    resolved_value: str | None
    resolved_at: datetime | None
    created_at: datetime
    note: str | None
    # The mapping, so the user sees which product it is.
    ndc_key: str | None
    item_name: str | None
    atlas_inventory_id: str | None
    erp_item_id: str | None
    erp_location_id: str | None
    lot: str | None
