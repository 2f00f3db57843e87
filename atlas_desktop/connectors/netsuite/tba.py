"""NetSuite token-based authentication: an httpx.Auth that signs each request (OAuth 1.0a, HMAC-SHA256)."""

from __future__ import annotations

import logging
import secrets as _random
import time
from collections.abc import Generator

import httpx
from oauthlib.oauth1 import SIGNATURE_HMAC_SHA256, SIGNATURE_TYPE_AUTH_HEADER, Client

from atlas_desktop.domain.secrets import Secret

# oauthlib logs the collected OAuth parameters (consumer key, token id) and the signature base string
# at DEBUG: with `-v` they would reach stderr and the log file. Its INFO and above carry no credentials.
logging.getLogger("oauthlib").setLevel(logging.INFO)

NONCE_ALPHABET = "0123456789abcdef"  # hex: letters and digits only
# Oracle asks for at least 6 characters, ideally 20; letters and digits only (Oracle's SOAP note).
NONCE_LENGTH = 32


def netsuite_host(account_id: str) -> str:
    """`1234567_SB1` -> `1234567-sb1.suitetalk.api.netsuite.com`."""
    return f"{account_id.strip().lower().replace('_', '-')}.suitetalk.api.netsuite.com"


def new_nonce() -> str:
    # One CSPRNG call per request (128 bits as 32 hex characters), not one per character: every
    # SuiteQL page is signed, so a per-character choice() loop cost real time on the event loop.
    return _random.token_hex(NONCE_LENGTH // 2)


def authorization_header(
    method: str,
    url: str,
    *,
    realm: str,
    consumer_key: str,
    consumer_secret: str,
    token_id: str,
    token_secret: str,
    nonce: str | None = None,
    timestamp: str | None = None,
) -> str:
    """The `Authorization: OAuth ...` value for one request.

    Query parameters are part of the signature (oauthlib reads them from `url`) but stay in the URL;
    the body is never passed, so JSON bodies are not signed and no `oauth_body_hash` is added
    (NetSuite signs form bodies only, and RESTlets/REST take JSON).
    """
    client = Client(
        consumer_key,
        client_secret=consumer_secret,
        resource_owner_key=token_id,
        resource_owner_secret=token_secret,
        signature_method=SIGNATURE_HMAC_SHA256,
        signature_type=SIGNATURE_TYPE_AUTH_HEADER,
        realm=realm,
        nonce=nonce or new_nonce(),
        timestamp=timestamp or str(int(time.time())),
    )
    # The stub takes a Literal of method names; httpx gives the method as a str.
    _, headers, _ = client.sign(url, http_method=method.upper())  # type: ignore[arg-type]
    return headers["Authorization"]


class TbaAuth(httpx.Auth):
    """Signs every request as it is sent, so a retried request gets a fresh nonce and timestamp."""

    requires_request_body = False
    requires_response_body = False

    def __init__(
        self,
        *,
        account_id: str,
        consumer_key: Secret,
        consumer_secret: Secret,
        token_id: Secret,
        token_secret: Secret,
    ) -> None:
        # realm is the account id verbatim: a lowercase `_sb1` is refused by NetSuite, and the
        # connection test explains that rather than hiding it by rewriting the value here.
        self.realm = account_id
        self._consumer_key = consumer_key
        self._consumer_secret = consumer_secret
        self._token_id = token_id
        self._token_secret = token_secret

    def __repr__(self) -> str:
        return f"TbaAuth(realm={self.realm!r})"

    def sign(self, request: httpx.Request) -> None:
        request.headers["Authorization"] = authorization_header(
            request.method,
            str(request.url),
            realm=self.realm,
            consumer_key=self._consumer_key.reveal(),
            consumer_secret=self._consumer_secret.reveal(),
            token_id=self._token_id.reveal(),
            token_secret=self._token_secret.reveal(),
        )

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        # httpx runs this flow once per send: HttpClient's retries each call `send` again, so each
        # attempt is signed anew (a replayed nonce would be refused as NonceUsed).
        self.sign(request)
        yield request
