"""App-wide settings declared as data (key, default, type, label): the file format and the Settings UI."""

from __future__ import annotations

import json
import logging
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from atlas_desktop.domain.connection import check_proxy
from atlas_desktop.domain.errors import ConfigError
from atlas_desktop.domain.proxy import (
    PROXY,
    PROXY_PASSWORD,
    has_plain_password,
    password_not_stored,
    split_proxy,
)
from atlas_desktop.domain.secrets import Secret

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
    SettingDef("theme", "system", str, "Appearance", "system, light or dark"),
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
    # Closing the window hides it to the tray; the first time, a notice says syncs go on.
    SettingDef("tray_notice_shown", False, bool, "Told that closing the window keeps syncs running"),
)
_BY_KEY = {definition.key: definition for definition in SETTINGS}
_LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
_THEMES = ("system", "light", "dark")  # ui.theme.ThemeMode's values (app/ must not need Qt to check them)


def validate_setting(key: str, value: Any) -> Any:
    definition = _BY_KEY.get(key)
    if definition is None:
        raise ConfigError(f"settings.{key}", "is not a known setting")
    if definition.kind is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if not isinstance(value, definition.kind):
        raise ConfigError(f"settings.{key}", f"must be {definition.kind.__name__}")
    if key == PROXY and value:
        check_proxy("settings.proxy", value)
    if key == "log_level" and value not in _LOG_LEVELS:
        raise ConfigError("settings.log_level", f"must be one of {', '.join(_LOG_LEVELS)}")
    if key == "theme" and value not in _THEMES:
        raise ConfigError("settings.theme", f"must be one of {', '.join(_THEMES)}")
    return value


class SecretSlots(Protocol):
    """Where the proxy's password is kept (store.profile_secrets.ProfileSecrets: the vault)."""

    def get(self, name: str) -> Secret | None: ...

    def put(self, name: str, value: Secret) -> None: ...

    def delete(self, name: str) -> None: ...


class AppSettings:
    """Settings kept in the profile's settings.json. Unknown or invalid entries fall back to defaults.

    The proxy's password never reaches the file: `set("proxy", "http://u:pw@host")` puts the password in
    `secrets` and keeps `http://u:****@host`; setting that masked address again keeps the password.
    """

    def __init__(
        self,
        path: Path,
        *,
        on_change: Callable[[str, Any], None] | None = None,
        secrets: SecretSlots | None = None,
    ) -> None:
        self.path = path
        self._on_change = on_change  # e.g. the audit trail
        self._secrets = secrets
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
        value = validate_setting(key, value)
        if key == PROXY:
            value = self._vault_proxy(value)
        self._values[key] = value
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

    def _vault_proxy(self, value: str) -> str:
        """The address to keep in the file; its password put in (or removed from) the vault."""
        if not value:
            if self._secrets is not None:
                self._secrets.delete(PROXY_PASSWORD)
            return value
        proxy = check_proxy("settings.proxy", value)
        if proxy.keep_stored:
            # Write-only: **** keeps the stored password, but only for the very address it belongs to.
            unchanged = proxy.url == self._values[PROXY]
            if not unchanged or self._secrets is None or self._secrets.get(PROXY_PASSWORD) is None:
                raise password_not_stored("settings.proxy")
        elif proxy.password is not None:
            if self._secrets is None:
                raise ConfigError(
                    "settings.proxy", "holds a password, and this profile has no vault to keep it in",
                    fix="Enter the proxy address without the password.",
                )  # fmt: skip
            self._secrets.put(PROXY_PASSWORD, proxy.password)
        elif self._secrets is not None:
            self._secrets.delete(PROXY_PASSWORD)
        return proxy.url

    def vault_plain_proxy_password(self) -> bool:
        """Move a proxy password an older version wrote into settings.json to the vault. True if it did."""
        value = self._values[PROXY]
        if self._secrets is None or not has_plain_password(value):
            return False
        proxy = split_proxy(value.strip())
        if proxy.password is not None:
            self._secrets.put(PROXY_PASSWORD, proxy.password)
        self._values[PROXY] = proxy.url
        self.save()
        return True

    def network_overrides(self) -> dict[str, Any]:
        """Proxy and CA bundle to merge under a connection's own settings; the proxy's password with them."""
        network: dict[str, Any] = {k: self._values[k] for k in (PROXY, "ca_bundle") if self._values[k]}
        if network.get(PROXY) and self._secrets is not None and split_proxy(network[PROXY]).keep_stored:
            password = self._secrets.get(PROXY_PASSWORD)  # only here is the vault unlocked for it
            if password is not None:
                network[PROXY_PASSWORD] = password
        return network
