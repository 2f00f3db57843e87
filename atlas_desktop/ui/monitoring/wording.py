"""Product words for the codes the engine and store keep: what a person reads instead of "auto_ndc",
"erp_adjust 399" or "Merge: 429". Pure functions, no Qt: the views and the window's log share them."""

from __future__ import annotations

from atlas_desktop.domain.enums import MappingStatus, MatchMethod, SyncType
from atlas_desktop.domain.ndc import NdcError, canonical_key, display_ndc
from atlas_desktop.domain.operations import ATLAS_ADJUST, ATLAS_SET_EXPIRY, ATLAS_SET_FIELDS, ERP_ADJUST
from atlas_desktop.engine.health import phase_words as phase_words  # one wording for card and log

_IRREGULAR = {"entry": "entries", "was": "were", "is": "are", "conflict": "conflicts"}


def plural(count: int, word: str, many: str | None = None) -> str:
    """'1 item', '2 items', '1,234 items'."""
    if count == 1:
        return f"1 {word}"
    return f"{count:,} {many or _IRREGULAR.get(word) or word + 's'}"


SYNC_TYPE_WORDS = {
    SyncType.MANUAL: "Started by you",
    SyncType.FULL: "Full sync",
    SyncType.INCREMENTAL: "Changes only",
    SyncType.SCHEDULED: "Scheduled",
    SyncType.REAL_TIME: "Real-time (Atlas change)",
    SyncType.RECONCILE: "Nightly check",
}


def sync_type_words(sync_type: object) -> str:
    try:
        return SYNC_TYPE_WORDS[SyncType(str(sync_type))]
    except ValueError:
        return str(sync_type)


_START_WORDS = {
    SyncType.MANUAL: "Sync started by you.",
    SyncType.FULL: "Full sync started.",
    SyncType.INCREMENTAL: "Sync of the changes started.",
    SyncType.SCHEDULED: "Scheduled sync started.",
    SyncType.REAL_TIME: "Real-time sync started (a change on Atlas).",
    SyncType.RECONCILE: "Nightly check started.",
}


def run_start_words(sync_type: object) -> str:
    try:
        return _START_WORDS[SyncType(str(sync_type))]
    except ValueError:
        return f"Sync started ({sync_type})."


MATCH_WORDS = {MatchMethod.AUTO_NDC: "matched by NDC", MatchMethod.MANUAL: "mapped by hand"}


# An ERP item Atlas does not list has nothing to match: information, not a pairing still to come.
ERP_ONLY_MATCH = "not on Atlas"


def match_words(method: object, status: object = None) -> str:
    if status == MappingStatus.UNMATCHED_ERP:
        return ERP_ONLY_MATCH
    if method is None:
        return "not matched yet"
    try:
        return MATCH_WORDS[MatchMethod(str(method))]
    except ValueError:
        return str(method)


OPERATION_WORDS = {
    ERP_ADJUST: "ERP stock adjustment",
    ATLAS_ADJUST: "Atlas stock change",
    ATLAS_SET_EXPIRY: "Atlas expiry date change",
    ATLAS_SET_FIELDS: "Atlas product details change",
}


def operation_words(operation: str) -> str:
    return OPERATION_WORDS.get(operation, operation.replace("_", " "))


def ndc_words(*texts: str | None) -> str:
    """The first NDC known, in the one display form (5-4-2) when it is a plain key."""
    for text in texts:
        if text:
            digits = text.replace("-", "").strip()
            return display_ndc(digits) if digits.isdigit() and len(digits) in (11, 12) else text
    return "—"


def ndc_text_words(text: str | None) -> str:
    """An NDC as a side wrote it, in the one display form (5-4-2) when it denotes exactly one NDC; an
    ambiguous or invalid text stays as written, since that is what a person has to look at."""
    if not text:
        return "—"
    try:
        return display_ndc(canonical_key(text))
    except NdcError:
        return text


def item_words(
    name: str | None, lot: str | None = None, location: str | None = None, fallback: str = ""
) -> str:
    """'Amoxicillin 500 mg, lot A12 at Main warehouse'; the id given as fallback only when nothing else."""
    text = name or fallback or "an item"
    if lot:
        text += f", lot {lot}"
    if location:
        text += f" at {location}"
    return text


POLICY_WORDS = {"manual": "ask me", "erp_wins": "the ERP's value wins", "atlas_wins": "Atlas's value wins"}


def policy_words(policy: object) -> str:
    return "as the connection says" if policy is None else POLICY_WORDS.get(str(policy), str(policy))


def run_words(status: object, synced: int, failed: int, conflicts: int, seconds: float) -> str:
    """One finished run in a sentence, plurals right."""
    return (
        f"Sync {status}: {plural(synced, 'item')} synced, {failed:,} failed, "
        f"{plural(conflicts, 'conflict')}, {seconds:.1f} s."
    )
