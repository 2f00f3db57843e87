"""NetSuite error bodies (`o:errorDetails`, and the older top-level `o:errorCode`) mapped to the taxonomy."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TypedDict

import httpx

from atlas_desktop.connectors.offload import loads_json
from atlas_desktop.domain.errors import (
    AuthFailed,
    Conflict,
    ConnectorError,
    InvalidResponse,
    NotFound,
    PermissionDenied,
    RateLimited,
    ServerError,
    ValidationFailed,
    error_class_for_status,
)
from atlas_desktop.domain.secrets import redact

SYSTEM = "NetSuite"


class _Remote(TypedDict, total=False):
    """What every mapped error says about the answer (the ConnectorError keywords)."""

    system: str
    status: int | None
    remote_code: str | None
    remote_message: str | None
    remote_path: str | None


AUTH_FIX = (
    "Re-check, in this order: (1) the account ID, written exactly as NetSuite shows it (a sandbox is "
    "1234567_SB1: uppercase SB, underscore); (2) the consumer key and consumer secret of the integration "
    "record; "
    "(3) the token ID and token secret (sandbox tokens must be created again after every sandbox refresh); "
    "(4) that the Token-Based Authentication feature is enabled and the role has 'Log in using Access "
    "Tokens' "
    "and 'REST Web Services'. NetSuite's Login Audit Trail (Setup > Users/Roles > User Management) shows the "
    "exact reason."
)

_DUPLICATE_EXTERNAL_ID = re.compile(
    r"external\s*id.*(already exists|duplicate|unique|in use)|(duplicate|unique).*external\s*id", re.I | re.S
)
# Real REST words a duplicate externalId without naming it; seen only on a keyed create.
_RECORD_EXISTS = re.compile(r"\bthis record already exists\b", re.I)
# NetSuite answers a missing transaction with 400 rather than 404 on some types.
_WRONG_TRANSACTION_TYPE = re.compile(r"transaction type specified is incorrect", re.I)


@dataclass(frozen=True)
class NetSuiteErrorBody:
    code: str | None
    detail: str
    path: str | None = None
    header: str | None = None
    query_param: str | None = None


def parse_error_body(payload: object) -> NetSuiteErrorBody | None:
    """Both shapes: `{"o:errorDetails": [{detail, o:errorCode, ...}]}` and the 2020 top-level code."""
    if not isinstance(payload, dict):
        return None
    details = payload.get("o:errorDetails")
    if isinstance(details, list) and details and isinstance(details[0], dict):
        first = details[0]
        return NetSuiteErrorBody(
            code=_text(first.get("o:errorCode")),
            detail=_text(first.get("detail")) or _text(payload.get("title")) or "",
            path=_text(first.get("o:errorPath")),
            header=_text(first.get("o:errorHeader")),
            query_param=_text(first.get("o:errorQueryParam")),
        )
    if "o:errorCode" in payload or "title" in payload:
        return NetSuiteErrorBody(
            code=_text(payload.get("o:errorCode")),
            detail=_text(payload.get("detail")) or _text(payload.get("title")) or "",
        )
    return None


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def looks_not_found(error: ConnectorError) -> bool:
    return isinstance(error, NotFound) or bool(
        error.remote_message and _WRONG_TRANSACTION_TYPE.search(error.remote_message)
    )


def looks_duplicate(error: ConnectorError) -> bool:
    """A refusal saying the record already exists, in the wording seen so far. Only a hint: a keyed
    create is looked up whatever the wording; this only says what to make of not finding it."""
    text = error.remote_message or ""
    return isinstance(error, Conflict) or bool(
        _DUPLICATE_EXTERNAL_ID.search(text) or _RECORD_EXISTS.search(text)
    )


def _decode(response: httpx.Response) -> object | None:
    try:
        return loads_json(response.content or b"null")
    except (ValueError, UnicodeDecodeError):
        return None


def map_error(response: httpx.Response, action: str) -> ConnectorError:
    """The taxonomy error for a non-2xx NetSuite answer. `action` says what we were doing, in plain words."""
    status = response.status_code
    body = parse_error_body(_decode(response))
    if body is None:
        return _map_unreadable(response, action)
    code = (body.code or "").upper()
    detail = redact(body.detail)[:500]
    where = f" (field {body.path})" if body.path else ""
    common: _Remote = {
        "system": SYSTEM,
        "status": status,
        "remote_code": body.code,
        "remote_message": detail,
        "remote_path": body.path,
    }
    prefix = f"NetSuite refused to {action}"
    if code == "INVALID_LOGIN" or status == 401:
        return AuthFailed(
            "NetSuite did not accept the login (401 INVALID_LOGIN). The answer is the same for every cause.",
            fix=AUTH_FIX,
            **common,
        )
    if code == "INSUFFICIENT_PERMISSION" or status == 403:
        return PermissionDenied(
            f"{prefix}: the integration role lacks a permission. {detail}",
            fix="In NetSuite, give the integration role the permission named in the message (Setup > "
            "Users/Roles "
            "> Manage Roles), typically REST Web Services, SuiteAnalytics Workbook and the inventory records "
            "(Items, Lot Numbered Items, Inventory Adjustment, Purchase Order, Locations).",
            **common,
        )
    if code == "CONCURRENCY_LIMIT_EXCEEDED" or status == 429:
        return RateLimited(
            f"NetSuite is busy: too many requests at the same time for this account ({detail or status}).",
            fix="The sync retries by itself. If this keeps happening, lower the connection's concurrency "
            "(other integrations share the account's limit).",
            **common,
        )
    if code == "NONEXISTENT_ID" or status == 404:
        return NotFound(
            f"{prefix}: the record does not exist. {detail}",
            fix="The record may have been deleted in NetSuite; re-run discovery or update the mapping.",
            **common,
        )
    if _DUPLICATE_EXTERNAL_ID.search(body.detail):
        return Conflict(
            f"{prefix}: a record with this external ID already exists. {detail}",
            fix="Nothing to do: the write was applied before; Atlas Desktop uses the existing record.",
            **common,
        )
    if status >= 500:
        return ServerError(f"NetSuite had an internal error while trying to {action}: {detail}", **common)
    if code == "INVALID_HEADER":
        header = body.header or "a header"
        fix = (
            "Set the integration user's language to the company's default language in NetSuite "
            "(REST web services only support it)."
            if (body.header or "").lower() == "accept-language"
            else "Send a diagnostics bundle to Atlas support."
        )
        return ValidationFailed(f"{prefix}: NetSuite did not accept {header}. {detail}", fix=fix, **common)
    if code in {
        "INVALID_PARAMETER",
        "INVALID_CONTENT",
        "USER_ERROR",
        "FIELD_PARAM_REQD",
        "NONEXISTENT_FIELD",
    }:
        return ValidationFailed(f"{prefix}{where}: {detail}", fix=_validation_fix(code, body), **common)
    cls = error_class_for_status(status)
    return cls(f"{prefix} (HTTP {status} {body.code or ''}): {detail}".replace("  ", " "), **common)


def _validation_fix(code: str, body: NetSuiteErrorBody) -> str:
    if code == "FIELD_PARAM_REQD":
        return (
            "A required field is empty. Check the connection settings (adjustment account, subsidiary, "
            "location, default vendor) and that the item exists at that location."
        )
    if code == "NONEXISTENT_FIELD":
        return (
            "The field does not exist in this NetSuite account. Check the field mapping (for example the NDC "
            "field) in the connection settings."
        )
    if code == "INVALID_PARAMETER" and "unparseable date" in body.detail.lower():
        return "Send a diagnostics bundle to Atlas support (the date format does not match the account's)."
    if code == "USER_ERROR":
        return "NetSuite's business rules refused the change; correct the item named, then replay it."
    return (
        "Check the value named in the message (item, location, lot, account) exists in NetSuite and is "
        "active, then replay the item."
    )


def _map_unreadable(response: httpx.Response, action: str) -> ConnectorError:
    status = response.status_code
    content_type = response.headers.get("Content-Type", "no content type")
    common: _Remote = {"system": SYSTEM, "status": status, "remote_message": redact(response.text[:200])}
    if status >= 500:
        return ServerError(
            f"NetSuite had an internal error (HTTP {status}) while trying to {action}.", **common
        )
    if status == 429:
        return RateLimited("NetSuite is busy (HTTP 429).", **common)
    return InvalidResponse(
        f"While trying to {action}, the server answered HTTP {status} with {content_type} instead of "
        "NetSuite's "
        "JSON.",
        fix="Check the account ID / server address: a proxy or login page may be answering instead of "
        "NetSuite. "
        "If the address is right, send a diagnostics bundle to Atlas support.",
        **common,
    )


def unreadable_success(response: httpx.Response, action: str) -> InvalidResponse:
    """A 2xx whose body we cannot read (not JSON, or not the shape NetSuite documents)."""
    return InvalidResponse(
        f"While trying to {action}, NetSuite answered HTTP {response.status_code} with a body Atlas Desktop "
        "cannot read.",
        system=SYSTEM,
        status=response.status_code,
        remote_message=redact(response.text[:200]),
    )
