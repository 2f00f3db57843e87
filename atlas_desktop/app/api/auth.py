"""The management API's key check (X-API-Key), in front of every route except the signed webhook receiver.

Fail closed: anything that is not a POST to the receiver needs the key, unknown paths and the OpenAPI
document included (the document names no secrets, but it maps the attack surface of a headless site).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from collections.abc import Callable

from starlette.types import ASGIApp, Receive, Scope, Send

from atlas_desktop.domain.secrets import Secret

log = logging.getLogger(__name__)

API_KEY_HEADER = "X-API-Key"
RECEIVER_PREFIX = "/api/erp/webhooks/"


def is_receiver_request(scope: Scope) -> bool:
    """POST /api/erp/webhooks/{erp}/{connection_id}: authenticated by its own signature instead."""
    path: str = scope.get("path", "")
    if scope.get("method") != "POST" or not path.startswith(RECEIVER_PREFIX):
        return False
    return len(path[len(RECEIVER_PREFIX) :].strip("/").split("/")) == 2


def key_matches(given: str | None, key: Secret) -> bool:
    if not given:
        return False
    # compare_digest on bytes: the time taken does not tell how much of the key was right.
    return hmac.compare_digest(given.encode("utf-8", "surrogateescape"), key.reveal().encode())


def api_key_id(key: Secret) -> str:
    """A short name for the key in the audit trail ("k" + 10 hex of its SHA-256): which key made a
    change, never the key itself; a rotated key gets a new name."""
    return "k" + hashlib.sha256(key.reveal().encode()).hexdigest()[:10]


class ApiKeyMiddleware:
    """401 for any request without the right key (receiver requests pass to their signature check)."""

    def __init__(
        self, app: ASGIApp, key: Callable[[], Secret], *, open_request: Callable[[Scope], bool] | None = None
    ) -> None:
        self.app = app
        self._key = key
        self._open = open_request or is_receiver_request

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or self._open(scope):
            await self.app(scope, receive, send)
            return
        given = None
        for name, value in scope.get("headers", []):
            if name.lower() == API_KEY_HEADER.lower().encode():
                given = value.decode("latin-1")
                break
        if key_matches(given, self._key()):
            await self.app(scope, receive, send)
            return
        client = scope.get("client") or ("?", 0)
        log.warning("management API: no valid key, refused %r from %s", scope["path"][:100], client[0])
        body = json.dumps(
            {
                "error": "missing or wrong API key",
                "fix": f"Send the key in the {API_KEY_HEADER} header (`atlas-desktop api-key show`).",
            }
        ).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 401,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"www-authenticate", f'ApiKey header="{API_KEY_HEADER}"'.encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})
