"""Serve the emulators over loopback sockets with uvicorn: for the demo, end-to-end tests and benchmarks."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import signal
import socket
import ssl
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import uvicorn

from atlas_desktop.domain.errors import AtlasDesktopError, ConfigError
from atlas_desktop.sandbox.catalog import Catalog
from atlas_desktop.sandbox.faults import quiet_dropped_connections
from atlas_desktop.sandbox.registry import Emulator, SandboxOptions, emulator_tls, load_emulators

log = logging.getLogger(__name__)

ReadyCallback = Callable[[dict[str, str]], None]
_STARTUP_TIMEOUT_S = 30.0


class _Server(uvicorn.Server):
    """uvicorn would install its own SIGINT/SIGTERM handlers per server; the sandbox owns signals instead."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def _bind(host: str) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP, not 0: asyncio turns Nagle off (TCP_NODELAY) only on sockets that say they are TCP, and
    # accepted connections inherit the listener's protocol. With Nagle on, every response waits ~40 ms
    # for the client's delayed ACK, which no real API server does.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, 0))  # port 0: the OS picks a free port and we know it before serving
    return sock


def _url(scheme: str, host: str, port: int) -> str:
    return f"{scheme}://[{host}]:{port}" if ":" in host else f"{scheme}://{host}:{port}"


def _uvicorn_config(emulator: Emulator, timeout_graceful_shutdown: int) -> uvicorn.Config:
    options: dict[str, Any] = {}
    tls = emulator_tls(emulator)
    if tls is not None:
        options = {
            "ssl_certfile": str(tls.certfile),
            "ssl_keyfile": str(tls.keyfile),
            "ssl_ca_certs": str(tls.ca_certs) if tls.ca_certs else None,
            "ssl_cert_reqs": ssl.CERT_REQUIRED if tls.require_client_cert else ssl.CERT_NONE,
        }
    # An emulator that authenticates by client certificate brings a protocol class that passes the
    # peer certificate into the ASGI scope (uvicorn does not).
    protocol = getattr(emulator, "http_protocol", None)
    if protocol is not None:
        options["http"] = protocol
    return uvicorn.Config(
        emulator.app,
        log_level="warning",
        access_log=False,
        lifespan="auto",
        timeout_graceful_shutdown=timeout_graceful_shutdown,
        **options,
    )


def write_credential_files(directory: Path, files: dict[str, dict[str, Any]]) -> list[Path]:
    """Write JSON files readable by the owner only (0600) in `directory` (created 0700)."""
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    written = []
    for name, content in files.items():
        if Path(name).name != name or name in ("", ".", ".."):
            raise ConfigError("credential_files", f"{name!r} is not a plain file name")
        target = directory / name
        tmp = directory / f".{name}.tmp"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(content, handle, indent=2)
            handle.write("\n")
        os.chmod(tmp, 0o600)  # the mode argument above does not apply when the file already existed
        os.replace(tmp, target)
        written.append(target)
    return written


async def serve_sandbox(
    options: SandboxOptions,
    *,
    host: str = "127.0.0.1",
    write_config: Path | None = None,
    ready: ReadyCallback | None = None,
    stop: asyncio.Event | None = None,
    emulators: Sequence[Emulator] | None = None,
    timeout_graceful_shutdown: int = 2,
) -> dict[str, str]:
    """Serve each emulator on its own loopback port until `stop` is set (or the task is cancelled).

    `emulators` defaults to `load_emulators(options)`. Returns the URLs it served, by emulator name.
    """
    emulators = list(emulators) if emulators is not None else load_emulators(options)
    quiet_dropped_connections()
    servers: list[_Server] = []
    sockets: list[socket.socket] = []
    tasks: list[asyncio.Task[None]] = []
    urls: dict[str, str] = {}
    try:
        for emulator in emulators:
            sock = _bind(host)
            sockets.append(sock)
            server = _Server(_uvicorn_config(emulator, timeout_graceful_shutdown))
            servers.append(server)
            scheme = "https" if emulator_tls(emulator) is not None else "http"
            urls[emulator.name] = _url(scheme, host, sock.getsockname()[1])
            tasks.append(asyncio.create_task(server.serve(sockets=[sock]), name=f"sandbox-{emulator.name}"))
        await _wait_started(servers, tasks)
        if write_config is not None:
            files: dict[str, dict[str, Any]] = {}
            for emulator in emulators:
                written = dict(emulator.credential_files(urls[emulator.name]))
                # optional: files for the command line only, not the demo wizard (NetSuite's OAuth 2.0)
                extra = getattr(emulator, "write_config_files", None)
                if extra is not None:
                    written.update(extra(urls[emulator.name]))
                for name, content in written.items():
                    if name in files:
                        raise ConfigError("credential_files", f"two emulators write {name!r}")
                    files[name] = content
            write_credential_files(write_config, files)
        if ready is not None:
            ready(dict(urls))
        await (stop or asyncio.Event()).wait()
    finally:
        for server in servers:
            server.should_exit = True
        results = await asyncio.gather(*tasks, return_exceptions=True)
        for sock in sockets:
            sock.close()
        for result in results:
            if isinstance(result, BaseException) and not isinstance(result, asyncio.CancelledError):
                log.warning("sandbox server stopped with an error: %r", result)
    return urls


