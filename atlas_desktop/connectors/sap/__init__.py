"""SAP S/4HANA connector (OData v2, cloud and on-premise): `build_connector(spec)` is the entry point."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable
from datetime import datetime
from typing import Any

import httpx

from atlas_desktop.connectors.http import HttpClient, HttpSettings
from atlas_desktop.connectors.sap.auth import OAuthClientCredentials, OAuthToken, SapAuth, TokenCallback
from atlas_desktop.connectors.sap.config import SapConfig, config_from_spec
from atlas_desktop.connectors.sap.connector import SapConnector
from atlas_desktop.connectors.sap.writes import Sleep
from atlas_desktop.domain.connection import ConnectionSpec, SapAuthMode
from atlas_desktop.domain.errors import ConfigError
from atlas_desktop.domain.proxy import PROXY_PASSWORD

__all__ = ["OAuthToken", "SapConfig", "SapConnector", "build_connector", "check_settings"]


def check_settings(spec: ConnectionSpec) -> None:
    """Raise ConfigError naming the first setting this connector cannot use (nothing is built)."""
    config_from_spec(spec)


def _secret(spec: ConnectionSpec, name: str) -> Any:
    value = spec.secrets.get(name)
    if value is None:
        raise ConfigError(name, "is missing", fix=f"Import the connection file again with '{name}'.")
    return value


def build_auth(
    spec: ConnectionSpec,
    config: SapConfig,
    *,
    token_cache: TokenCallback | None = None,
    cached_token: OAuthToken | None = None,
    clock: Callable[[], datetime] | None = None,
) -> SapAuth:
    if config.auth_mode == SapAuthMode.OAUTH2:
        oauth = OAuthClientCredentials(
            token_endpoint=config.token_endpoint or f"{config.base_url}/sap/bc/sec/oauth2/token",
            client_id=_secret(spec, "client_id"),
            client_secret=_secret(spec, "client_secret"),
            scope=config.scope,
            token=cached_token,
            on_token=token_cache,
        )
        return SapAuth(sap_client=config.sap_client, oauth=oauth, clock=clock)
    if config.auth_mode == SapAuthMode.BASIC:
        return SapAuth(
            sap_client=config.sap_client,
            basic=(_secret(spec, "username"), _secret(spec, "password")),
            clock=clock,
        )
    if config.auth_mode == SapAuthMode.X509:
        return SapAuth(sap_client=config.sap_client, clock=clock)
    raise ConfigError(
        "auth_mode", f"'{config.auth_mode}' is not an SAP sign-in method", fix="Use oauth2, basic or x509."
    )


def build_connector(
    spec: ConnectionSpec,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
    token_cache: TokenCallback | None = None,
    cached_token: OAuthToken | None = None,
    sleep: Sleep = asyncio.sleep,
    clock: Callable[[], datetime] | None = None,
    **options: Any,
) -> SapConnector:
    """The SAP connector for one connection.

    `token_cache(token)` is called with each new OAuth token (the vault stores it) and `cached_token`
    is the one it stored last time. Other `options` override HttpSettings fields (e.g. max_retries).
    """
    config = config_from_spec(spec)
    auth = build_auth(spec, config, token_cache=token_cache, cached_token=cached_token, clock=clock)
    key_password = spec.secrets.get("client_key_password")
    settings = HttpSettings(
        base_url=config.base_url,
        proxy=config.proxy,
        proxy_password=spec.secrets.get(PROXY_PASSWORD),
        ca_bundle=config.ca_bundle,
        client_cert=config.client_cert,
        client_key=config.client_key,
        client_key_password=key_password.reveal() if key_password else None,
        max_concurrency=config.max_concurrency,
        system="SAP",
    )
    known = {f.name for f in dataclasses.fields(HttpSettings)}
    settings = dataclasses.replace(settings, **{k: v for k, v in options.items() if k in known})
    http = HttpClient(
        settings, auth=auth, headers={"Accept": "application/json"}, transport=transport, sleep=sleep
    )

    def count_call() -> None:
        http.stats.api_calls += 1

    auth._count_call = count_call
    return SapConnector(
        config, http=http, auth=auth, sleep=sleep, network_checks=transport is None, clock=clock
    )
