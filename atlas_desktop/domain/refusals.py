"""A refused item (a quantity beyond a system's bounds) to record as an item error of a run."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from atlas_desktop.domain.model import StockKey


@dataclass(frozen=True, slots=True)
class Refusal:
    """A refused item to record: `error` is AtlasDesktopError.as_dict(). Without `mapping_id`, the
    mapping is looked up by `key` (ERP stock) or `atlas_id` (Atlas row), if there is one."""

    item_ref: str
    error: Mapping[str, Any]
    mapping_id: int | None = None
    key: StockKey | None = None
    atlas_id: str | None = None
