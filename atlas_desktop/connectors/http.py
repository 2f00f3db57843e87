"""The HTTP layer every connector uses: TLS and proxy policy, retries with backoff, a concurrency limit.

One `HttpClient` per connection. It wraps one `httpx.AsyncClient` and adds:
- https only, except to loopback hosts (the sandbox); TLS verification cannot be turned off; a corporate
  CA bundle is added to the system trust store, not put in its place;
- the proxy from the settings, or the standard HTTPS_PROXY / NO_PROXY variables;
- retries with exponential backoff and full jitter, honouring `Retry-After`, only where a retry is safe:
  reads, and writes that carry an idempotency key (or are declared idempotent, like an upsert by key);
  a request that never left (connect error) is always safe to send again;
- a per-connection limit on requests in flight;
- counters for the sync log (`api_calls`, `api_errors`), and a request log with credentials redacted.

A write without a key that times out after sending raises `NetworkError(in_doubt=True)`: the engine
then looks the write up by its key before sending it again.
"""

from __future__ import annotations

import asyncio
import contextlib
import email.utils
import importlib
import logging
import random
import ssl
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Self
from urllib.parse import urlsplit

import httpx

from atlas_desktop.domain.connection import check_url
from atlas_desktop.domain.digits import ascii_int
from atlas_desktop.domain.errors import ConfigError, InvalidResponse, NetworkError
from atlas_desktop.domain.proxy import proxy_login
from atlas_desktop.domain.secrets import Secret, redact

log = logging.getLogger(__name__)

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
RETRY_STATUSES = frozenset({429, 502, 503, 504})
# Retry-After values beyond this are treated as "not now": the run fails and the schedule tries later.
MAX_RETRY_AFTER_S = 120.0

Sleep = Callable[[float], Awaitable[None]]


@dataclass(frozen=True)
class HttpSettings:
    """How to reach one remote system. Built from a connection's settings and the app settings."""

    base_url: str
    timeout_s: float = 60.0
    connect_timeout_s: float = 10.0
    proxy: str | None = None  # may hold `user:****@`: the password is `proxy_password` (from the vault)
    proxy_password: Secret | None = field(default=None, repr=False)
    ca_bundle: Path | None = None
    client_cert: Path | None = None
    client_key: Path | None = None
    client_key_password: str | None = field(default=None, repr=False)
    max_concurrency: int = 5
    max_retries: int = 4
    backoff_base_s: float = 0.5
    backoff_cap_s: float = 30.0
    trust_env: bool = True
    system: str = ""


@dataclass
class HttpStats:
    api_calls: int = 0
    api_errors: int = 0
    retries: int = 0

    def reset(self) -> None:
        self.api_calls = self.api_errors = self.retries = 0


def proxy_for(settings: HttpSettings) -> httpx.Proxy | None:
    """The proxy with its login; httpx sends it as Proxy-Authorization and never shows the password."""
    if not settings.proxy:
        return None
    url, login = proxy_login(settings.proxy, settings.proxy_password)
    return httpx.Proxy(url, auth=login)


def build_ssl_context(settings: HttpSettings) -> ssl.SSLContext:
    """System trust store plus the optional corporate CA bundle; verification always on."""
    context = ssl.create_default_context()
    try:
        import certifi  # httpx's own trust store, for systems whose store is empty

        context.load_verify_locations(certifi.where())
    except ImportError:  # pragma: no cover - certifi comes with httpx
        pass
    if settings.ca_bundle is not None:
        try:
            context.load_verify_locations(cafile=str(settings.ca_bundle))
        except (OSError, ssl.SSLError) as exc:
            raise ConfigError(
                "ca_bundle",
                f"cannot read the CA bundle {settings.ca_bundle}: {exc.__class__.__name__}",
                fix="Choose a PEM file holding your company's root certificate.",
            ) from None
    if settings.client_cert is not None:
        try:
            context.load_cert_chain(
                str(settings.client_cert),
                str(settings.client_key) if settings.client_key else None,
                password=settings.client_key_password,
            )
        except (OSError, ssl.SSLError) as exc:
            raise ConfigError(
                "client_certificate",
                f"cannot load the client certificate or key: {exc.__class__.__name__}",
                fix="Choose the PEM certificate and its private key (and the key's password, if any).",
            ) from None
    return context


