"""The snapshot a dashboard card shows, with the state engine/health.py decides and its colour and badge."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from atlas_desktop.domain.enums import ConnectionStatus
from atlas_desktop.engine.health import Activity, HealthKind, HealthState, health_state
from atlas_desktop.store.explain import ConnectionCounts, ExplainRepository
from atlas_desktop.store.process_locks import ProcessLocks
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
    activity: Activity | None = None  # a run going on: the engine's events, or another process's lock

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


class OtherProcessRuns:
    """Which connection another process (the agent, a command) is syncing now, by its run lock.

    Probed on a fresh lock handle each time: the probe never takes, nor releases, a lock this process holds
    through its own handles; a run of this process is told by the engine's events instead.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def __call__(self, connection_id: str) -> Activity | None:
        lock = ProcessLocks(self.folder).run(connection_id)
        if not lock.is_held_elsewhere():
            return None
        pid = lock.holder_pid()
        if pid == os.getpid():
            return None
        return Activity(where=f"process {pid}" if pid else "another process")


def load_snapshots(
    connections: Any,
    runs: Any,
    explain: ExplainRepository,
    elsewhere: Callable[[str], Activity | None] | None = None,
) -> list[ConnectionSnapshot]:
    """Every connection's card data; runs on the engine's DB thread (a few small queries each).
    `elsewhere`: a run another process holds, shown as Syncing (its events never reach this window)."""
    return [
        ConnectionSnapshot(
            summary,
            explain.counts(summary.id),
            runs.recent(summary.id, RECENT_RUNS),
            elsewhere(summary.id) if elsewhere is not None else None,
        )
        for summary in connections.list()
    ]
