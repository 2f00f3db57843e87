"""The snapshot a dashboard card shows, with the state engine/health.py decides and its colour and badge."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from atlas_desktop.domain.enums import ConnectionStatus
from atlas_desktop.engine.health import Activity, HealthKind, HealthState, health_state
from atlas_desktop.store.explain import ConnectionCounts, ExplainRepository
from atlas_desktop.store.repositories import ConnectionSummary
from atlas_desktop.store.runs import RunView

RECENT_RUNS = 300  # the run chart's last days: three of them at a 15-minute schedule

COLOURS = {
    HealthKind.SYNCING: "#0969da",
    HealthKind.FAILING: "#cf222e",
    HealthKind.NEEDS_CHOICE: "#8250df",
    HealthKind.DEGRADED: "#bf8700",
    HealthKind.PAUSED: "#6e7781",
    HealthKind.PENDING: "#9a6700",
    HealthKind.NOT_YET_SYNCED: "#6e7781",
    HealthKind.IN_SYNC: "#1a7f37",
}

# A sign beside the words, so the state never rests on colour alone (and reads in a grey screenshot).
SIGNS = {
    HealthKind.SYNCING: "↻",
    HealthKind.FAILING: "✕",
    HealthKind.NEEDS_CHOICE: "?",
    HealthKind.DEGRADED: "!",
    HealthKind.PAUSED: "‖",
    HealthKind.PENDING: "…",
    HealthKind.NOT_YET_SYNCED: "○",
    HealthKind.IN_SYNC: "✓",
}


@dataclass(frozen=True)
class ConnectionSnapshot:
    summary: ConnectionSummary
    counts: ConnectionCounts
    runs: list[RunView]  # newest first
    activity: Activity | None = None  # a run going on, from the engine's events

    @property
    def state(self) -> HealthState:
        return health_state(self.summary, self.counts, self.activity)

    @property
    def health(self) -> HealthKind:
        return self.state.kind

    def with_activity(self, activity: Activity | None) -> ConnectionSnapshot:
        return replace(self, activity=activity)

    @property
    def next_sync(self) -> datetime | None:
        if self.summary.status is ConnectionStatus.PAUSED or not self.summary.sync_enabled:
            return None
        if self.summary.last_sync_at is None:
            return None
        return self.summary.last_sync_at + timedelta(minutes=self.summary.sync_frequency_minutes)


def load_snapshots(connections: Any, runs: Any, explain: ExplainRepository) -> list[ConnectionSnapshot]:
    """Every connection's card data; runs on the engine's DB thread (a few small queries each)."""
    return [
        ConnectionSnapshot(summary, explain.counts(summary.id), runs.recent(summary.id, RECENT_RUNS))
        for summary in connections.list()
    ]
