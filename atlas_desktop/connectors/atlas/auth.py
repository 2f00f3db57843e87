"""Atlas sign-in: an API token as a bearer, or the device authorization grant (RFC 8628) with refresh.

The device flow: `DeviceSignIn.start()` gets a code; the caller shows `user_code` and opens
`verification_uri_complete` in the browser; `wait()` polls /oauth/token at `interval`, adds 5 s on every
`slow_down` (RFC 8628 3.5), doubles the interval after a network error, and ends with tokens or a clear
error (expired_token -> DeviceSignInExpired, access_denied -> DeviceSignInDenied). Tokens go to the
`token_store` callback (the vault) whenever they are obtained or refreshed; this module keeps none on disk.
"""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import AsyncGenerator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from atlas_desktop.connectors.atlas.errors import (
    SYSTEM,
    DeviceSignInDenied,
    DeviceSignInExpired,
    json_object,
    oauth_error,
)
from atlas_desktop.connectors.http import HttpClient
from atlas_desktop.connectors.offload import loads_json
from atlas_desktop.domain.errors import AuthFailed, InvalidResponse, NetworkError, ServerError
from atlas_desktop.domain.secrets import Secret

CLIENT_ID = "atlas-desktop"
DEFAULT_SCOPE = "inventory erp"
DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
SLOW_DOWN_STEP_S = 5
# Refresh this long before the access token expires, so a request never leaves with a dying token.
REFRESH_MARGIN = timedelta(seconds=60)
MAX_POLL_INTERVAL_S = 60

Sleep = Callable[[float], Awaitable[None]]
Now = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class TokenSet:
    """What a device sign-in or refresh returns; the vault keeps it (both tokens are Secrets)."""

    access_token: Secret
    expires_at: datetime
    refresh_token: Secret | None = None
    scope: str = ""

    def expiring(self, now: datetime) -> bool:
        return now + REFRESH_MARGIN >= self.expires_at


TokenStore = Callable[[TokenSet], Awaitable[None] | None]


async def _store(token_store: TokenStore | None, tokens: TokenSet) -> None:
    if token_store is not None:
        result = token_store(tokens)
        if inspect.isawaitable(result):
            await result


class BearerAuth(httpx.Auth):
    """`Authorization: Bearer <API token>` on every request."""

    def __init__(self, token: Secret) -> None:
        self._token = token

    def auth_flow(self, request: httpx.Request) -> Any:
        request.headers["Authorization"] = f"Bearer {self._token.reveal()}"
        yield request


Refresher = Callable[[Secret], Awaitable[TokenSet]]


class OAuthBearerAuth(httpx.Auth):
    """Device-flow tokens: refreshed shortly before expiry and once after a 401, under one lock."""

    requires_request_body = True

    def __init__(
        self,
        tokens: TokenSet,
        refresher: Refresher,
        token_store: TokenStore | None = None,
        now: Now = utc_now,
    ) -> None:
        self.tokens = tokens
        self._refresher = refresher
        self._token_store = token_store
        self._now = now
        self._lock = asyncio.Lock()

    def sync_auth_flow(self, request: httpx.Request) -> Any:
        raise RuntimeError("the Atlas client is async only")

    async def async_auth_flow(self, request: httpx.Request) -> AsyncGenerator[httpx.Request, httpx.Response]:
        if self.tokens.expiring(self._now()):
            await self._refresh(self.tokens.access_token)
        sent_with = self.tokens.access_token
        request.headers["Authorization"] = f"Bearer {sent_with.reveal()}"
        response = yield request
        if response.status_code == 401 and self.tokens.refresh_token is not None:
            await self._refresh(sent_with)
            request.headers["Authorization"] = f"Bearer {self.tokens.access_token.reveal()}"
            yield request

    async def _refresh(self, stale: Secret) -> None:
        async with self._lock:
            if self.tokens.access_token != stale:
                return  # another request refreshed while this one waited for the lock
            if self.tokens.refresh_token is None:
                raise AuthFailed(
                    f"{SYSTEM}: the sign-in has expired", fix="Sign in to Atlas again.", system=SYSTEM
                )
            self.tokens = await self._refresher(self.tokens.refresh_token)
            await _store(self._token_store, self.tokens)


def parse_tokens(data: dict[str, Any], now: datetime) -> TokenSet:
    access, kind, expires_in = data.get("access_token"), data.get("token_type"), data.get("expires_in")
    if not isinstance(access, str) or not access or str(kind).lower() != "bearer":
        raise InvalidResponse(f"{SYSTEM}: the token answer has no bearer access_token", system=SYSTEM)
    if isinstance(expires_in, bool) or not isinstance(expires_in, int) or expires_in <= 0:
        raise InvalidResponse(f"{SYSTEM}: the token answer has no valid expires_in", system=SYSTEM)
    refresh = data.get("refresh_token")
    return TokenSet(
        access_token=Secret(access),
        expires_at=now + timedelta(seconds=expires_in),
        refresh_token=Secret(refresh) if isinstance(refresh, str) and refresh else None,
        scope=str(data.get("scope", "")),
    )


@dataclass(frozen=True)
class DeviceAuthorization:
    """A pending device sign-in. Show `user_code`; open `verification_uri_complete` in the browser."""

    device_code: Secret
    user_code: str
    verification_uri: str
    verification_uri_complete: str
    expires_in: int
    interval: int
    started: float  # monotonic seconds when the code was issued


