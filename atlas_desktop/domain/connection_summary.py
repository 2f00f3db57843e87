"""A stored connection as lists, dashboards and the engine read it: settings, state, no credential values."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from atlas_desktop.domain.enums import ConflictPolicy, ConnectionStatus, SyncDirection, SyncLogStatus
from atlas_desktop.domain.model import ErpType


@dataclass(frozen=True)
class ConnectionSummary:
    """A connection as lists and dashboards show it: no credential values, only their names."""

    id: str
    erp_type: ErpType
    name: str
    status: ConnectionStatus
    settings: Mapping[str, Any]
    sync_enabled: bool
    sync_frequency_minutes: int
    sync_direction: SyncDirection
    conflict_policy: ConflictPolicy
    sync_scopes: Mapping[str, bool]
    field_mappings: Mapping[str, Any]
    last_sync_at: datetime | None
    last_sync_status: SyncLogStatus | None
    consecutive_failures: int
    created_at: datetime
    updated_at: datetime
    secret_fields: tuple[str, ...] = ()
