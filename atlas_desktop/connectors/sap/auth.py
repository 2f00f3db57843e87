"""How every SAP request is signed: OAuth 2.0 client credentials, Basic or X.509, plus sap-client.

`SapAuth` is one `httpx.Auth`. It adds `sap-client` to every request (on-premise), then the credential:
- OAuth: a bearer token from the token endpoint (Basic auth with client id and secret on the token call),
  cached in memory and handed to `on_token` for the vault, renewed ahead of expiry under an
  asyncio.Lock so concurrent requests share one token call; on a 401 one new token and one retry;
- Basic: the communication user;
- X.509: the client certificate is presented by TLS (HttpSettings.client_cert), no header here.
"""

from __future__ import annotations

import asyncio
import base64
import inspect
import logging
import math
from collections.abc import AsyncGenerator, Awaitable, Callable, Generator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx

from atlas_desktop.connectors.bearer import renewing_bearer_flow, unchanged_flow
from atlas_desktop.connectors.offload import loads_json
from atlas_desktop.domain.errors import AuthFailed, ConnectorError, InvalidResponse, NotFound
from atlas_desktop.domain.secrets import Secret, redact

log = logging.getLogger(__name__)
SYSTEM = "SAP"
# Renew this long before the token expires; short-lived tokens renew at half-life.
REFRESH_AHEAD = timedelta(minutes=10)

Clock = Callable[[], datetime]

# A token's stated lifetime is capped: renewing at least daily costs one request, and a huge or
# non-finite value (1e300) would overflow the expiry time and crash the sync.
_MAX_LIFETIME_S = 86_400


def _lifetime_seconds(value: object) -> float:
    """`expires_in` as seconds, at most a day; ValueError if it is not a finite positive number."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError("expires_in")
    seconds = float(value)
    if not math.isfinite(seconds) or seconds <= 0:
        raise ValueError("expires_in")
    return min(seconds, _MAX_LIFETIME_S)


@dataclass(frozen=True)
class OAuthToken:
    """A bearer token and when it stops working. What the vault stores between runs."""

    access_token: Secret
    expires_at: datetime
    issued_at: datetime

    def usable(self, now: datetime) -> bool:
        lifetime = self.expires_at - self.issued_at
        ahead = min(REFRESH_AHEAD, lifetime / 2)
        return now < self.expires_at - ahead


TokenCallback = Callable[[OAuthToken], Awaitable[None] | None]


def _basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode("ascii")


@dataclass
class OAuthClientCredentials:
    """Client-credentials grant against SAP's token endpoint."""

    token_endpoint: str
    client_id: Secret
    client_secret: Secret
    scope: str | None = None
    token: OAuthToken | None = None
    on_token: TokenCallback | None = None

    def build_request(self, sap_client: str | None) -> httpx.Request:
        data = {"grant_type": "client_credentials"}
        if self.scope:
            data["scope"] = self.scope
        params = {"sap-client": sap_client} if sap_client else None
        return httpx.Request(
            "POST",
            self.token_endpoint,
            params=params,
            data=data,
            headers={
                "Authorization": _basic(self.client_id.reveal(), self.client_secret.reveal()),
                "Accept": "application/json",
            },
        )

    def accept(self, response: httpx.Response, now: datetime) -> OAuthToken:
        """Read the token answer, or raise the error that says what is wrong with the OAuth setup."""
        status = response.status_code
        if status in (400, 401, 403):
            detail = ""
            try:
                body = loads_json(response.content)
                detail = str(body.get("error_description") or body.get("error") or "")
            except (ValueError, AttributeError):
                pass
            raise AuthFailed(
                "SAP's token endpoint refused the client ID and secret"
                + (f" ({redact(detail)[:200]})" if detail else "")
                + f" (HTTP {status})",
                fix="Copy the client ID from the communication arrangement's OAuth 2.0 details and use the "
                "communication user's password as the secret; check the scope if one is set.",
                system=SYSTEM,
                status=status,
                remote_message=redact(detail)[:200] or None,
            )
        if status == 404:
            raise NotFound(
                "SAP's token endpoint was not found (HTTP 404)",
                fix="Check the token endpoint; in S/4HANA Cloud it is https://<host>-api…/sap/bc/sec/oauth2/token.",
                system=SYSTEM,
                status=status,
            )
        if status >= 300:
            raise ConnectorError(
                f"SAP's token endpoint answered HTTP {status}",
                fix="Try again later; if it persists, check the token endpoint address.",
                system=SYSTEM,
                status=status,
            )
        try:
            body = loads_json(response.content)
            value = str(body["access_token"])
            expires_in = _lifetime_seconds(body.get("expires_in", 3600))
        except (ValueError, KeyError, TypeError, AttributeError):
            raise InvalidResponse(
                "SAP's token endpoint did not answer with an OAuth token",
                fix="Check the token endpoint address (it must be …/sap/bc/sec/oauth2/token).",
                system=SYSTEM,
                status=status,
            ) from None
        token = OAuthToken(Secret(value), now + timedelta(seconds=expires_in), now)
        self.token = token
        return token


class SapAuth(httpx.Auth):
    """Signs every request of one SAP connection (see the module docstring)."""

    def __init__(
        self,
        *,
        sap_client: str | None = None,
        basic: tuple[Secret, Secret] | None = None,
        oauth: OAuthClientCredentials | None = None,
        clock: Clock | None = None,
        count_call: Callable[[], None] | None = None,
    ) -> None:
        self.sap_client = sap_client
        self._basic = basic
        self.oauth = oauth
        self._clock = clock or (lambda: datetime.now(UTC))
        self._lock = asyncio.Lock()
        self._count_call = count_call or (lambda: None)
        self.token_requests = 0

    def now(self) -> datetime:
        return self._clock()

    def _prepare(self, request: httpx.Request) -> None:
        if self.sap_client and request.url.params.get("sap-client") != self.sap_client:
            request.url = request.url.copy_merge_params({"sap-client": self.sap_client})
        if self._basic is not None:
            request.headers["Authorization"] = _basic(self._basic[0].reveal(), self._basic[1].reveal())

    async def _new_token(self, stale: OAuthToken | None) -> AsyncGenerator[httpx.Request, httpx.Response]:
        """Yield the token request unless another task renewed meanwhile (`stale` no longer current)."""
        assert self.oauth is not None
        async with self._lock:
            current = self.oauth.token
            if current is not None and current is not stale and current.usable(self._clock()):
                return
            self.token_requests += 1
            self._count_call()
            response = yield self.oauth.build_request(self.sap_client)
            await response.aread()
            token = self.oauth.accept(response, self._clock())
            log.info("SAP: new OAuth token, valid until %s", token.expires_at.isoformat(timespec="seconds"))
        if self.oauth.on_token is not None:
            result = self.oauth.on_token(token)
            if inspect.isawaitable(result):
                await result

    def async_auth_flow(self, request: httpx.Request) -> AsyncGenerator[httpx.Request, httpx.Response]:
        self._prepare(request)
        oauth = self.oauth
        if oauth is None:
            return unchanged_flow(request)
        return renewing_bearer_flow(
            request,
            current=lambda: oauth.token,
            usable=lambda token: token.usable(self._clock()),
            secret=lambda token: token.access_token,
            renew=self._new_token,
        )

    def sync_auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        raise RuntimeError("SapAuth is for httpx.AsyncClient only")
