"""The Atlas connection test: reachable, TLS, token accepted (/me), scopes; failures with a cause and fix."""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from atlas_desktop.domain.errors import AuthFailed, ConnectorError, NetworkError, PermissionDenied
from atlas_desktop.domain.model import ConnectionReport, StepResult

if TYPE_CHECKING:
    from atlas_desktop.connectors.atlas.client import AtlasClient

REACHABLE = "Atlas server reachable"
TLS = "Secure connection (TLS)"
TOKEN = "Sign-in accepted"
SCOPES = "Permissions (scopes)"
REQUIRED_SCOPES = ("inventory",)
OPTIONAL_SCOPES = ("erp",)


def _skipped(*names: str) -> list[StepResult]:
    return [
        StepResult(name, ok=False, skipped=True, detail="not checked: an earlier step failed")
        for name in names
    ]


def _tls_step(base_url: str) -> StepResult:
    if urlsplit(base_url).scheme == "https":
        return StepResult(TLS, ok=True, detail="the server's certificate was verified")
    return StepResult(TLS, ok=True, detail="plain http to this computer (the sandbox); no TLS needed")


async def run_connection_test(client: AtlasClient) -> ConnectionReport:
    base_url = client.http.base_url
    try:
        account = await client.me()
    except NetworkError as exc:
        lowered = exc.message.lower()
        if "certificate" in lowered or "ssl" in lowered or "tls" in lowered:
            steps = [
                StepResult(REACHABLE, ok=True, detail=f"{base_url} answered"),
                StepResult(TLS, ok=False, cause=exc.message, fix=exc.fix),
            ]
            return ConnectionReport(tuple(steps + _skipped(TOKEN, SCOPES)))
        steps = [StepResult(REACHABLE, ok=False, cause=exc.message, fix=exc.fix)]
        return ConnectionReport(tuple(steps + _skipped(TLS, TOKEN, SCOPES)))
    except (AuthFailed, PermissionDenied) as exc:
        steps = [
            StepResult(REACHABLE, ok=True, detail=f"{base_url} answered"),
            _tls_step(base_url),
            StepResult(TOKEN, ok=False, cause=exc.message, fix=exc.fix),
        ]
        return ConnectionReport(tuple(steps + _skipped(SCOPES)))
    except ConnectorError as exc:
        steps = [
            StepResult(
                REACHABLE, ok=False, cause=exc.message, fix=exc.fix or "Check the Atlas server address."
            ),
        ]
        return ConnectionReport(tuple(steps + _skipped(TLS, TOKEN, SCOPES)))
    steps = [
        StepResult(REACHABLE, ok=True, detail=f"{base_url} answered"),
        _tls_step(base_url),
        StepResult(TOKEN, ok=True, detail=f"signed in to {account.company_name} ({account.account_id})"),
    ]
    missing = [s for s in REQUIRED_SCOPES if s not in account.scopes]
    has = ", ".join(sorted(account.scopes)) or "none"
    if missing:
        steps.append(
            StepResult(
                SCOPES,
                ok=False,
                cause=f"the token lacks the scope(s) {', '.join(missing)} (it has: {has})",
                fix="In the Atlas dashboard (Settings > API tokens) create a token with the 'inventory' "
                "and 'erp' scopes, or sign in with the device code again.",
            )
        )
    else:
        absent = [s for s in OPTIONAL_SCOPES if s not in account.scopes]
        detail = f"scopes: {', '.join(sorted(account.scopes))}"
        if absent:
            detail += "; without 'erp', purchase orders and health reports are not available"
        steps.append(StepResult(SCOPES, ok=True, detail=detail))
    return ConnectionReport(tuple(steps))
