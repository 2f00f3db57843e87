"""What the wizard needs from the rest of the app, as small protocols the composition root fills in."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from atlas_desktop.domain.connection import ConnectionSpec, detect_erp_type
from atlas_desktop.domain.connector import ErpConnector
from atlas_desktop.domain.errors import AtlasDesktopError
from atlas_desktop.domain.model import ErpType, StepResult
from atlas_desktop.domain.secrets import Secret
from atlas_desktop.engine.api import SyncEngine
from atlas_desktop.ui.wizard.state import WizardDraft


@dataclass(frozen=True)
class AtlasIdentity:
    account_id: str
    company_name: str
    user_email: str = ""


@dataclass(frozen=True)
class DeviceCode:
    user_code: str
    verification_uri: str
    verification_uri_complete: str
    interval: float
    expires_in: float
    device_code: Secret = field(repr=False)


@dataclass(frozen=True)
class DeviceTokens:
    access_token: Secret = field(repr=False)
    refresh_token: Secret | None = field(default=None, repr=False)


class AtlasSignIn(Protocol):
    """Atlas sign-in as the first wizard page uses it (implemented over connectors.atlas)."""

    async def verify_token(self, base_url: str, token: Secret) -> AtlasIdentity: ...

    async def start_device(self, base_url: str) -> DeviceCode: ...

    async def wait_device(self, base_url: str, code: DeviceCode) -> DeviceTokens:
        """Poll until the user approved (tokens) or refused / let the code expire (AuthFailed)."""
        ...


class ConnectionStore(Protocol):
    """The part of store.repositories.ConnectionRepository the wizard writes through."""

    def add(self, spec: ConnectionSpec) -> str: ...

    def remove(self, connection_id: str) -> object: ...  # refuses while its writes are unsettled

    def update(self, connection_id: str, **changes: Any) -> None: ...


class AtlasAccountStore(Protocol):
    def save(
        self,
        base_url: str,
        auth_method: str,
        secrets: Mapping[str, Secret],
        *,
        account_id: str | None = None,
        company_name: str | None = None,
    ) -> None: ...


@dataclass(frozen=True)
class SandboxInfo:
    """The demo's emulators: their addresses and the credential files they hand out.

    `netsuite_m2m`: what NetSuite shows for OAuth 2.0 (account_id, client_id, base_url);
    `upload_certificate`: the certificate PEM to the sandbox's M2M Setup -> its Certificate ID.
    """

    urls: Mapping[str, str]
    credential_files: Mapping[str, Mapping[str, Any]]
    atlas_token: str = ""
    netsuite_m2m: Mapping[str, str] = field(default_factory=dict)
    upload_certificate: Callable[[str], Awaitable[str]] | None = None

    @property
    def atlas_url(self) -> str:
        return self.urls.get("atlas", "")

    def credentials_for(self, erp_type: ErpType) -> Mapping[str, Any] | None:
        """The first credential file for this ERP, preferring the simplest sign-in (no certificates)."""
        matches = []
        for name, content in sorted(self.credential_files.items()):
            merged = {**content, **(content.get("credentials") or {})}
            try:
                kind = detect_erp_type(merged)
            except AtlasDesktopError:
                continue
            if kind is erp_type:
                matches.append((bool(merged.get("client_certificate")), name, content))
        return min(matches, key=lambda m: (m[0], m[1]))[2] if matches else None


class MadeCertificate(Protocol):
    """A new M2M key pair (app/netsuite_certificates.py): the certificate on disk, the key in memory."""

    @property
    def path(self) -> Path: ...

    @property
    def certificate_pem(self) -> str: ...

    @property
    def not_after(self) -> datetime: ...

    @property
    def private_key(self) -> Secret: ...


class CertificateMaker(Protocol):
    folder: Path

    def create(self, account_id: str = "") -> MadeCertificate: ...


ConnectorFactory = Callable[[ConnectionSpec], ErpConnector]
# (host, port) -> the "Reach the server" step; None = a real TCP connection (ui/wizard/reach.py).
Reach = Callable[[str, int], Awaitable[StepResult]]


@dataclass
class WizardContext:
    connections: ConnectionStore
    atlas_accounts: AtlasAccountStore
    atlas_signin: AtlasSignIn
    connector_factory: ConnectorFactory
    engine: SyncEngine | None = None
    draft: WizardDraft | None = None
    sandbox: SandboxInfo | None = None
    network_defaults: Mapping[str, Any] = field(default_factory=dict)  # proxy_password: a Secret
    open_url: Callable[[str], object] | None = None
    vault_description: str = ""
    reach: Reach | None = None
    # Opens the network settings (proxy, CA bundle); the app applies what is saved to the sign-in and
    # the connectors built after it. None: the page cannot offer it (tests, headless).
    edit_network: Callable[[], None] | None = None
    # Starts the app on its sandbox in a new window (for someone with no account yet); None: not offered.
    start_demo: Callable[[], None] | None = None
    certificates: CertificateMaker | None = None  # NetSuite OAuth 2.0: makes the key pair
