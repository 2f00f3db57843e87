"""Write-side bounds: a decision whose quantities a side cannot hold becomes an item error, never a write.

The reads refuse values outside each system's bounds (domain/quantity.py), but a merge can still make one:
a sum past the field size, or an Atlas value with more places than the ERP allows. Such a decision is
dropped before it is recorded (no write, base kept) and reported for its mapping. The runner merges that
mapping again on every run (its refusal stays open until then), so the item fails, and is named, until
the value is corrected, and then syncs as usual.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from atlas_desktop.domain.drafts import DecisionDraft
from atlas_desktop.domain.model import Side
from atlas_desktop.domain.operations import AtlasAdjust
from atlas_desktop.domain.quantity import QuantityBounds, QuantityRefused, require_writable
from atlas_desktop.engine.plan import PlanCounts

MAPPING_REF_PREFIX = "mapping "


@dataclass(frozen=True, slots=True)
class WriteRefusal:
    mapping_id: int
    ref: str
    error: QuantityRefused


def mapping_ref(mapping_id: int) -> str:
    return f"{MAPPING_REF_PREFIX}{mapping_id}"


def _item(draft: DecisionDraft) -> str:
    """The mapping, with the Atlas row and ERP position its writes name, for the message."""
    parts = []
    for write in draft.writes:
        payload = write.payload
        if write.target is Side.ATLAS and payload.get("row_id"):
            parts.append(f"Atlas row {payload['row_id']}")
        elif write.target is Side.ERP and payload.get("item_id"):
            parts.append(f"ERP item {payload['item_id']} at {payload.get('location_id')}")
    return mapping_ref(draft.mapping_id) + (f" ({', '.join(parts)})" if parts else "")


def refusal_of(draft: DecisionDraft, atlas: QuantityBounds, erp: QuantityBounds) -> QuantityRefused | None:
    """Why `draft` cannot be carried out within the sides' bounds, or None."""
    # Checked plainly first: this runs for every draft of a 100k first sync; the message only on failure.
    checks = [
        (write.quantity_delta, atlas if write.target is Side.ATLAS else erp, "The change")
        for write in draft.writes
        if write.quantity_delta is not None
    ]
    # What Atlas is sent: a pack-level pair's delta in packs (quantity_delta stays in ERP base units).
    checks += [
        (op.delta, atlas, "The change in packs")
        for write in draft.writes
        if write.target is Side.ATLAS and write.quantity_delta is not None
        and isinstance(op := write.op, AtlasAdjust)
    ]  # fmt: skip
    if draft.new_base is not None:  # both sides end at it
        checks += [(draft.new_base.quantity, atlas, "The merged quantity")]
        checks += [(draft.new_base.quantity, erp, "The merged quantity")]
    for value, bounds, what in checks:
        if bounds.problem(value) is not None:
            try:
                require_writable(value, bounds, item=_item(draft), what=what)
            except QuantityRefused as error:
                return error
    return None


def within_bounds(
    drafts: Iterable[DecisionDraft],
    atlas: QuantityBounds,
    erp: QuantityBounds,
    counts: PlanCounts,
    refused: list[WriteRefusal],
) -> list[DecisionDraft]:
    """The drafts both sides can hold; the others are appended to `refused` and taken out of `counts`."""
    kept = []
    for draft in drafts:
        error = refusal_of(draft, atlas, erp)
        if error is None:
            kept.append(draft)
            continue
        counts.to_atlas -= sum(1 for write in draft.writes if write.target is Side.ATLAS)
        counts.to_erp -= sum(1 for write in draft.writes if write.target is Side.ERP)
        refused.append(WriteRefusal(draft.mapping_id, mapping_ref(draft.mapping_id), error))
    return kept
