"""NetSuite OAuth 2.0 client credentials (M2M): the signed client assertion and the Bearer-token httpx.Auth.

The JWT is made by PyJWT on `cryptography` (a well-kept JOSE library, not hand-made): header
`kid` = the Certificate ID, `alg` PS256 for RSA keys and ES256 for EC P-256 keys (never RS256, which
NetSuite refuses); payload `iss` = the Client ID, `scope` = rest_webservices, `aud` = the token endpoint,
`iat`, `exp` <= iat + 3600. The token is kept in memory only (no refresh token exists in this flow: a
new process simply asks again), renewed ahead of expiry under an asyncio.Lock so concurrent requests
share one token call, and once more on a 401.
"""

from __future__ import annotations

import asyncio
import email.utils
import logging
import math
import uuid
from collections.abc import AsyncGenerator, Callable, Generator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from atlas_desktop.connectors.bearer import renewing_bearer_flow
from atlas_desktop.connectors.netsuite.token_errors import token_refused, token_unusable
from atlas_desktop.connectors.offload import loads_json
from atlas_desktop.domain.errors import ConfigError
from atlas_desktop.domain.secrets import Secret

log = logging.getLogger(__name__)

TOKEN_PATH = "/services/rest/auth/oauth2/v1/token"
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
SCOPE = "rest_webservices"
ASSERTION_LIFETIME_S = 300  # well under NetSuite's 3600 ceiling: a leaked assertion is soon useless
REFRESH_AHEAD = timedelta(minutes=5)
_MAX_LIFETIME_S = 86_400  # a huge or non-finite expires_in would overflow the expiry time
NEW_KEY = "Make a new key pair (RSA 3072 or EC P-256) and upload its certificate."
SigningKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey
Clock = Callable[[], datetime]


def load_signing_key(pem: Secret) -> tuple[SigningKey, str]:
    """The private key and its JWS algorithm; ConfigError (never the key's text) if NetSuite cannot use it."""
    try:
        key = serialization.load_pem_private_key(pem.reveal().encode(), password=None)
    except (ValueError, TypeError):
        raise ConfigError(
            "private_key",
            "is not an unencrypted PEM private key",
            fix="Give the PEM file of the key whose certificate you uploaded to NetSuite (no passphrase).",
        ) from None
    if isinstance(key, rsa.RSAPrivateKey):
        if key.key_size < 2048:
            raise ConfigError("private_key", "is an RSA key shorter than 2048 bits",
                              fix=NEW_KEY)  # fmt: skip
        return key, "PS256"  # RSA-PSS: NetSuite does not accept RS256 (PKCS#1 v1.5)
    if isinstance(key, ec.EllipticCurvePrivateKey) and isinstance(key.curve, ec.SECP256R1):
        return key, "ES256"
    raise ConfigError("private_key", "is neither an RSA key nor an EC P-256 key",
                      fix=NEW_KEY)  # fmt: skip


@dataclass(frozen=True)
class M2MCredentials:
    client_id: Secret
    certificate_id: str
    private_key: Secret
    token_url: str

    def __repr__(self) -> str:
        return f"M2MCredentials(certificate_id={self.certificate_id!r})"


def client_assertion(credentials: M2MCredentials, key: SigningKey, alg: str, now: datetime) -> str:
    issued = int(now.timestamp())
    claims: dict[str, Any] = {
        "iss": credentials.client_id.reveal(),
        "scope": SCOPE,
        "aud": credentials.token_url,
        "iat": issued,
        "exp": issued + ASSERTION_LIFETIME_S,
        "jti": uuid.uuid4().hex,
    }
    return jwt.encode(claims, key, algorithm=alg, headers={"kid": credentials.certificate_id, "typ": "JWT"})


@dataclass(frozen=True)
class BearerToken:
    value: Secret
    issued_at: datetime
    expires_at: datetime

    def usable(self, now: datetime) -> bool:
        ahead = min(REFRESH_AHEAD, (self.expires_at - self.issued_at) / 2)
        return now < self.expires_at - ahead


def _lifetime(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError("expires_in")
    seconds = float(value)  # NetSuite sends it as a string, "3600"
    if not math.isfinite(seconds) or seconds <= 0:
        raise ValueError("expires_in")
    return min(seconds, _MAX_LIFETIME_S)


def server_skew(response: httpx.Response, now: datetime) -> timedelta | None:
    """Server time minus ours, from the answer's Date header (None when absent or unreadable)."""
    try:
        moment = email.utils.parsedate_to_datetime(response.headers.get("Date", ""))
    except (TypeError, ValueError, IndexError):
        return None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)) - now


class M2MAuth(httpx.Auth):
    """Adds `Authorization: Bearer` to every NetSuite request, getting the token as the module says."""

    def __init__(
        self,
        credentials: M2MCredentials,
        *,
        clock: Clock | None = None,
        count_call: Callable[[], None] | None = None,
    ) -> None:
        self.credentials = credentials
        self._key, self.algorithm = load_signing_key(credentials.private_key)
        self._clock = clock or (lambda: datetime.now(UTC))
        self._lock = asyncio.Lock()
        self._count_call = count_call or (lambda: None)
        self.token: BearerToken | None = None
        self.token_requests = 0

    def __repr__(self) -> str:
        return f"M2MAuth(certificate_id={self.credentials.certificate_id!r}, alg={self.algorithm})"

    def token_request(self) -> httpx.Request:
        now = self._clock()
        return httpx.Request(
            "POST",
            self.credentials.token_url,
            data={
                "grant_type": "client_credentials",
                "client_assertion_type": ASSERTION_TYPE,
                "client_assertion": client_assertion(self.credentials, self._key, self.algorithm, now),
            },
            headers={"Accept": "application/json"},
        )

    def accept(self, response: httpx.Response) -> BearerToken:
        """Read the token answer, or raise the error that names the cause and the fix."""
        now = self._clock()
        if response.status_code >= 300:
            body: dict[str, Any] = {}
            try:
                parsed = loads_json(response.content)
                body = parsed if isinstance(parsed, dict) else {}
            except (ValueError, UnicodeDecodeError):
                pass
            raise token_refused(
                response.status_code,
                str(body.get("error") or ""),
                str(body.get("error_description") or ""),
                server_skew(response, now),
            )
        try:
            body = loads_json(response.content)
            value = str(body["access_token"])
            lifetime = _lifetime(body.get("expires_in", 3600))
        except (ValueError, KeyError, TypeError, AttributeError, UnicodeDecodeError):
            raise token_unusable(response.status_code) from None
        token = BearerToken(Secret(value), now, now + timedelta(seconds=lifetime))
        self.token = token
        return token

    async def _new_token(self, stale: BearerToken | None) -> AsyncGenerator[httpx.Request, httpx.Response]:
        """Yield the token request unless another task renewed meanwhile (`stale` no longer current)."""
        async with self._lock:
            current = self.token
            if current is not None and current is not stale and current.usable(self._clock()):
                return
            self.token_requests += 1
            self._count_call()
            response = yield self.token_request()
            await response.aread()
            token = self.accept(response)
            log.info(
                "NetSuite: new OAuth 2.0 token, valid until %s",
                token.expires_at.isoformat(timespec="seconds"),
            )

    def async_auth_flow(self, request: httpx.Request) -> AsyncGenerator[httpx.Request, httpx.Response]:
        return renewing_bearer_flow(
            request,
            current=lambda: self.token,
            usable=lambda token: token.usable(self._clock()),
            secret=lambda token: token.value,
            renew=self._new_token,
        )

    def sync_auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        raise RuntimeError("M2MAuth is for httpx.AsyncClient only")
