"""Issue 25: the window's activity log and progress line say what a run is doing in words, plurals right."""

from __future__ import annotations

from typing import Any

from atlas_desktop.domain.enums import SyncType
from atlas_desktop.engine.api import RunFinished, RunProgress, RunStarted, RunStatus, RunSummary
from atlas_desktop.ui.main_window import MainWindow


class NoConnections:
    def list(self) -> list[Any]:
        return []


def test_the_log_says_the_runs_trigger_and_progress_in_words(qtbot: Any) -> None:
    window = MainWindow(NoConnections(), None, lambda: None)  # type: ignore[arg-type,return-value]
    qtbot.addWidget(window)
    window.on_bridge_run_started(RunStarted("c1", SyncType.SCHEDULED))
    assert window.activity.toPlainText().endswith("Scheduled sync started.")
    window.on_bridge_run_progressed(RunProgress("c1", "merge", 429))
    assert window.progress_label.text() == "Comparing both sides: 429 items compared"
    summary = RunSummary(
        sync_log_id=1, connection_id="c1", sync_type=SyncType.SCHEDULED, status=RunStatus.SUCCESS,
        items_synced=1, conflicts_opened=1, duration_seconds=2.0,
    )  # fmt: skip
    window.on_bridge_run_finished(RunFinished(summary))
    assert window.activity.toPlainText().endswith("1 item synced, 0 failed, 1 conflict, 2.0 s.")
