"""Product words for engine codes: what the history, explain dialog and activity log say (issue 25)."""

from __future__ import annotations

from atlas_desktop.domain.enums import MappingStatus, MatchMethod, SyncType
from atlas_desktop.ui.monitoring.wording import (
    item_words,
    match_words,
    ndc_text_words,
    ndc_words,
    operation_words,
    phase_words,
    plural,
    run_start_words,
    run_words,
    sync_type_words,
)


def test_plurals_are_right() -> None:
    assert plural(1, "item") == "1 item"
    assert plural(2, "item") == "2 items"
    assert plural(0, "conflict") == "0 conflicts"
    assert plural(1234, "item") == "1,234 items"


def test_codes_become_words() -> None:
    assert match_words(MatchMethod.AUTO_NDC) == "matched by NDC"
    assert match_words("manual") == "mapped by hand"
    assert match_words(None, MappingStatus.AMBIGUOUS) == "not matched yet"
    assert match_words(None, MappingStatus.UNMATCHED_ERP) == "not on Atlas"  # information, nothing pending
    assert operation_words("erp_adjust") == "ERP stock adjustment"
    assert sync_type_words(SyncType.SCHEDULED) == "Scheduled"
    assert sync_type_words("real_time").startswith("Real-time")
    assert run_start_words(SyncType.SCHEDULED) == "Scheduled sync started."
    assert "manual" not in run_start_words(SyncType.MANUAL)


def test_ndc_in_one_display_form() -> None:
    assert ndc_words("00093715301") == "00093-7153-01"
    assert ndc_words(None, "0093-7153-01") == "0093-7153-01"  # no key: the text as the side wrote it
    assert ndc_words(None, None) == "—"
    assert ndc_text_words("0093-7153-01") == "00093-7153-01"  # one NDC, however it was written
    assert ndc_text_words("0093715301") == "0093715301"  # three readings: kept as written
    assert ndc_text_words("not an ndc") == "not an ndc" and ndc_text_words(None) == "—"


def test_item_and_progress_and_summary_in_sentences() -> None:
    worded = item_words("Amoxicillin 500 mg", "A12", "Main warehouse")
    assert worded == "Amoxicillin 500 mg, lot A12 at Main warehouse"
    assert phase_words("merge", 429) == "Comparing both sides: 429 items compared"
    assert phase_words("pull erp stock", 1) == "Reading ERP stock: 1 stock position read"
    assert run_words("success", 1, 0, 1, 2.0) == "Sync success: 1 item synced, 0 failed, 1 conflict, 2.0 s."
