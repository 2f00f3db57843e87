"""CSRF for SAP writes: one token per service and session, kept together with its cookies.

A token is only valid with the session cookies that came with it (KBA 3048103), so each `CsrfSession`
holds both, and every write sends exactly that pair: a concurrent refetch can never hand one writer a new
token with old cookies. Concurrent writers share one fetch (a lock per service); on `403` with
`X-CSRF-Token: Required` the token is fetched again and the write retried once.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any

import httpx

from atlas_desktop.connectors.http import HttpClient
from atlas_desktop.connectors.sap.errors import error_from_response, is_csrf_refusal
from atlas_desktop.domain.secrets import Secret

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CsrfSession:
    """A token and the cookies it belongs to. `token` is None when the server asks for none."""

    token: Secret | None
    cookie_header: str


class CsrfGuard:
    """Sends writes with a valid token; fetches it once per service and again when SAP says so."""

    def __init__(self, http: HttpClient) -> None:
        self._http = http
        self._sessions: dict[str, CsrfSession] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        # A fetch reads its session's cookies from the client's shared jar: fetches for two services at
        # once could each take the other's. One at a time, the later one inside the first's session.
        self._fetching = asyncio.Lock()
        self.fetches = 0

    def _lock(self, service_root: str) -> asyncio.Lock:
        return self._locks.setdefault(service_root, asyncio.Lock())

    async def session(self, service_root: str, *, stale: CsrfSession | None = None) -> CsrfSession:
        """The current session for the service; a new one if none or if `stale` is still current."""
        current = self._sessions.get(service_root)
        if current is not None and current is not stale:
            return current
        async with self._lock(service_root):
            current = self._sessions.get(service_root)
            if current is not None and current is not stale:
                return current  # another writer fetched while we waited
            async with self._fetching:
                current = await self._fetch(service_root)
            self._sessions[service_root] = current
            return current

    async def _fetch(self, service_root: str) -> CsrfSession:
        # Trailing slash: some on-premise systems answer the fetch only on "<service>/".
        self.fetches += 1
        response = await self._http.request(
            "GET", service_root.rstrip("/") + "/", headers={"X-CSRF-Token": "Fetch"}
        )
        await response.aread()
        if response.status_code >= 400:
            raise error_from_response(response, context="fetching a CSRF token")
        token = response.headers.get("x-csrf-token")
        # The client's jar now holds every cookie of this session, the fetch's new ones included.
        cookies = "; ".join(f"{c.name}={c.value}" for c in self._http.raw.cookies.jar)
        if not token:
            log.info("SAP sent no CSRF token for %s; writing without one", service_root)
        return CsrfSession(Secret(token) if token else None, cookies)

    def holds(self, service_root: str) -> bool:
        """Whether a token for the service is at hand (a write would need no fetch first)."""
        return service_root in self._sessions

    def invalidate(self, service_root: str) -> None:
        self._sessions.pop(service_root, None)

    async def send(self, method: str, url: str, *, service_root: str, **kwargs: Any) -> httpx.Response:
        """A modifying request with token and cookies; one refetch-and-retry on a CSRF refusal."""
        session = await self.session(service_root)
        response = await self._send(session, method, url, **kwargs)
        if is_csrf_refusal(response):
            await response.aread()
            log.info("SAP refused the CSRF token for %s; fetching a new one", service_root)
            session = await self.session(service_root, stale=session)
            response = await self._send(session, method, url, **kwargs)
        return response

    async def _send(self, session: CsrfSession, method: str, url: str, **kwargs: Any) -> httpx.Response:
        headers = dict(kwargs.pop("headers", None) or {})
        if session.token is not None:
            headers["X-CSRF-Token"] = session.token.reveal()
        if session.cookie_header:
            headers["Cookie"] = session.cookie_header
        return await self._http.request(method, url, headers=headers, **kwargs)
