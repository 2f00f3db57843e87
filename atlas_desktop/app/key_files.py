"""A credentials file's `private_key` given as a PEM path is read at import, so the vault holds the key."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from atlas_desktop.domain.connection import is_pem_private_key
from atlas_desktop.domain.errors import ConfigError

MAX_KEY_BYTES = 64 * 1024  # an RSA 8192 PEM is under 7 kB


def inline_private_key(data: object) -> object:
    """`data` with `private_key` (top level or under "credentials") replaced by the PEM file's text.

    The key is kept in the vault, never the path only: a path would leave the secret outside the
    encrypted store, and the connection would break when the file moves.
    """
    if not isinstance(data, Mapping):
        return data
    result: dict[str, Any] = dict(data)
    if isinstance(result.get("credentials"), Mapping):
        result["credentials"] = dict(result["credentials"])  # a copy: the caller's object stays as it was
    for holder in (result, result.get("credentials")):
        if isinstance(holder, dict) and isinstance(holder.get("private_key"), str):
            value: str = holder["private_key"]
            if value.strip() and not is_pem_private_key(value):
                holder["private_key"] = _read_pem(value.strip())
        if isinstance(holder, dict) and isinstance(holder.get("certificate"), str):
            given: str = holder["certificate"]
            if given.strip() and "-----BEGIN" not in given:  # a path: the certificate is not secret
                holder["certificate"] = _read_text(Path(given.strip()).expanduser(), "certificate")
    return result


def _read_text(path: Path, field: str) -> str:
    data = _read_small(path, field)
    if len(data) > MAX_KEY_BYTES:
        raise ConfigError(field, f"the file {path} is too large for a PEM file", fix="Give the .pem file.")
    return data.decode("ascii", errors="replace")


def _read_small(path: Path, field: str) -> bytes:
    """At most MAX_KEY_BYTES + 1 bytes: enough to tell a PEM file from something too large to be one."""
    try:
        with path.open("rb") as handle:
            return handle.read(MAX_KEY_BYTES + 1)
    except OSError as exc:
        raise ConfigError(
            field, f"the file {path} cannot be read ({exc.strerror})", fix="Check the path."
        ) from None


def _read_pem(path_text: str) -> str:
    path = Path(path_text).expanduser()
    data = _read_small(path, "private_key")
    try:
        text = data.decode("ascii")
    except UnicodeDecodeError:
        text = ""
    if len(data) > MAX_KEY_BYTES or not is_pem_private_key(text):
        # never quote the content: it may be a key in another form
        raise ConfigError(
            "private_key",
            f"the file {path} is not a PEM private key",
            fix="Give the .pem file that starts with -----BEGIN PRIVATE KEY----- (no passphrase).",
        )
    return text
