"""The connection test, step by step: each step says what failed, why, and what the user can do."""

from __future__ import annotations

import asyncio
import socket
import ssl
from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

import httpx

from atlas_desktop.connectors.http import build_ssl_context
from atlas_desktop.connectors.netsuite import queries
from atlas_desktop.connectors.netsuite.client import NetSuiteClient
from atlas_desktop.connectors.netsuite.m2m import M2MAuth
from atlas_desktop.connectors.netsuite.settings import NetSuiteSettings
from atlas_desktop.connectors.netsuite.user_zone import UserZoneLookup
from atlas_desktop.domain.connection import is_loopback_host
from atlas_desktop.domain.errors import (
    AuthFailed,
    ConfigError,
    ConnectorError,
    NetworkError,
    NotFound,
    PermissionDenied,
)
from atlas_desktop.domain.model import ConnectionReport, StepResult

REACHABLE = "Server reachable"
TLS = "Secure connection (TLS)"
SIGNATURE = "Signature accepted"
TOKEN = "OAuth 2.0 access token"
TOKEN_ACCEPTED = "Access token accepted"
PERMISSIONS = "Role permissions"
RECORD_READ = "Read an inventory item"
TIME_ZONE = "NetSuite user's time zone"
STEPS = (REACHABLE, TLS, SIGNATURE, PERMISSIONS, RECORD_READ, TIME_ZONE)
CONNECT_TIMEOUT_S = 10.0

Step = Callable[[], Awaitable[StepResult]]


def signature_causes(account_id: str) -> tuple[str, str]:
    """(cause, fix) for NetSuite's generic 401, the likely causes in order."""
    causes = []
    if account_id != account_id.upper():
        causes.append(
            f"the account ID '{account_id}' has lowercase letters: NetSuite wants it exactly as shown, e.g. "
            f"{account_id.upper()} (uppercase SB for a sandbox, underscore)"
        )
    causes += [
        "the consumer secret or token secret does not belong to the consumer key / token ID",
        "the token was created in another account or before a sandbox refresh (tokens are not copied to "
        "a refreshed sandbox)",
        "Token-Based Authentication is not enabled (Setup > Company > Enable Features > SuiteCloud), or the "
        "role lacks 'Log in using Access Tokens' or 'REST Web Services'",
        "the integration record or the token is inactive or revoked",
    ]
    cause = (
        "NetSuite refused the signature (401 INVALID_LOGIN). It gives the same answer for every cause; the "
        "likely ones, in order: " + "; ".join(f"({i}) {text}" for i, text in enumerate(causes, 1)) + "."
    )
    fix = (
        "Re-check the four values (consumer key, consumer secret, token ID, token secret) and the account "
        "ID in the connection file; if they are right, create a new access token for the integration user. "
        "NetSuite's "
        "Login Audit Trail (Setup > Users/Roles > User Management > View Login Audit Trail) shows the exact "
        "reason."
    )
    return cause, fix


def _failed(name: str, exc: ConnectorError | ConfigError, cause: str | None = None) -> StepResult:
    return StepResult(name, False, detail=exc.message, cause=cause or exc.message, fix=exc.fix)


