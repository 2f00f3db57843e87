"""Renewing a NetSuite M2M certificate without a sync gap.

`start` makes a new key pair and keeps its key in the vault as `pending_private_key` (the connector reads
only `private_key`, so syncs go on with the old one). The user uploads the new certificate and types its
Certificate ID; `finish` asks NetSuite for a token with the new key and ID, and only when one comes back
swaps key, ID and expiry in one transaction. A pending renewal survives a restart of the app.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from atlas_desktop.app.netsuite_certificates import CertificateFolder
from atlas_desktop.connectors.netsuite.connection_test import TOKEN
from atlas_desktop.domain.connection import ConnectionSpec, NetSuiteAuthMode, check_certificate_id
from atlas_desktop.domain.connector import ErpConnector
from atlas_desktop.domain.errors import AuthFailed, ConfigError
from atlas_desktop.domain.m2m_certificate import CERTIFICATE_EXPIRES, PENDING_KEY, parse_not_after

PENDING_EXPIRES = "pending_certificate_expires"
PENDING_FILE = "pending_certificate_file"

ConnectorFactory = Callable[[ConnectionSpec], ErpConnector]


@dataclass(frozen=True)
class PendingCertificate:
    path: Path
    not_after: datetime | None


class CertificateRenewal:
    """Over the connection repository (store calls: run them on the engine's DB thread in the window)."""

    def __init__(
        self,
        connections: Any,
        folder: CertificateFolder,
        connector_factory: ConnectorFactory,
        forget_connector: Callable[[str], Awaitable[None]] | None = None,
    ) -> None:
        self.connections = connections
        self.folder = folder
        self.connector_factory = connector_factory
        # The engine's cached connector holds the old key: after the switch the next run builds anew.
        self.forget_connector = forget_connector

    def _m2m(self, connection_id: str) -> Any:
        summary = self.connections.summary(connection_id)
        if summary.settings.get("auth_mode") != NetSuiteAuthMode.OAUTH2_M2M:
            raise ConfigError(
                "auth_mode",
                "this connection does not sign in with a certificate",
                fix="Only NetSuite OAuth 2.0 (M2M) connections have a certificate to renew.",
            )
        return summary

    def pending(self, connection_id: str) -> PendingCertificate | None:
        settings = self._m2m(connection_id).settings
        path = settings.get(PENDING_FILE)
        if not path or self.connections.get_secret(connection_id, PENDING_KEY) is None:
            return None
        return PendingCertificate(Path(path), parse_not_after(settings.get(PENDING_EXPIRES)))

    def start(self, connection_id: str) -> PendingCertificate:
        """The pending pair if there is one (the user may have uploaded it already), else a new one."""
        current = self.pending(connection_id)
        if current is not None and current.path.exists():
            return current
        account = str(self._m2m(connection_id).settings.get("account_id") or "")
        made = self.folder.create(account)
        self.connections.swap_credentials(
            connection_id,
            {PENDING_KEY: made.private_key},
            {PENDING_FILE: str(made.path), PENDING_EXPIRES: made.not_after.isoformat()},
        )
        return PendingCertificate(made.path, made.not_after)

    def candidate(self, connection_id: str, certificate_id: str) -> ConnectionSpec:
        """The connection as it will be after the switch (for the token check); nothing is stored."""
        certificate_id = check_certificate_id(certificate_id)
        key = self.connections.get_secret(connection_id, PENDING_KEY)
        if key is None:
            raise ConfigError(
                "certificate",
                "no new certificate is waiting",
                fix="Start the renewal again: it makes a new certificate to upload.",
            )
        spec = self.connections.get(connection_id)
        return replace(
            spec,
            settings={**spec.settings, "certificate_id": certificate_id},
            secrets={**spec.secrets, "private_key": key},
        )

    async def verify(self, spec: ConnectionSpec) -> None:
        """AuthFailed with NetSuite's cause and fix unless the token endpoint gives a token."""
        connector = self.connector_factory(spec)
        try:
            report = await connector.test_connection()
        finally:
            await connector.aclose()
        step = next((s for s in report.steps if s.name == TOKEN), None)
        if step is None or not step.ok:
            cause = step.cause or step.detail if step is not None else "no token was asked for"
            raise AuthFailed(f"NetSuite gave no token for the new certificate: {cause}",
                             fix=(step.fix if step is not None and step.fix else
                                  "Check the Certificate ID and that the upload was saved."))  # fmt: skip

    def switch(self, connection_id: str, spec: ConnectionSpec) -> None:
        """Make the verified key and ID the connection's own; the pending entries go."""
        settings = self.connections.summary(connection_id).settings
        self.connections.swap_credentials(
            connection_id,
            {"private_key": spec.secrets["private_key"], PENDING_KEY: None},
            {
                "certificate_id": spec.settings["certificate_id"],
                CERTIFICATE_EXPIRES: settings.get(PENDING_EXPIRES),
                PENDING_EXPIRES: None,
                PENDING_FILE: None,
            },
        )

    async def finish(self, connection_id: str, certificate_id: str) -> None:
        """candidate + verify + switch, for callers without a DB thread (the CLI)."""
        spec = self.candidate(connection_id, certificate_id)
        await self.verify(spec)
        self.switch(connection_id, spec)
        if self.forget_connector is not None:
            await self.forget_connector(connection_id)
