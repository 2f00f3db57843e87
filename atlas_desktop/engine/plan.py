"""The merge phase of a run: turns merge rows into decision drafts (writes, new base, conflicts). No I/O."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from atlas_desktop.domain.drafts import ConflictDraft, DecisionDraft, WriteDraft
from atlas_desktop.domain.enums import ConflictStatus
from atlas_desktop.domain.merge_rows import MergeRow
from atlas_desktop.domain.model import Side
from atlas_desktop.domain.operations import (
    ATLAS_ADJUST,
    ATLAS_SET_EXPIRY,
    ATLAS_SET_FIELDS,
    ERP_ADJUST,
    AtlasAdjust,
    AtlasSetExpiry,
    AtlasSetFields,
    ErpAdjust,
)
from atlas_desktop.domain.product_master import ProductMasterDiff
from atlas_desktop.domain.snapshots import AtlasValues, BaseValues, ErpValues
from atlas_desktop.engine.keys import write_key
from atlas_desktop.engine.merge import FieldClash, MergeDecision, MergeInput, SideValue, merge_key


@dataclass
class PlanCounts:
    rows: int = 0
    unchanged: int = 0
    to_atlas: int = 0
    to_erp: int = 0
    conflicts: int = 0
    skipped_busy: int = 0  # a previous decision is still being written, or a conflict is open
    skipped_missing: int = 0  # one side no longer has the row
    first_sync: int = 0  # keys without a base yet
    notes: list[str] = field(default_factory=list)
    # Keys skipped as busy: their bases are touched so the next runs look at them until they are merged.
    waiting: list[int] = field(default_factory=list)

    def skip_busy(self, mapping_id: int) -> None:
        """A key not merged now (a write in flight, a conflict open, a value refused): it waits."""
        self.skipped_busy += 1
        self.waiting.append(mapping_id)

    @property
    def changed(self) -> int:
        return self.to_atlas + self.to_erp + self.conflicts


def _clash_draft(clash: FieldClash, row: MergeRow) -> ConflictDraft:
    atlas_at: datetime | None = row.atlas.updated_at if row.atlas else None
    erp_at: datetime | None = row.erp.updated_at if row.erp else None
    return ConflictDraft(
        field=clash.field,
        base_value=clash.base,
        atlas_value=clash.atlas,
        erp_value=clash.erp,
        atlas_changed_at=atlas_at,
        erp_changed_at=erp_at,
        status=ConflictStatus.OPEN if clash.resolved_by is None else ConflictStatus.RESOLVED,
        resolution=None,
        note=clash.reason + _units_note(clash, row),
    )


def _units_note(clash: FieldClash, row: MergeRow) -> str:
    """A pack-level pair's quantities are compared in the ERP's base unit: say so beside the values."""
    if clash.field != "quantity" or not row.unit_factor or row.erp is None or row.atlas is None:
        return ""
    return (
        f" (quantities in {row.erp.unit or 'the ERP base unit'}; the Atlas listing counts "
        f"{row.atlas.unit} of {row.unit_factor})"
    )


def writes_for(row: MergeRow, decision: MergeDecision) -> tuple[WriteDraft, ...]:
    """The remote writes that carry out `decision` on the mapped key `row`, keyed by what they change
    (engine/keys.py): the same decision planned again gets the same keys."""
    if not decision.writes_anything:
        return ()  # most keys of a run: nothing to build
    writes: list[WriteDraft] = []

    def key(target: Side, operation: str, change: object) -> str:
        erp_key = (row.erp_key.item_id, row.erp_key.location_id, row.erp_key.lot)
        subject = (row.atlas_inventory_id,) if target is Side.ATLAS else erp_key
        return write_key(row.key_scope, target, operation, subject, change)

    unit = (row.erp.unit if row.erp else None) or (row.atlas.unit if row.atlas else "") or "EA"
    if decision.atlas_delta != 0:
        # A pack-level pair merges in ERP base units; Atlas counts packs (a delta that is no whole
        # number of packs within Atlas's places is refused by engine/bounds.py, never rounded).
        factor = row.unit_factor
        atlas_delta = decision.atlas_delta / factor if factor else decision.atlas_delta
        # `was`: the value it changes, so the run's list can say old -> new (not part of the key);
        # in Atlas's own unit, like the delta.
        was = (row.atlas.quantity / factor if factor else row.atlas.quantity) if row.atlas else None
        writes.append(
            WriteDraft.of(
                AtlasAdjust(row.atlas_inventory_id, atlas_delta, was),
                key(Side.ATLAS, ATLAS_ADJUST, decision.atlas_delta),
                quantity_delta=decision.atlas_delta,
            )
        )
    if decision.set_atlas_expiry:
        writes.append(
            WriteDraft.of(
                AtlasSetExpiry(
                    row.atlas_inventory_id,
                    decision.atlas_expiry,
                    previous_expiry=row.atlas.expiry if row.atlas else None,
                    version=row.atlas.version if row.atlas else None,
                ),
                key(Side.ATLAS, ATLAS_SET_EXPIRY, decision.atlas_expiry),
            )
        )
    if decision.erp_delta != 0:
        writes.append(
            WriteDraft.of(
                ErpAdjust(
                    row.erp_key,
                    decision.erp_delta,
                    unit,
                    was=row.erp.quantity if row.erp else None,
                    expiry=row.erp.expiry if row.erp else None,
                    # saves the connector a lookup of the lot's id
                    lot_ref=row.erp.lot_ref if row.erp is not None else None,
                ),
                key(Side.ERP, ERP_ADJUST, decision.erp_delta),
                quantity_delta=decision.erp_delta,
            )
        )
    return tuple(writes)


def _side(values: AtlasValues | ErpValues) -> SideValue:
    return SideValue(values.quantity, values.expiry)


def flip_count(bases: list[Decimal]) -> int:
    """How often the agreed value went back to the one before last (A -> B -> A): a ping-pong."""
    return sum(1 for i in range(2, len(bases)) if bases[i] == bases[i - 2] != bases[i - 1])


def _quarantine(row: MergeRow, atlas: AtlasValues, erp: ErpValues, flips: int) -> DecisionDraft:
    base = str(row.base.quantity) if row.base else None
    note = (
        f"the quantity went back and forth {flips} times within the hour; it is no longer synced until "
        "someone checks what keeps changing it (another integration? a script?)"
    )
    clash = FieldClash("quantity", base, str(atlas.quantity), str(erp.quantity), None, note)
    return DecisionDraft(row.mapping_id, None, (), (_clash_draft(clash, row),))


def plan(
    rows: Iterable[MergeRow],
    counts: PlanCounts,
    *,
    initial_source: Side = Side.ERP,
    flipping: dict[int, int] | None = None,
) -> list[DecisionDraft]:
    """Decision drafts for the rows that need one; tallies everything in `counts`.

    `flipping`: mapping id -> flips in the recent window for keys past the loop guard's limit; such a
    key becomes an open conflict instead of being synced again.
    """
    drafts: list[DecisionDraft] = []
    flipping = flipping or {}
    for row in rows:
        counts.rows += 1
        if row.has_pending_decision or row.has_open_conflict:
            counts.skip_busy(row.mapping_id)
            continue
        if row.atlas is None or row.erp is None or row.atlas.deleted:
            counts.skipped_missing += 1
            continue
        base = SideValue(row.base.quantity, row.base.expiry) if row.base else None
        if base is None:
            counts.first_sync += 1
        if row.mapping_id in flipping and (
            row.atlas.quantity != base_q(row) or row.erp.quantity != base_q(row)
        ):
            counts.conflicts += 1
            drafts.append(_quarantine(row, row.atlas, row.erp, flipping[row.mapping_id]))
            continue
        decision = merge_key(
            MergeInput(base, _side(row.atlas), _side(row.erp), row.direction, row.policy, initial_source)
        )
        conflicts: tuple[ConflictDraft, ...] = ()
        if decision.clashes:  # most keys have none: no generators to build for them
            conflicts = tuple(_clash_draft(clash, row) for clash in decision.clashes)
            counts.conflicts += sum(1 for clash in decision.clashes if clash.resolved_by is None)
        if decision.new_base is None:
            drafts.append(DecisionDraft(row.mapping_id, None, (), conflicts))
            continue
        unit = row.erp.unit or row.atlas.unit or "EA"
        new_base = BaseValues(decision.new_base.quantity, decision.new_base.expiry, unit)
        same_base = row.base is not None and BaseValues(row.base.quantity, row.base.expiry, unit) == new_base
        writes = writes_for(row, decision)
        if not writes and not (conflicts and any(c.status is ConflictStatus.OPEN for c in conflicts)):
            # Both sides agree (a first sync's matching keys too: their draft only records the base).
            counts.unchanged += 1
            if same_base and not conflicts:
                continue
        for write in writes:
            if write.target is Side.ATLAS:
                counts.to_atlas += 1
            elif write.target is Side.ERP:
                counts.to_erp += 1
        drafts.append(DecisionDraft(row.mapping_id, new_base, writes, conflicts))
    return drafts


def base_q(row: MergeRow) -> Decimal | None:
    return row.base.quantity if row.base else None


def product_master_key(diff: ProductMasterDiff) -> str:
    """The key of a product master write: derived like a merge's (engine/keys.py), from the name the ERP
    holds. (Atlas gets these writes with If-Match rather than the key, but the outbox keys every write.)"""
    change = {"name": diff.erp_name}
    return write_key(diff.key_scope, Side.ATLAS, ATLAS_SET_FIELDS, (diff.atlas_inventory_id,), change)


def product_master_drafts(diffs: Iterable[ProductMasterDiff], counts: PlanCounts) -> list[DecisionDraft]:
    """Product master flows ERP -> Atlas: the item name the ERP holds is written onto the Atlas row.
    The base (quantities, expiry) is not touched by these decisions."""
    drafts = []
    for diff in diffs:
        write = WriteDraft.of(
            AtlasSetFields(
                diff.atlas_inventory_id,
                {"name": diff.erp_name},
                version=diff.atlas_version,
                previous={"name": diff.atlas_name},
            ),
            product_master_key(diff),
        )
        drafts.append(DecisionDraft(diff.mapping_id, None, (write,), ()))
        counts.to_atlas += 1
    return drafts