class DeviceSignIn:
    """The device authorization grant against one Atlas server (unauthenticated HttpClient)."""

    def __init__(
        self,
        http: HttpClient,
        *,
        client_id: str = CLIENT_ID,
        scope: str = DEFAULT_SCOPE,
        token_store: TokenStore | None = None,
        sleep: Sleep = asyncio.sleep,
        monotonic: Callable[[], float] = time.monotonic,
        now: Now = utc_now,
    ) -> None:
        self.http = http
        self.client_id = client_id
        self.scope = scope
        self.token_store = token_store
        self._sleep = sleep
        self._monotonic = monotonic
        self._now = now

    async def start(self) -> DeviceAuthorization:
        response = await self.http.request(
            "POST", "/oauth/device/code", data={"client_id": self.client_id, "scope": self.scope}
        )
        if response.status_code != 200:
            raise _oauth_failure(response, "starting the sign-in")
        data = json_object(response, "starting the sign-in")
        try:
            return DeviceAuthorization(
                device_code=Secret(str(data["device_code"])),
                user_code=str(data["user_code"]),
                verification_uri=str(data["verification_uri"]),
                verification_uri_complete=str(
                    data.get("verification_uri_complete") or data["verification_uri"]
                ),
                expires_in=int(data["expires_in"]),
                interval=int(data.get("interval", 5)),
                started=self._monotonic(),
            )
        except (KeyError, TypeError, ValueError):
            raise InvalidResponse(f"{SYSTEM}: the sign-in answer lacks a field", system=SYSTEM) from None

    async def wait(self, authorization: DeviceAuthorization) -> TokenSet:
        """Poll until approved; returns the tokens (also handed to token_store)."""
        interval = float(authorization.interval)
        deadline = authorization.started + authorization.expires_in
        form = {
            "grant_type": DEVICE_GRANT,
            "device_code": authorization.device_code.reveal(),
            "client_id": self.client_id,
        }
        while True:
            if self._monotonic() + interval > deadline:
                raise DeviceSignInExpired(f"{SYSTEM}: the sign-in code expired", system=SYSTEM)
            await self._sleep(interval)
            try:
                response = await self.http.request("POST", "/oauth/token", data=form, idempotent=True)
            except NetworkError:
                interval = min(interval * 2, MAX_POLL_INTERVAL_S)  # RFC 8628 3.5: back off on timeouts
                continue
            if response.status_code == 200:
                tokens = parse_tokens(json_object(response, "signing in"), self._now())
                await _store(self.token_store, tokens)
                return tokens
            error, _ = oauth_error(response)
            if error == "authorization_pending":
                continue
            if error == "slow_down":
                # +5 s (RFC 8628 3.5); a server that also says its new interval is followed, or a client
                # that started too fast and a server that adds 5 s per slow_down would never meet.
                interval = max(interval + SLOW_DOWN_STEP_S, _server_interval(response))
                continue
            raise _oauth_failure(response, "signing in")

    async def refresh(self, refresh_token: Secret) -> TokenSet:
        # Not retried on an unknown outcome: refresh tokens rotate, a replay of a used one is refused anyway.
        response = await self.http.request(
            "POST",
            "/oauth/token",
            data={
                "grant_type": "refresh_token",
                "refresh_token": refresh_token.reveal(),
                "client_id": self.client_id,
            },
        )
        if response.status_code != 200:
            raise _oauth_failure(response, "refreshing the sign-in")
        tokens = parse_tokens(json_object(response, "refreshing the sign-in"), self._now())
        await _store(self.token_store, tokens)
        return tokens


def _server_interval(response: httpx.Response) -> float:
    try:
        value = loads_json(response.content).get("interval")
    except (ValueError, AttributeError):
        return 0.0
    if isinstance(value, bool) or not isinstance(value, int):
        return 0.0
    return float(min(value, MAX_POLL_INTERVAL_S))


def _oauth_failure(response: httpx.Response, doing: str) -> Exception:
    error, description = oauth_error(response)
    said = f": {description}" if description else ""
    common: dict[str, Any] = {
        "system": SYSTEM,
        "status": response.status_code,
        "remote_code": error or None,
        "remote_message": description or None,
    }
    if error == "expired_token":
        return DeviceSignInExpired(f"{SYSTEM}: the sign-in code expired{said}", **common)
    if error == "access_denied":
        return DeviceSignInDenied(f"{SYSTEM}: the sign-in was declined{said}", **common)
    if error == "invalid_grant":
        return AuthFailed(
            f"{SYSTEM}: {doing}: the sign-in is no longer valid{said}",
            fix="Sign in to Atlas again.",
            **common,
        )
    if error == "invalid_client":
        return AuthFailed(
            f"{SYSTEM}: {doing}: this app is not registered with the server{said}",
            fix="Check the Atlas server address.",
            **common,
        )
    if response.status_code >= 500:
        return ServerError(f"{SYSTEM}: {doing} failed (HTTP {response.status_code})", **common)
    return InvalidResponse(
        f"{SYSTEM}: {doing} failed (HTTP {response.status_code}{', ' + error if error else ''}){said}",
        **common,
    )
