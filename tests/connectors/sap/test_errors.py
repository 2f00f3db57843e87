"""Gateway answers -> taxonomy: error JSON, scenarios on 403, CSRF vs authorisation, HTML logon pages."""

from __future__ import annotations

import json

import httpx
import pytest

from atlas_desktop.connectors.sap.errors import error_from_response, raise_for_sap
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

from .helpers import gateway_error

STOCK_URL = "https://sap.example.com/sap/opu/odata/sap/API_MATERIAL_STOCK_SRV/A_MatlStkInAcctMod"


def answer(response: httpx.Response, url: str = STOCK_URL, method: str = "GET") -> httpx.Response:
    response.request = httpx.Request(method, url)
    return response


def test_gateway_error_fields_and_details() -> None:
    body = {
        "error": {
            "code": "M7/053",
            "message": {"lang": "en", "value": "Posting only possible in periods 2025/01 and 2024/12"},
            "innererror": {
                "errordetails": [
                    {"code": "M7/053", "message": "Posting only possible in periods", "severity": "error"},
                    {"code": "X/1", "message": "just info", "severity": "info"},
                ]
            },
        }
    }
    error = error_from_response(answer(httpx.Response(400, json=body), method="POST"))
    assert isinstance(error, ValidationFailed)
    assert error.remote_code == "M7/053" and "period is closed" in error.message
    assert "just info" not in (error.remote_message or "")


def test_overdraw() -> None:
    error = error_from_response(answer(gateway_error(400, "M7/021", "Deficit of SL Unrestricted-use 5 EA")))
    assert isinstance(error, ValidationFailed) and "insufficient" in error.message


def test_403_names_the_missing_communication_scenario() -> None:
    error = error_from_response(answer(gateway_error(403, "/IWFND/CM_CONSUMER/101", "No authorization")))
    assert isinstance(error, PermissionDenied)
    assert "SAP_COM_0164" in error.fix


def test_csrf_refusal_is_not_a_permission_problem() -> None:
    response = httpx.Response(403, text="CSRF token validation failed", headers={"x-csrf-token": "Required"})
    error = error_from_response(answer(response, method="POST"))
    assert isinstance(error, AuthFailed) and "CSRF" in error.message


def test_html_logon_page_is_auth_failed() -> None:
    html = "<html><head><title>Logon</title></head><body>SAP NetWeaver Logon - enter password</body></html>"
    response = httpx.Response(200, text=html, headers={"content-type": "text/html"})
    error = error_from_response(answer(response))
    assert isinstance(error, AuthFailed) and "logon page" in error.message and "sap-client" in error.fix


def test_html_error_page_is_invalid_response() -> None:
    response = httpx.Response(502, text="<!DOCTYPE html><html><body>Bad gateway</body></html>")
    error = error_from_response(answer(response))
    assert isinstance(error, InvalidResponse)


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (401, AuthFailed),
        (404, NotFound),
        (412, Conflict),
        (428, Conflict),
        (429, RateLimited),
        (503, ServerError),
    ],
)
def test_status_classes(status: int, cls: type) -> None:
    error = error_from_response(answer(gateway_error(status, "C/1", "text")))
    assert type(error) is cls and error.status == status and error.system == "SAP"


def test_428_says_if_match() -> None:
    error = error_from_response(answer(gateway_error(428, "/IWBEP/CM_MGW_RT/101", "Precondition required")))
    assert "If-Match" in error.message


def test_service_not_found() -> None:
    error = error_from_response(
        answer(gateway_error(404, "/IWFND/MED/170", "No service found for namespace"))
    )
    assert (
        isinstance(error, NotFound) and "API_MATERIAL_STOCK_SRV" in error.message and "activate" in error.fix
    )


def test_remote_text_is_redacted() -> None:
    error = error_from_response(answer(gateway_error(400, "C/1", "bad value password=hunter22 in field")))
    assert "hunter22" not in (error.remote_message or "") and "hunter22" not in error.message


def test_sap_message_error_on_a_read_raises() -> None:
    header = json.dumps(
        {"code": "ZZ/001", "message": "Plant 9999 unknown", "severity": "error", "details": []}
    )
    with pytest.raises(ValidationFailed, match="Plant 9999 unknown"):
        raise_for_sap(
            answer(httpx.Response(200, json={"d": {"results": []}}, headers={"sap-message": header}))
        )
    info = json.dumps({"code": "ZZ/002", "message": "fine", "severity": "info"})
    raise_for_sap(answer(httpx.Response(200, json={"d": {"results": []}}, headers={"sap-message": info})))


def test_a_long_page_of_unclosed_tags_is_read_in_linear_time() -> None:
    import time

    html = "<html><body><p>Service unavailable</p>" + "<script>x" * 27_000 + "</body></html>"  # ~240 kB
    response = httpx.Response(503, text=html, headers={"content-type": "text/html"})
    started = time.perf_counter()
    error = error_from_response(answer(response))
    assert time.perf_counter() - started < 5.0  # quadratic parsing takes tens of seconds; linear, ms
    assert isinstance(error, ServerError | InvalidResponse) and "Service unavailable" in error.message
