"""One audit-trail entry as a value, and where the action it records came from."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class AuditSource(StrEnum):
    MANUAL = "manual"
    SCHEDULED = "scheduled"
    WEBHOOK = "webhook"
    API = "api"
    REAL_TIME = "real_time"
    SYSTEM = "system"


@dataclass(frozen=True)
class AuditEvent:
    """One entry to append: the arguments of AuditLog.append as a value."""

    action: str
    actor: str
    source: AuditSource | str
    connection_id: str | None = None
    subject: str | None = None
    details: Mapping[str, Any] | None = None
