"""Why discovery found no ERP position for an Atlas row, in one of a few words a person can act on.

Discovery (engine/discovery.py) writes a note on every Atlas row it leaves unmatched; the notes' wording
is classified here, with what to do about each reason. tests/engine/test_unmatched.py runs discovery to
produce every note, so the two cannot drift apart unnoticed. No I/O.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from atlas_desktop.domain.review_rows import UnmatchedAtlasRow


class Unmatched(StrEnum):
    NO_NDC = "no_ndc"
    NDC_UNREADABLE = "ndc_unreadable"
    NDC_NOT_IN_ERP = "ndc_not_in_erp"
    SHARED_NDC = "shared_ndc"
    LOCATION_NOT_MAPPED = "location_not_mapped"
    LOT_NOT_IN_ERP = "lot_not_in_erp"
    OTHER = "other"


LABELS = {
    Unmatched.NO_NDC: "no NDC on the Atlas listing",
    Unmatched.NDC_UNREADABLE: "the NDC cannot be read",
    Unmatched.NDC_NOT_IN_ERP: "NDC not in the ERP",
    Unmatched.SHARED_NDC: "several ERP items carry the NDC",
    Unmatched.LOCATION_NOT_MAPPED: "location not mapped to an ERP location",
    Unmatched.LOT_NOT_IN_ERP: "lot not in the ERP at that location",
    Unmatched.OTHER: "other",
}
FIXES = {
    Unmatched.NO_NDC: "Add the NDC to the listing on Atlas (any form: 5-4-2, 11 digits, GTIN).",
    Unmatched.NDC_UNREADABLE: "Correct the NDC on Atlas; the note says what is wrong with it.",
    Unmatched.NDC_NOT_IN_ERP: "If the ERP keeps the NDC in another field, choose it in the connection "
    "settings; otherwise pair the row by hand (Mappings, Map to ERP item…).",
    Unmatched.SHARED_NDC: "Pick the right ERP item: Mappings, Map to ERP item… lists them.",
    Unmatched.LOCATION_NOT_MAPPED: "Map the Atlas location code to an ERP location in the connection "
    "settings.",
    Unmatched.LOT_NOT_IN_ERP: "Receive the lot in the ERP at that location, or correct the lot on Atlas.",
    Unmatched.OTHER: "Read the note; pair the row by hand if it is the same product.",
}


def classify(note: str | None) -> Unmatched:
    text = note or ""
    if text == "NDC not usable: no NDC":
        return Unmatched.NO_NDC
    if text.startswith("NDC not usable"):
        return Unmatched.NDC_UNREADABLE
    if text == "no ERP item with this NDC":
        return Unmatched.NDC_NOT_IN_ERP
    if "ERP items share this NDC" in text:
        return Unmatched.SHARED_NDC
    if "has no ERP location" in text:
        return Unmatched.LOCATION_NOT_MAPPED
    if text.startswith("lot '") and "not in the ERP at location" in text:
        return Unmatched.LOT_NOT_IN_ERP
    return Unmatched.OTHER


def count_reasons(notes: Iterable[str | None]) -> tuple[tuple[str, int], ...]:
    """(reason in words, rows) for the reasons present, the most frequent first."""
    counts = Counter(classify(note) for note in notes)
    return tuple((LABELS[reason], n) for reason, n in counts.most_common())


@dataclass(frozen=True, slots=True)
class UnmatchedRow:
    """One Atlas row discovery left alone, explained."""

    item: str
    ndc: str
    lot: str
    location: str
    reason: str  # LABELS
    note: str  # discovery's own words, with the specifics (which location, which lot)
    fix: str


def explain(rows: Iterable[UnmatchedAtlasRow]) -> list[UnmatchedRow]:
    """The unmatched Atlas rows as read from the store, explained."""
    explained = []
    for row in rows:
        reason = classify(row.note)
        explained.append(
            UnmatchedRow(
                row.name or row.atlas_id,
                row.ndc_text,
                row.lot,
                row.location,
                LABELS[reason],
                row.note,
                FIXES[reason],
            )  # fmt: skip
        )
    return explained
