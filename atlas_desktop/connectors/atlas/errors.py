"""Atlas error bodies -> the domain taxonomy, with a fix the user can act on; OAuth errors of the device flow.

ConnectorError (domain)
├── AuthFailed ── DeviceSignInExpired, DeviceSignInDenied
├── Conflict ──── AtlasVersionConflict (412: carries the current row)
└── ValidationFailed ── CursorRejected (the stored change cursor is not accepted: resync)
"""

from __future__ import annotations

from typing import Any

import httpx

from atlas_desktop.connectors.http import parse_retry_after
from atlas_desktop.connectors.offload import loads_json
from atlas_desktop.domain.errors import (
    AuthFailed,
    Conflict,
    ConnectorError,
    InvalidResponse,
    RateLimited,
    ServerError,
    ValidationFailed,
    error_class_for_status,
)
from atlas_desktop.domain.model import AtlasInventoryRow
from atlas_desktop.domain.secrets import redact

SYSTEM = "Atlas"

_FIXES: dict[str, str] = {
    "unauthorized": "Check the Atlas API token (dashboard: Settings > API tokens) or sign in to Atlas again.",
    "forbidden": "Create an Atlas API token with the 'inventory' and 'erp' scopes and enter it again.",
    "not_found": "The record is gone on Atlas (deleted or never created); the next full sync catches up.",
    "precondition_required": "Atlas Desktop sent an update without a version; send a diagnostics bundle.",
    "payload_too_large": "Atlas Desktop sent too much at once. Send a diagnostics bundle to Atlas support.",
    "rate_limited": "Atlas is busy; the sync retries by itself.",
    "unavailable": "Atlas is temporarily unavailable; the sync retries by itself.",
    "conflict": "The order is already linked to another ERP document; check the purchase orders in your ERP.",
}


class AtlasVersionConflict(Conflict):
    """A PATCH found the row at another version. `current` is the row as Atlas holds it now."""

    def __init__(self, message: str, *, current: AtlasInventoryRow | None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.current = current


class CursorRejected(ValidationFailed):
    """Atlas does not accept the stored change-feed cursor: read everything again (a full sync)."""

    default_fix = "Atlas Desktop reads the whole Atlas listing again (a full sync); nothing else is needed."


class DeviceSignInExpired(AuthFailed):
    default_fix = "The sign-in code expired before it was approved. Start the sign-in again."


class DeviceSignInDenied(AuthFailed):
    default_fix = (
        "The sign-in was declined in the browser. Start it again and approve it, or use an API token."
    )


def error_body(response: httpx.Response) -> tuple[str | None, str | None, dict[str, Any]]:
    """(code, message, details) of an Atlas error body; (None, None, {}) when it is not one."""
    try:
        data = loads_json(response.content)
    except (ValueError, UnicodeDecodeError):
        return None, None, {}
    error = data.get("error") if isinstance(data, dict) else None
    if not isinstance(error, dict):
        return None, None, {}
    code, message, details = error.get("code"), error.get("message"), error.get("details")
    return (
        code if isinstance(code, str) else None,
        message if isinstance(message, str) else None,
        details if isinstance(details, dict) else {},
    )


def error_for(response: httpx.Response, doing: str) -> ConnectorError:
    """The taxonomy error for a non-2xx Atlas answer to the request described by `doing`."""
    code, remote_message, details = error_body(response)
    retry_after = parse_retry_after(response.headers.get("Retry-After"))
    return error_from(response.status_code, code, remote_message, details, doing, retry_after=retry_after)


def error_from(
    status: int,
    code: str | None,
    remote_message: str | None,
    details: dict[str, Any],
    doing: str,
    *,
    retry_after: float | None = None,
) -> ConnectorError:
    """The taxonomy error for an Atlas error (a response's, or one operation's result in a batch)."""
    remote_message = redact(remote_message) if remote_message else None
    said = f": {remote_message}" if remote_message else ""
    message = f"{SYSTEM}: {doing} failed (HTTP {status}{', ' + code if code else ''}){said}"
    common: dict[str, Any] = {
        "system": SYSTEM,
        "status": status,
        "remote_code": code,
        "remote_message": remote_message,
    }
    fix = _FIXES.get(code or "")
    if status == 412 or code == "version_conflict":
        from atlas_desktop.connectors.atlas.mapping import parse_row  # mapping imports this module

        current = None
        if isinstance(details.get("current"), dict):
            try:
                current = parse_row(details["current"])
            except InvalidResponse:
                current = None
        return AtlasVersionConflict(message, current=current, fix=fix, **common)
    if status == 422 and details.get("field") in ("since", "cursor"):
        return CursorRejected(message, **common)
    if status == 429:
        return RateLimited(message, retry_after=retry_after, fix=fix, **common)
    if status >= 500:
        return ServerError(message, fix=fix, **common)
    if code is None and status not in (401, 403, 404):
        return InvalidResponse(
            f"{SYSTEM}: {doing}: HTTP {status} without an Atlas error body; is the address an Atlas server?",
            **common,
        )
    return error_class_for_status(status)(message, fix=fix, **common)


def check(response: httpx.Response, doing: str, *, expect: tuple[int, ...] = (200,)) -> None:
    if response.status_code not in expect:
        if 200 <= response.status_code < 300:
            raise InvalidResponse(
                f"{SYSTEM}: {doing}: unexpected HTTP {response.status_code}",
                system=SYSTEM,
                status=response.status_code,
            )
        raise error_for(response, doing)


def json_object(response: httpx.Response, doing: str) -> dict[str, Any]:
    try:
        data = loads_json(response.content)
    except (ValueError, UnicodeDecodeError):
        data = None
    if not isinstance(data, dict):
        snippet = redact(response.text[:120]) if response.content else "an empty body"
        raise InvalidResponse(
            f"{SYSTEM}: {doing}: the answer is not a JSON object ({snippet!r})",
            system=SYSTEM,
            status=response.status_code,
        )
    return data


def oauth_error(response: httpx.Response) -> tuple[str, str]:
    """(error, description) of an RFC 6749 error answer; ('', '') when the body is not one."""
    try:
        data = loads_json(response.content or b"{}")
    except ValueError:
        return "", ""
    if not isinstance(data, dict) or not isinstance(data.get("error"), str):
        return "", ""
    description = data.get("error_description")
    return data["error"], redact(description) if isinstance(description, str) else ""
