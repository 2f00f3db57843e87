"""The changes of a plan, one kind at a time: what a preview promises and what a run did, in one vocabulary.

A preview and the run it approves count through these functions on the same decision drafts (the merge's
and the product master's) and the same confirmed orders, so their counts agree kind by kind. The same
description turns a run's recorded writes (the outbox, by run) back into the list the history shows.
No I/O.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any

from atlas_desktop.domain.drafts import ConflictDraft, DecisionDraft
from atlas_desktop.domain.enums import ConflictStatus
from atlas_desktop.domain.model import PurchaseOrder
from atlas_desktop.domain.operations import ATLAS_ADJUST, ATLAS_SET_EXPIRY, ATLAS_SET_FIELDS, ERP_ADJUST

TO_ATLAS = "ERP → Atlas"
TO_ERP = "Atlas → ERP"
# The list a preview keeps for the user to open; a first sync of a large catalog counts the rest.
MAX_LISTED = 20_000


class ChangeKind(StrEnum):
    QUANTITY_TO_ATLAS = "quantity_to_atlas"
    QUANTITY_TO_ERP = "quantity_to_erp"
    EXPIRY_TO_ATLAS = "expiry_to_atlas"  # lots and expiry belong to the ERP
    NAME_TO_ATLAS = "name_to_atlas"  # the product master
    PURCHASE_ORDER = "purchase_order"  # a confirmed Atlas order entered in the ERP
    ORDER_WAITING = "order_waiting"  # an order with an item the ERP does not carry, and those behind it
    NEW_LISTING = "new_listing"  # an ERP item listed on Atlas (sync never plans one today)
    CONFLICT = "conflict"
    ALREADY_SAME = "already_same"  # a key both sides agree on: counted, never listed


KIND_LABELS: dict[ChangeKind, str] = {
    ChangeKind.QUANTITY_TO_ATLAS: "Quantity updates on Atlas (ERP → Atlas)",
    ChangeKind.QUANTITY_TO_ERP: "Quantity updates in the ERP (Atlas → ERP)",
    ChangeKind.EXPIRY_TO_ATLAS: "Lot expiry dates corrected on Atlas",
    ChangeKind.NAME_TO_ATLAS: "Item names updated on Atlas (product master)",
    ChangeKind.PURCHASE_ORDER: "Purchase orders entered in the ERP",
    ChangeKind.ORDER_WAITING: "Orders left waiting (an item the ERP does not carry)",
    ChangeKind.NEW_LISTING: "New listings on Atlas",
    ChangeKind.CONFLICT: "Conflicts for you to decide",
    ChangeKind.ALREADY_SAME: "Already the same",
}
OPERATION_KINDS = {
    ATLAS_ADJUST: ChangeKind.QUANTITY_TO_ATLAS,
    ERP_ADJUST: ChangeKind.QUANTITY_TO_ERP,
    ATLAS_SET_EXPIRY: ChangeKind.EXPIRY_TO_ATLAS,
    ATLAS_SET_FIELDS: ChangeKind.NAME_TO_ATLAS,
}


@dataclass(frozen=True, slots=True)
class ChangeLabel:
    """How a person recognises a mapped key: the item's name, its lot and its location."""

    item: str
    lot: str
    location: str


@dataclass(frozen=True, slots=True)
class PlannedChange:
    """One line of the list of what will change (or did): texts, ready to show, filter and export."""

    kind: ChangeKind
    item: str
    lot: str
    location: str
    direction: str  # TO_ATLAS, TO_ERP, or "" for a conflict (it waits for a person)
    old: str
    new: str
    mapping_id: int | None = None

    def as_json(self) -> dict[str, Any]:
        return {"kind": self.kind.value, "item": self.item, "lot": self.lot, "location": self.location,
                "direction": self.direction, "old": self.old, "new": self.new,
                "mapping_id": self.mapping_id}  # fmt: skip

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> PlannedChange:
        return cls(ChangeKind(data["kind"]), str(data.get("item", "")), str(data.get("lot", "")),
                   str(data.get("location", "")), str(data.get("direction", "")), str(data.get("old", "")),
                   str(data.get("new", "")), data.get("mapping_id"))  # fmt: skip

    def as_row(self) -> tuple[str, ...]:
        return (
            KIND_LABELS[self.kind],
            self.item,
            self.lot,
            self.location,
            self.direction,
            self.old,
            self.new,
        )


def _open(conflict: ConflictDraft) -> bool:
    return conflict.status is ConflictStatus.OPEN


def tally(drafts: Iterable[DecisionDraft], kinds: dict[ChangeKind, int]) -> None:
    """Add the changes of `drafts` to `kinds`: one per write, one per conflict left open."""
    for draft in drafts:
        for write in draft.writes:
            kind = OPERATION_KINDS[write.operation]
            kinds[kind] = kinds.get(kind, 0) + 1
        open_conflicts = sum(1 for c in draft.conflicts if c.status is ConflictStatus.OPEN)
        if open_conflicts:
            kinds[ChangeKind.CONFLICT] = kinds.get(ChangeKind.CONFLICT, 0) + open_conflicts


def _quantity(text: object) -> Decimal | None:
    try:
        return Decimal(str(text)) if text is not None else None
    except InvalidOperation:
        return None


def _shown(value: object) -> str:
    return "" if value is None else str(value)


