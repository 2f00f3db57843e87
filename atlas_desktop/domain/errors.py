"""The error taxonomy every connector maps its remote failures to.

    AtlasDesktopError                 base: a message for the user and a fix they can act on
    ├── ConnectorError                a remote system said no, or could not be reached
    │   ├── AuthFailed                401, bad signature, expired token
    │   ├── PermissionDenied          403, missing role / communication scenario
    │   ├── NotFound                  404, record or service missing
    │   ├── RateLimited               429 or the system's own throttling answer (retry_after)
    │   ├── NetworkError              DNS, TCP, TLS, timeout; in_doubt when a write may have landed
    │   ├── ServerError               5xx
    │   ├── InvalidResponse           the remote answered something we cannot read
    │   ├── ValidationFailed          the remote refused our payload (400/422, business errors)
    │   ├── Conflict                  412 / version mismatch / duplicate key
    │   └── QuantityRefused           a quantity no stock level can be (domain/quantity.py): one item
    └── ConfigError                   a local input (credentials file, setting) is wrong: names the field

Connectors raise these; the engine records `kind`, `message` and `fix` per item; the UI shows them.
Messages never contain secret values (callers pass remote messages through `redact` first).
"""

from __future__ import annotations

from enum import StrEnum
from typing import TypedDict, Unpack


class ErrorKind(StrEnum):
    AUTH_FAILED = "auth_failed"
    PERMISSION_DENIED = "permission_denied"
    NOT_FOUND = "not_found"
    RATE_LIMITED = "rate_limited"
    NETWORK_ERROR = "network_error"
    SERVER_ERROR = "server_error"
    INVALID_RESPONSE = "invalid_response"
    VALIDATION_FAILED = "validation_failed"
    CONFLICT = "conflict"
    CONFIG_ERROR = "config_error"
    OUT_OF_BOUNDS = "out_of_bounds"  # a quantity outside what the system can hold (domain/quantity.py)


class AtlasDesktopError(Exception):
    """Base of every error we raise on purpose: what happened, and what the user can do about it."""

    kind: ErrorKind = ErrorKind.SERVER_ERROR
    default_fix = "Try again later. If it keeps happening, send a diagnostics bundle to Atlas support."
    # Whether the same request may succeed later unchanged (a timeout, a 429): the push then holds the
    # mapping's later writes back instead of failing them. A local error never clears by itself.
    retryable: bool = False

    def __init__(self, message: str, *, fix: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.fix = fix or self.default_fix

    def __str__(self) -> str:
        return f"{self.message} — {self.fix}"

    def as_dict(self) -> dict[str, object]:
        return {"kind": str(self.kind), "message": self.message, "fix": self.fix}


class ConfigError(AtlasDesktopError):
    """A local input is wrong. `field` names it (e.g. "account_id", "settings.proxy")."""

    kind = ErrorKind.CONFIG_ERROR
    default_fix = "Correct the value and try again."

    def __init__(self, field: str, message: str, *, fix: str | None = None) -> None:
        super().__init__(f"{field}: {message}", fix=fix)
        self.field = field


class ConnectorDetails(TypedDict, total=False):
    """The keyword arguments of ConnectorError, which its subclasses with arguments of their own pass on."""

    fix: str | None
    system: str
    status: int | None
    remote_code: str | None
    remote_message: str | None
    remote_path: str | None


class ConnectorError(AtlasDesktopError):
    """A remote system refused a request or could not be reached.

    `status` is the HTTP status (None when no response arrived), `remote_code` and `remote_message`
    what the remote system said (e.g. NetSuite `INVALID_CONTENT`, SAP `M7/021`), `system` which one.
    """

    def __init__(
        self,
        message: str,
        *,
        fix: str | None = None,
        system: str = "",
        status: int | None = None,
        remote_code: str | None = None,
        remote_message: str | None = None,
        remote_path: str | None = None,
    ) -> None:
        super().__init__(message, fix=fix)
        self.system = system
        self.status = status
        self.remote_code = remote_code
        self.remote_message = remote_message
        # Where in the request the remote found the fault (NetSuite's o:errorPath): names a refused line.
        self.remote_path = remote_path

    def as_dict(self) -> dict[str, object]:
        data = super().as_dict()
        data.update(
            system=self.system,
            status=self.status,
            remote_code=self.remote_code,
            remote_message=self.remote_message,
        )
        return data


class AuthFailed(ConnectorError):
    kind = ErrorKind.AUTH_FAILED
    default_fix = "Check the credentials for this connection and enter them again."


class PermissionDenied(ConnectorError):
    kind = ErrorKind.PERMISSION_DENIED
    default_fix = "Ask your ERP administrator to grant the integration user the missing permission."


class NotFound(ConnectorError):
    kind = ErrorKind.NOT_FOUND
    default_fix = "Check that the record or service exists and that the address is right."


class RateLimited(ConnectorError):
    kind = ErrorKind.RATE_LIMITED
    retryable = True
    default_fix = "The system is busy; the sync retries by itself. Lower the concurrency if it persists."

    def __init__(
        self, message: str, *, retry_after: float | None = None, **kwargs: Unpack[ConnectorDetails]
    ) -> None:
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class NetworkError(ConnectorError):
    """No usable answer arrived. `in_doubt` is True when a write may have been applied anyway."""

    kind = ErrorKind.NETWORK_ERROR
    retryable = True
    default_fix = "Check the network, the proxy settings and that the server address is right."

    def __init__(self, message: str, *, in_doubt: bool = False, **kwargs: Unpack[ConnectorDetails]) -> None:
        super().__init__(message, **kwargs)
        self.in_doubt = in_doubt


class ServerError(ConnectorError):
    kind = ErrorKind.SERVER_ERROR
    retryable = True


class InvalidResponse(ConnectorError):
    kind = ErrorKind.INVALID_RESPONSE
    default_fix = (
        "The server answered in a form Atlas Desktop cannot read. Check the server address; "
        "if it is right, send a diagnostics bundle to Atlas support."
    )


class ValidationFailed(ConnectorError):
    kind = ErrorKind.VALIDATION_FAILED
    default_fix = "Correct the item or the connection settings named in the message, then replay the item."


class Conflict(ConnectorError):
    kind = ErrorKind.CONFLICT
    default_fix = "The record changed on the other side meanwhile; the next sync merges the new value."


_BY_STATUS: dict[int, type[ConnectorError]] = {
    400: ValidationFailed,
    401: AuthFailed,
    403: PermissionDenied,
    404: NotFound,
    409: Conflict,
    412: Conflict,
    413: ValidationFailed,
    422: ValidationFailed,
    428: Conflict,
    429: RateLimited,
}


def error_class_for_status(status: int) -> type[ConnectorError]:
    """The taxonomy class for an HTTP status a connector has no better mapping for."""
    if status in _BY_STATUS:
        return _BY_STATUS[status]
    if status >= 500:
        return ServerError
    return InvalidResponse if status < 400 else ValidationFailed
