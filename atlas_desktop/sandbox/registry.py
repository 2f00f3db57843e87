"""How emulators plug into the sandbox: options in, `Emulator` objects out, found by dotted factory name.

An emulator module exposes `build(options: SandboxOptions) -> Emulator | list[Emulator]`. Its `app` is its
ASGI app already wrapped in `FaultMiddleware(app, faults, rate_limited=..., server_error=...)`, so the same
object serves in-process tests (`httpx.ASGITransport(app=emulator.app)`) and sockets (`server.py`).
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from atlas_desktop.domain.errors import ConfigError
from atlas_desktop.sandbox.catalog import Catalog
from atlas_desktop.sandbox.faults import ASGIApp, FaultConfig
from atlas_desktop.sandbox.server_time import PROFILES, check_mode, install_server_time

log = logging.getLogger(__name__)

EMULATOR_FACTORIES: tuple[str, ...] = (
    "atlas_desktop.sandbox.netsuite:build",
    "atlas_desktop.sandbox.sap:build",
    "atlas_desktop.sandbox.atlas:build",
)


# The NetSuite integration user's time-zone preference in the demo, the sandbox command and the end-to-end
# tests: production accounts are rarely on UTC, and a client that forgets the zone must fail here first.
NETSUITE_USER_ZONE = "America/New_York"


@dataclass
class SandboxOptions:
    catalog: Catalog
    latency_ms: float = 0.0
    concurrency_limit: int | None = None  # None: each emulator keeps its production-like default
    seed: int = 42
    data_dir: Path | None = None  # for emulators that keep SQLite state or generate certificates
    server_time: str = "instant"  # "realistic": production-like time per request (server_time.py)
    netsuite_timezone: str = NETSUITE_USER_ZONE  # the NetSuite user's preference; "UTC" only when asked


@dataclass(frozen=True)
class ServerTls:
    """TLS for an emulator served over sockets (the SAP X.509 tenant asks for a client certificate)."""

    certfile: Path
    keyfile: Path
    ca_certs: Path | None = None
    require_client_cert: bool = False


@runtime_checkable
class Emulator(Protocol):
    name: str
    app: ASGIApp
    faults: FaultConfig

    def credential_files(self, base_url: str) -> dict[str, dict[str, Any]]:
        """File name -> JSON content a user would paste into the wizard, e.g. {"netsuite.json": {...}}."""
        ...


EmulatorFactory = Callable[[SandboxOptions], "Emulator | list[Emulator]"]


def emulator_tls(emulator: Emulator) -> ServerTls | None:
    """The optional `tls` attribute of an emulator."""
    return getattr(emulator, "tls", None)


def _factory_key(spec: str) -> str:
    return spec.partition(":")[0].rsplit(".", 1)[-1]


def _import_factory(spec: str) -> EmulatorFactory | None:
    module_name, _, attr = spec.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        # Only "this emulator is not written yet" is skipped; a missing import inside it is a real bug.
        if exc.name == module_name:
            log.info("sandbox emulator %s is not available; skipping it", module_name)
            return None
        raise
    if getattr(module, "__file__", None) is None and not hasattr(module, attr or "build"):
        # A directory without __init__.py imports as a namespace package: an emulator still being written.
        log.info("sandbox emulator %s has no __init__.py yet; skipping it", module_name)
        return None
    try:
        return getattr(module, attr or "build")
    except AttributeError:
        raise ConfigError("sandbox.emulators", f"{module_name} has no {attr or 'build'}()") from None


def load_emulators(
    options: SandboxOptions,
    names: Iterable[str] | None = None,
    *,
    factories: Sequence[str] | None = None,
) -> list[Emulator]:
    """Build the emulators. `names` keeps only factories ("sap") or emulators ("sap-onprem") named.

    Modules that do not exist yet are skipped, so the sandbox runs while emulators are being written.
    """
    check_mode(options.server_time)
    wanted = set(names) if names is not None else None
    specs = EMULATOR_FACTORIES if factories is None else tuple(factories)
    built: list[Emulator] = []
    for spec in specs:
        key = _factory_key(spec)
        if wanted is not None and key not in wanted and not any(n.startswith(key) for n in wanted):
            continue
        factory = _import_factory(spec)
        if factory is None:
            continue
        result = factory(options)
        for emulator in result if isinstance(result, list | tuple) else [result]:
            if wanted is None or key in wanted or emulator.name in wanted:
                if key in PROFILES:
                    install_server_time(emulator, key, options.server_time)
                built.append(emulator)
    seen: set[str] = set()
    for emulator in built:
        if emulator.name in seen:
            raise ConfigError("sandbox.emulators", f"two emulators are named {emulator.name!r}")
        seen.add(emulator.name)
    return built
