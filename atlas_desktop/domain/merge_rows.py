"""The merge's input for one matched mapping: the base and both sides' values, with its rules."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from atlas_desktop.domain.enums import ConflictPolicy, SyncDirection
from atlas_desktop.domain.model import StockKey
from atlas_desktop.domain.snapshots import AtlasValues, BaseValues, ErpValues


@dataclass(frozen=True, slots=True)
class MergeRow:
    """Everything the merge needs for one matched mapping.

    `direction` is the mapping's own, or the connection's when the mapping is bidirectional (the
    default): a connection set to one way applies to every mapping that did not choose otherwise.
    `policy` is the mapping's, or the connection's when the mapping has none.
    `unit_factor`: see the field.
    """

    mapping_id: int
    atlas_inventory_id: str
    erp_key: StockKey
    ndc_key: str | None
    direction: SyncDirection
    policy: ConflictPolicy
    base: BaseValues | None
    atlas: AtlasValues | None
    erp: ErpValues | None
    has_open_conflict: bool
    has_pending_decision: bool
    key_scope: str  # what the write keys of a decision for it derive from (store.decisions.key_scope_sql)
    # A pack-level pair: ERP base units per Atlas unit. `atlas` is then given in the ERP's base unit
    # (the Atlas quantity times this), so the merge and the base speak one unit; Atlas writes divide.
    unit_factor: Decimal | None = None