def preload_async_backend() -> None:
    """httpx imports anyio's asyncio backend at a client's first request (slow imports). Clients are
    built on a worker thread in the app; importing it there too keeps that cost off the event loop."""
    with contextlib.suppress(ImportError):  # a private module of anyio: only ever an optimisation
        importlib.import_module("anyio._backends._asyncio")


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header: delta-seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    seconds = ascii_int(value, max_digits=9)
    if seconds is not None:
        return float(seconds)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def _describe_transport_error(exc: httpx.TransportError) -> tuple[str, str]:
    text = str(exc) or exc.__class__.__name__
    lowered = text.lower()
    if "certificate" in lowered or "ssl" in lowered or "tls" in lowered:
        return (
            f"the TLS certificate of the server could not be verified ({text})",
            "If your company inspects TLS traffic, add its root certificate as the CA bundle in Settings.",
        )
    if isinstance(exc, httpx.ProxyError):
        return (f"the proxy refused the connection ({text})", "Check the proxy address in Settings.")
    if isinstance(exc, httpx.ConnectTimeout):
        return (
            "the server did not accept a connection in time",
            "Check the address, the network and the proxy.",
        )
    if isinstance(exc, httpx.ConnectError):
        if "name or service not known" in lowered or "nodename" in lowered or "getaddrinfo" in lowered:
            # Often an address the user never typed (the default Atlas address): name the network first.
            return (
                f"the server's name could not be looked up ({text})",
                "This computer may be offline, or a company firewall or proxy stops it from looking names "
                "up: check the network, set the proxy in the network settings (or ask IT), and check "
                "the address if you typed it.",
            )
        return (
            f"could not connect ({text})",
            "Check that the server is running and reachable from this computer (firewall, proxy).",
        )
    if isinstance(exc, httpx.TimeoutException):
        return ("the server did not answer in time", "The server may be overloaded; the sync retries later.")
    return (f"the connection failed ({text})", "Check the network and try again.")


