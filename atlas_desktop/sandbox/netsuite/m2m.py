"""OAuth 2.0 client credentials (M2M): integration records, certificate mappings, the token grant.

Where Oracle's documentation is silent (the token endpoint's error bodies), the emulator answers as RFC
6749 §5.2 asks (`error`, `error_description`) and keeps the detailed reason in `failures`, NetSuite's
Login Audit Trail. Decisions are listed in NOTES of the package.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from atlas_desktop.sandbox.netsuite import jws

log = logging.getLogger("atlas_desktop.sandbox.netsuite.auth")

TOKEN_PATH = "/services/rest/auth/oauth2/v1/token"
GRANT_TYPE = "client_credentials"
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
SCOPES = frozenset({"rest_webservices", "restlets", "suite_analytics"})
MAX_ASSERTION_LIFETIME_S = 3600  # exp <= iat + 3600
CLOCK_SKEW_S = 60  # tolerance on iat/exp; beyond it the assertion is "not yet valid" / "expired"
MAX_CERTIFICATE_DAYS = 730  # "Certificates last at most 2 years"
DEFAULT_TOKEN_LIFETIME = timedelta(minutes=60)
DEFAULT_ROLE = "Atlas Integration"


class TokenError(Exception):
    """A refused token request: HTTP status, RFC 6749 `error` and a short description."""

    def __init__(self, status: int, error: str, description: str, reason: str) -> None:
        super().__init__(f"{status} {error}: {reason}")
        self.status = status
        self.error = error
        self.description = description
        self.reason = reason  # the audit-trail detail, which may be longer than the description

    def body(self) -> dict[str, str]:
        return {"error": self.error, "error_description": self.description}


class SetupError(ValueError):
    """The M2M setup page refused an upload (bad certificate, unknown integration or role)."""


@dataclass
class Integration:
    name: str
    client_id: str
    m2m_grant: bool = True  # "Client Credentials (Machine to Machine) Grant" checked
    enabled: bool = True


@dataclass
class CertificateMapping:
    certificate_id: str
    client_id: str
    entity: str
    role: str
    public_key: Any
    not_after: datetime
    revoked: bool = False


@dataclass
class M2MSetup:
    """One account's OAuth 2.0 setup and the bearer tokens it issued."""

    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    token_lifetime: timedelta = DEFAULT_TOKEN_LIFETIME
    feature_enabled: bool = True  # Enable Features > SuiteCloud > OAuth 2.0
    integrations: dict[str, Integration] = field(default_factory=dict)
    certificates: dict[str, CertificateMapping] = field(default_factory=dict)
    # roles with "Log in using OAuth 2.0 Access Tokens" and "REST Web Services"
    roles: dict[str, bool] = field(default_factory=lambda: {DEFAULT_ROLE: True})
    failures: list[str] = field(default_factory=list)
    tokens_issued: int = 0
    _tokens: dict[str, tuple[str, datetime]] = field(default_factory=dict)  # sha256 -> (cert id, expiry)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    # ---- setup pages ---------------------------------------------------------------------------------

    def add_integration(self, name: str, *, seed: str, m2m_grant: bool = True) -> Integration:
        client_id = hashlib.sha256(f"atlas-sandbox:netsuite:m2m:{seed}:{name}".encode()).hexdigest()
        integration = Integration(name, client_id, m2m_grant)
        self.integrations[client_id] = integration
        return integration

    def upload_certificate(self, client_id: str, entity: str, role: str, pem: bytes) -> str:
        """OAuth 2.0 Client Credentials (M2M) Setup > Create New: the Certificate ID it shows."""
        if client_id not in self.integrations:
            raise SetupError("Select an application (integration record) of this account.")
        if role not in self.roles:
            raise SetupError(f"The role {role!r} does not exist.")
        try:
            certificate = x509.load_pem_x509_certificate(pem)
        except ValueError:
            raise SetupError("The file is not a PEM X.509 certificate.") from None
        key = certificate.public_key()
        if isinstance(key, rsa.RSAPublicKey):
            if key.key_size < 2048:  # a judgement where Oracle is silent: keys below 2048 bits
                raise SetupError("RSA keys must have at least 2048 bits.")
        elif not isinstance(key, ec.EllipticCurvePublicKey):
            raise SetupError("The certificate's key must be RSA or EC (P-256, P-384, P-521).")
        start, end = certificate.not_valid_before_utc, certificate.not_valid_after_utc
        if end - start > timedelta(days=MAX_CERTIFICATE_DAYS + 1):
            raise SetupError("The certificate is valid for more than 2 years.")
        if end <= self.clock():
            raise SetupError("The certificate has expired.")
        certificate_id = secrets.token_urlsafe(32)
        self.certificates[certificate_id] = CertificateMapping(
            certificate_id, client_id, entity, role, key, end
        )
        return certificate_id

    def revoke(self, certificate_id: str) -> None:
        self.certificates[certificate_id].revoked = True

    # ---- token endpoint -----------------------------------------------------------------------------

    def grant(self, form: Mapping[str, str], token_url: str) -> dict[str, str]:
        """The token answer, or TokenError (its reason is logged to `failures` first)."""
        try:
            return self._grant(form, token_url)
        except TokenError as exc:
            self.failures.append(exc.reason)
            log.warning("OAuth 2.0 token refused: %s", exc.reason)
            raise

    def _grant(self, form: Mapping[str, str], token_url: str) -> dict[str, str]:
        if form.get("grant_type") != GRANT_TYPE:
            raise TokenError(400, "unsupported_grant_type", "The grant type is not supported.",
                             f"grant_type {form.get('grant_type')!r} is not client_credentials")  # fmt: skip
        if form.get("client_assertion_type") != ASSERTION_TYPE:
            raise TokenError(400, "invalid_request", "The client assertion type is not supported.",
                             "client_assertion_type is not jwt-bearer")  # fmt: skip
        try:
            token = jws.parse(form.get("client_assertion") or "")
        except jws.Malformed as exc:
            raise TokenError(400, "invalid_request", "The client assertion is malformed.",
                             f"client_assertion is not a JWT ({exc})") from None  # fmt: skip
        if not self.feature_enabled:
            raise TokenError(400, "unauthorized_client", "OAuth 2.0 is not enabled for this account.",
                             "the OAuth 2.0 feature is not enabled")  # fmt: skip
        alg = token.header.get("alg")
        if alg not in jws.ALGORITHMS:
            raise TokenError(400, "invalid_request", "The JWT algorithm is not supported.",
                             f"algorithm {alg!r} refused (PS256/384/512, ES256/384/512 only)")  # fmt: skip
        mapping = self.certificates.get(str(token.header.get("kid") or ""))
        if mapping is None:
            raise TokenError(401, "invalid_client", "The certificate ID (kid) is not valid.",
                             "kid names no certificate mapping")  # fmt: skip
        if mapping.revoked:
            raise TokenError(400, "invalid_grant", "The certificate has been revoked.",
                             "the certificate mapping is revoked")  # fmt: skip
        now = self.clock()
        if mapping.not_after <= now:
            raise TokenError(400, "invalid_grant", "The certificate has expired.",
                             f"the certificate expired on {mapping.not_after.isoformat()}")  # fmt: skip
        if not jws.verify(token, mapping.public_key):
            raise TokenError(401, "invalid_client", "The client assertion signature is not valid.",
                             "signature does not match the certificate")  # fmt: skip
        claims = token.payload
        integration = self.integrations.get(str(claims.get("iss") or ""))
        if integration is None or integration.client_id != mapping.client_id:
            raise TokenError(401, "invalid_client", "The client ID (iss) is not valid.",
                             "iss is not the client ID of the certificate's application")  # fmt: skip
        if not integration.enabled or not integration.m2m_grant:
            raise TokenError(401, "unauthorized_client",
                             "The application is not allowed to use the client credentials grant.",
                             "integration record without the Client Credentials (M2M) grant")  # fmt: skip
        audience = claims.get("aud")
        # RFC 7519 §4.1.3: one string or a list of strings (a substring of a string does not count)
        if not (audience == token_url or (isinstance(audience, list) and token_url in audience)):
            raise TokenError(400, "invalid_grant", "The audience (aud) is not valid.",
                             f"aud is not {token_url}")  # fmt: skip
        self._check_times(claims, now)
        scopes = {s.strip() for s in str(claims.get("scope") or "").replace(" ", ",").split(",") if s.strip()}
        if "rest_webservices" not in scopes or not scopes <= SCOPES:
            raise TokenError(400, "invalid_scope", "The scope is not valid.",
                             f"scope {sorted(scopes)}: no rest_webservices or an unknown scope")  # fmt: skip
        if not self.roles.get(mapping.role, False):
            raise TokenError(400, "unauthorized_client", "The role does not have the required permissions.",
                             f"role {mapping.role!r} lacks 'Log in using OAuth 2.0 Access Tokens'",
                             )  # fmt: skip
        return self._issue(mapping.certificate_id, now)

    @staticmethod
    def _check_times(claims: Mapping[str, Any], now: datetime) -> None:
        iat, exp = claims.get("iat"), claims.get("exp")
        if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in (iat, exp)):
            raise TokenError(400, "invalid_request", "The client assertion lacks iat or exp.",
                             "iat or exp missing or not a number")  # fmt: skip
        assert isinstance(iat, int | float) and isinstance(exp, int | float)
        if exp - iat > MAX_ASSERTION_LIFETIME_S or exp <= iat:
            raise TokenError(400, "invalid_grant", "The client assertion lifetime is not valid.",
                             f"exp is {exp - iat:+.0f} s from iat (at most 3600)")  # fmt: skip
        stamp = now.timestamp()
        if iat > stamp + CLOCK_SKEW_S:
            raise TokenError(400, "invalid_grant", "The client assertion is not yet valid (iat).",
                             f"iat is {iat - stamp:+.0f} s ahead of server time")  # fmt: skip
        if exp <= stamp - CLOCK_SKEW_S:
            raise TokenError(400, "invalid_grant", "The client assertion has expired (exp).",
                             f"exp is {exp - stamp:+.0f} s behind server time")  # fmt: skip

    def _issue(self, certificate_id: str, now: datetime) -> dict[str, str]:
        value = secrets.token_urlsafe(48)
        with self._lock:
            self._forget_expired(now)
            # only a hash is kept: the token itself is the caller's
            self._tokens[hashlib.sha256(value.encode()).hexdigest()] = (
                certificate_id,
                now + self.token_lifetime,
            )
            self.tokens_issued += 1
        seconds = int(self.token_lifetime.total_seconds())
        return {"access_token": value, "expires_in": str(seconds), "token_type": "bearer"}

    def _forget_expired(self, now: datetime) -> None:
        for key, (_, expiry) in list(self._tokens.items()):
            if expiry <= now:
                del self._tokens[key]

    # ---- bearer tokens on REST and SuiteQL --------------------------------------------------------------

    def check_bearer(self, value: str) -> str | None:
        """Why a bearer token is refused, or None when it is valid (unknown, expired, revoked certificate)."""
        with self._lock:
            entry = self._tokens.get(hashlib.sha256(value.encode()).hexdigest())
        if entry is None:
            return "bearer token unknown"
        certificate_id, expiry = entry
        if expiry <= self.clock():
            return "bearer token expired"
        mapping = self.certificates[certificate_id]
        if mapping.revoked or not self.roles.get(mapping.role, False):
            return "bearer token's certificate revoked or role without permission"
        return None
