"""Serve the local API and the webhook receivers with uvicorn inside the running asyncio loop.

Loopback is served over plain HTTP; any other interface only over HTTPS, with a self-signed
certificate generated into the profile (its SHA-256 fingerprint is logged and on `ApiServer`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from atlas_desktop.app.api.auth import ApiKeyMiddleware, api_key_id
from atlas_desktop.app.api.local_files import base_url, scheme_for
from atlas_desktop.app.api.management import ManagementApi
from atlas_desktop.app.api.openapi import build_openapi
from atlas_desktop.app.api.protocol import KEEP_ALIVE_S, MAX_CONNECTIONS, LimitedH11Protocol
from atlas_desktop.app.api.tls import ensure_certificate
from atlas_desktop.app.api.webhooks import WebhookReceiver
from atlas_desktop.domain.enums import WebhookStatus
from atlas_desktop.domain.errors import ConfigError
from atlas_desktop.store.webhooks import ApiKeyRepository, WebhookRepository

log = logging.getLogger(__name__)

DEFAULT_API_HOST = "127.0.0.1"
DEFAULT_API_PORT = 8765
_STARTUP_TIMEOUT_S = 10.0


class _Server(uvicorn.Server):
    """The app owns SIGINT/SIGTERM (agent, Qt): uvicorn must not install its own handlers."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def build_app(
    services: Any,
    engine: Any,
    *,
    receiver: WebhookReceiver,
    management: bool = True,
    on_change: Callable[[], None] | None = None,
) -> Any:
    """The ASGI app: management routes behind the API key (if `management`) plus the receiver routes."""
    routes: list[Route] = list(receiver.routes())
    if not management:
        return Starlette(routes=routes)
    key = ApiKeyRepository(services.store, services.vault).ensure()
    api = ManagementApi(
        services, engine, receiver.webhooks, receiver, actor=f"api:{api_key_id(key)}", on_change=on_change
    )
    document = build_openapi()

    async def openapi(_request: Request) -> Response:
        return JSONResponse(document)

    routes += [*api.routes(), Route("/api/openapi.json", openapi, methods=["GET"])]

    async def not_found(_request: Request, _exc: Exception) -> Response:
        return JSONResponse({"error": "no such route", "fix": "See /api/openapi.json."}, status_code=404)

    async def not_allowed(_request: Request, _exc: Exception) -> Response:
        return JSONResponse({"error": "method not allowed", "fix": "See /api/openapi.json."}, status_code=405)

    async def server_error(request: Request, exc: Exception) -> Response:
        # Details go to the log only (redacted there): a stack trace could carry data we must not show.
        log.error("management API: unexpected error on %s %s", request.method, request.url.path, exc_info=exc)
        return JSONResponse(
            {"error": "internal error", "fix": "Send a diagnostics bundle to Atlas support."}, status_code=500
        )

    app = Starlette(
        routes=routes, exception_handlers={404: not_found, 405: not_allowed, Exception: server_error}
    )
    return ApiKeyMiddleware(app, lambda: key)


class ServedBind:
    """Tells the app which address its server listens on (`scope["atlas.bind"]`): a webhook bound to
    127.0.0.1 must not answer through a server on 0.0.0.0 that also serves the receiver routes."""

    def __init__(self, app: Any, listening: list[tuple[str, int]]) -> None:
        self._app = app
        self._listening = listening  # filled once the socket is bound (port 0 picks one)

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and self._listening:
            scope = {**scope, "atlas.bind": self._listening[0]}
        await self._app(scope, receive, send)


@dataclass
class ApiServer:
    """One listening server. `await stop()` closes it (the shared receiver is closed by its owner)."""

    url: str
    host: str
    port: int
    fingerprint: str | None
    _server: uvicorn.Server = field(repr=False)
    _task: asyncio.Task[None] = field(repr=False)
    receiver: WebhookReceiver | None = field(default=None, repr=False)
    owns_receiver: bool = field(default=False, repr=False)
    management: bool = True  # False: the webhook receiver routes only

    async def stop(self) -> None:
        self._server.should_exit = True
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        if self.owns_receiver and self.receiver is not None:
            await self.receiver.aclose()


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)  # TCP_NODELAY: see sandbox.server
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host.strip("[]"), port))
    except OSError as exc:
        sock.close()
        raise ConfigError(
            "port",
            f"cannot listen on {host}:{port} ({exc.strerror})",
            fix="Pick another port or interface in Settings (or --host/--port).",
        ) from None
    sock.listen(128)
    sock.setblocking(False)
    return sock