class HttpClient:
    """One remote system's HTTP client. Use `request`; `raw` is the underlying httpx client."""

    def __init__(
        self,
        settings: HttpSettings,
        *,
        auth: httpx.Auth | None = None,
        headers: Mapping[str, str] | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        sleep: Sleep = asyncio.sleep,
        rng: random.Random | None = None,
    ) -> None:
        base_url = check_url("base_url", settings.base_url, what="server address")
        self.settings = settings
        self.stats = HttpStats()
        self._sleep = sleep
        self._rng = rng or random.Random()
        self._limit = asyncio.Semaphore(max(1, settings.max_concurrency))
        timeout = httpx.Timeout(settings.timeout_s, connect=settings.connect_timeout_s)
        if transport is None:
            preload_async_backend()
        self.raw = httpx.AsyncClient(
            base_url=base_url,
            auth=auth,
            headers=dict(headers or {}),
            timeout=timeout,
            verify=build_ssl_context(settings) if transport is None else True,
            proxy=proxy_for(settings),
            trust_env=settings.trust_env,
            transport=transport,
            follow_redirects=False,
        )

    @property
    def base_url(self) -> str:
        return str(self.raw.base_url).rstrip("/")

    def backoff_delay(self, attempt: int, retry_after: float | None = None) -> float:
        """Full jitter (AWS architecture blog): uniform(0, min(cap, base * 2**attempt))."""
        if retry_after is not None:
            return min(retry_after, MAX_RETRY_AFTER_S) + self._rng.uniform(0, self.settings.backoff_base_s)
        ceiling = min(self.settings.backoff_cap_s, self.settings.backoff_base_s * (2**attempt))
        return self._rng.uniform(0, ceiling)

    async def request(
        self,
        method: str,
        url: str,
        *,
        idempotency_key: str | None = None,
        idempotent: bool | None = None,
        retry_statuses: frozenset[int] = RETRY_STATUSES,
        **kwargs: Any,
    ) -> httpx.Response:
        """Send with retries where safe. Returns the final response, whatever its status.

        `idempotent=True` declares a non-GET safe to repeat (a SuiteQL query, an upsert by key);
        `idempotency_key` does the same for keyed writes (the connector puts the key on the wire).
        Raises NetworkError when no response could be had.
        """
        method = method.upper()
        if "://" in url:
            check_url("url", url, what="server address")
        safe = method in SAFE_METHODS or idempotency_key is not None or bool(idempotent)
        attempt = 0
        while True:
            started = time.monotonic()
            try:
                async with self._limit:
                    self.stats.api_calls += 1
                    response = await self.raw.request(method, url, **kwargs)
            except httpx.InvalidURL as exc:
                # Remote data put into a URL (a 100 kB item id in a filter, say) can make it unsendable.
                raise InvalidResponse(
                    f"{self.settings.system or 'Server'}: a request built from the server's data cannot be "
                    f"sent ({redact(str(exc))[:100]}).",
                    system=self.settings.system,
                ) from None
            except httpx.TransportError as exc:
                self.stats.api_errors += 1
                never_sent = isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout | httpx.ProxyError)
                cause, fix = _describe_transport_error(exc)
                log.warning(
                    "%s %s %s failed after %.2fs: %s",
                    self.settings.system,
                    method,
                    self._loggable(url),
                    time.monotonic() - started,
                    redact(cause),
                )
                if (safe or never_sent) and attempt < self.settings.max_retries and not self._is_tls(exc):
                    await self._pause(attempt, None)
                    attempt += 1
                    continue
                raise NetworkError(
                    f"{self.settings.system or 'Server'}: {cause}",
                    fix=fix,
                    system=self.settings.system,
                    in_doubt=not (safe or never_sent),
                ) from None
            elapsed = time.monotonic() - started
            log.debug(
                "%s %s %s -> %s in %.3fs",
                self.settings.system,
                method,
                self._loggable(url),
                response.status_code,
                elapsed,
            )
            if response.status_code >= 400:
                self.stats.api_errors += 1
            if response.status_code in retry_statuses and attempt < self.settings.max_retries:
                retry_after = parse_retry_after(response.headers.get("Retry-After"))
                # A 429 was refused before any work happened, so it is safe to repeat even for writes.
                if (safe or response.status_code == 429) and (
                    retry_after is None or retry_after <= MAX_RETRY_AFTER_S
                ):
                    await response.aread()
                    await self._pause(attempt, retry_after)
                    attempt += 1
                    continue
            return response

    async def _pause(self, attempt: int, retry_after: float | None) -> None:
        self.stats.retries += 1
        await self._sleep(self.backoff_delay(attempt, retry_after))

    @staticmethod
    def _is_tls(exc: httpx.TransportError) -> bool:
        text = str(exc).lower()
        return "certificate" in text or "ssl" in text

    @staticmethod
    def _loggable(url: str) -> str:
        # Query strings can carry tokens on some systems; keep the path only and redact the rest.
        parts = urlsplit(url)
        return redact(parts.path + (f"?{parts.query}" if parts.query else ""))

    async def aclose(self) -> None:
        await self.raw.aclose()

    async def __aenter__(self) -> HttpClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()


class UsesHttpClient:
    """For a connector that owns one HttpClient (`self.http`): its call counters and its closing."""

    http: HttpClient

    @property
    def api_calls(self) -> int:
        return self.http.stats.api_calls

    @property
    def api_errors(self) -> int:
        return self.http.stats.api_errors

    async def aclose(self) -> None:
        await self.http.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()
