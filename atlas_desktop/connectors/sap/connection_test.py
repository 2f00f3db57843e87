"""The SAP connection test: DNS/TCP, TLS chain, token endpoint, each service, write access, with fixes."""

from __future__ import annotations

import asyncio
import re
import socket
import ssl
from collections.abc import Callable
from urllib.parse import urlsplit

from atlas_desktop.connectors.http import HttpClient, build_ssl_context
from atlas_desktop.connectors.sap.auth import SapAuth
from atlas_desktop.connectors.sap.config import (
    BATCH_SRV,
    MATDOC_SRV,
    PO_SRV,
    PRODUCT_SRV,
    SCENARIOS,
    STOCK_SRV,
    SapConfig,
)
from atlas_desktop.connectors.sap.csrf import CsrfGuard
from atlas_desktop.connectors.sap.errors import error_from_response
from atlas_desktop.connectors.sap.odata import read_page
from atlas_desktop.domain.errors import AtlasDesktopError, AuthFailed, ConnectorError
from atlas_desktop.domain.model import ConnectionReport, StepResult
from atlas_desktop.domain.secrets import redact

# (label, service, entity set, key field to $select)
SERVICES = (
    ("Products", PRODUCT_SRV, "A_Product", "Product"),
    ("Stock", STOCK_SRV, "A_MatlStkInAcctMod", "Material"),
    ("Material documents", MATDOC_SRV, "A_MaterialDocumentHeader", "MaterialDocument"),
    ("Batches", BATCH_SRV, "Batch", "Batch"),
)
PO_SERVICE = ("Purchase orders", PO_SRV, "A_PurchaseOrder", "PurchaseOrder")
TIMEOUT_S = 10.0


def describe_certificate(der: bytes) -> str:
    """Subject and issuer of a DER certificate, for the user to recognise (e.g. their proxy's CA)."""
    from cryptography import x509

    cert = x509.load_der_x509_certificate(der)
    return f"issued to '{cert.subject.rfc4514_string()}' by '{cert.issuer.rfc4514_string()}'"


async def presented_certificate(host: str, port: int) -> str | None:
    """What the server presents, fetched WITHOUT verification only to describe it in the message."""
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    try:
        reader, writer = await asyncio.wait_for(
            asyncio.open_connection(host, port, ssl=context, server_hostname=host), TIMEOUT_S
        )
    except (OSError, ssl.SSLError, TimeoutError):
        return None
    try:
        ssl_object = writer.get_extra_info("ssl_object")
        der = ssl_object.getpeercert(binary_form=True) if ssl_object else None
        return describe_certificate(der) if der else None
    finally:
        writer.close()


