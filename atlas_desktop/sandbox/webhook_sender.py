"""Lets an emulator send signed thin events to a configured receiver, as a SuiteScript or SAP would.

Signature (written here independently of the app's verifier, so a bug cannot hide on both sides):
`X-Atlas-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>" with the secret>`.
Nothing is sent until `configure(url, secret)`; sends never block or fail the emulator's own write.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import httpx

log = logging.getLogger(__name__)


def signature_header(secret: str, body: bytes, timestamp: int) -> str:
    mac = hmac.new(secret.encode("utf-8"), str(timestamp).encode("ascii") + b"." + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def netsuite_event(event_type: str, data: dict[str, Any]) -> dict[str, Any]:
    """The JSON our documented SuiteScript posts: thin (record ids only)."""
    return {
        "id": str(uuid.uuid4()),
        "type": event_type,
        "created": datetime.now(UTC).isoformat(),
        "data": data,
    }


def cloud_event(event_type: str, source: str, data: dict[str, Any]) -> dict[str, Any]:
    """A CloudEvents 1.0 JSON event as SAP Event Mesh delivers it."""
    return {
        "specversion": "1.0",
        "type": event_type,
        "source": source,
        "id": str(uuid.uuid4()),
        "time": datetime.now(UTC).isoformat(),
        "datacontenttype": "application/json",
        "data": data,
    }


class WebhookSender:
    """POSTs signed events to one target. `transport` lets tests route to an in-process ASGI app."""

    def __init__(self, *, clock: Callable[[], float] = time.time) -> None:
        self.url: str | None = None
        self._secret: str | None = None
        self._transport: httpx.AsyncBaseTransport | None = None
        self._clock = clock
        self._pending: set[asyncio.Task[Any]] = set()
        self.sent: list[tuple[int, str]] = []  # (status, event type) per delivery, for tests and the demo

    def configure(self, url: str | None, secret: str | None = None, *, transport: Any = None) -> None:
        """Point the sender at a receiver (None turns it off)."""
        self.url, self._secret, self._transport = url, secret, transport

    @property
    def enabled(self) -> bool:
        return bool(self.url and self._secret)

    def signed(self, event: Any, *, timestamp: int | None = None) -> tuple[bytes, dict[str, str]]:
        assert self._secret is not None
        body = json.dumps(event, separators=(",", ":")).encode()
        stamp = int(self._clock()) if timestamp is None else timestamp
        return body, {
            "content-type": "application/json",
            "x-atlas-signature": signature_header(self._secret, body, stamp),
        }

    async def send(self, event: Any) -> int:
        """Deliver one event now; returns the HTTP status (0 when it could not be delivered)."""
        if not self.enabled:
            return 0
        assert self.url is not None
        body, headers = self.signed(event)
        kind = event.get("type", "?") if isinstance(event, dict) else "batch"
        try:
            # verify=False: the sandbox is test equipment posting to the app's self-signed local receiver.
            async with httpx.AsyncClient(transport=self._transport, timeout=10.0, verify=False) as client:
                response = await client.post(self.url, content=body, headers=headers)
            status = response.status_code
        except httpx.HTTPError as exc:
            log.warning("webhook to %s failed: %s", self.url, exc.__class__.__name__)
            status = 0
        self.sent.append((status, kind))
        return status

    def notify(self, event: Any) -> None:
        """Fire and forget from an emulator's write path (inside a running loop, or from any thread)."""
        if not self.enabled:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            threading.Thread(target=lambda: asyncio.run(self.send(event)), daemon=True).start()
            return
        task = loop.create_task(self.send(event))
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def drain(self) -> None:
        """Wait for events sent with `notify` (tests)."""
        while self._pending:
            await asyncio.gather(*list(self._pending), return_exceptions=True)


def notify_after(
    write: Callable[..., Any], sender: WebhookSender, event_for: Callable[[Any, tuple[Any, ...]], Any]
) -> Callable[..., Any]:
    """Wrap an emulator's stock-changing write: after it succeeds, send `event_for(result, args)`."""

    def wrapped(*args: Any, **kwargs: Any) -> Any:
        result = write(*args, **kwargs)
        if sender.enabled:
            sender.notify(event_for(result, args))
        return result

    return wrapped


class NotifyOnPost:
    """ASGI wrapper: a POST whose path contains `marker` and that answered 2xx sends `event_for()`."""

    def __init__(self, app: Any, sender: WebhookSender, marker: str, event_for: Callable[[], Any]) -> None:
        self.app, self.sender, self.marker, self.event_for = app, sender, marker, event_for

    def __getattr__(self, name: str) -> Any:  # the wrapped app's attributes (e.g. FaultMiddleware's)
        return getattr(self.app, name)

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        watch = (
            self.sender.enabled
            and scope.get("type") == "http"
            and scope.get("method") == "POST"
            and self.marker in scope.get("path", "")
        )
        if not watch:
            await self.app(scope, receive, send)
            return
        status = 0

        async def spy(message: Any) -> None:
            nonlocal status
            if message.get("type") == "http.response.start":
                status = message["status"]
            await send(message)

        await self.app(scope, receive, spy)
        if 200 <= status < 300:
            self.sender.notify(self.event_for())
