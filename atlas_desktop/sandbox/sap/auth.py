"""Who is calling: OAuth 2.0 client-credentials bearer tokens, Basic users, X.509 client certificates."""

from __future__ import annotations

import base64
import binascii
import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import NameOID

from atlas_desktop.sandbox.sap.config import SERVICE_SCENARIOS, AuthMode, SapConfig

PEER_CERT_STATE_KEY = "sap_sandbox_client_cert_der"


@dataclass
class AuthRefused(Exception):
    """401 with SAP's logon-failure text; `headers` carry WWW-Authenticate."""

    message: str
    headers: dict[str, str]


@dataclass
class _Token:
    client_id: str
    scope: str
    expires_at: float


class Authenticator:
    def __init__(self, config: SapConfig, clock: Callable[[], float] = time.time) -> None:
        self.config = config
        self.clock = clock
        self._tokens: dict[str, _Token] = {}

    @property
    def realm(self) -> str:
        return f"SAP NetWeaver Application Server [{self.config.system_id}/{self.config.sap_client}]"

    # -- OData requests --------------------------------------------------------------------------------

    def authenticate(self, headers: Mapping[str, str], scope: Mapping[str, Any]) -> str:
        """The SAP user of this request, or AuthRefused."""
        mode = self.config.auth_mode
        authorization = headers.get("authorization", "")
        if mode == AuthMode.X509:
            return self._certificate_user(scope)
        if mode == AuthMode.OAUTH2 and authorization[:7].lower() == "bearer ":
            token = self._tokens.get(authorization[7:].strip())
            if token is None or token.expires_at <= self.clock():
                raise AuthRefused(
                    "The access token is expired or invalid",
                    {"www-authenticate": 'Bearer realm="SAP", error="invalid_token"'},
                )
            return token.client_id
        if authorization[:6].lower() == "basic " and (
            mode == AuthMode.BASIC or self.config.allow_basic_with_oauth
        ):
            user, password = _basic(authorization)
            if user == self.config.username and secrets.compare_digest(
                password.encode(), self.config.password.encode()
            ):
                return user
            raise AuthRefused("Logon failed: user or password incorrect", self._challenge())
        raise AuthRefused("Logon failed: no credentials given", self._challenge())

    def _challenge(self) -> dict[str, str]:
        if self.config.auth_mode == AuthMode.OAUTH2:
            return {"www-authenticate": f'Bearer realm="{self.realm}"'}
        return {"www-authenticate": f'Basic realm="{self.realm}"'}

    def _certificate_user(self, scope: Mapping[str, Any]) -> str:
        der = _peer_certificate(scope)
        if der is None:
            raise AuthRefused(
                "Logon failed: no client certificate was presented (connect over TLS with your certificate)",
                {},
            )
        cert = x509.load_der_x509_certificate(der)
        names = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
        common_name = str(names[0].value) if names else ""
        user = self.config.cert_users.get(common_name)
        if user is None:
            raise AuthRefused(f"Logon failed: certificate '{common_name}' is not mapped to a user", {})
        return user

    # -- token endpoint --------------------------------------------------------------------------------

    def issue_token(self, headers: Mapping[str, str], body: bytes) -> tuple[int, dict[str, Any]]:
        """POST /sap/bc/sec/oauth2/token: client credentials with HTTP Basic client authentication."""
        form = dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
        if "client_secret" in form:
            return 401, {
                "error": "invalid_client",
                "error_description": "Send client credentials with HTTP Basic",
            }
        authorization = headers.get("authorization", "")
        if authorization[:6].lower() != "basic ":
            return 401, {"error": "invalid_client", "error_description": "Client authentication failed"}
        client_id, secret = _basic(authorization)
        if client_id != self.config.client_id or not secrets.compare_digest(
            secret.encode(), self.config.client_secret.encode()
        ):
            return 401, {"error": "invalid_client", "error_description": "Client authentication failed"}
        if form.get("grant_type") != "client_credentials":
            return 400, {
                "error": "unsupported_grant_type",
                "error_description": "Use grant_type=client_credentials",
            }
        known = {f"{service}_0001" for service in SERVICE_SCENARIOS}
        requested = form.get("scope", "").split()
        unknown = [s for s in requested if s not in known]
        if unknown:
            return 400, {"error": "invalid_scope", "error_description": f"Unknown scope {unknown[0]}"}
        value = secrets.token_urlsafe(32)
        granted = " ".join(requested) or " ".join(sorted(known))
        lifetime = self.config.token_lifetime_s
        self._tokens[value] = _Token(client_id, granted, self.clock() + lifetime)
        return 200, {"access_token": value, "token_type": "Bearer", "expires_in": lifetime, "scope": granted}

    def expire_tokens(self) -> int:
        """Test helper: every issued access token is now expired (the next call answers 401)."""
        for token in self._tokens.values():
            token.expires_at = 0.0
        return len(self._tokens)


def _basic(authorization: str) -> tuple[str, str]:
    try:
        decoded = base64.b64decode(authorization[6:].strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return "", ""
    user, _, password = decoded.partition(":")
    return user, password


def _peer_certificate(scope: Mapping[str, Any]) -> bytes | None:
    """The client certificate (DER) from the ASGI TLS extension or from our uvicorn protocol's state."""
    tls = (scope.get("extensions") or {}).get("tls") or {}
    chain = tls.get("client_cert_chain") or []
    if chain:
        first = chain[0]
        if isinstance(first, str):
            return x509.load_pem_x509_certificate(first.encode()).public_bytes(Encoding.DER)
        return bytes(first)
    state = scope.get("state") or {}
    der = state.get(PEER_CERT_STATE_KEY)
    return bytes(der) if der else None
