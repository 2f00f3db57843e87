"""A mapping as the review table shows it: the pair, its rules, the base and both sides' values."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from atlas_desktop.domain.enums import ConflictPolicy, MappingStatus, MatchMethod, SyncDirection


@dataclass(frozen=True, slots=True)
class MappingView:
    """A mapping as the review table shows it, with the base and both mirrors' values joined."""

    id: int
    connection_id: str
    atlas_inventory_id: str | None
    erp_item_id: str | None
    erp_location_id: str | None
    lot: str | None
    ndc_key: str | None
    ndc_text_atlas: str | None
    ndc_text_erp: str | None
    item_name: str | None
    status: MappingStatus
    match_method: MatchMethod | None
    sync_direction: SyncDirection
    conflict_policy: ConflictPolicy | None  # None: the connection's
    last_synced_at: datetime | None
    note: str | None
    base_quantity: Decimal | None
    base_expiry: date | None
    atlas_quantity: Decimal | None
    atlas_expiry: date | None
    erp_quantity: Decimal | None
    erp_expiry: date | None