class ConnectionTester:
    """Runs the steps in order; a failed step says why and what to do, later dependent steps are skipped."""

    def __init__(
        self,
        http: HttpClient,
        auth: SapAuth,
        csrf: CsrfGuard,
        config: SapConfig,
        *,
        network_checks: bool,
        tls_context: Callable[[], ssl.SSLContext] | None = None,
    ) -> None:
        self._http = http
        self._auth = auth
        self._csrf = csrf
        self._config = config
        self._network_checks = network_checks
        self._tls_context = tls_context or (lambda: build_ssl_context(http.settings))

    async def run(self) -> ConnectionReport:
        steps: list[StepResult] = []
        parts = urlsplit(self._config.base_url)
        host = parts.hostname or ""
        port = parts.port or (443 if parts.scheme == "https" else 80)
        reachable = True
        if not self._network_checks:
            steps.append(StepResult("Server address", True, "in-process sandbox", skipped=True))
        elif self._config.proxy:
            steps.append(
                StepResult("Server address", True, f"through the proxy {self._config.proxy}", skipped=True)
            )
        else:
            step = await self._tcp(host, port)
            reachable = step.ok
            steps.append(step)
        if parts.scheme == "https" and self._network_checks and reachable and not self._config.proxy:
            step = await self._tls(host, port)
            reachable = step.ok
            steps.append(step)
        if not reachable:
            return ConnectionReport(tuple(steps) + self._skipped("the server cannot be reached"))
        if self._auth.oauth is not None:
            step = await self._token()
            steps.append(step)
            if not step.ok:
                return ConnectionReport(tuple(steps) + self._skipped("there is no OAuth token"))
        services = SERVICES + ((PO_SERVICE,) if self._config.company_code else ())
        auth_broken = False
        for label, service, entity_set, key in services:
            if auth_broken:
                steps.append(StepResult(label, False, "not tried: sign-in failed", skipped=True))
                continue
            step, auth_broken = await self._service(label, service, entity_set, key)
            steps.append(step)
        if all(s.ok for s in steps):
            steps.append(await self._write_access())
        return ConnectionReport(tuple(steps))

    def _skipped(self, why: str) -> tuple[StepResult, ...]:
        names = ["Sign-in (OAuth token)"] if self._auth.oauth is not None else []
        names += [label for label, *_ in SERVICES] + ["Write access (CSRF token)"]
        return tuple(StepResult(name, False, f"not tried: {why}", skipped=True) for name in names)

    async def _tcp(self, host: str, port: int) -> StepResult:
        name = "Server address (DNS and TCP)"
        loop = asyncio.get_running_loop()
        try:
            await asyncio.wait_for(loop.getaddrinfo(host, port, type=socket.SOCK_STREAM), TIMEOUT_S)
        except (OSError, TimeoutError) as exc:
            return StepResult(
                name,
                False,
                cause=f"the host name {host} cannot be resolved ({exc.__class__.__name__})",
                fix="Check the SAP API address for typos; on a company network ask IT whether a proxy "
                "is needed.",
            )
        try:
            _, writer = await asyncio.wait_for(asyncio.open_connection(host, port), TIMEOUT_S)
            writer.close()
        except (OSError, TimeoutError) as exc:
            return StepResult(
                name,
                False,
                cause=f"no connection to {host}:{port} ({exc.__class__.__name__})",
                fix="Check that the port is right and that a firewall lets this computer reach SAP "
                "(or enter the proxy in Settings).",
            )
        return StepResult(name, True, f"{host}:{port} reachable")

    async def _tls(self, host: str, port: int) -> StepResult:
        name = "TLS certificate"
        try:
            context = self._tls_context()
        except AtlasDesktopError as exc:
            return StepResult(name, False, cause=exc.message, fix=exc.fix)
        try:
            _, writer = await asyncio.wait_for(
                asyncio.open_connection(host, port, ssl=context, server_hostname=host), TIMEOUT_S
            )
            writer.close()
        except ssl.SSLCertVerificationError as exc:
            presented = await presented_certificate(host, port)
            return StepResult(
                name,
                False,
                cause=f"the server's certificate is not trusted ({exc.verify_message})"
                + (f"; it is {presented}" if presented else ""),
                fix="If that issuer is your company's (TLS inspection or an internal CA), export its root "
                "certificate as PEM and add it as the CA bundle in the connection settings.",
            )
        except ssl.SSLError as exc:
            text = str(exc).lower()
            if any(word in text for word in ("certificate required", "unknown ca", "bad certificate")):
                return StepResult(
                    name,
                    False,
                    cause=f"the server did not accept the client certificate ({exc.reason})",
                    fix="Check that the client certificate is the one registered for the communication user "
                    "(STRUST / communication system) and that it has not expired.",
                )
            return StepResult(
                name,
                False,
                cause=f"the TLS handshake failed ({exc.reason})",
                fix="Check the address and port; the port must serve HTTPS.",
            )
        except (OSError, TimeoutError) as exc:
            return StepResult(
                name,
                False,
                cause=f"the TLS connection failed ({exc.__class__.__name__})",
                fix="Check the network and try again.",
            )
        return StepResult(name, True, "certificate chain verified")

    async def _token(self) -> StepResult:
        name = "Sign-in (OAuth token)"
        oauth = self._auth.oauth
        assert oauth is not None
        try:
            response = await self._http.raw.send(oauth.build_request(self._auth.sap_client), auth=None)
            await response.aread()
            oauth.accept(response, self._auth.now())
        except ConnectorError as exc:
            return StepResult(name, False, cause=exc.message, fix=exc.fix)
        except Exception as exc:  # transport problems reach here as httpx errors
            return StepResult(
                name,
                False,
                cause=f"the token endpoint cannot be reached ({exc.__class__.__name__})",
                fix="Check the token endpoint address.",
            )
        return StepResult(name, True, "token received")

    async def _service(self, label: str, service: str, entity_set: str, key: str) -> tuple[StepResult, bool]:
        """The step, and whether sign-in itself failed (then the other services are not tried)."""
        url = f"{self._config.service_url(service)}/{entity_set}"
        params = {"$format": "json", "$top": "1", "$select": key}
        try:
            response = await self._http.request("GET", url, params=params)
            await response.aread()
            if response.status_code < 400:
                read_page(response)
                return StepResult(label, True, f"{service} reachable and authorised"), False
            error = error_from_response(response, context=f"reading {service}")
        except ConnectorError as exc:
            error = exc
        cause, fix = error.message, error.fix
        if isinstance(error, AuthFailed):
            said_text = (error.remote_message or error.message).lower()
            client = self._config.sap_client
            if client and re.search(rf"\bclient\s+{client}\b|sap-client|no client given", said_text):
                said = redact(error.remote_message or "")
                cause = f"SAP does not accept client {self._config.sap_client}: {said}"
                fix = "Check the sap-client number with your SAP Basis team (shown on the SAP logon screen)."
            elif self._config.sap_client:
                fix = error.fix + f" Also check that sap-client {self._config.sap_client} is right."
            return StepResult(label, False, cause=cause, fix=fix), True
        if error.status == 403 and service in SCENARIOS:
            cause = (
                f"{service} is not authorised for this user: the communication scenario "
                f"{SCENARIOS[service]} is missing"
            )
        return StepResult(label, False, cause=cause, fix=fix), False

    async def _write_access(self) -> StepResult:
        name = "Write access (CSRF token)"
        try:
            session = await self._csrf.session(self._config.service_url(MATDOC_SRV))
        except ConnectorError as exc:
            return StepResult(name, False, cause=exc.message, fix=exc.fix)
        detail = "token received" if session.token is not None else "the server asks for no token"
        return StepResult(name, True, detail)
