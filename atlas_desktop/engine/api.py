"""What the UI, the CLI and the agent may ask of the engine: values in, values and events out.

The implementation (engine/service.py) is built by the app's composition root. Everything here is
plain data so ui/bridge.py can re-emit events as Qt signals without the engine knowing Qt.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Protocol

from atlas_desktop.domain.enums import SyncType
from atlas_desktop.domain.errors import AtlasDesktopError, ErrorKind
from atlas_desktop.domain.model import ConnectionReport

if TYPE_CHECKING:
    from atlas_desktop.engine.changes import PlannedChange
    from atlas_desktop.engine.unmatched import UnmatchedRow


class RunStatus(StrEnum):
    RUNNING = "running"
    SUCCESS = "success"
    PARTIAL = "partial"  # done, some items failed
    FAILED = "failed"
    PREVIEW = "preview"  # stopped before writing: the user must approve the plan
    CANCELLED = "cancelled"  # stopped by the user between steps; the next run carries on (the outbox)


@dataclass(frozen=True)
class DiscoverySummary:
    matched: int
    ambiguous: int
    unmatched_atlas: int
    unmatched_erp: int
    duplicates: int = 0
    # Atlas rows left out because another connection of the profile maps them: (its name, how many).
    mapped_elsewhere: tuple[tuple[str, int], ...] = ()
    doubles: int = 0  # pairs another connection maps too (made before that was refused): neither syncs
    # Why the Atlas rows not found in the ERP were not: (reason in words, rows), most frequent first.
    unmatched_reasons: tuple[tuple[str, int], ...] = ()

    def mapped_elsewhere_lines(self) -> list[str]:
        """One line per other connection: "N rows already mapped by connection 'X'"."""
        return [
            f"{count:,} rows already mapped by connection '{name}'" for name, count in self.mapped_elsewhere
        ]


@dataclass(frozen=True)
class SyncPlan:
    """What a run would write, shown before a first sync or an unusually large one.

    `kinds` counts every kind of change (engine/changes.py ChangeKind) as the approved run will carry it
    out; `changes` lists them (up to changes.MAX_LISTED; `left_out` counts the rest) for the user to read.
    """

    to_atlas: int
    to_erp: int
    conflicts: int
    creates_on_atlas: int
    unchanged: int
    reason: str = ""  # why the run stopped at this preview (first sync, share of items changed)
    kinds: dict[str, int] = field(default_factory=dict)
    changes: tuple[PlannedChange, ...] = ()
    left_out: int = 0

    def as_json(self) -> dict[str, Any]:
        """The counts, JSON-safe (the list stays out: the run log keeps counts, not 200k lines)."""
        return {
            "to_atlas": self.to_atlas, "to_erp": self.to_erp, "conflicts": self.conflicts,
            "creates_on_atlas": self.creates_on_atlas, "unchanged": self.unchanged, "reason": self.reason,
            "kinds": {str(kind): count for kind, count in self.kinds.items()},
        }  # fmt: skip


@dataclass(frozen=True)
class RunSummary:
    """One run's `erp_sync_logs` fields."""

    sync_log_id: int
    connection_id: str
    sync_type: SyncType
    status: RunStatus
    items_synced: int = 0
    items_failed: int = 0
    items_skipped: int = 0
    api_calls_made: int = 0
    api_errors: int = 0
    conflicts_opened: int = 0
    in_doubt: int = 0
    duration_seconds: float = 0.0
    started_at: datetime | None = None
    plan: SyncPlan | None = None
    error_message: str | None = None


class RunInProgress(AtlasDesktopError):
    """Another process (the window, the agent or a command) is running this connection right now.

    Raised instead of a second, overlapping run: two runs of one connection would each carry the same
    sale across, and post it twice.
    """

    kind = ErrorKind.CONFLICT
    default_fix = "Wait for that run to finish: it carries the same changes. Run again afterwards if needed."

    def __init__(self, connection_id: str, name: str, pid: int | None) -> None:
        where = f"process {pid}" if pid is not None else "another process"
        super().__init__(f"a sync of {name} is already running in {where}")
        self.connection_id = connection_id
        self.pid = pid


# Events: plain dataclasses published on the engine's bus; the UI bridge re-emits them as signals.
@dataclass(frozen=True)
class RunStarted:
    connection_id: str
    sync_type: SyncType


@dataclass(frozen=True)
class RunProgress:
    connection_id: str
    phase: str  # "pull", "merge", "push"
    done: int
    total: int | None = None


@dataclass(frozen=True)
class RunFinished:
    summary: RunSummary


@dataclass(frozen=True)
class DiscoveryProgress:
    connection_id: str
    done: int
    total: int | None = None
    phase: str = ""  # what is being read ("pull": both sides at once; "pull atlas"...), or "match"


@dataclass(frozen=True)
class ConnectionAlert:
    """A connection needs a person: repeated failures, conflicts or in-doubt writes."""

    connection_id: str
    reason: str
    consecutive_failures: int = 0
    # What it is about ("failures", "item_failures", "conflicts", "in_doubt", "doubles"): a notice is not
    # repeated for the same kind too soon, whatever its count.
    kind: str = ""


EngineEvent = RunStarted | RunProgress | RunFinished | DiscoveryProgress | ConnectionAlert


@dataclass
class EventBus:
    """A tiny synchronous publish/subscribe; subscribers must not block."""

    _subscribers: list[Callable[[EngineEvent], None]] = field(default_factory=list)

    def subscribe(self, callback: Callable[[EngineEvent], None]) -> Callable[[], None]:
        self._subscribers.append(callback)
        return lambda: self._subscribers.remove(callback)

    def publish(self, event: EngineEvent) -> None:
        for callback in list(self._subscribers):
            callback(event)


class SyncEngine(Protocol):
    """The engine facade. Every method is safe to await from the Qt (qasync) loop."""

    events: EventBus

    async def test_connection(self, connection_id: str) -> ConnectionReport: ...

    async def discover(self, connection_id: str) -> DiscoverySummary: ...

    async def preview(self, connection_id: str) -> SyncPlan: ...

    async def unmatched_atlas(self, connection_id: str) -> list[UnmatchedRow]: ...

    async def sync(
        self, connection_id: str, *, sync_type: SyncType = SyncType.MANUAL, approve: bool = False
    ) -> RunSummary: ...

    def cancel(self, connection_id: str) -> bool:
        """Stop the connection's run at its next safe point (between pages, merge chunks, push waves).
        False when nothing runs."""
        ...
