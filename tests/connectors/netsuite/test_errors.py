"""Every NetSuite error shape maps to the shared taxonomy with a message and a fix the user can act on."""

from __future__ import annotations

import httpx
import pytest

from atlas_desktop.connectors.netsuite.errors import map_error
from atlas_desktop.domain.errors import (
    AuthFailed,
    Conflict,
    InvalidResponse,
    NotFound,
    PermissionDenied,
    RateLimited,
    ServerError,
    ValidationFailed,
)

from .helpers import TOKEN_SECRET, error_response, make_spec

OLD_TYPE = "https://www.w3.org/Protocols/rfc2616/rfc2616-sec10.html#sec10.4.2"


@pytest.mark.parametrize(
    ("status", "code", "detail", "expected"),
    [
        (
            401,
            "INVALID_LOGIN",
            "Invalid login attempt. For more details, see the Login Audit Trail",
            AuthFailed,
        ),
        (403, "INSUFFICIENT_PERMISSION", "Permission Violation: you need Lists > Items", PermissionDenied),
        (404, "NONEXISTENT_ID", "The record instance does not exist.", NotFound),
        (
            400,
            "INVALID_CONTENT",
            "You have entered an Invalid Field Value 9999 for the following field: item",
            ValidationFailed,
        ),
        (400, "INVALID_PARAMETER", "Unparseable date: 2026-13-01", ValidationFailed),
        (400, "USER_ERROR", "You cannot adjust below zero.", ValidationFailed),
        (400, "FIELD_PARAM_REQD", "Please enter a value for entity", ValidationFailed),
        (400, "NONEXISTENT_FIELD", "field custitem_x does not exist", ValidationFailed),
        (
            429,
            "CONCURRENCY_LIMIT_EXCEEDED",
            "Concurrent request limit exceeded. Request blocked.",
            RateLimited,
        ),
        (500, "UNEXPECTED_ERROR", "An unexpected error occurred.", ServerError),
        (400, "SOMETHING_NEW", "a code we never saw", ValidationFailed),
    ],
)
def test_error_details_shape(status: int, code: str, detail: str, expected: type) -> None:
    error = map_error(error_response(status, code, detail), "post the stock adjustment")
    assert type(error) is expected
    assert error.status == status and error.remote_code == code and error.system == "NetSuite"
    assert error.message and error.fix and error.fix != error.message
    if expected is not AuthFailed:
        assert detail[:20] in error.message


def test_invalid_login_fix_names_the_four_values_and_realm_casing() -> None:
    error = map_error(error_response(401, "INVALID_LOGIN", "Invalid login attempt."), "read items")
    for words in (
        "account ID",
        "1234567_SB1",
        "consumer key",
        "consumer secret",
        "token ID",
        "token secret",
        "Token-Based Authentication",
        "Log in using Access Tokens",
    ):
        assert words in error.fix


def test_old_type_uri_and_old_top_level_code() -> None:
    old = httpx.Response(
        400,
        json={
            "type": OLD_TYPE,
            "title": "Bad Request",
            "status": 400,
            "o:errorCode": "FIELD_PARAM_REQD",
            "detail": "Please enter a value for entity",
        },
    )
    error = map_error(old, "enter the purchase order")
    assert isinstance(error, ValidationFailed) and error.remote_code == "FIELD_PARAM_REQD"
    assert "entity" in error.message and "required field" in error.fix


def test_accept_language_header_error_says_what_to_change() -> None:
    response = error_response(
        400, "INVALID_HEADER", "Invalid Accept-Language header value", **{"o:errorHeader": "Accept-Language"}
    )
    error = map_error(response, "read items")
    assert isinstance(error, ValidationFailed) and "language" in error.fix


def test_duplicate_external_id_is_a_conflict() -> None:
    response = error_response(400, "USER_ERROR", "A record with the external ID 'k-1' already exists.")
    assert isinstance(map_error(response, "post the stock adjustment"), Conflict)


@pytest.mark.parametrize("status", [200, 400, 401, 404])
def test_non_json_body_is_invalid_response(status: int) -> None:
    response = httpx.Response(status, text="<html>Proxy login</html>", headers={"Content-Type": "text/html"})
    error = map_error(response, "read items")
    assert isinstance(error, InvalidResponse) and "text/html" in error.message and error.status == status


def test_non_json_5xx_stays_a_retryable_server_error() -> None:
    error = map_error(httpx.Response(502, text="Bad gateway"), "read items")
    assert isinstance(error, ServerError) and error.retryable


def test_remote_text_is_redacted() -> None:
    make_spec()  # registers the secrets
    error = map_error(error_response(400, "INVALID_CONTENT", f"bad value {TOKEN_SECRET}"), "read items")
    assert TOKEN_SECRET not in error.message and TOKEN_SECRET not in (error.remote_message or "")
