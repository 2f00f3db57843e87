"""Oracle NetSuite connector (SuiteTalk REST web services, token-based authentication)."""

from __future__ import annotations

from typing import Any

import httpx

from atlas_desktop.connectors.netsuite.connector import NetSuiteConnector
from atlas_desktop.connectors.netsuite.settings import settings_from_spec
from atlas_desktop.domain.connection import ConnectionSpec


def build_connector(
    spec: ConnectionSpec, *, transport: httpx.AsyncBaseTransport | None = None, **options: Any
) -> NetSuiteConnector:
    """The engine's and the CLI's entry point. Options: see NetSuiteConnector."""
    return NetSuiteConnector(spec, transport=transport, **options)


def check_settings(spec: ConnectionSpec) -> None:
    """Raise ConfigError naming the first setting this connector cannot use (nothing is built)."""
    settings_from_spec(spec)


__all__ = ["NetSuiteConnector", "build_connector", "check_settings"]