async def _serve(
    app: Any, paths_root: Any, host: str, port: int
) -> tuple[uvicorn.Server, asyncio.Task[None], int, str | None]:
    options: dict[str, Any] = {}
    fingerprint = None
    if scheme_for(host) == "https":
        cert, key, fingerprint = ensure_certificate(paths_root, host)
        options = {"ssl_certfile": str(cert), "ssl_keyfile": str(key)}
        log.info("local API on %s uses a self-signed certificate, SHA-256 %s", host, fingerprint)
    sock = _bind(host, port)
    config = uvicorn.Config(
        app, log_level="warning", access_log=False, lifespan="off", timeout_graceful_shutdown=5,
        http=LimitedH11Protocol, timeout_keep_alive=KEEP_ALIVE_S, limit_concurrency=MAX_CONNECTIONS,
        h11_max_incomplete_event_size=16 * 1024, **options,
    )  # fmt: skip
    server = _Server(config)
    task = asyncio.ensure_future(server.serve(sockets=[sock]))
    deadline = asyncio.get_running_loop().time() + _STARTUP_TIMEOUT_S
    while not server.started:
        if task.done():
            task.result()  # raises what stopped it
            raise ConfigError("port", f"the server on {host}:{port} stopped at start")
        if asyncio.get_running_loop().time() > deadline:
            server.should_exit = True
            raise ConfigError("port", f"the server on {host}:{port} did not start in time")
        await asyncio.sleep(0.01)
    return server, task, sock.getsockname()[1], fingerprint


async def start_api_server(
    services: Any,
    engine: Any,
    *,
    host: str = DEFAULT_API_HOST,
    port: int = DEFAULT_API_PORT,
    receiver: WebhookReceiver | None = None,
    management: bool = True,
    on_change: Callable[[], None] | None = None,
) -> ApiServer:
    """Serve the management API (with the webhook receiver on the same port). `port=0` picks a free one."""
    owns = receiver is None
    receiver = receiver or WebhookReceiver(WebhookRepository(services.store, services.vault), engine)
    listening: list[tuple[str, int]] = []
    built = build_app(services, engine, receiver=receiver, management=management, on_change=on_change)
    app = ServedBind(built, listening)
    server, task, bound, fingerprint = await _serve(app, services.paths.root, host, port)
    listening.append((host, bound))
    url = base_url(host, bound)
    log.info("local %s listening on %s", "API" if management else "webhook receiver", url)
    return ApiServer(url, host, bound, fingerprint, server, task, receiver, owns, management)


async def start_webhook_server(
    services: Any, engine: Any, *, host: str, port: int, receiver: WebhookReceiver | None = None
) -> ApiServer:
    """Serve only the webhook receiver routes (no management API) on `host:port`."""
    return await start_api_server(services, engine, host=host, port=port, receiver=receiver, management=False)


@dataclass
class ServerSet:
    """The servers the settings and the active webhooks ask for; `follow()` brings them in line with a
    change (only what changed starts or stops), `await stop()` stops them all."""

    servers: list[ApiServer]
    receiver: WebhookReceiver
    problems: list[str]
    on_change: Callable[[], None] | None = None  # the API changed what should be served

    async def follow(self, services: Any, engine: Any, wanted: Wanted | None = None) -> None:
        """Start the servers now wanted and stop those no longer wanted; the others keep running."""
        wanted = wanted if wanted is not None else await wanted_servers(services, engine)
        for server in [s for s in self.servers if wanted.get((s.host, s.port)) is not s.management]:
            await server.stop()
            self.servers.remove(server)
        running = {(s.host, s.port) for s in self.servers}
        self.problems = []
        for (host, port), management in wanted.items():
            if (host, port) in running:
                continue
            try:
                server = await start_api_server(
                    services, engine, host=host, port=port, receiver=self.receiver,
                    management=management, on_change=self.on_change,
                )  # fmt: skip
            except ConfigError as error:
                what = "local API" if management else "webhook receiver"
                log.error("%s not started: %s", what, error.message)
                self.problems.append(error.message)
                continue
            self.servers.append(server)

    async def stop(self) -> None:
        for server in self.servers:
            await server.stop()
        self.servers.clear()
        await self.receiver.aclose()


Wanted = dict[tuple[str, int], bool]


async def wanted_servers(services: Any, engine: Any) -> Wanted:
    """(host, port) -> True for the management API (which serves the receiver routes too), False for a
    receiver of its own: the API if enabled in settings, one receiver per other address of an active
    webhook."""
    values = services.settings.as_dict()
    wanted: Wanted = {}
    if values.get("management_api_enabled", False):
        host = str(values.get("management_api_host") or DEFAULT_API_HOST)
        port = int(values.get("management_api_port") or DEFAULT_API_PORT)
        wanted[(host, port)] = True
    hooks = await engine.db(WebhookRepository(services.store, services.vault).list)
    for where in sorted({(h.bind_host, h.bind_port) for h in hooks if h.status is WebhookStatus.ACTIVE}):
        wanted.setdefault(where, False)
    return wanted


async def start_configured_servers(
    services: Any, engine: Any, *, on_change: Callable[[], None] | None = None, wanted: Wanted | None = None
) -> ServerSet:
    """The management API if enabled in settings, and one receiver per other (host, port) of active webhooks.

    A server that cannot start (port taken) is logged and listed in `problems`; the rest still start.
    `on_change` is called when a request through the API changes what should be served (a webhook
    enabled on a new address), so the caller can `follow()` at once instead of at a restart.
    """
    receiver = WebhookReceiver(WebhookRepository(services.store, services.vault), engine)
    server_set = ServerSet([], receiver, [], on_change)
    await server_set.follow(services, engine, wanted)
    return server_set
