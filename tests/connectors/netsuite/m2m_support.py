"""A NetSuite connection made with OAuth 2.0 M2M against the in-process emulator (its sandbox key pair)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx

from atlas_desktop.app.key_files import inline_private_key
from atlas_desktop.connectors.netsuite import NetSuiteConnector, build_connector
from atlas_desktop.domain.connection import ConnectionSpec, parse_connection
from atlas_desktop.sandbox.netsuite import NetSuiteEmulator

from .emulator_support import BASE_URL, Clock, Sleeps


def m2m_file(emulator: NetSuiteEmulator, key_dir: Path, **overrides: Any) -> dict[str, Any]:
    emulator.key_dir = key_dir
    return {**emulator.write_config_files(BASE_URL)["netsuite-m2m.json"], **overrides}


def m2m_spec(emulator: NetSuiteEmulator, key_dir: Path, **overrides: Any) -> ConnectionSpec:
    spec = parse_connection(inline_private_key(m2m_file(emulator, key_dir, **overrides)))
    return spec


def connect_m2m(
    emulator: NetSuiteEmulator, clock: Clock, key_dir: Path, **overrides: Any
) -> NetSuiteConnector:
    return build_connector(
        m2m_spec(emulator, key_dir, **overrides),
        transport=httpx.ASGITransport(app=emulator.app),
        clock=clock,
        sleep=Sleeps(),
    )
