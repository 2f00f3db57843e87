"""What the emulator puts on the wire: the error envelope, JSON bytes, RFC 3339 times, decimal strings."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from starlette.responses import Response

MAX_BODY_BYTES = 5 * 1024 * 1024
MAX_LIMIT = 1000


class ApiError(Exception):
    """An answer in the contract's error shape: {"error": {"code", "message", "details"}}."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        details: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details or {}
        self.headers = headers or {}

    def response(self) -> Response:
        return error_response(self.status, self.code, self.message, self.details, self.headers)


def invalid(message: str, **details: Any) -> ApiError:
    return ApiError(422, "validation_failed", message, details)


def dumps(data: Any) -> bytes:
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode()


def json_response(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(dumps(data), status_code=status, headers=headers, media_type="application/json")


def error_body(code: str, message: str, details: dict[str, Any] | None = None) -> bytes:
    return dumps({"error": {"code": code, "message": message, "details": details or {}}})


def error_response(
    status: int,
    code: str,
    message: str,
    details: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    return Response(
        error_body(code, message, details), status_code=status, headers=headers, media_type="application/json"
    )


def rfc3339(epoch_s: float) -> str:
    """Second precision with Z, as the contract's examples: 2026-11-27T21:04:05Z."""
    return datetime.fromtimestamp(int(epoch_s), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(value: object, field: str, *, nullable: bool = True) -> str | None:
    """An RFC 3339 UTC time ending in Z; returned unchanged."""
    if value is None and nullable:
        return None
    if not isinstance(value, str) or not value.endswith("Z"):
        raise invalid(f"{field} must be an RFC 3339 UTC time ending in Z", field=field)
    try:
        datetime.fromisoformat(value[:-1] + "+00:00")
    except ValueError:
        raise invalid(f"{field} must be an RFC 3339 UTC time ending in Z", field=field) from None
    return value


def parse_date(value: object, field: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise invalid(f"{field} must be an ISO date (YYYY-MM-DD) or null", field=field)
    try:
        date.fromisoformat(value)
    except ValueError:
        raise invalid(f"{field} must be an ISO date (YYYY-MM-DD) or null", field=field) from None
    if len(value) != 10:
        raise invalid(f"{field} must be an ISO date (YYYY-MM-DD) or null", field=field)
    return value


def parse_decimal(value: object, field: str) -> Decimal:
    """Quantities are JSON strings holding decimals; a JSON number is refused (float rounding)."""
    if not isinstance(value, str):
        raise invalid(f'{field} must be a decimal in a JSON string, e.g. "12.5"', field=field)
    try:
        number = Decimal(value.strip())
    except InvalidOperation:
        raise invalid(f'{field} must be a decimal in a JSON string, e.g. "12.5"', field=field) from None
    if not number.is_finite() or value.strip() != value or "e" in value.lower():
        raise invalid(f'{field} must be a plain finite decimal, e.g. "12.5"', field=field)
    return number


def parse_limit(raw: str | None, default: int) -> int:
    if raw is None:
        return default
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_LIMIT:
        raise invalid(f"limit must be an integer from 1 to {MAX_LIMIT}", field="limit")
    return int(raw)