def describe_write(
    operation: str, payload: Mapping[str, Any], label: ChangeLabel, mapping_id: int | None
) -> PlannedChange:
    """One write as a line: old -> new from its payload (quantities carry the value they change, `was`)."""
    kind = OPERATION_KINDS[operation]
    direction = TO_ERP if kind is ChangeKind.QUANTITY_TO_ERP else TO_ATLAS
    if kind in (ChangeKind.QUANTITY_TO_ATLAS, ChangeKind.QUANTITY_TO_ERP):
        delta, was = _quantity(payload.get("delta")), _quantity(payload.get("was"))
        if was is not None and delta is not None:
            old, new = str(was), str(was + delta)
        else:  # written before `was` was recorded: the change itself
            old, new = "", f"{delta:+}" if delta is not None else ""
    elif kind is ChangeKind.EXPIRY_TO_ATLAS:
        old, new = _shown(payload.get("previous_expiry")), _shown(payload.get("expiry"))
    else:
        old = _shown((payload.get("previous") or {}).get("name"))
        new = _shown((payload.get("fields") or {}).get("name"))
    return PlannedChange(kind, label.item, label.lot, label.location, direction, old, new, mapping_id)


def describe(draft: DecisionDraft, label: ChangeLabel) -> list[PlannedChange]:
    """The lines of one decision: its writes, then the conflicts it leaves for a person."""
    lines = [describe_write(w.operation, w.payload, label, draft.mapping_id) for w in draft.writes]
    for conflict in draft.conflicts:
        if conflict.status is ConflictStatus.OPEN:
            lines.append(
                PlannedChange(
                    ChangeKind.CONFLICT,
                    label.item,
                    label.lot,
                    label.location,
                    "",
                    f"Atlas {_shown(conflict.atlas_value)}",
                    f"ERP {_shown(conflict.erp_value)}",
                    draft.mapping_id,
                )  # fmt: skip
            )
    return lines


def describe_order(order: PurchaseOrder, blocked: PurchaseOrder | None = None) -> PlannedChange:
    """A confirmed Atlas order as the purchase order it becomes in the ERP, or why it waits (`blocked`:
    the first order with a line no ERP item was found for; orders are entered in turn)."""
    names = ", ".join(line.name or line.ndc_text for line in order.lines[:3])
    more = f" and {len(order.lines) - 3} more" if len(order.lines) > 3 else ""
    item = f"Order {order.number}: {names}{more}"
    if blocked is None:
        lines = f"{len(order.lines)} line" + ("" if len(order.lines) == 1 else "s")
        return PlannedChange(ChangeKind.PURCHASE_ORDER, item, "", "", TO_ERP, "confirmed on Atlas",
                             f"purchase order ({lines})")  # fmt: skip
    if blocked is order:
        missing = next(line for line in order.lines if not line.erp_item_id)
        why = f"waits: no ERP item for NDC {missing.ndc_text}"
    else:
        why = f"waits behind order {blocked.number}"
    return PlannedChange(ChangeKind.ORDER_WAITING, item, "", "", TO_ERP, "confirmed on Atlas", why)


@dataclass
class PlanLedger:
    """Counts every change of a plan by kind and, for a preview (`listing`), keeps the lines to show.

    The runner feeds it the drafts it plans (after the bounds check, so what is counted is what would be
    recorded) with the labels of their keys, then the confirmed orders.
    """

    listing: bool
    kinds: dict[ChangeKind, int] = field(default_factory=dict)
    changes: list[PlannedChange] = field(default_factory=list)
    left_out: int = 0

    def to_label(self, drafts: Iterable[DecisionDraft]) -> list[int]:
        """The mapping ids whose labels `add` needs (none unless listing)."""
        if not self.listing:
            return []
        return [d.mapping_id for d in drafts if d.writes or any(_open(c) for c in d.conflicts)]

    def add(self, drafts: list[DecisionDraft], labels: Mapping[int, tuple[str, str, str]]) -> None:
        tally(drafts, self.kinds)
        if not self.listing:
            return
        for draft in drafts:
            label = ChangeLabel(*labels.get(draft.mapping_id, (f"mapping {draft.mapping_id}", "", "")))
            self._keep(describe(draft, label))

    def add_orders(self, orders: list[PurchaseOrder]) -> None:
        """The confirmed orders in the order the run takes them (OrderTransfer.pending). The run stops at
        the first the ERP cannot take (a line no ERP item was found for): it and those after it wait."""
        lines: list[PlannedChange] = []
        blocked: PurchaseOrder | None = None
        for order in orders:
            if blocked is None and any(not line.erp_item_id for line in order.lines):
                blocked = order
            kind = ChangeKind.PURCHASE_ORDER if blocked is None else ChangeKind.ORDER_WAITING
            self.kinds[kind] = self.kinds.get(kind, 0) + 1
            lines.append(describe_order(order, blocked))
        if self.listing:
            self._keep(lines)

    def _keep(self, lines: list[PlannedChange]) -> None:
        room = max(MAX_LISTED - len(self.changes), 0)
        self.changes.extend(lines[:room])
        self.left_out += max(len(lines) - room, 0)

    def counts(self, unchanged: int) -> dict[str, int]:
        """Every kind in a fixed order, zeros included, with the keys already the same."""
        counted = {**self.kinds, ChangeKind.ALREADY_SAME: unchanged}
        return {kind: counted.get(kind, 0) for kind in ChangeKind}
