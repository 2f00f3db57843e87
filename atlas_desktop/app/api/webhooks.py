"""The ERP webhook receiver: verify a signed thin event, then ask the engine for a real-time sync.

Status codes (documented in the OpenAPI document and the README):
    202 accepted (or a signed event of a type this webhook does not handle: "ignored")
    400 the signed body is not a JSON event        401 signature missing, malformed, wrong or stale
    404 no active webhook for this ERP and connection (unknown and disabled look the same)
    409 replay: this signature was already accepted  413 body over 1 MB
A refused request changes nothing in the store; it leaves one log line.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from atlas_desktop.app.api.signature import SIGNATURE_HEADER, Refusal, SignatureVerifier
from atlas_desktop.connectors.offload import loads_json
from atlas_desktop.domain.digits import ascii_int
from atlas_desktop.domain.enums import SyncType
from atlas_desktop.domain.model import ErpType
from atlas_desktop.domain.secrets import Secret
from atlas_desktop.engine.api import RunInProgress
from atlas_desktop.store.webhooks import WebhookRepository, WebhookView

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 1024 * 1024
DEBOUNCE_SECONDS = 0.2
LOOKUP_TTL_SECONDS = 2.0
_ERP_PATHS = ("netsuite", "sap")


class SyncTrigger:
    """Coalesces events into runs: one run per connection per burst, plus one after a run if more came.

    The engine would join a running run, but that run may have read before the event's change: so an
    event arriving during a run marks the connection dirty and one more run follows it.
    """

    def __init__(
        self,
        run: Callable[[str], Awaitable[Any]],
        *,
        debounce: float = DEBOUNCE_SECONDS,
        before_run: Callable[[str], Awaitable[None]] | None = None,
    ) -> None:
        self._run = run
        self._before_run = before_run
        self._debounce = debounce
        self._dirty: set[str] = set()
        self._workers: dict[str, asyncio.Task[None]] = {}

    def poke(self, connection_id: str) -> None:
        self._dirty.add(connection_id)
        worker = self._workers.get(connection_id)
        if worker is None or worker.done():
            self._workers[connection_id] = asyncio.ensure_future(self._work(connection_id))

    async def _work(self, connection_id: str) -> None:
        try:
            while connection_id in self._dirty:
                await asyncio.sleep(self._debounce)
                self._dirty.discard(connection_id)
                try:
                    if self._before_run is not None:
                        await self._before_run(connection_id)
                    await self._run(connection_id)
                except asyncio.CancelledError:
                    raise
                except Exception:  # a failed run is logged by the engine too; keep serving events
                    log.exception("real-time sync of %s after a webhook failed", connection_id)
        finally:
            # No await since the loop test: an event cannot slip in between the check and this pop.
            if self._workers.get(connection_id) is asyncio.current_task():
                self._workers.pop(connection_id, None)

    async def idle(self) -> None:
        """Wait until no run is pending (tests, shutdown)."""
        while self._workers:
            await asyncio.gather(*list(self._workers.values()), return_exceptions=True)

    async def aclose(self) -> None:
        for worker in self._workers.values():
            worker.cancel()
        await asyncio.gather(*self._workers.values(), return_exceptions=True)
        self._workers.clear()


def _problem(status: int, message: str, fix: str = "") -> JSONResponse:
    return JSONResponse({"error": message, "fix": fix}, status_code=status)


async def read_limited(request: Request, limit: int = MAX_BODY_BYTES) -> bytes | None:
    """The body, or None once more than `limit` bytes arrived (counted, not taken from Content-Length)."""
    declared = request.headers.get("content-length", "")
    declared_size = ascii_int(declared, max_digits=19)
    if declared_size is not None and declared_size > limit:
        return None
    size, chunks = 0, []
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def event_types_of(payload: Any) -> list[str] | None:
    """The type of one event (`type`: CloudEvents, our NetSuite script; `event_type`: the design plan's
    shape; `eventType`) or of each in a batch; None if not events."""
    events = payload if isinstance(payload, list) else [payload]
    if not events or len(events) > 1000:
        return None
    types = []
    for event in events:
        if not isinstance(event, dict):
            return None
        kind = next((event[k] for k in ("type", "event_type", "eventType") if k in event), None)
        if not isinstance(kind, str) or not kind or len(kind) > 200:
            return None
        types.append(kind)
    return types


class WebhookReceiver:
    """The two receiver routes, bound to a profile's webhooks and an engine."""

    def __init__(
        self,
        webhooks: WebhookRepository,
        engine: Any,
        *,
        verifier: SignatureVerifier | None = None,
        debounce: float = DEBOUNCE_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.webhooks = webhooks
        self.engine = engine
        self.verifier = verifier or SignatureVerifier()
        self._clock = clock
        self._cache: dict[str, tuple[float, tuple[WebhookView, Secret] | None]] = {}
        self._received: dict[str, datetime] = {}
        self.trigger = SyncTrigger(self._sync, debounce=debounce, before_run=self._flush_received)

    def routes(self) -> list[Route]:
        return [
            Route("/api/erp/webhooks/{erp}/{connection_id}", self.receive, methods=["POST"]),
        ]

    def forget(self, connection_id: str | None = None) -> None:
        """Drop cached webhook lookups (after enable/disable/rotate)."""
        if connection_id is None:
            self._cache.clear()
        else:
            self._cache.pop(connection_id, None)

    async def _lookup(self, connection_id: str) -> tuple[WebhookView, Secret] | None:
        now = self._clock()
        cached = self._cache.get(connection_id)
        if cached is not None and now - cached[0] < LOOKUP_TTL_SECONDS:
            return cached[1]
        found = await self.engine.db(self.webhooks.active_with_secret, connection_id)
        if len(self._cache) > 10_000:  # unknown ids from a scan must not grow this without bound
            self._cache.clear()
        self._cache[connection_id] = (now, found)
        return found

    @staticmethod
    def _refuse(status: int, reason: str, erp: str, connection_id: str, request: Request) -> JSONResponse:
        client = request.client.host if request.client else "?"
        log.warning(
            "webhook refused (%d %s): %r/%r from %s", status, reason, erp[:20], connection_id[:64], client
        )
        fixes = {
            401: f"Sign each request with the webhook secret: {SIGNATURE_HEADER}: t=<unix seconds>,v1=<hex>.",
            404: "Enable the webhook: atlas-desktop webhooks enable ID.",
            409: "Send each event once; a retry must be signed again with a new timestamp.",
            413: "Send thin events (ids only); the body must stay under 1 MB.",
        }
        return _problem(status, reason, fixes.get(status, ""))

    async def receive(self, request: Request) -> Response:
        erp = request.path_params["erp"]
        connection_id = request.path_params["connection_id"]
        if erp not in _ERP_PATHS:
            return self._refuse(404, "no such receiver", erp, connection_id, request)
        found = await self._lookup(connection_id)
        if found is None or not is_erp_path(erp, found[0].erp_type) or not _served_here(found[0], request):
            return self._refuse(404, "no active webhook for this connection", erp, connection_id, request)
        view, secret = found
        body = await read_limited(request)
        if body is None:
            return self._refuse(413, "body over 1 MB", erp, connection_id, request)
        refusal = self.verifier.verify(request.headers.get(SIGNATURE_HEADER), body, secret.reveal())
        if refusal is not None:
            status = 409 if refusal is Refusal.REPLAY else 401
            return self._refuse(status, refusal.value, erp, connection_id, request)
        try:
            types = event_types_of(loads_json(body))
        except (ValueError, UnicodeDecodeError):
            types = None
        if types is None:
            return self._refuse(400, "not a JSON event with a 'type'", erp, connection_id, request)
        self._received[view.id] = datetime.now(UTC)
        wanted = [kind for kind in types if kind in view.event_types]
        if not wanted:
            log.info("webhook for %s: ignored type(s) %s", connection_id, ", ".join(sorted(set(types))))
            await self._flush_received(connection_id)
            return JSONResponse({"status": "ignored", "event_types": sorted(set(types))}, status_code=202)
        log.info("webhook for %s: %s; real-time sync queued", connection_id, ", ".join(sorted(set(wanted))))
        self.trigger.poke(connection_id)
        return JSONResponse({"status": "accepted", "event_types": sorted(set(wanted))}, status_code=202)

    async def _flush_received(self, _connection_id: str) -> None:
        if not self._received:
            return
        latest, self._received = self._received, {}
        for webhook_id, at in latest.items():
            await self.engine.db(self.webhooks.mark_received, [webhook_id], at)

    async def _sync(self, connection_id: str) -> None:
        try:
            summary = await self.engine.sync(connection_id, sync_type=SyncType.REAL_TIME)
        except RunInProgress as busy:  # another process runs it; the next run reads this event's change
            log.info("real-time sync of %s after webhook skipped: %s", connection_id, busy.message)
            return
        log.info("real-time sync of %s after webhook: %s", connection_id, summary.status.value)

    async def aclose(self) -> None:
        await self.trigger.aclose()
        await self._flush_received("")


def _served_here(view: WebhookView, request: Request) -> bool:
    """A webhook answers only on the address it was enabled on (in-process apps have no address)."""
    bind = request.scope.get("atlas.bind")
    return bind is None or (view.bind_host, view.bind_port) == tuple(bind)


def is_erp_path(erp: str, erp_type: ErpType) -> bool:
    return (erp == "sap") == ErpType(erp_type).is_sap
