"""Proxy addresses with a login: the password goes to the vault, settings keep `http://user:****@host`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import SplitResult, unquote, urlsplit, urlunsplit

from atlas_desktop.domain.errors import ConfigError
from atlas_desktop.domain.secrets import MASK, Secret

PROXY = "proxy"
PROXY_PASSWORD = "proxy_password"  # the vault field (a connection's, or the profile's for Settings)


@dataclass(frozen=True)
class ProxySetting:
    """A proxy address as it may be stored: `url` has no password (or the mask in its place)."""

    url: str
    password: Secret | None = field(default=None, repr=False)  # None: none given in the address
    keep_stored: bool = False  # the address carried the mask itself: keep the password already stored


def password_not_stored(field_name: str) -> ConfigError:
    """`user:****@` where no password is stored for that very address (write-only: never guessed)."""
    return ConfigError(
        field_name, "gives **** for a proxy password that is not stored for this address",
        fix="Write the proxy address with its password (http://user:password@host:port); it is stored "
        "encrypted and shown as ****.",
    )  # fmt: skip


def _userinfo_split(url: str) -> tuple[SplitResult, str]:
    parts = urlsplit(url)
    return parts, parts.netloc.rpartition("@")[2]


def split_proxy(url: str) -> ProxySetting:
    """Take the password out of a checked proxy address (`check_proxy`). `user:****@`: the one stored."""
    parts, host = _userinfo_split(url)
    if parts.password is None:
        return ProxySetting(url)
    username = parts.username or ""
    masked = urlunsplit(parts._replace(netloc=f"{username}:{MASK}@{host}"))
    password = unquote(parts.password)
    if password == MASK:
        return ProxySetting(masked, keep_stored=True)
    if not password:
        return ProxySetting(urlunsplit(parts._replace(netloc=f"{username}@{host}")))
    return ProxySetting(masked, Secret(password))


def has_plain_password(value: object) -> bool:
    """True if `value` is an address whose password is written out (not masked): it must be vaulted."""
    if not isinstance(value, str) or "@" not in value:
        return False
    try:
        password = urlsplit(value.strip()).password
    except ValueError:
        return False
    return bool(password) and unquote(password or "") != MASK


def mask_url(value: str) -> str:
    """The address with any password in it replaced by the mask (for output; other text unchanged)."""
    if "@" not in value or "://" not in value:
        return value
    try:
        parts, host = _userinfo_split(value)
        password = parts.password
    except ValueError:
        return value
    if password is None:
        return value
    return urlunsplit(parts._replace(netloc=f"{parts.username or ''}:{MASK}@{host}"))


def masked_settings(settings: Mapping[str, Any]) -> dict[str, Any]:
    """Settings for any output: every URL password masked, however it got there."""
    return {name: mask_url(value) if isinstance(value, str) else value for name, value in settings.items()}


def proxy_login(url: str, stored: Secret | None) -> tuple[str, tuple[str, str] | None]:
    """(address without login, (user, password) or None) for the HTTP client; the mask takes `stored`."""
    parts, host = _userinfo_split(url)
    if parts.username is None and parts.password is None:
        return url, None
    bare = urlunsplit(parts._replace(netloc=host))
    if parts.password is None:
        return bare, (unquote(parts.username or ""), "")
    password = unquote(parts.password)
    if password == MASK:
        if stored is None:
            raise password_not_stored(PROXY)
        password = stored.reveal()
    return bare, (unquote(parts.username or ""), password)
