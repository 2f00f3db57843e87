"""A connection's state from the facts: one rule for the dashboard, the tray, the CLI and the report to Atlas.

"In sync" only when nothing is running, failing, waiting for a person, pending or paused, and a sync has
completed at least once: a green "Healthy" during the first sync, while paused, with ambiguous items
waiting or after an unsynced sale would tell the user nothing is left to do when something is.

Precedence, first match wins (`PRECEDENCE`; the tray shows the first one any connection has):

1. SYNCING — a run is going on: what the user sees move now; the other facts are about to change.
2. FAILING — the last run failed, or runs fail in a row: nothing moves until it is fixed.
3. NEEDS_CHOICE — ambiguous mappings or open conflicts: those items wait for a person, and only a person.
4. DEGRADED — runs get through, but items fail or writes are in doubt, or the last run was partial.
5. PAUSED — paused by the user; outranks PENDING because nothing pending moves until it is resumed.
6. PENDING — writes decided and not confirmed yet (a sale on its way): the next run carries them.
7. NOT_YET_SYNCED — no run has completed: never "in sync".
8. IN_SYNC — none of the above.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Protocol

from atlas_desktop import __version__
from atlas_desktop.domain.connection_summary import ConnectionSummary
from atlas_desktop.domain.enums import ConnectionStatus, SyncLogStatus

if TYPE_CHECKING:
    from atlas_desktop.connectors.atlas import HealthReport


class ConnectionFacts(Protocol):
    """What the rule reads of a connection (store.repositories.ConnectionSummary)."""

    @property
    def status(self) -> ConnectionStatus: ...
    @property
    def last_sync_at(self) -> datetime | None: ...
    @property
    def last_sync_status(self) -> SyncLogStatus | None: ...
    @property
    def consecutive_failures(self) -> int: ...


class CountFacts(Protocol):
    """What the rule reads of its counts (store.explain.ConnectionCounts)."""

    @property
    def ambiguous(self) -> int: ...
    @property
    def open_conflicts(self) -> int: ...
    @property
    def failing_items(self) -> int: ...
    @property
    def in_doubt_writes(self) -> int: ...
    @property
    def pending_writes(self) -> int: ...
    @property
    def mapped(self) -> int: ...
    @property
    def unmapped(self) -> int: ...
    @property
    def erp_only(self) -> int: ...
    @property
    def atlas_only(self) -> int: ...


class HealthKind(StrEnum):
    SYNCING = "syncing"
    FAILING = "failing"
    NEEDS_CHOICE = "needs_choice"
    DEGRADED = "degraded"
    PAUSED = "paused"
    PENDING = "pending"
    NOT_YET_SYNCED = "not_synced_yet"
    IN_SYNC = "in_sync"


# Worst (most urgent) first; see the module docstring for why in this order.
PRECEDENCE = tuple(HealthKind)

LABELS = {
    HealthKind.SYNCING: "Syncing",
    HealthKind.FAILING: "Failing",
    HealthKind.NEEDS_CHOICE: "Needs your choice",
    HealthKind.DEGRADED: "Degraded",
    HealthKind.PAUSED: "Paused",
    HealthKind.PENDING: "Pending changes",
    HealthKind.NOT_YET_SYNCED: "Not synced yet",
    HealthKind.IN_SYNC: "In sync",
}

# The Atlas contract knows four values (healthy|degraded|failing|paused). A run in progress or writes on
# their way are normal operation, hence healthy; a person's choice waiting or a connection not proven yet
# is not, hence degraded.
CONTRACT_STATUS = {
    HealthKind.SYNCING: "healthy",
    HealthKind.FAILING: "failing",
    HealthKind.NEEDS_CHOICE: "degraded",
    HealthKind.DEGRADED: "degraded",
    HealthKind.PAUSED: "paused",
    HealthKind.PENDING: "healthy",
    HealthKind.NOT_YET_SYNCED: "degraded",
    HealthKind.IN_SYNC: "healthy",
}


_PHASES = {
    "pull": ("Reading Atlas and the ERP", "row"),
    "pull atlas": ("Reading Atlas", "row"),
    "reconcile atlas": ("Checking Atlas", "row"),
    "pull erp products": ("Reading ERP products", "product"),
    "pull erp stock": ("Reading ERP stock", "stock position"),
    "merge": ("Comparing both sides", "item"),
    "push": ("Sending changes", "change"),
}


def _count(count: int, noun: str) -> str:
    return f"{count:,} {noun}" + ("" if count == 1 else "s")


def phase_words(phase: str, done: int, total: int | None = None) -> str:
    """A run's phase as people read it: "Comparing both sides: 429 items compared", not "merge: 429"."""
    title, noun = _PHASES.get(phase, (phase.capitalize(), "item"))
    verb = {"merge": "compared", "push": "sent"}.get(phase, "read")
    if total:
        return f"{title}: {done:,} of {_count(total, noun)} {verb}"
    return f"{title}: {_count(done, noun)} {verb}" if done else title


@dataclass(frozen=True, slots=True)
class Activity:
    """A run going on: the phase and progress from the last RunProgress event (total None: unknown)."""

    phase: str | None = None
    done: int = 0
    total: int | None = None
    where: str | None = None  # "process 4242": a run another process holds (the CLI sees no events)

    def words(self) -> str:
        if self.phase is None:
            return f"in {self.where}" if self.where else "starting"
        worded = phase_words(self.phase, self.done, self.total)
        return worded[0].lower() + worded[1:]  # it follows "Syncing — "


