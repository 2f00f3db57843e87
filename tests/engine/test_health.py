"""The one rule that names a connection's state: each fact alone, the precedence between them, the words,
and the contract values the report to Atlas may carry."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime

import pytest

from atlas_desktop.domain.enums import ConnectionStatus, MappingStatus, SyncLogStatus
from atlas_desktop.engine.health import (
    CONTRACT_STATUS,
    PRECEDENCE,
    Activity,
    HealthKind,
    health_report,
    health_state,
    worst,
)
from atlas_desktop.sandbox.atlas.validate import HEALTH_STATUSES
from atlas_desktop.store.explain import ConnectionCounts

SYNCED_AT = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Summary:
    """The ConnectionSummary fields the rule reads."""

    status: ConnectionStatus = ConnectionStatus.ACTIVE
    last_sync_at: datetime | None = SYNCED_AT
    last_sync_status: SyncLogStatus | None = SyncLogStatus.SUCCESS
    consecutive_failures: int = 0
    erp_type: str = "netsuite"


def counts(**changes: int) -> ConnectionCounts:
    mappings = {MappingStatus.MATCHED: 40}
    if "ambiguous" in changes:
        mappings[MappingStatus.AMBIGUOUS] = changes.pop("ambiguous")
    if "erp_only" in changes:
        mappings[MappingStatus.UNMATCHED_ERP] = changes.pop("erp_only")
    base = {"open_conflicts": 0, "in_doubt_writes": 0, "pending_writes": 0, "failing_items": 0}
    return ConnectionCounts(mappings=mappings, **(base | changes))


FAILED = Summary(last_sync_status=SyncLogStatus.FAILED, consecutive_failures=2)
PAUSED = Summary(status=ConnectionStatus.PAUSED)
RUNNING = Activity("pull", 10, 40)

# (summary, counts, activity) -> state: each fact alone, then pairs that test the precedence.
CASES = [
    ("nothing at all", Summary(), counts(), None, HealthKind.IN_SYNC),
    ("items only in the ERP are information", Summary(), counts(erp_only=9), None, HealthKind.IN_SYNC),
    ("never synced", Summary(last_sync_at=None, last_sync_status=None), counts(), None,
     HealthKind.NOT_YET_SYNCED),
    ("first sync running", Summary(last_sync_at=None, last_sync_status=None), counts(), RUNNING,
     HealthKind.SYNCING),
    ("paused", PAUSED, counts(), None, HealthKind.PAUSED),
    ("12 ambiguous", Summary(), counts(ambiguous=12), None, HealthKind.NEEDS_CHOICE),
    ("an open conflict", Summary(), counts(open_conflicts=1), None, HealthKind.NEEDS_CHOICE),
    ("a sale not written yet", Summary(), counts(pending_writes=1), None, HealthKind.PENDING),
    ("failed runs", FAILED, counts(), None, HealthKind.FAILING),
    ("connection in error", Summary(status=ConnectionStatus.ERROR), counts(), None, HealthKind.FAILING),
    ("items failing", Summary(), counts(failing_items=3), None, HealthKind.DEGRADED),
    ("a write in doubt", Summary(), counts(in_doubt_writes=1), None, HealthKind.DEGRADED),
    ("last run partial", Summary(last_sync_status=SyncLogStatus.PARTIAL), counts(), None,
     HealthKind.DEGRADED),
    # Precedence: Syncing > Failing > Needs your choice > Degraded > Paused > Pending > Not synced yet.
    ("syncing over failing", FAILED, counts(open_conflicts=1), RUNNING, HealthKind.SYNCING),
    ("failing over a choice", FAILED, counts(ambiguous=2), None, HealthKind.FAILING),
    ("a choice over degraded", Summary(), counts(open_conflicts=1, failing_items=2), None,
     HealthKind.NEEDS_CHOICE),
    ("a choice over paused", PAUSED, counts(ambiguous=12), None, HealthKind.NEEDS_CHOICE),
    ("degraded over paused", PAUSED, counts(in_doubt_writes=1), None, HealthKind.DEGRADED),
    ("paused over pending", PAUSED, counts(pending_writes=4), None, HealthKind.PAUSED),
    ("pending over not synced yet", Summary(last_sync_at=None, last_sync_status=None),
     counts(pending_writes=1), None, HealthKind.PENDING),
]  # fmt: skip


@pytest.mark.parametrize(("summary", "facts", "activity", "expected"), [c[1:] for c in CASES],
                         ids=[c[0] for c in CASES])  # fmt: skip
def test_the_state_follows_the_facts(summary: Summary, facts: ConnectionCounts, activity: Activity | None,
                                     expected: HealthKind) -> None:  # fmt: skip
    assert health_state(summary, facts, activity).kind is expected


def test_precedence_is_the_documented_order() -> None:
    assert PRECEDENCE == (
        HealthKind.SYNCING, HealthKind.FAILING, HealthKind.NEEDS_CHOICE, HealthKind.DEGRADED,
        HealthKind.PAUSED, HealthKind.PENDING, HealthKind.NOT_YET_SYNCED, HealthKind.IN_SYNC,
    )  # fmt: skip
    assert worst([HealthKind.IN_SYNC, HealthKind.PENDING, HealthKind.NEEDS_CHOICE]) is HealthKind.NEEDS_CHOICE
    assert worst([]) is None


def test_every_fact_is_said_in_words_with_its_count_worst_first() -> None:
    state = health_state(PAUSED, counts(ambiguous=12, open_conflicts=1, pending_writes=3, erp_only=9))
    assert [(r.key, r.count) for r in state.reasons] == [("ambiguous", 12), ("conflicts", 1),
                                                         ("paused", 1), ("pending", 3)]  # fmt: skip
    assert state.reason("ambiguous").text == "12 items match more than one ERP item: choose"  # type: ignore[union-attr]
    assert state.notes == ("9 ERP items are not listed on Atlas (information)",)
    assert state.words().startswith("Needs your choice — 12 items match")


def test_syncing_says_the_phase_and_n_of_m_where_known() -> None:
    assert health_state(Summary(), counts(), Activity("merge", 120, 400)).words() == (
        "Syncing — comparing both sides: 120 of 400 items compared"
    )
    assert Activity("pull erp stock", 1).words() == "reading ERP stock: 1 stock position read"
    assert Activity("pull atlas").words() == "reading Atlas"
    assert Activity().words() == "starting"


def test_the_report_to_atlas_carries_only_contract_values() -> None:
    assert set(CONTRACT_STATUS) == set(HealthKind)
    assert set(CONTRACT_STATUS.values()) <= set(HEALTH_STATUSES)
    never = replace(Summary(), last_sync_at=None, last_sync_status=None)
    assert health_report(never, counts()).status == "degraded"  # never "healthy" before a sync completed
    assert health_report(PAUSED, counts()).status == "paused"
    assert health_report(Summary(), counts(ambiguous=1)).status == "degraded"
    assert health_report(FAILED, counts()).status == "failing"
    assert health_report(Summary(), counts(erp_only=5)).status == "healthy"
