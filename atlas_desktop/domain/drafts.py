"""What merge and discovery hand the store to record: decisions with their writes and conflicts, mappings."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from atlas_desktop.domain.enums import ConflictStatus, MappingStatus, MatchMethod, Resolution
from atlas_desktop.domain.model import Side
from atlas_desktop.domain.operations import WriteOp, decode, encode
from atlas_desktop.domain.snapshots import BaseValues

# A mapping pairs one Atlas row with one ERP stock position; these statuses hold such a pair.
PAIRED = (MappingStatus.MATCHED, MappingStatus.CONFLICT)


@dataclass(frozen=True, slots=True)
class WriteDraft:
    """One remote write a decision needs, in the outbox's stored form (domain/operations.py): built from
    a typed operation with `of`, read back as one with `op`. `payload` must be JSON-safe."""

    target: Side
    operation: str
    payload: Mapping[str, Any]
    idempotency_key: str
    quantity_delta: Decimal | None = None  # the quantity change it makes, if any (see OutboxRow)
    _op: WriteOp | None = field(default=None, init=False, repr=False, compare=False)

    @classmethod
    def of(cls, op: WriteOp, idempotency_key: str, quantity_delta: Decimal | None = None) -> WriteDraft:
        operation, payload = encode(op)
        draft = cls(op.target, operation, payload, idempotency_key, quantity_delta)
        object.__setattr__(draft, "_op", op)  # kept as built: reading it back parses no text
        return draft

    @property
    def op(self) -> WriteOp:
        op = self._op
        if op is None:
            op = decode(self.operation, self.payload)
            object.__setattr__(self, "_op", op)  # a cache, not a change: the draft stays as made
        return op


@dataclass(frozen=True, slots=True)
class ConflictDraft:
    field: str
    base_value: str | None
    atlas_value: str | None
    erp_value: str | None
    atlas_changed_at: datetime | None
    erp_changed_at: datetime | None
    status: ConflictStatus = ConflictStatus.OPEN
    resolution: Resolution | None = None
    note: str | None = None  # why the merge could not settle it


@dataclass(frozen=True, slots=True)
class DecisionDraft:
    """What the merge decided for one mapping: the writes to make and the base once they are done.

    `new_base` None leaves the base as it is (e.g. a decision that only records a conflict).
    """

    mapping_id: int
    new_base: BaseValues | None
    writes: tuple[WriteDraft, ...] = ()
    conflicts: tuple[ConflictDraft, ...] = field(default=())


@dataclass(frozen=True, slots=True)
class MappingDraft:
    """One row discovery proposes."""

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
    note: str | None = None  # why ambiguous etc.
    # Matched at a pack level (an Atlas listing of cases): its unit and the ERP base units in one of it.
    erp_unit: str | None = None
    unit_factor: Decimal | None = None

    def __post_init__(self) -> None:
        if self.status in PAIRED and not (
            self.atlas_inventory_id and self.erp_item_id and self.erp_location_id
        ):
            raise ValueError(f"a {self.status} mapping needs an Atlas id, an ERP item and a location")
        if self.status is MappingStatus.UNMATCHED_ATLAS and not self.atlas_inventory_id:
            raise ValueError("an unmatched_atlas mapping needs an Atlas id")
        if self.status is MappingStatus.UNMATCHED_ERP and not (self.erp_item_id and self.erp_location_id):
            raise ValueError("an unmatched_erp mapping needs an ERP item and a location")
