"""An ERP item renamed since its name was last seen: what the product master sync carries to Atlas."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ProductMasterDiff:
    """A matched key whose ERP item name is not the one last seen (`erp_name_seen`): renamed in the ERP."""

    mapping_id: int
    atlas_inventory_id: str
    atlas_version: int
    atlas_name: str
    erp_name: str
    key_scope: str  # as MergeRow.key_scope
    erp_name_seen: str | None = None
