"""SAP Gateway answers -> the error taxonomy: error JSON, sap-message, CSRF, HTML logon pages."""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

from atlas_desktop.connectors.http import parse_retry_after
from atlas_desktop.connectors.offload import loads_json
from atlas_desktop.connectors.sap.config import SCENARIOS
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

log = logging.getLogger(__name__)
SYSTEM = "SAP"
# M7/021..023: "Deficit of <stock type> ..." -- the posting would take stock below zero.
OVERDRAW_CODES = frozenset({"M7/021", "M7/022", "M7/023"})
_SERVICE_RE = re.compile(r"/sap/opu/odata/sap/([A-Z0-9_]+)", re.IGNORECASE)


@dataclass(frozen=True)
class GatewayError:
    """The parts of a Gateway error body we use."""

    code: str | None = None
    message: str | None = None
    details: tuple[tuple[str, str], ...] = field(default_factory=tuple)

    @property
    def text(self) -> str:
        parts = [self.message or ""]
        parts += [m for _, m in self.details if m and m != self.message]
        return redact("; ".join(p for p in parts if p))[:500]

    @property
    def codes(self) -> set[str]:
        return {c for c in (self.code, *(c for c, _ in self.details)) if c}


def parse_gateway_error(body: Any) -> GatewayError | None:
    """error.code / error.message.value / innererror.errordetails[]; tolerant of v4-style plain strings."""
    if not isinstance(body, Mapping) or not isinstance(body.get("error"), Mapping):
        return None
    error = body["error"]
    message = error.get("message")
    if isinstance(message, Mapping):
        message = message.get("value")
    details: list[tuple[str, str]] = []
    inner = error.get("innererror")
    raw_details = inner.get("errordetails") if isinstance(inner, Mapping) else None
    if isinstance(raw_details, Mapping):  # some releases wrap the list in {"results": [...]}
        raw_details = raw_details.get("results")
    for item in raw_details if isinstance(raw_details, list) else ():
        if isinstance(item, Mapping) and str(item.get("severity", "error")).lower() in ("error", "abort", ""):
            details.append((str(item.get("code") or ""), str(item.get("message") or "")))
    code = error.get("code")
    return GatewayError(
        code=str(code) if code else None,
        message=str(message) if message else None,
        details=tuple(details),
    )


def sap_messages(response: httpx.Response) -> list[dict[str, Any]]:
    """The `sap-message` header (JSON with severity): the message and its details."""
    raw = response.headers.get("sap-message")
    if not raw:
        return []
    try:
        data = loads_json(raw)
    except ValueError:
        return [{"severity": "info", "message": raw}]
    if not isinstance(data, Mapping):
        return []
    found = [dict(data)]
    details = data.get("details")
    if isinstance(details, list):
        found += [dict(d) for d in details if isinstance(d, Mapping)]
    return found


def service_of(url: httpx.URL | str) -> str | None:
    match = _SERVICE_RE.search(str(url))
    return match.group(1).upper() if match else None


def is_csrf_refusal(response: httpx.Response) -> bool:
    return response.status_code == 403 and response.headers.get("x-csrf-token", "").lower() == "required"


_TAG_RE = re.compile(r"<(script|style)[^>]*>.*?</\1>|<[^>]+>", re.IGNORECASE | re.DOTALL)


_PAGE_SCAN_CHARS = 20_000


def _page_text(html: str) -> str:
    """The visible text of an HTML page (SAP's logon error pages say what failed in a <p>).

    Only the page's start is read: the message is near the top, and the tag pattern's lazy match is
    quadratic on a long page of unclosed <script> tags, which would stall a sync.
    """
    body = html[:_PAGE_SCAN_CHARS].split("</head>", 1)[-1]
    return redact(" ".join(_TAG_RE.sub(" ", body).split()))[:300]


def _html_error(response: httpx.Response, text: str) -> ConnectorError:
    lowered = text.lower()
    status = response.status_code
    page = _page_text(text)
    said = f" The page says: {page}" if page else ""
    logon = any(word in lowered for word in ("logon", "login", "anmeld", "sign in", "password"))
    if status in (401, 403) or logon:
        return AuthFailed(
            "SAP answered with a web logon page instead of data: the credentials were not accepted "
            f"for the OData API.{said}",
            fix="Check the user and password (or certificate), the sap-client number, and that the address "
            "is the API host (in S/4HANA Cloud the one with '-api' in it).",
            system=SYSTEM,
            status=status,
            remote_message=page or None,
        )
    return InvalidResponse(
        f"SAP answered with a web page (HTTP {status}) instead of OData JSON.{said}",
        fix="Check the server address: it must point at the SAP Gateway (…/sap/opu/odata/sap/…), "
        "not at a portal or a proxy's error page.",
        system=SYSTEM,
        status=status,
        remote_message=page or None,
    )


