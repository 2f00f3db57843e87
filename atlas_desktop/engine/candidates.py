"""The ERP stock positions an Atlas row may be, best first: what "Map to ERP item…" offers a person.

Discovery leaves a row ambiguous when it will not guess (an NDC that reads several ways, two ERP items
with one NDC, a position another row took). The same evidence ranks the positions here: the same NDC
in any form, then the same lot, the same quantity, the same location. The obvious one — the only
free position with the NDC and the lot that outranks every other — is pre-selected, and can be accepted
for many rows at once; nothing is ever paired without a person's click. Runs on the DB thread.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol, TypeVar

from atlas_desktop.domain.mapping_view import MappingView
from atlas_desktop.domain.review_rows import ErpCandidate
from atlas_desktop.engine.discovery import NdcIdentity, identify_ndc, normalise_lot

SAME_NDC, NDC_READING, SAME_LOT, SAME_QUANTITY, SAME_LOCATION = 8, 5, 4, 2, 1

R = TypeVar("R")  # a caller's row, handed back with its candidate


@dataclass(frozen=True, slots=True)
class RankedCandidate:
    position: ErpCandidate
    score: int
    reasons: tuple[str, ...]
    ndc: bool  # the NDCs name the same product (for sure, or by one reading of an ambiguous text)
    lot: bool

    @property
    def why(self) -> str:
        return ", ".join(self.reasons) if self.reasons else "found by search"


def ten_digit_forms(key: str) -> set[str]:
    """The bare 10-digit texts an 11-digit key can come from (4-4-2, 5-3-2 and 5-4-1 padded by a zero)."""
    if len(key) != 11 or not key.isdigit():
        return set()
    forms = set()
    for zero in (0, 5, 9):  # where 4-4-2, 5-3-2 and 5-4-1 get their padding zero
        if key[zero] == "0":
            forms.add(key[:zero] + key[zero + 1 :])
    return forms


def _ndc_relation(atlas: NdcIdentity, erp_text: str | None) -> tuple[int, str | None]:
    erp = identify_ndc(erp_text)
    if (atlas.key and atlas.key == erp.key) or (atlas.ten and atlas.ten == erp.ten):
        return SAME_NDC, "same NDC"
    readings = ({atlas.key} | atlas.candidates) & ({erp.key} | erp.candidates)
    shared = sorted(k for k in readings if k is not None)
    if shared:
        key = shared[0]
        return NDC_READING, f"same NDC read as {key[:5]}-{key[5:9]}-{key[9:]}"
    return 0, None


def rank(
    positions: list[ErpCandidate],
    *,
    ndc_text: str | None,
    lot: str | None,
    quantity: Decimal | None,
    location: str | None,
    location_map: Mapping[str, str] | None = None,
    suggested_item: str | None = None,
) -> list[RankedCandidate]:
    """`positions` scored against the Atlas row's NDC, lot, quantity and location; free ones first."""
    atlas = identify_ndc(ndc_text)
    wanted_lot = normalise_lot(lot)
    code = (location or "").strip().upper()
    mapped_to = {k.strip().upper(): v for k, v in (location_map or {}).items()}.get(code)
    ranked = []
    for position in positions:
        score, why = _ndc_relation(atlas, position.ndc_text)
        reasons = [why] if why else []
        if not why and position.item_id == suggested_item:
            score, reasons = NDC_READING, ["discovery's suggestion"]
        same_lot = normalise_lot(position.lot) == wanted_lot
        if same_lot:
            score += SAME_LOT
            reasons.append("same lot" if wanted_lot else "no lot on either side")
        if quantity is not None and position.quantity is not None and position.quantity == quantity:
            score += SAME_QUANTITY
            reasons.append("same quantity")
        if code and (mapped_to == position.location_id or code == position.location_id.strip().upper()):
            score += SAME_LOCATION
            reasons.append("same location")
        ranked.append(RankedCandidate(position, score, tuple(reasons), bool(why), same_lot))
    ranked.sort(key=lambda r: (r.position.mapped, -r.score, r.position.name or "", r.position.item_id,
                               r.position.location_id, r.position.lot or ""))  # fmt: skip
    return ranked


def obvious(ranked: list[RankedCandidate]) -> RankedCandidate | None:
    """The free position with the NDC and the lot that outranks every other free one, if there is one."""
    free = [r for r in ranked if not r.position.mapped]
    if not free or not (free[0].ndc and free[0].lot):
        return None
    if len(free) > 1 and free[1].score >= free[0].score:
        return None
    return free[0]


def unique_obvious(rows: list[tuple[R, list[RankedCandidate]]]) -> list[tuple[R, ErpCandidate]]:
    """(row, position) for each row with an obvious candidate, leaving out positions that are the obvious
    one of two rows: accepting both would pair one ERP position twice."""
    chosen = [(row, best.position) for row, ranked in rows if (best := obvious(ranked)) is not None]
    claims = Counter((p.item_id, p.location_id, p.lot) for _row, p in chosen)
    return [(row, p) for row, p in chosen if claims[(p.item_id, p.location_id, p.lot)] == 1]


class CandidateReads(Protocol):
    """The ERP side as find_candidates reads it (store/candidate_reads.py), on the DB thread."""

    def items_by_ndc(
        self, connection_id: str, keys: Collection[str], bare: Collection[str]
    ) -> dict[str, str | None]: ...
    def positions(self, connection_id: str, item_ids: Collection[str]) -> list[ErpCandidate]: ...
    def atlas_place(self, connection_id: str, atlas_id: str) -> tuple[str | None, Decimal | None]: ...


def find_candidates(
    reads: CandidateReads, mapping: MappingView, location_map: Mapping[str, str] | None = None
) -> list[RankedCandidate]:
    """What discovery would have weighed for `mapping` (an Atlas row's), ranked."""
    atlas = identify_ndc(mapping.ndc_text_atlas)
    keys = {key for key in (*atlas.candidates, atlas.key) if key}
    bare = set(keys) | {form for key in keys for form in ten_digit_forms(key)}
    if atlas.ten:
        bare.add(atlas.ten)
    items = set(reads.items_by_ndc(mapping.connection_id, keys, bare))
    if mapping.erp_item_id:
        items.add(mapping.erp_item_id)  # discovery's suggestion, whatever its NDC says
    if not items:
        return []
    location, quantity = (None, None)
    if mapping.atlas_inventory_id:
        location, quantity = reads.atlas_place(mapping.connection_id, mapping.atlas_inventory_id)
    return rank(
        reads.positions(mapping.connection_id, items),
        ndc_text=mapping.ndc_text_atlas,
        lot=mapping.lot,
        quantity=quantity if quantity is not None else mapping.atlas_quantity,
        location=location,
        location_map=location_map,
        suggested_item=mapping.erp_item_id,
    )
