"""The sync history says "interrupted" for a run whose process died, and "running" only for a live one."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from atlas_desktop.domain.enums import SyncDirection, SyncLogStatus, SyncType
from atlas_desktop.store.runs import INTERRUPTED_MESSAGE, RunView
from atlas_desktop.ui.monitoring.history_view import RUN_COLUMNS

INTERRUPTED = RunView(
    id=1, connection_id="c1", sync_type=SyncType.MANUAL, direction=SyncDirection.BIDIRECTIONAL,
    status=SyncLogStatus.FAILED, items_synced=0, items_failed=0, items_skipped=0, api_calls_made=0,
    api_errors=0, conflicts_opened=0, in_doubt=0, error_message=INTERRUPTED_MESSAGE, error_details=None,
    started_at=datetime(2026, 12, 7, 9, 0, tzinfo=UTC), completed_at=datetime(2026, 12, 7, 9, 5, tzinfo=UTC),
    duration_seconds=None,
)  # fmt: skip


def cells(run: RunView) -> dict[str, object]:
    return {name: value(run) for name, value in RUN_COLUMNS}


def test_an_interrupted_run_reads_interrupted_not_running() -> None:
    shown = cells(INTERRUPTED)
    assert shown["Result"] == "interrupted" and shown["Duration"] == "—"
    assert shown["Error"] == INTERRUPTED_MESSAGE


def test_a_live_run_still_reads_running() -> None:
    live = replace(INTERRUPTED, status=SyncLogStatus.RUNNING, error_message=None, completed_at=None)
    assert cells(live)["Result"] == "running" and cells(live)["Duration"] == "running"