@dataclass(frozen=True, slots=True)
class Reason:
    """One fact behind the state, in words; `key` names the view that lists it (the card links it)."""

    key: str  # "ambiguous", "conflicts", "failing_items", "in_doubt", "pending", "failures", ...
    count: int
    text: str


@dataclass(frozen=True, slots=True)
class HealthState:
    kind: HealthKind
    reasons: tuple[Reason, ...] = ()  # every fact that keeps the connection from "in sync", worst first
    notes: tuple[str, ...] = ()  # information, not a problem (items only on one side)
    activity: Activity | None = None

    @property
    def label(self) -> str:
        return LABELS[self.kind]

    @property
    def contract_status(self) -> str:
        return CONTRACT_STATUS[self.kind]

    def reason(self, key: str) -> Reason | None:
        return next((reason for reason in self.reasons if reason.key == key), None)

    def words(self) -> str:
        """One line for the CLI and the tray: the label, then the reasons."""
        details = ([self.activity.words()] if self.activity else []) + [r.text for r in self.reasons]
        return self.label + (" — " + "; ".join(details) if details else "")


def _plural(count: int, one: str, many: str) -> str:
    return f"{count:,} {one if count == 1 else many}"


def _reasons(summary: ConnectionFacts, counts: CountFacts) -> list[tuple[HealthKind, Reason]]:
    found: list[tuple[HealthKind, Reason]] = []

    def add(kind: HealthKind, key: str, count: int, text: str) -> None:
        if count:
            found.append((kind, Reason(key, count, text)))

    failures = summary.consecutive_failures
    add(HealthKind.FAILING, "failures", failures, _plural(failures, "failed sync", "failed syncs in a row"))
    if not failures and (
        summary.last_sync_status is SyncLogStatus.FAILED or summary.status is ConnectionStatus.ERROR
    ):
        add(HealthKind.FAILING, "failures", 1, "the last sync failed")
    ambiguous = _plural(counts.ambiguous, "item matches", "items match") + " more than one ERP item: choose"
    add(HealthKind.NEEDS_CHOICE, "ambiguous", counts.ambiguous, ambiguous)
    add(HealthKind.NEEDS_CHOICE, "conflicts", counts.open_conflicts,
        _plural(counts.open_conflicts, "conflict", "conflicts") + " to decide")  # fmt: skip
    add(HealthKind.DEGRADED, "failing_items", counts.failing_items,
        _plural(counts.failing_items, "item", "items") + " failing")  # fmt: skip
    add(HealthKind.DEGRADED, "in_doubt", counts.in_doubt_writes,
        _plural(counts.in_doubt_writes, "write", "writes") + " in doubt")  # fmt: skip
    if summary.last_sync_status is SyncLogStatus.PARTIAL and not counts.failing_items:
        add(HealthKind.DEGRADED, "partial", 1, "the last sync was partial")
    add(HealthKind.PAUSED, "paused", int(summary.status is ConnectionStatus.PAUSED), "paused")
    add(HealthKind.PENDING, "pending", counts.pending_writes,
        _plural(counts.pending_writes, "change", "changes") + " waiting to be written")  # fmt: skip
    return found


def _notes(counts: CountFacts) -> tuple[str, ...]:
    notes: list[str] = []
    if counts.erp_only:
        erp_only = _plural(counts.erp_only, "ERP item is", "ERP items are")
        notes.append(erp_only + " not listed on Atlas (information)")
    if counts.atlas_only:
        notes.append(_plural(counts.atlas_only, "Atlas row is", "Atlas rows are") + " not found in the ERP")
    return tuple(notes)


def health_state(
    summary: ConnectionFacts, counts: CountFacts, activity: Activity | None = None
) -> HealthState:
    """`activity`: the run going on, if any (the window knows it from the engine's events, the CLI
    from the run lock held by another process)."""
    found = _reasons(summary, counts)
    kinds = {kind for kind, _ in found}
    if activity is not None:
        kind = HealthKind.SYNCING
    elif kinds:
        kind = next(k for k in PRECEDENCE if k in kinds)
    elif summary.last_sync_at is None:
        kind = HealthKind.NOT_YET_SYNCED
    else:
        kind = HealthKind.IN_SYNC
    ordered = sorted(found, key=lambda pair: PRECEDENCE.index(pair[0]))
    return HealthState(kind, tuple(reason for _, reason in ordered), _notes(counts), activity)


def worst(kinds: list[HealthKind]) -> HealthKind | None:
    for kind in PRECEDENCE:
        if kind in kinds:
            return kind
    return None


def health_report(summary: ConnectionSummary, counts: CountFacts) -> HealthReport:
    """The contract's PUT .../health body for this connection (counts and states, never a credential)."""
    from atlas_desktop.connectors.atlas import HealthReport

    return HealthReport(
        erp_type=summary.erp_type,
        status=health_state(summary, counts).contract_status,
        last_sync_at=summary.last_sync_at,
        last_sync_status=summary.last_sync_status.value if summary.last_sync_status else None,
        consecutive_failures=summary.consecutive_failures,
        items_mapped=counts.mapped,
        items_unmapped=counts.unmapped,
        open_conflicts=counts.open_conflicts,
        app_version=__version__,
    )
