"""The latest connection test of each connection, kept so support sees it in any diagnostics bundle.

A small JSON file beside the database (not a table: it is a support aid, replaced whole at each test,
and the bundle must be able to read it even when the database is the thing that is broken). Step texts
are redacted before they are written; they never hold credentials, but a remote error might echo one.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import threading
from datetime import datetime
from pathlib import Path
from typing import Any

from atlas_desktop.domain.model import ConnectionReport, utc_now
from atlas_desktop.domain.secrets import redact

log = logging.getLogger(__name__)
FILE_NAME = "connection-tests.json"


class LatestTestReports:
    def __init__(self, folder: Path) -> None:
        self.path = Path(folder) / FILE_NAME
        self._lock = threading.Lock()  # the window's loop and the DB thread may both record

    def record(self, connection_id: str, report: ConnectionReport, *, at: datetime | None = None) -> None:
        entry = {
            "tested_at": (at or utc_now()).isoformat(),
            "ok": report.ok,
            "steps": [_redacted(dataclasses.asdict(step)) for step in report.steps],
        }
        with self._lock:
            reports = self.all()
            reports[connection_id] = entry
            tmp = self.path.with_suffix(".tmp")
            try:
                fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
                with os.fdopen(fd, "w", encoding="utf-8") as handle:
                    json.dump(reports, handle, indent=2, sort_keys=True)
                os.replace(tmp, self.path)
            except OSError as exc:  # a support aid: never fail the test the user asked for
                log.warning("could not keep the connection test result (%s)", exc.strerror)

    def all(self) -> dict[str, Any]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError):
            log.warning("%s is unreadable; the next connection test replaces it", self.path.name)
            return {}
        return data if isinstance(data, dict) else {}


def _redacted(step: dict[str, Any]) -> dict[str, Any]:
    return {key: redact(value) if isinstance(value, str) else value for key, value in step.items()}
