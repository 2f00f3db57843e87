"""Three-way merge of one mapped stock key against its base: pure functions over values.

Quantity is a counter, not a register: when both sides moved, the deltas add,
`merged = base + (atlas - base) + (erp - base)`, so no sale and no receipt is lost. The decision is
written as *relative* changes (`atlas_delta`, `erp_delta`): applied to sides that moved again meanwhile,
they still carry every movement, and the next run sees the rest as a new change.

Policies (the user's choice, per mapping or connection):
- `manual` (default): deltas add; a merge that would go below zero, and any expiry clash, becomes an
  open conflict and the key is frozen (nothing written, base kept) until a person resolves it.
- `atlas_wins` / `erp_wins`: when both sides changed, that side's value is taken as it is, for the
  quantity and the expiry; the clash is still recorded, as a conflict resolved by policy (never
  silently).

Direction: a one-way mapping mirrors its source onto its target and never writes to its source.

Lot and expiry belong to the ERP (they are printed on the physical packs, DSCSA): an ERP-side
expiry change is carried to Atlas, an Atlas-side one is never written to the ERP; it is a conflict
unless the policy is `erp_wins` (Atlas is put back to the ERP's date, recorded).
First sync (no base): the values of `initial_source` (the ERP by default) become the base and the
other side is set to them; the run that does this is previewed and approved by the user first.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from atlas_desktop.domain.enums import ConflictPolicy, SyncDirection
from atlas_desktop.domain.model import Side

ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class SideValue:
    """One side's view of a key (or the base)."""

    quantity: Decimal
    expiry: date | None = None


@dataclass(frozen=True, slots=True)
class MergeInput:
    base: SideValue | None
    atlas: SideValue
    erp: SideValue
    direction: SyncDirection = SyncDirection.BIDIRECTIONAL
    policy: ConflictPolicy = ConflictPolicy.MANUAL
    initial_source: Side = Side.ERP


@dataclass(frozen=True, slots=True)
class FieldClash:
    """Both sides disagree on a field. `resolved_by` None means it waits for a person."""

    field: str
    base: str | None
    atlas: str | None
    erp: str | None
    resolved_by: ConflictPolicy | None = None
    reason: str = ""


@dataclass(frozen=True, slots=True)
class MergeDecision:
    atlas_delta: Decimal = ZERO
    erp_delta: Decimal = ZERO
    atlas_expiry: date | None = None  # set Atlas's expiry to this when `set_atlas_expiry`
    set_atlas_expiry: bool = False
    new_base: SideValue | None = None  # None: base unchanged (frozen key)
    clashes: tuple[FieldClash, ...] = ()

    @property
    def frozen(self) -> bool:
        return any(clash.resolved_by is None for clash in self.clashes)

    @property
    def writes_anything(self) -> bool:
        return self.atlas_delta != ZERO or self.erp_delta != ZERO or self.set_atlas_expiry


def _text(value: Decimal | date | None) -> str | None:
    return None if value is None else str(value) if isinstance(value, Decimal) else value.isoformat()


def _frozen(*clashes: FieldClash) -> MergeDecision:
    return MergeDecision(clashes=clashes)


