"""Oracle NetSuite connector (SuiteTalk REST web services; TBA or OAuth 2.0 client credentials)."""

from __future__ import annotations

from typing import Any

import httpx

from atlas_desktop.connectors.netsuite.connector import NetSuiteConnector
from atlas_desktop.connectors.netsuite.m2m import load_signing_key
from atlas_desktop.connectors.netsuite.settings import settings_from_spec
from atlas_desktop.domain.connection import ConnectionSpec


def build_connector(
    spec: ConnectionSpec, *, transport: httpx.AsyncBaseTransport | None = None, **options: Any
) -> NetSuiteConnector:
    """The engine's and the CLI's entry point. Options: see NetSuiteConnector."""
    return NetSuiteConnector(spec, transport=transport, **options)


def check_settings(spec: ConnectionSpec) -> None:
    """Raise ConfigError naming the first setting this connector cannot use (nothing is built)."""
    settings = settings_from_spec(spec)
    if settings.uses_m2m and spec.secrets.get("private_key"):
        load_signing_key(spec.secrets["private_key"])  # an unusable key is refused at import, not at sync


__all__ = ["NetSuiteConnector", "build_connector", "check_settings"]