async def _wait_started(servers: list[_Server], tasks: list[asyncio.Task[None]]) -> None:
    deadline = asyncio.get_running_loop().time() + _STARTUP_TIMEOUT_S
    while not all(server.started for server in servers):
        for task in tasks:
            if task.done():
                error = task.exception() if not task.cancelled() else None
                raise RuntimeError(f"sandbox server {task.get_name()} failed to start: {error!r}") from error
        if asyncio.get_running_loop().time() > deadline:
            raise TimeoutError("sandbox servers did not start within 30 s")
        await asyncio.sleep(0.01)


@contextlib.contextmanager
def running_sandbox(
    options: SandboxOptions,
    *,
    emulators: Sequence[Emulator] | None = None,
    host: str = "127.0.0.1",
    write_config: Path | None = None,
    startup_timeout: float = _STARTUP_TIMEOUT_S,
) -> Iterator[dict[str, str]]:
    """Run the sandbox in a background thread with its own event loop; yields {name: base URL}.

    Works from sync and async tests alike (the servers never share the test's loop). Pass `emulators` to
    keep references to them (e.g. to change `emulator.faults` directly).
    """
    loop = asyncio.new_event_loop()
    stop = asyncio.Event()  # binds to the loop that first waits on it (the thread's)
    started = threading.Event()
    urls: dict[str, str] = {}
    errors: list[BaseException] = []

    def on_ready(served: dict[str, str]) -> None:
        urls.update(served)
        started.set()

    def run() -> None:
        asyncio.set_event_loop(loop)
        try:
            serving = serve_sandbox(
                options, host=host, write_config=write_config, ready=on_ready, stop=stop, emulators=emulators
            )
            loop.run_until_complete(serving)
        except BaseException as exc:  # reported to the caller's thread below
            errors.append(exc)
        finally:
            started.set()
            loop.close()

    thread = threading.Thread(target=run, name="atlas-sandbox", daemon=True)
    thread.start()
    if not started.wait(startup_timeout):
        _stop(loop, stop)
        thread.join(5)
        raise TimeoutError(f"the sandbox did not start within {startup_timeout:g} s")
    if errors:
        thread.join(5)
        raise RuntimeError("the sandbox failed to start") from errors[0]
    try:
        yield dict(urls)
    finally:
        _stop(loop, stop)
        thread.join(15)


def _stop(loop: asyncio.AbstractEventLoop, stop: asyncio.Event) -> None:
    with contextlib.suppress(RuntimeError):  # the loop already closed: nothing left to stop
        loop.call_soon_threadsafe(stop.set)


def main_sandbox(
    items: int,
    latency_ms: float,
    write_config: Path | None,
    seed: int,
    concurrency_limit: int | None = None,
    server_time: str = "instant",
    netsuite_timezone: str | None = None,
) -> int:
    """The sandbox command: print "<name>: <url>" per emulator, then "ready"; serve until SIGINT/SIGTERM.

    `concurrency_limit` None keeps each emulator's production-like limit; `server_time` "realistic" adds
    each system's own time per request (sandbox/server_time.py); `netsuite_timezone` None keeps the
    NetSuite user in SandboxOptions' default zone.
    """
    try:
        catalog = Catalog(seed=seed, size=items)
        with tempfile.TemporaryDirectory(prefix="atlas-sandbox-") as data_dir:
            options = SandboxOptions(
                catalog, latency_ms=latency_ms, concurrency_limit=concurrency_limit, seed=seed,
                data_dir=Path(data_dir), server_time=server_time,
            )  # fmt: skip
            if netsuite_timezone is not None:
                options.netsuite_timezone = netsuite_timezone
            emulators = load_emulators(options)
            if not emulators:
                print("No sandbox emulators are available in this build.", file=sys.stderr)
                return 1
            asyncio.run(_serve_until_signal(options, emulators, write_config))
    except AtlasDesktopError as exc:
        print(f"Sandbox: {exc}", file=sys.stderr)
        return 2
    return 0


async def _serve_until_signal(
    options: SandboxOptions, emulators: Sequence[Emulator], write_config: Path | None
) -> None:
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    installed: list[signal.Signals] = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, stop.set)
            installed.append(sig)
        except (NotImplementedError, RuntimeError):  # Windows: no loop signal handlers
            signal.signal(sig, lambda *_: loop.call_soon_threadsafe(stop.set))

    def announce(urls: dict[str, str]) -> None:
        for name, url in urls.items():
            print(f"{name}: {url}", flush=True)
        print("ready", flush=True)

    try:
        await serve_sandbox(
            options, write_config=write_config, ready=announce, stop=stop, emulators=emulators
        )
    finally:
        for sig in installed:
            loop.remove_signal_handler(sig)
