"""A sync run's log as it is read back: the run, its item errors, the writes it carried out."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from atlas_desktop.domain.enums import SyncDirection, SyncLogStatus, SyncType


@dataclass(frozen=True, slots=True)
class RunView:
    id: int
    connection_id: str
    sync_type: SyncType
    direction: SyncDirection
    status: SyncLogStatus
    items_synced: int
    items_failed: int
    items_skipped: int
    api_calls_made: int
    api_errors: int
    conflicts_opened: int
    in_doubt: int
    error_message: str | None
    error_details: dict[str, Any] | list[Any] | None
    started_at: datetime
    completed_at: datetime | None
    duration_seconds: Decimal | None
    reads_done_at: datetime | None = None  # when its reads ended and its merge began


@dataclass(frozen=True, slots=True)
class ItemErrorView:
    id: int
    sync_log_id: int
    connection_id: str
    mapping_id: int | None
    item_ref: str
    error_kind: str
    message: str
    fix: str | None
    remote_code: str | None
    remote_message: str | None
    created_at: datetime
    replayed_at: datetime | None


@dataclass(frozen=True, slots=True)
class RunWrite:
    """One write a run carried out (outbox status done), as recorded."""

    mapping_id: int | None
    operation: str
    payload: dict[str, Any]