def merge_quantity(data: MergeInput) -> tuple[Decimal, Decimal, Decimal, FieldClash | None]:
    """(atlas_delta, erp_delta, merged, clash). A clash with resolved_by None freezes the key."""
    atlas, erp, base = data.atlas.quantity, data.erp.quantity, data.base
    if data.direction is SyncDirection.ERP_TO_ATLAS:
        return erp - atlas, ZERO, erp, None
    if data.direction is SyncDirection.ATLAS_TO_ERP:
        return ZERO, atlas - erp, atlas, None
    if base is None:
        if atlas == erp:
            return ZERO, ZERO, atlas, None
        take_atlas = data.policy is ConflictPolicy.ATLAS_WINS or (
            data.policy is ConflictPolicy.MANUAL and data.initial_source is Side.ATLAS
        )
        return (ZERO, atlas - erp, atlas, None) if take_atlas else (erp - atlas, ZERO, erp, None)
    atlas_change, erp_change = atlas - base.quantity, erp - base.quantity
    if erp_change == ZERO:
        return ZERO, atlas_change, atlas, None
    if atlas_change == ZERO:
        return erp_change, ZERO, erp, None
    clash = FieldClash("quantity", _text(base.quantity), _text(atlas), _text(erp))
    if data.policy is ConflictPolicy.ATLAS_WINS:
        return ZERO, atlas - erp, atlas, _resolved(clash, ConflictPolicy.ATLAS_WINS)
    if data.policy is ConflictPolicy.ERP_WINS:
        return erp - atlas, ZERO, erp, _resolved(clash, ConflictPolicy.ERP_WINS)
    merged = base.quantity + atlas_change + erp_change
    if merged < ZERO:
        reason = f"both sides moved stock and together they go below zero ({merged})"
        return (
            ZERO,
            ZERO,
            base.quantity,
            FieldClash(clash.field, clash.base, clash.atlas, clash.erp, None, reason),
        )
    return erp_change, atlas_change, merged, None


def _resolved(clash: FieldClash, policy: ConflictPolicy) -> FieldClash:
    return FieldClash(
        clash.field, clash.base, clash.atlas, clash.erp, policy, f"resolved by policy {policy.value}"
    )


def merge_expiry(data: MergeInput) -> tuple[bool, date | None, FieldClash | None]:
    """(set_atlas, atlas_expiry, clash). The ERP's expiry is never written by a merge."""
    atlas, erp = data.atlas.expiry, data.erp.expiry
    if atlas == erp:
        return False, None, None
    if data.direction is SyncDirection.ERP_TO_ATLAS:
        return True, erp, None
    base = data.base.expiry if data.base is not None else None
    atlas_changed = data.base is not None and atlas != base
    erp_changed = data.base is None or erp != base
    clash = FieldClash("expiry", _text(base), _text(atlas), _text(erp))
    if erp_changed and not atlas_changed:
        return True, erp, None
    if data.policy is ConflictPolicy.ERP_WINS:
        return True, erp, _resolved(clash, ConflictPolicy.ERP_WINS)
    reason = (
        "the expiry was changed on Atlas; lot data is kept in the ERP"
        if not erp_changed
        else "the expiry differs on both sides"
    )
    return False, None, FieldClash(clash.field, clash.base, clash.atlas, clash.erp, None, reason)


def _present(quantity: FieldClash | None, expiry: FieldClash | None) -> tuple[FieldClash, ...]:
    # Spelled out: the merge runs once per mapped key, and most keys have no clash at all.
    if quantity is None:
        return () if expiry is None else (expiry,)
    return (quantity,) if expiry is None else (quantity, expiry)


def merge_key(data: MergeInput) -> MergeDecision:
    """The whole decision for one key. Frozen (no writes) when any clash waits for a person."""
    atlas_delta, erp_delta, merged, quantity_clash = merge_quantity(data)
    set_expiry, atlas_expiry, expiry_clash = merge_expiry(data)
    clashes = _present(quantity_clash, expiry_clash)
    if clashes and any(c.resolved_by is None for c in clashes):
        return _frozen(*clashes)
    if data.atlas.quantity + atlas_delta < ZERO or data.erp.quantity + erp_delta < ZERO:
        # Only a one-sided carry of a negative ERP balance gets here (Atlas refuses negative stock).
        reason = "carrying the change would leave a side below zero"
        return _frozen(
            FieldClash(
                "quantity",
                _text(data.base.quantity) if data.base else None,
                _text(data.atlas.quantity),
                _text(data.erp.quantity),
                None,
                reason,
            )
        )
    # No clash left means the two expiries agree, or Atlas is being set to the ERP's.
    new_expiry = atlas_expiry if set_expiry else data.erp.expiry
    return MergeDecision(
        atlas_delta=atlas_delta,
        erp_delta=erp_delta,
        atlas_expiry=atlas_expiry,
        set_atlas_expiry=set_expiry,
        new_base=SideValue(merged, new_expiry),
        clashes=clashes,
    )
