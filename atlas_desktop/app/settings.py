"""App-wide settings declared as data (key, default, type, label): the file format and the Settings UI."""

from __future__ import annotations

import json
import logging
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from atlas_desktop.domain.connection import check_url
from atlas_desktop.domain.errors import ConfigError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SettingDef:
    key: str
    default: Any
    kind: type
    label: str
    help: str = ""


SETTINGS: tuple[SettingDef, ...] = (
    SettingDef("proxy", "", str, "HTTP proxy", "e.g. http://proxy.example.com:8080; empty = system settings"),
    SettingDef("ca_bundle", "", str, "Corporate CA bundle", "PEM file added to the trusted certificates"),
    SettingDef("log_level", "INFO", str, "Log level", "DEBUG, INFO, WARNING or ERROR"),
    SettingDef("start_at_login", False, bool, "Start at login"),
    SettingDef("max_change_share", 0.5, float, "Preview above this share of changed items"),
    SettingDef("management_api_enabled", False, bool, "Local management API"),
    SettingDef(
        "management_api_host",
        "127.0.0.1",
        str,
        "API interface",
        "loopback = HTTP; other = HTTPS (self-signed)",
    ),
    SettingDef("management_api_port", 8765, int, "API port"),
)
_BY_KEY = {definition.key: definition for definition in SETTINGS}
_LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")


def validate_setting(key: str, value: Any) -> Any:
    definition = _BY_KEY.get(key)
    if definition is None:
        raise ConfigError(f"settings.{key}", "is not a known setting")
    if definition.kind is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if not isinstance(value, definition.kind):
        raise ConfigError(f"settings.{key}", f"must be {definition.kind.__name__}")
    if key == "proxy" and value:
        check_url("settings.proxy", value, what="proxy address")
    if key == "log_level" and value not in _LOG_LEVELS:
        raise ConfigError("settings.log_level", f"must be one of {', '.join(_LOG_LEVELS)}")
    return value


class AppSettings:
    """Settings kept in the profile's settings.json. Unknown or invalid entries fall back to defaults."""

    def __init__(self, path: Path, *, on_change: Callable[[str, Any], None] | None = None) -> None:
        self.path = path
        self._on_change = on_change  # e.g. the audit trail
        self._values: dict[str, Any] = {d.key: d.default for d in SETTINGS}
        if path.exists():
            self._load()

    def _load(self) -> None:
        try:
            stored = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            log.warning("settings file %s unreadable (%s); using defaults", self.path, exc.__class__.__name__)
            return
        if not isinstance(stored, dict):
            return
        for key, value in stored.items():
            try:
                self._values[key] = validate_setting(key, value)
            except ConfigError as exc:
                log.warning("ignoring setting: %s", exc.message)

    def get(self, key: str) -> Any:
        if key not in _BY_KEY:
            raise ConfigError(f"settings.{key}", "is not a known setting")
        return self._values[key]

    def set(self, key: str, value: Any) -> None:
        self._values[key] = validate_setting(key, value)
        self.save()
        if self._on_change is not None:
            self._on_change(key, self._values[key])

    def as_dict(self) -> dict[str, Any]:
        return dict(self._values)

    def save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # Atomic replace: a crash mid-write must not leave a half file.
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".settings-", suffix=".json")
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(self._values, handle, indent=2, sort_keys=True)
        os.replace(tmp, self.path)

    def network_overrides(self) -> dict[str, str]:
        """Proxy and CA bundle to merge under a connection's own settings."""
        return {key: self._values[key] for key in ("proxy", "ca_bundle") if self._values[key]}