class ConnectionTest:
    def __init__(
        self,
        client: NetSuiteClient,
        settings: NetSuiteSettings,
        *,
        in_process: bool,
        m2m: M2MAuth | None = None,
        zones: UserZoneLookup | None = None,
    ) -> None:
        self.client = client
        self.m2m = m2m
        self.zones = zones or UserZoneLookup(client, settings.configured_timezone)
        self.settings = settings
        self.in_process = in_process
        parts = urlsplit(settings.base_url)
        self.scheme = parts.scheme
        self.host = parts.hostname or ""
        self.port = parts.port or (443 if parts.scheme == "https" else 80)
        self._first_item: dict[str, str] | None = None

    async def run(self) -> ConnectionReport:
        steps: list[StepResult] = []
        sign_in: list[tuple[str, Step]] = (
            [(TOKEN, self.token), (TOKEN_ACCEPTED, self.signature)]
            if self.m2m is not None
            else [(SIGNATURE, self.signature)]
        )
        plan: list[tuple[str, Step]] = [
            (REACHABLE, self.reachable),
            (TLS, self.tls),
            *sign_in,
            (PERMISSIONS, self.permissions),
            (RECORD_READ, self.record_read),
            (TIME_ZONE, self.time_zone),
        ]
        failed = False
        for name, step in plan:
            if failed:
                steps.append(
                    StepResult(name, False, detail="not checked: an earlier step failed", skipped=True)
                )
                continue
            result = await step()
            steps.append(result)
            failed = not result.ok
        return ConnectionReport(tuple(steps))

    # ---- network ----------------------------------------------------------------------------------

    def _through_proxy(self) -> bool:
        return bool(self.settings.proxy)

    async def reachable(self) -> StepResult:
        if self.in_process:
            return StepResult(REACHABLE, True, detail="in-process sandbox (no network)")
        if self._through_proxy():
            return StepResult(
                REACHABLE, True, detail=f"through the proxy; {self.host} is resolved by the proxy"
            )
        try:
            await asyncio.get_running_loop().getaddrinfo(self.host, self.port, type=socket.SOCK_STREAM)
        except OSError as exc:
            return StepResult(
                REACHABLE,
                False,
                detail=f"the name {self.host} could not be resolved ({exc.__class__.__name__})",
                cause=f"DNS does not know {self.host}. The host is built from the account ID "
                f"({self.settings.account_id}); a wrong account ID gives a host that does not exist.",
                fix="Check the account ID (Setup > Company > Company Information), then the network and DNS.",
            )
        try:
            _, writer = await asyncio.wait_for(
                asyncio.open_connection(self.host, self.port), CONNECT_TIMEOUT_S
            )
        except (OSError, TimeoutError) as exc:
            return StepResult(
                REACHABLE,
                False,
                detail=f"no connection to {self.host}:{self.port} ({exc.__class__.__name__})",
                cause="The host is known but did not accept a connection: a firewall, a missing proxy, or "
                "the "
                "server is down.",
                fix="Allow outgoing HTTPS to *.suitetalk.api.netsuite.com, or set the company proxy "
                "in Settings.",
            )
        writer.close()
        return StepResult(REACHABLE, True, detail=f"{self.host}:{self.port} accepts connections")

    async def tls(self) -> StepResult:
        if self.scheme != "https":
            if self.in_process or is_loopback_host(self.host):
                return StepResult(TLS, True, detail="plain http to the sandbox on this computer")
            return StepResult(
                TLS, False, cause="The address does not use https.", fix="Use an https:// address."
            )
        if self.in_process or self._through_proxy():
            return StepResult(TLS, True, detail="checked with the first request")
        try:
            context = build_ssl_context(self.settings.http_settings())
        except ConfigError as exc:
            return _failed(TLS, exc)
        try:
            _, writer = await asyncio.wait_for(
                asyncio.open_connection(self.host, self.port, ssl=context, server_hostname=self.host),
                CONNECT_TIMEOUT_S,
            )
        except ssl.SSLCertVerificationError as exc:
            return StepResult(
                TLS,
                False,
                detail=f"certificate not trusted ({exc.verify_message})",
                cause="The certificate the server showed is not trusted. Usually a company firewall inspects "
                "TLS traffic and shows its own certificate.",
                fix="Add your company's root certificate as the CA bundle in Settings "
                "(ask your IT department).",
            )
        except (OSError, TimeoutError, ssl.SSLError) as exc:
            return StepResult(
                TLS,
                False,
                detail=f"TLS handshake failed ({exc.__class__.__name__})",
                cause="The secure connection could not be set up.",
                fix="Check the proxy settings; if your company inspects TLS, add its root certificate "
                "as CA bundle.",
            )
        writer.close()
        return StepResult(TLS, True, detail="certificate verified")

    # ---- NetSuite -----------------------------------------------------------------------------------

    async def token(self) -> StepResult:
        """OAuth 2.0: ask for a token now, so a refusal is told by the token endpoint's own answer."""
        assert self.m2m is not None
        try:
            # auth=None: this request is the token call itself, not one that needs a token
            response = await self.client.http.raw.send(self.m2m.token_request(), auth=None)
            await response.aread()
            token = self.m2m.accept(response)
        except ConnectorError as exc:
            detail = f"{exc.status} {exc.remote_code}" if exc.remote_code else exc.message
            return StepResult(TOKEN, False, detail=detail, cause=exc.message, fix=exc.fix)
        except httpx.HTTPError as exc:
            return StepResult(TOKEN, False,
                              detail=f"no answer from the token endpoint ({exc.__class__.__name__})",
                              cause="The token endpoint could not be reached.",
                              fix="Check the network and proxy settings, then test again.")  # fmt: skip
        minutes = int((token.expires_at - token.issued_at).total_seconds() // 60)
        return StepResult(
            TOKEN, True,
            detail=f"{self.m2m.algorithm}, Certificate ID {self.settings.certificate_id}: "
            f"a token for {minutes} min",
        )  # fmt: skip

    @staticmethod
    def _bearer_refused(exc: AuthFailed) -> StepResult:
        if exc.status != 401:  # a new token was refused: the token endpoint's answer says why
            return StepResult(TOKEN_ACCEPTED, False, detail=exc.message, cause=exc.message, fix=exc.fix)
        return StepResult(
            TOKEN_ACCEPTED, False, detail="401 INVALID_LOGIN",
            cause="NetSuite issued a token but refused it for REST: the role mapped to the certificate "
            "probably lacks 'REST Web Services', or the certificate was revoked meanwhile.",
            fix="Give the role 'REST Web Services' (Full) and 'Log in using OAuth 2.0 Access Tokens'. "
            "NetSuite's Login Audit Trail (Setup > Users/Roles > User Management > View Login Audit Trail) "
            "shows the reason.",
        )  # fmt: skip

    async def signature(self) -> StepResult:
        name = TOKEN_ACCEPTED if self.m2m is not None else SIGNATURE
        try:
            await self.client.suiteql_page(queries.locations(), limit=1)
        except AuthFailed as exc:
            if self.m2m is not None:
                return self._bearer_refused(exc)
            cause, fix = signature_causes(self.settings.account_id)
            return StepResult(SIGNATURE, False, detail="401 INVALID_LOGIN", cause=cause, fix=fix)
        except (PermissionDenied, NotFound):
            pass  # NetSuite read the signature and then refused the query: a later step explains it
        except ConnectorError as exc:
            return _failed(name, exc)
        how = "OAuth 2.0 bearer token" if self.m2m is not None else "token-based authentication"
        return StepResult(name, True, detail=f"{how} for {self.settings.account_id}")

    async def permissions(self) -> StepResult:
        checks = (
            ("SuiteQL on items (SuiteAnalytics Workbook, Items)", queries.probe_items()),
            ("lot numbers (Lot Numbered Items)", queries.probe_lots()),
        )
        for label, query in checks:
            try:
                page = await self.client.suiteql_page(query, limit=1)
            except AuthFailed:
                return StepResult(
                    PERMISSIONS,
                    False,
                    detail=f"{label}: 401",
                    cause="The login works, but NetSuite answers 401 for SuiteQL: the role probably lacks "
                    "'SuiteAnalytics Workbook' or 'REST Web Services' (a missing permission also gives 401).",
                    fix="Give the integration role REST Web Services (Full), SuiteAnalytics Workbook (Edit) "
                    "and "
                    "Log in using Access Tokens; enable the SuiteAnalytics Workbook feature.",
                )
            except (PermissionDenied, ConnectorError) as exc:
                return _failed(PERMISSIONS, exc, cause=f"{label}: {exc.message}")
            if query == queries.probe_items() and page.items:
                self._first_item = {k: str(v) for k, v in page.items[0].items() if k != "links"}
        return StepResult(PERMISSIONS, True, detail="SuiteQL, items and lot numbers readable")

    async def record_read(self) -> StepResult:
        if self._first_item is None:
            return StepResult(RECORD_READ, True, detail="no inventory item exists yet: nothing to read")
        item_id = self._first_item["id"]
        record_type = (
            "lotNumberedInventoryItem" if self._first_item.get("islotitem") == "T" else "inventoryItem"
        )
        try:
            record = await self.client.get_record(record_type, item_id, action="read an inventory item")
        except NetworkError as exc:
            return _failed(RECORD_READ, exc)
        except ConnectorError as exc:
            cause = exc.message
            if isinstance(exc, PermissionDenied | AuthFailed):
                cause = f"The role cannot read {record_type} records: {exc.message}"
            return _failed(RECORD_READ, exc, cause=cause)
        name = record.get("itemId") or record.get("displayName") or item_id
        return StepResult(RECORD_READ, True, detail=f"read {record_type} {item_id} ({name})")

    async def time_zone(self) -> StepResult:
        """The zone SuiteQL shows times in for this token's user: reads render their watermarks in it."""
        try:
            zone = await self.zones.get()
        except ConfigError as exc:
            return StepResult(TIME_ZONE, False, detail=exc.message, cause=exc.message, fix=exc.fix)
        except ConnectorError as exc:
            return _failed(TIME_ZONE, exc)
        return StepResult(TIME_ZONE, True, detail=zone.describe())
