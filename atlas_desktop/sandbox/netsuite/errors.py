"""NetSuite REST error bodies (`o:errorDetails`) and the exception the emulator raises to produce them."""

from __future__ import annotations

import json
from typing import Any

ERROR_CONTENT_TYPE = "application/vnd.oracle.resource+json; type=error"

_TYPES = {
    400: "https://www.rfc-editor.org/rfc/rfc9110.html#section-15.5.1",
    401: "https://www.rfc-editor.org/rfc/rfc9110.html#section-15.5.2",
    403: "https://www.rfc-editor.org/rfc/rfc9110.html#section-15.5.4",
    404: "https://www.rfc-editor.org/rfc/rfc9110.html#section-15.5.5",
    405: "https://www.rfc-editor.org/rfc/rfc9110.html#section-15.5.6",
    415: "https://www.rfc-editor.org/rfc/rfc9110.html#section-15.5.16",
    429: "https://www.rfc-editor.org/rfc/rfc6585.html#section-4",
    500: "https://www.rfc-editor.org/rfc/rfc9110.html#section-15.6.1",
}
_TITLES = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    415: "Unsupported Media Type",
    429: "Bad Request",  # the reported 429 body oddly says "Bad Request"
    500: "Internal Server Error",
}

INVALID_LOGIN_DETAIL = (
    "Invalid login attempt. For more details, see the Login Audit Trail in the NetSuite UI at "
    "Setup > Users/Roles > User Management > View Login Audit Trail."
)
NONEXISTENT_ID_DETAIL = "The record instance does not exist. Provide a valid record instance ID."
CONCURRENCY_DETAIL = "Concurrent request limit exceeded. Request blocked."


class NsError(Exception):
    """A refusal the emulator answers with NetSuite's error body; `extra` holds o:errorPath and friends."""

    def __init__(self, status: int, code: str, detail: str, **extra: str) -> None:
        super().__init__(f"{status} {code}: {detail}")
        self.status = status
        self.code = code
        self.detail = detail
        self.extra = extra

    def body(self) -> dict[str, Any]:
        return error_body(self.status, self.code, self.detail, **self.extra)


def error_body(status: int, code: str, detail: str, **extra: str) -> dict[str, Any]:
    entry: dict[str, Any] = {"detail": detail, "o:errorCode": code}
    for key, value in extra.items():
        # errorPath -> "o:errorPath", errorQueryParam -> "o:errorQueryParam", errorHeader -> "o:errorHeader"
        entry[f"o:{key}"] = value
    return {
        "type": _TYPES.get(status, _TYPES[400]),
        "title": _TITLES.get(status, "Bad Request"),
        "status": status,
        "o:errorDetails": [entry],
    }


def error_bytes(status: int, code: str, detail: str, **extra: str) -> bytes:
    return json.dumps(error_body(status, code, detail, **extra)).encode()


def invalid_login_body() -> dict[str, Any]:
    """The one body for every authentication failure, with no hint of the cause."""
    return error_body(401, "INVALID_LOGIN", INVALID_LOGIN_DETAIL)


def concurrency_body() -> dict[str, Any]:
    """A third-party report, unverified by Oracle: 429 CONCURRENCY_LIMIT_EXCEEDED."""
    return error_body(429, "CONCURRENCY_LIMIT_EXCEEDED", CONCURRENCY_DETAIL)


def invalid_content(detail: str, path: str | None = None) -> NsError:
    extra = {"errorPath": path} if path else {}
    return NsError(400, "INVALID_CONTENT", f"Error while accessing a resource. {detail}", **extra)


def user_error(detail: str, path: str | None = None) -> NsError:
    extra = {"errorPath": path} if path else {}
    return NsError(400, "USER_ERROR", f"Error while accessing a resource. {detail}", **extra)


def record_exists() -> NsError:
    """A second record with an externalId, as real REST words it — no field, no key named."""
    return user_error("This record already exists.")


def invalid_parameter(detail: str, param: str | None = None) -> NsError:
    extra = {"errorQueryParam": param} if param else {}
    return NsError(400, "INVALID_PARAMETER", detail, **extra)


def nonexistent_id() -> NsError:
    return NsError(404, "NONEXISTENT_ID", NONEXISTENT_ID_DETAIL)


def invalid_search(reason: str) -> NsError:
    return NsError(
        400,
        "INVALID_PARAMETER",
        f"Invalid search query. Detailed unprocessed description follows. Search error occurred: {reason}",
    )
