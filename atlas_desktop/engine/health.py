"""A connection's health, one rule for the dashboard, the tray, the agent and the report to Atlas.

Never "healthy" while an item fails, or a conflict or an in-doubt write waits for a person
(sync-correctness.md: a status that says "up to date" with failed items is the complaint to avoid).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from atlas_desktop import __version__
from atlas_desktop.store.enums import ConnectionStatus, SyncLogStatus


class Health(StrEnum):
    HEALTHY = "healthy"
    DEGRADED = "degraded"
    FAILING = "failing"
    PAUSED = "paused"


# Worst first: the tray shows the first one any connection has.
SEVERITY = (Health.FAILING, Health.DEGRADED, Health.PAUSED, Health.HEALTHY)


def health_of(summary: Any, counts: Any) -> Health:
    """`summary`: a ConnectionSummary; `counts`: store.explain.ConnectionCounts."""
    if summary.status is ConnectionStatus.PAUSED:
        return Health.PAUSED
    if summary.consecutive_failures or summary.last_sync_status is SyncLogStatus.FAILED:
        return Health.FAILING
    if summary.status is ConnectionStatus.ERROR:
        return Health.FAILING
    if (
        counts.failing_items
        or counts.open_conflicts
        or counts.in_doubt_writes
        or summary.last_sync_status is SyncLogStatus.PARTIAL
    ):
        return Health.DEGRADED
    return Health.HEALTHY


def worst(healths: list[Health]) -> Health | None:
    for health in SEVERITY:
        if health in healths:
            return health
    return None


def health_report(summary: Any, counts: Any) -> Any:
    """The contract's PUT .../health body for this connection (counts and states, never a credential)."""
    from atlas_desktop.connectors.atlas import HealthReport

    return HealthReport(
        erp_type=summary.erp_type,
        status=health_of(summary, counts).value,
        last_sync_at=summary.last_sync_at,
        last_sync_status=summary.last_sync_status.value if summary.last_sync_status else None,
        consecutive_failures=summary.consecutive_failures,
        items_mapped=counts.mapped,
        items_unmapped=counts.unmapped,
        open_conflicts=counts.open_conflicts,
        app_version=__version__,
    )