def error_from_response(response: httpx.Response, *, context: str = "") -> ConnectorError:
    """The taxonomy error for a failed SAP answer. `context` names what we were doing, for the message."""
    status = response.status_code
    service = service_of(response.request.url) if response.request is not None else None
    content_type = response.headers.get("content-type", "").lower()
    text = response.text if response.content else ""
    try:
        body = loads_json(text) if text else None
    except ValueError:
        body = None
    gateway = parse_gateway_error(body)
    if (
        gateway is None
        and text
        and ("html" in content_type or text.lstrip()[:15].lower().startswith(("<!doc", "<html")))
    ):
        return _html_error(response, text)
    if gateway is None and text.lstrip().startswith("<"):
        gateway = _xml_error(text)
    remote_code = gateway.code if gateway else None
    remote_text = gateway.text if gateway else redact(text.strip())[:300]
    what = f"{context}: " if context else ""
    kwargs: dict[str, Any] = {
        "system": SYSTEM,
        "status": status,
        "remote_code": remote_code,
        "remote_message": remote_text or None,
    }
    said = f" SAP says: {remote_text}" if remote_text else ""
    if status == 401:
        return AuthFailed(f"{what}SAP did not accept the credentials (HTTP 401).{said}", **kwargs)
    if is_csrf_refusal(response):
        return AuthFailed(
            f"{what}SAP refused the write because the CSRF token was not accepted, even after fetching a "
            f"new one.{said}",
            fix="A proxy or load balancer between this computer and SAP may drop the session cookies; ask "
            "IT to let cookies through (or pin the session to one application server).",
            **kwargs,
        )
    if status == 403:
        scenario = SCENARIOS.get(service or "")
        fix = (
            f"Ask your SAP administrator to add the communication arrangement {scenario} for this "
            f"communication user (or, on-premise, the authorisation for {service})."
            if scenario
            else "Ask your SAP administrator to grant the integration user access to this service."
        )
        return PermissionDenied(
            f"{what}the SAP user is not authorised for {service or 'this service'}.{said}", fix=fix, **kwargs
        )
    if status == 404:
        if service and (
            (remote_code or "").upper().startswith("/IWFND/") or "service" in remote_text.lower()
        ):
            return NotFound(
                f"{what}the SAP service {service} is not available.{said}",
                fix=f"Ask your SAP administrator to activate {service} (/IWFND/MAINT_SERVICE on-premise, "
                "a communication arrangement in the cloud).",
                **kwargs,
            )
        return NotFound(f"{what}SAP has no such record.{said}", **kwargs)
    if status == 428:
        return Conflict(
            f"{what}SAP requires an If-Match header for this change (HTTP 428).{said}",
            fix="Read the record again and retry; the sync does this by itself on the next run.",
            **kwargs,
        )
    if status == 412:
        return Conflict(f"{what}the record changed in SAP meanwhile (HTTP 412).{said}", **kwargs)
    if status == 429:
        return RateLimited(
            f"{what}SAP is throttling requests (HTTP 429).",
            retry_after=parse_retry_after(response.headers.get("retry-after")),
            **kwargs,
        )
    if status >= 500:
        return ServerError(f"{what}SAP had an internal error (HTTP {status}).{said}", **kwargs)
    if gateway is None and body is None and status < 400:
        return InvalidResponse(
            f"{what}SAP answered HTTP {status} with something that is not OData.", **kwargs
        )
    if gateway is not None and gateway.codes & OVERDRAW_CODES:
        return ValidationFailed(
            f"{what}stock is insufficient in SAP.{said}",
            fix="Atlas tried to take out more than SAP holds as unrestricted stock. Check the quantity in "
            "SAP (MMBE); the next sync re-reads it.",
            **kwargs,
        )
    if gateway is not None and "M7/053" in gateway.codes:
        return ValidationFailed(
            f"{what}the posting period is closed in SAP.{said}",
            fix="Ask your SAP team to open the current MM period (MMPV) and replay the item.",
            **kwargs,
        )
    cls = error_class_for_status(status)
    return cls(f"{what}SAP refused the request (HTTP {status}).{said}", **kwargs)


def _xml_error(text: str) -> GatewayError | None:
    """The Atom/XML error body (when a proxy strips Accept): <code>..</code><message>..</message>."""
    code = re.search(r"<code>([^<]*)</code>", text)
    message = re.search(r"<message[^>]*>([^<]*)</message>", text)
    if not code and not message:
        return None
    return GatewayError(code=code.group(1) if code else None, message=message.group(1) if message else None)


def raise_for_sap(response: httpx.Response, *, context: str = "") -> None:
    """Raise the mapped error for a non-2xx answer; on 2xx, raise only for an error `sap-message`."""
    if response.status_code >= 400 or response.status_code < 200:
        raise error_from_response(response, context=context)
    for message in sap_messages(response):
        severity = str(message.get("severity", "")).lower()
        text = redact(str(message.get("message", "")))[:300]
        if severity in ("error", "abort") and response.request.method == "GET":
            raise ValidationFailed(
                f"{context + ': ' if context else ''}SAP reported an error: {text}",
                system=SYSTEM,
                status=response.status_code,
                remote_code=str(message.get("code") or "") or None,
                remote_message=text,
            )
        if severity in ("warning", "error", "abort"):
            log.warning("SAP %s message on %s: %s", severity, response.request.url.path, text)
