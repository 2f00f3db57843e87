"""Each connection's state for the CLI, by the same rule as the window (engine/health.py)."""

from __future__ import annotations

from collections.abc import Sequence

from atlas_desktop.app.services import Services
from atlas_desktop.engine.health import Activity, HealthState, health_state
from atlas_desktop.store.explain import ExplainRepository
from atlas_desktop.store.repositories import ConnectionSummary


def connection_states(services: Services, summaries: Sequence[ConnectionSummary]) -> dict[str, HealthState]:
    """A few indexed counts per connection; "syncing" when another process holds its run lock (a
    "running" log row alone may be a run that died with its process)."""
    explain = ExplainRepository(services.store)
    states: dict[str, HealthState] = {}
    for summary in summaries:
        lock = services.locks.run(summary.id)
        activity = None
        if lock.is_held_elsewhere():
            pid = lock.holder_pid()
            activity = Activity(where=f"process {pid}" if pid else "another process")
        states[summary.id] = health_state(summary, explain.counts(summary.id), activity)
    return states
