"""Rows the mapping review reads to explain an Atlas row: its ERP candidates, why it found none."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True, slots=True)
class ErpCandidate:
    """An ERP stock position a person may pair with an Atlas row."""

    item_id: str
    location_id: str
    lot: str | None
    sku: str | None
    name: str | None
    ndc_text: str | None
    quantity: Decimal | None
    mapped: bool  # already held by a matched (or conflict) mapping


@dataclass(frozen=True, slots=True)
class UnmatchedAtlasRow:
    mapping_id: int
    atlas_id: str
    name: str
    ndc_text: str
    lot: str
    location: str
    note: str
