"""Oracle NetSuite connector (SuiteTalk REST web services, token-based authentication)."""

from __future__ import annotations

from typing import Any

import httpx

from atlas_desktop.connectors.netsuite.connector import NetSuiteConnector
from atlas_desktop.domain.connection import ConnectionSpec


def build_connector(
    spec: ConnectionSpec, *, transport: httpx.AsyncBaseTransport | None = None, **options: Any
) -> NetSuiteConnector:
    """The engine's and the CLI's entry point. Options: see NetSuiteConnector."""
    return NetSuiteConnector(spec, transport=transport, **options)


__all__ = ["NetSuiteConnector", "build_connector"]
