"""The wizard's Atlas sign-in over connectors.atlas: check a pasted API token, or run the device sign-in."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from atlas_desktop.domain.secrets import Secret
from atlas_desktop.ui.wizard.context import AtlasIdentity, DeviceCode, DeviceTokens


class ConnectorAtlasSignIn:
    """`AtlasSignIn` for the wizard. `transport` replaces the network in tests (an httpx transport)."""

    def __init__(self, *, network: Mapping[str, Any] | None = None, transport: Any = None) -> None:
        self._settings: dict[str, Any] = {}
        self.use_network(network or {})
        self._transport = transport
        self._pending: dict[str, tuple[Any, Any]] = {}

    def use_network(self, network: Mapping[str, Any]) -> None:
        """The proxy and CA bundle for the next request (the user may set them after a failed try)."""
        settings: dict[str, Any] = {"max_retries": 1, "timeout_s": 20.0}
        if network.get("proxy"):
            settings["proxy"] = network["proxy"]
            # The address is masked (`user:****@`); its password comes from the vault as a Secret.
            settings["proxy_password"] = network.get("proxy_password")
        if network.get("ca_bundle"):
            settings["ca_bundle"] = Path(network["ca_bundle"])
        self._settings = settings

    async def verify_token(self, base_url: str, token: Secret) -> AtlasIdentity:
        from atlas_desktop.connectors.atlas import build_client

        client = build_client(base_url, token=token, transport=self._transport, **self._settings)
        try:
            info = await client.me()
        finally:
            await client.aclose()
        return AtlasIdentity(info.account_id, info.company_name, info.user_email)

    async def start_device(self, base_url: str) -> DeviceCode:
        from atlas_desktop.connectors.atlas import device_sign_in

        flow = device_sign_in(base_url, transport=self._transport, **self._settings)
        try:
            started = await flow.start()
        except BaseException:
            await flow.http.aclose()
            raise
        self._pending[started.user_code] = (flow, started)
        return DeviceCode(
            user_code=started.user_code,
            verification_uri=started.verification_uri,
            verification_uri_complete=started.verification_uri_complete,
            interval=float(started.interval),
            expires_in=float(started.expires_in),
            device_code=started.device_code,
        )

    async def wait_device(self, base_url: str, code: DeviceCode) -> DeviceTokens:
        flow, started = self._pending.pop(code.user_code)
        try:
            tokens = await flow.wait(started)
        finally:
            await flow.http.aclose()
        return DeviceTokens(access_token=tokens.access_token, refresh_token=tokens.refresh_token)
