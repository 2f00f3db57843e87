"""OAuth 1.0a (NetSuite Token-Based Authentication) verification per RFC 5849, HMAC-SHA256 only."""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import re
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import parse_qsl, quote, unquote

log = logging.getLogger("atlas_desktop.sandbox.netsuite.auth")

TIMESTAMP_WINDOW_S = 300
MIN_NONCE_LENGTH = 6
_REQUIRED = (
    "oauth_consumer_key",
    "oauth_token",
    "oauth_signature_method",
    "oauth_timestamp",
    "oauth_nonce",
    "oauth_signature",
)
# name="value" pairs; values are percent-encoded so they never contain a quote (RFC 5849 §3.5.1)
_HEADER_PARAM = re.compile(r'\s*([A-Za-z0-9_.~%-]+)\s*=\s*"([^"]*)"\s*(?:,|$)')


class AuthFailure(Exception):
    """Why a request was refused; never shown to the caller (it gets the generic INVALID_LOGIN)."""


def enc(value: str) -> str:
    """RFC 5849 §3.6: percent-encode everything except the unreserved set."""
    return quote(value, safe="~-._")


def parse_authorization(header: str) -> dict[str, str]:
    """`OAuth realm="..", oauth_x=".."` -> decoded dict. Refuses duplicates and anything malformed."""
    scheme, _, rest = header.strip().partition(" ")
    if scheme.lower() != "oauth":
        raise AuthFailure(f"Authorization scheme is {scheme!r}, not OAuth")
    params: dict[str, str] = {}
    pos = 0
    rest = rest.strip()
    while pos < len(rest):
        match = _HEADER_PARAM.match(rest, pos)
        if not match:
            raise AuthFailure(f"malformed Authorization header near position {pos}")
        name, value = unquote(match.group(1)), unquote(match.group(2))
        if name in params:
            raise AuthFailure(f"parameter {name} appears twice in the Authorization header")
        params[name] = value
        pos = match.end()
    return params


def base_string_uri(scheme: str, host_header: str, path: str) -> str:
    """RFC 5849 §3.4.1.2: lowercase scheme and host, default port dropped, path as addressed, no query."""
    scheme = scheme.lower()
    host = host_header.strip().lower()
    default = {"http": ":80", "https": ":443"}.get(scheme)
    if default and host.endswith(default):
        host = host[: -len(default)]
    return f"{scheme}://{host}{path or '/'}"


def signature_base_string(method: str, uri: str, params: list[tuple[str, str]]) -> str:
    """RFC 5849 §3.4.1.1/§3.4.1.3.2: params encoded, sorted by name then value, joined with & and =."""
    encoded = sorted((enc(name), enc(value)) for name, value in params)
    normalized = "&".join(f"{name}={value}" for name, value in encoded)
    return "&".join((method.upper(), enc(uri), enc(normalized)))


def hmac_sha256(base_string: str, consumer_secret: str, token_secret: str) -> str:
    key = f"{enc(consumer_secret)}&{enc(token_secret)}"
    digest = hmac.new(key.encode(), base_string.encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


@dataclass
class TbaVerifier:
    """Verifies TBA headers for one account; remembers used nonces; records why requests failed."""

    account_id: str
    consumers: Mapping[str, str]  # consumer key -> consumer secret
    tokens: Mapping[str, tuple[str, str]]  # token id -> (token secret, consumer key it was issued to)
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    failures: list[str] = field(default_factory=list)
    _seen: dict[tuple[str, str, str], int] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def verify(
        self, method: str, scheme: str, host: str, path: str, query: bytes | str, header: str | None
    ) -> str:
        """Return the token id on success; raise AuthFailure (after logging the reason) otherwise."""
        try:
            return self._verify(method, scheme, host, path, query, header)
        except AuthFailure as exc:
            reason = str(exc)
            self.failures.append(reason)
            log.warning("TBA refused %s %s: %s", method, path, reason)
            raise

    def _verify(
        self, method: str, scheme: str, host: str, path: str, query: bytes | str, header: str | None
    ) -> str:
        if not header:
            raise AuthFailure("no Authorization header")
        params = parse_authorization(header)
        realm = params.pop("realm", None)
        if realm is None:
            raise AuthFailure("realm missing")
        if realm != self.account_id:
            raise AuthFailure(
                f"realm {realm!r} is not the account id {self.account_id!r} (case and _ matter)"
            )
        stray = sorted(name for name in params if not name.startswith("oauth_"))
        if stray:
            raise AuthFailure(f"non-OAuth parameters in the Authorization header: {', '.join(stray)}")
        missing = [name for name in _REQUIRED if not params.get(name)]
        if missing:
            raise AuthFailure(f"missing {', '.join(missing)}")
        method_name = params["oauth_signature_method"]
        if method_name != "HMAC-SHA256":
            raise AuthFailure(f"signature method {method_name} refused (only HMAC-SHA256)")
        version = params.get("oauth_version")
        if version is not None and version != "1.0":
            raise AuthFailure(f"oauth_version {version!r} is not 1.0")
        consumer_secret = self.consumers.get(params["oauth_consumer_key"])
        if consumer_secret is None:
            raise AuthFailure("consumer key unknown")
        token = self.tokens.get(params["oauth_token"])
        if token is None:
            raise AuthFailure("token unknown")
        token_secret, token_consumer = token
        if token_consumer != params["oauth_consumer_key"]:
            raise AuthFailure("token was issued to another integration (consumer key)")
        nonce = params["oauth_nonce"]
        if len(nonce) < MIN_NONCE_LENGTH:
            raise AuthFailure(f"nonce shorter than {MIN_NONCE_LENGTH} characters")
        raw_ts = params["oauth_timestamp"]
        if not raw_ts.isdigit():
            raise AuthFailure("timestamp is not a positive integer")
        timestamp = int(raw_ts)
        now = int(self.clock().timestamp())
        if abs(now - timestamp) > TIMESTAMP_WINDOW_S:
            raise AuthFailure(f"timestamp {timestamp} is {now - timestamp:+d} s away from server time")
        query_text = query.decode("latin-1") if isinstance(query, bytes) else query
        query_params = parse_qsl(query_text, keep_blank_values=True)
        clashing = sorted({name for name, _ in query_params} & set(params))
        if clashing:
            raise AuthFailure(f"query parameters repeated in the Authorization header: {', '.join(clashing)}")
        signed = [(name, value) for name, value in params.items() if name != "oauth_signature"]
        base = signature_base_string(method, base_string_uri(scheme, host, path), signed + query_params)
        expected = hmac_sha256(base, consumer_secret, token_secret)
        if not hmac.compare_digest(expected.encode(), params["oauth_signature"].encode()):
            # the base string names the consumer key and token id, secrets in this project: never logged
            raise AuthFailure("signature mismatch (InvalidSignature)")
        key = (params["oauth_token"], nonce, raw_ts)
        with self._lock:
            if key in self._seen:
                raise AuthFailure("nonce already used with this timestamp (NonceUsed)")
            self._forget_old(now)
            self._seen[key] = timestamp
        return params["oauth_token"]

    def _forget_old(self, now: int) -> None:
        # a (nonce, timestamp) older than the window can never pass the timestamp check again
        if len(self._seen) < 10_000:
            return
        for key, ts in list(self._seen.items()):
            if ts < now - TIMESTAMP_WINDOW_S - 1:
                del self._seen[key]
