"""API tokens and the OAuth 2.0 device authorization grant (RFC 8628) with refresh, as the emulator runs them.

/oauth/* answers in the OAuth error shape the contract gives for it (`400 {"error": "slow_down"}`), not
the API's `{"error": {"code": ...}}` envelope. The device code lives `DEVICE_CODE_TTL_S`; a poll sooner than
`interval` after the previous one gets `slow_down` and the interval grows by 5 s for good (RFC 8628 3.5).
Refresh tokens rotate: each refresh returns a new one and the old one stops working.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

from starlette.requests import Request
from starlette.responses import Response

from atlas_desktop.sandbox.atlas.wire import ApiError, dumps

CLIENT_ID = "atlas-desktop"
KNOWN_SCOPES = frozenset({"inventory", "erp"})
DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
DEVICE_CODE_TTL_S = 600
DEVICE_INTERVAL_S = 5
ACCESS_TOKEN_TTL_S = 3600
_USER_CODE_ALPHABET = "BCDFGHJKLMNPQRSTVWXZ"  # no vowels, so no words (RFC 8628 6.1)


@dataclass(frozen=True)
class Account:
    account_id: str = "acct_sandbox"
    company_name: str = "Sandbox Pharma Distribution"
    user_email: str = "buyer@sandbox.atlas.pharma"


@dataclass(frozen=True)
class Principal:
    token: str
    scopes: frozenset[str]
    account: Account


@dataclass
class DeviceCode:
    device_code: str
    user_code: str
    scopes: frozenset[str]
    expires_at: float
    interval: int = DEVICE_INTERVAL_S
    last_poll: float | None = None
    status: str = "pending"  # pending | approved | denied | used


@dataclass
class _Grant:
    scopes: frozenset[str]
    expires_at: float | None = None


@dataclass
class AuthService:
    clock: Callable[[], float]
    account: Account = field(default_factory=Account)
    rng: random.Random = field(default_factory=random.Random)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._tokens: dict[str, _Grant] = {}
        self._refresh: dict[str, frozenset[str]] = {}
        self._devices: dict[str, DeviceCode] = {}

    # ---- tokens -------------------------------------------------------------------------------------
    def _random(self, prefix: str, nbytes: int = 24) -> str:
        return prefix + self.rng.getrandbits(nbytes * 8).to_bytes(nbytes, "big").hex()

    def issue_api_token(self, scopes: frozenset[str] = KNOWN_SCOPES, token: str | None = None) -> str:
        token = token or self._random("atl_pat_")
        with self._lock:
            self._tokens[token] = _Grant(frozenset(scopes))
        return token

    def revoke(self, token: str) -> None:
        with self._lock:
            self._tokens.pop(token, None)

    def issued_tokens(self) -> list[str]:
        with self._lock:
            return [*self._tokens, *self._refresh]

    def authenticate(self, header: str | None) -> Principal:
        if not header or not header.startswith("Bearer ") or not header[7:].strip():
            raise ApiError(401, "unauthorized", "send the API token as 'Authorization: Bearer <token>'")
        token = header[7:].strip()
        with self._lock:
            grant = self._tokens.get(token)
        if grant is None:
            raise ApiError(
                401, "unauthorized", "the token is not valid (revoked, mistyped or from another account)"
            )
        if grant.expires_at is not None and self.clock() >= grant.expires_at:
            raise ApiError(
                401, "unauthorized", "the access token has expired; refresh it", {"reason": "expired"}
            )
        return Principal(token, grant.scopes, self.account)

    @staticmethod
    def require_scope(principal: Principal, scope: str) -> None:
        if scope not in principal.scopes:
            raise ApiError(
                403,
                "forbidden",
                f"the token lacks the '{scope}' scope",
                {"required_scope": scope, "scopes": sorted(principal.scopes)},
            )

    def _token_response(self, scopes: frozenset[str]) -> Response:
        access = self._random("atl_at_")
        refresh = self._random("atl_rt_")
        with self._lock:
            self._tokens[access] = _Grant(scopes, self.clock() + ACCESS_TOKEN_TTL_S)
            self._refresh[refresh] = scopes
        body = {
            "access_token": access,
            "token_type": "Bearer",
            "expires_in": ACCESS_TOKEN_TTL_S,
            "refresh_token": refresh,
            "scope": " ".join(sorted(scopes)),
        }
        return Response(
            dumps(body), 200, media_type="application/json", headers={"Cache-Control": "no-store"}
        )

    # ---- device grant -------------------------------------------------------------------------------
    def _user_code(self) -> str:
        letters = "".join(self.rng.choice(_USER_CODE_ALPHABET) for _ in range(8))
        return f"{letters[:4]}-{letters[4:]}"

    def start_device(self, scope_text: str) -> DeviceCode:
        scopes = frozenset(scope_text.split())
        if not scopes or not scopes <= KNOWN_SCOPES:
            raise OAuthError("invalid_scope", f"scope must be among: {' '.join(sorted(KNOWN_SCOPES))}")
        code = DeviceCode(
            device_code=self._random("atl_dc_", 32),
            user_code=self._user_code(),
            scopes=scopes,
            expires_at=self.clock() + DEVICE_CODE_TTL_S,
        )
        with self._lock:
            self._devices[code.device_code] = code
        return code

    def find_user_code(self, user_code: str) -> DeviceCode | None:
        wanted = user_code.replace("-", "").replace(" ", "").upper()
        with self._lock:
            return next((d for d in self._devices.values() if d.user_code.replace("-", "") == wanted), None)

    def decide(self, user_code: str, *, approve: bool) -> DeviceCode:
        code = self.find_user_code(user_code)
        if code is None or code.status != "pending" or self.clock() >= code.expires_at:
            raise ApiError(404, "not_found", "no pending sign-in with that code", {"user_code": user_code})
        code.status = "approved" if approve else "denied"
        return code

    def poll(self, device_code: str) -> Response:
        now = self.clock()
        with self._lock:
            code = self._devices.get(device_code)
            if code is None or code.status == "used":
                raise OAuthError("invalid_grant", "unknown or already used device_code")
            if now >= code.expires_at:
                raise OAuthError("expired_token", "the code expired; start the sign-in again")
            if code.status == "denied":
                raise OAuthError("access_denied", "the user declined the sign-in")
            too_soon = code.last_poll is not None and now - code.last_poll < code.interval
            code.last_poll = now
            if too_soon:
                code.interval += 5
                raise OAuthError("slow_down", f"poll at most every {code.interval} s", interval=code.interval)
            if code.status == "pending":
                raise OAuthError("authorization_pending", "waiting for the user to approve")
            code.status = "used"
            scopes = code.scopes
        return self._token_response(scopes)

    def refresh(self, refresh_token: str) -> Response:
        with self._lock:
            scopes = self._refresh.pop(refresh_token, None)
        if scopes is None:
            raise OAuthError("invalid_grant", "the refresh token is not valid; sign in again")
        return self._token_response(scopes)

    # ---- routes -------------------------------------------------------------------------------------
    async def device_code_route(self, request: Request) -> Response:
        form = await oauth_form(request)
        check_client(form)
        code = self.start_device(form.get("scope", ""))
        base = str(request.base_url).rstrip("/")
        body = {
            "device_code": code.device_code,
            "user_code": code.user_code,
            "verification_uri": f"{base}/device",
            "verification_uri_complete": f"{base}/device?user_code={code.user_code}",
            "expires_in": DEVICE_CODE_TTL_S,
            "interval": code.interval,
        }
        return Response(
            dumps(body), 200, media_type="application/json", headers={"Cache-Control": "no-store"}
        )

    async def token_route(self, request: Request) -> Response:
        form = await oauth_form(request)
        grant = form.get("grant_type")
        if grant == DEVICE_GRANT:
            check_client(form)
            if not form.get("device_code"):
                raise OAuthError("invalid_request", "device_code is required")
            return self.poll(form["device_code"])
        if grant == "refresh_token":
            check_client(form)
            if not form.get("refresh_token"):
                raise OAuthError("invalid_request", "refresh_token is required")
            return self.refresh(form["refresh_token"])
        raise OAuthError(
            "unsupported_grant_type", "grant_type must be the device code grant or refresh_token"
        )


class OAuthError(Exception):
    """An RFC 6749 5.2 error answer: 400 (401 for invalid_client) {"error", "error_description"}."""

    def __init__(self, error: str, description: str, status: int = 400, **extra: Any) -> None:
        super().__init__(description)
        self.error = error
        self.description = description
        self.status = status
        self.extra = extra

    def response(self) -> Response:
        body = {"error": self.error, "error_description": self.description, **self.extra}
        return Response(
            dumps(body), self.status, media_type="application/json", headers={"Cache-Control": "no-store"}
        )


async def oauth_form(request: Request) -> dict[str, str]:
    if request.headers.get("content-type", "").split(";")[0].strip() != "application/x-www-form-urlencoded":
        raise OAuthError("invalid_request", "send the form as application/x-www-form-urlencoded")
    body = await request.body()
    try:
        parsed = parse_qs(body.decode(), keep_blank_values=True, strict_parsing=False)
    except UnicodeDecodeError:
        raise OAuthError("invalid_request", "the form is not UTF-8") from None
    if any(len(values) > 1 for values in parsed.values()):
        raise OAuthError("invalid_request", "a parameter was sent more than once")
    return {name: values[0] for name, values in parsed.items()}


def check_client(form: dict[str, str]) -> None:
    if form.get("client_id") != CLIENT_ID:
        raise OAuthError("invalid_client", f"client_id must be {CLIENT_ID}", status=401)

