"""A connection's health (healthy / degraded / failing / paused) and the snapshot a dashboard card shows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from atlas_desktop.engine.health import Health, health_of
from atlas_desktop.store.explain import ConnectionCounts, ExplainRepository
from atlas_desktop.store.repositories import ConnectionSummary
from atlas_desktop.store.runs import RunView

RECENT_RUNS = 20


COLOURS = {
    Health.HEALTHY: "#1a7f37",
    Health.DEGRADED: "#bf8700",
    Health.FAILING: "#cf222e",
    Health.PAUSED: "#6e7781",
}


@dataclass(frozen=True)
class ConnectionSnapshot:
    summary: ConnectionSummary
    counts: ConnectionCounts
    runs: list[RunView]  # newest first

    @property
    def health(self) -> Health:
        return health_of(self.summary, self.counts)

    @property
    def next_sync(self) -> datetime | None:
        if self.health is Health.PAUSED or not self.summary.sync_enabled:
            return None
        if self.summary.last_sync_at is None:
            return None
        return self.summary.last_sync_at + timedelta(minutes=self.summary.sync_frequency_minutes)

    def problems(self) -> list[str]:
        """Why the connection is not healthy, in plain words (empty when it is)."""
        found = []
        if self.summary.consecutive_failures:
            found.append(f"{self.summary.consecutive_failures} failed sync(s) in a row")
        if self.counts.failing_items:
            found.append(f"{self.counts.failing_items} item(s) failing")
        if self.counts.open_conflicts:
            found.append(f"{self.counts.open_conflicts} conflict(s) to decide")
        if self.counts.in_doubt_writes:
            found.append(f"{self.counts.in_doubt_writes} write(s) in doubt")
        return found


def load_snapshots(connections: Any, runs: Any, explain: ExplainRepository) -> list[ConnectionSnapshot]:
    """Every connection's card data; runs on the engine's DB thread (a few small queries each)."""
    return [
        ConnectionSnapshot(summary, explain.counts(summary.id), runs.recent(summary.id, RECENT_RUNS))
        for summary in connections.list()
    ]
