"""Atlas cloud API client: `build_client()` for a signed-in client, `device_sign_in()` to get tokens."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

import httpx

from atlas_desktop import __version__
from atlas_desktop.connectors.atlas.auth import (
    BearerAuth,
    DeviceAuthorization,
    DeviceSignIn,
    OAuthBearerAuth,
    TokenSet,
    TokenStore,
)
from atlas_desktop.connectors.atlas.batch import AdjustOp, CreateOp, OpResult, UpdateOp
from atlas_desktop.connectors.atlas.client import (
    AccountInfo,
    AtlasClient,
    ChangeBatch,
    HealthReport,
    OrderBatch,
    OrderLink,
    SyncLogSummary,
)
from atlas_desktop.connectors.atlas.errors import (
    AtlasVersionConflict,
    CursorRejected,
    DeviceSignInDenied,
    DeviceSignInExpired,
)
from atlas_desktop.connectors.atlas.mapping import NewInventoryRow
from atlas_desktop.connectors.http import HttpClient, HttpSettings
from atlas_desktop.domain.connection import check_url
from atlas_desktop.domain.errors import ConfigError
from atlas_desktop.domain.secrets import Secret

PRODUCTION_URL = "https://api.atlas.pharma"
SYSTEM = "Atlas"


def _http(base_url: str, transport: httpx.AsyncBaseTransport | None, auth: httpx.Auth | None,
          sleep: Any, settings: Mapping[str, Any]) -> HttpClient:  # fmt: skip
    url = check_url("base_url", base_url, what="Atlas address")
    http_settings = HttpSettings(base_url=url, system=SYSTEM, **dict(settings))
    headers = {"User-Agent": f"atlas-desktop/{__version__}", "Accept": "application/json"}
    return HttpClient(http_settings, auth=auth, headers=headers, transport=transport, sleep=sleep)


def build_client(
    base_url: str = PRODUCTION_URL,
    *,
    token: Secret | None,
    tokens: TokenSet | None = None,
    token_store: TokenStore | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
    sleep: Any = asyncio.sleep,
    **settings: Any,
) -> AtlasClient:
    """A client signed in with an API token (`token`) or device-flow tokens (`tokens`, refreshed as needed,
    new ones handed to `token_store`). `settings` go to HttpSettings (proxy, ca_bundle, timeout_s, ...)."""
    if token is not None:
        if not isinstance(token, Secret) or not token:
            raise ConfigError(
                "api_token", "the Atlas API token is empty", fix="Paste the token from the dashboard."
            )
        auth: httpx.Auth = BearerAuth(token)
    elif tokens is not None:
        signer = device_sign_in(base_url, transport=transport, token_store=None, sleep=sleep, **settings)
        auth = OAuthBearerAuth(tokens, signer.refresh, token_store)
    else:
        raise ConfigError(
            "api_token",
            "no Atlas sign-in was given",
            fix="Paste an API token (Atlas dashboard: Settings > API tokens) or sign in with a device code.",
        )
    return AtlasClient(_http(base_url, transport, auth, sleep, settings), sleep=sleep)


def device_sign_in(
    base_url: str = PRODUCTION_URL,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
    token_store: TokenStore | None = None,
    sleep: Any = asyncio.sleep,
    **options: Any,
) -> DeviceSignIn:
    """The device flow: `auth = await flow.start()`, show auth.user_code, open
    auth.verification_uri_complete, then `tokens = await flow.wait(auth)`."""
    known = {"client_id", "scope", "monotonic", "now"}
    flow_options = {k: v for k, v in options.items() if k in known}
    settings = {k: v for k, v in options.items() if k not in known}
    http = _http(base_url, transport, None, sleep, settings)
    return DeviceSignIn(http, token_store=token_store, sleep=sleep, **flow_options)


def parse_credentials(data: Mapping[str, Any]) -> tuple[str, Secret]:
    """An atlas.json file ({"base_url", "api_token"}) -> (base_url, token)."""
    base_url = check_url("base_url", data.get("base_url", PRODUCTION_URL), what="Atlas address")
    raw = data.get("api_token")
    if not isinstance(raw, str) or not raw.strip() or any(ch.isspace() for ch in raw.strip()):
        raise ConfigError(
            "api_token", "is missing or contains spaces", fix="Copy the token again from the dashboard."
        )
    return base_url, Secret(raw.strip())


__all__ = [
    "AccountInfo",
    "AdjustOp",
    "CreateOp",
    "OpResult",
    "UpdateOp",
    "AtlasClient",
    "AtlasVersionConflict",
    "ChangeBatch",
    "CursorRejected",
    "DeviceAuthorization",
    "DeviceSignIn",
    "DeviceSignInDenied",
    "DeviceSignInExpired",
    "HealthReport",
    "NewInventoryRow",
    "OrderBatch",
    "OrderLink",
    "SyncLogSummary",
    "TokenSet",
    "build_client",
    "device_sign_in",
    "parse_credentials",
]
