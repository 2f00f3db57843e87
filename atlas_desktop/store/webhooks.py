"""Local receivers' secrets: erp_webhooks rows with their signing secrets, and the management API key."""

from __future__ import annotations

import builtins
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from atlas_desktop.domain.enums import WebhookStatus
from atlas_desktop.domain.errors import ConfigError
from atlas_desktop.domain.model import ErpType
from atlas_desktop.domain.secrets import Secret
from atlas_desktop.store.db import Store
from atlas_desktop.store.models import ConnectionRow, SecretRow, WebhookRow
from atlas_desktop.store.repositories import ConnectionNotFound, put_secret
from atlas_desktop.store.secret_owners import webhook_owner
from atlas_desktop.store.vault import Vault

SECRET_FIELD = "webhook_secret"
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765
MANAGEMENT_OWNER = "management-api"
API_KEY_FIELD = "api_key"

# The event types each ERP's receiver accepts by default (thin events: each only triggers a read).
NETSUITE_EVENT_TYPES = ("inventory.updated", "item.created")
SAP_EVENT_TYPES = (
    "sap.s4.beh.product.v1.Product.Changed.v1",
    "sap.s4.beh.materialdocument.v1.MaterialDocument.Created.v1",
)


def default_event_types(erp_type: ErpType) -> tuple[str, ...]:
    return SAP_EVENT_TYPES if ErpType(erp_type).is_sap else NETSUITE_EVENT_TYPES


@dataclass(frozen=True, slots=True)
class WebhookView:
    """A webhook as lists show it: never its secret."""

    id: str
    connection_id: str
    erp_type: ErpType
    event_types: tuple[str, ...]
    status: WebhookStatus
    bind_host: str
    bind_port: int
    last_received_at: datetime | None
    created_at: datetime


class WebhookNotFound(ConfigError):
    def __init__(self, what: str) -> None:
        super().__init__(
            "webhook",
            f"there is no webhook for {what}",
            fix="Enable it first: atlas-desktop webhooks enable ID.",
        )


def _view(row: WebhookRow, erp_type: ErpType) -> WebhookView:
    return WebhookView(
        id=row.id,
        connection_id=row.connection_id,
        erp_type=ErpType(erp_type),
        event_types=tuple(row.event_types or ()),
        status=row.status,
        bind_host=row.bind_host,
        bind_port=row.bind_port,
        last_received_at=row.last_received_at,
        created_at=row.created_at,
    )


def check_port(port: int) -> int:
    if isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535:
        raise ConfigError("port", f"{port!r} is not a TCP port", fix="Pick a port between 1024 and 65535.")
    return port


def new_secret_value() -> Secret:
    # 256 bits from the OS CSPRNG, hex so it pastes cleanly into a SuiteScript or an SAP destination.
    return Secret(secrets.token_hex(32))


def _hook_row(session: Session, connection_id: str) -> WebhookRow | None:
    query = sa.select(WebhookRow).where(WebhookRow.connection_id == connection_id).order_by(WebhookRow.id)
    return session.scalars(query).first()


class WebhookRepository:
    """erp_webhooks: one receiver per connection; its signing secret in `secrets` (webhook_owner(id))."""

    def __init__(self, store: Store, vault: Vault) -> None:
        self._store = store
        self._vault = vault

    @staticmethod
    def _connection(session: Session, connection_id: str) -> ConnectionRow:
        row = session.get(ConnectionRow, connection_id)
        if row is None:
            raise ConnectionNotFound(connection_id)
        return row

    def enable(
        self,
        connection_id: str,
        *,
        host: str = DEFAULT_HOST,
        port: int = DEFAULT_PORT,
        event_types: Iterable[str] | None = None,
    ) -> tuple[WebhookView, bool]:
        """Turn the connection's receiver on (creating it and its secret if new).

        Returns the webhook and whether a new secret was made (an existing one is kept, so a SuiteScript
        already deployed keeps working after a disable/enable).
        """
        port = check_port(port)
        host = (host or "").strip()
        if not host:
            raise ConfigError("host", "is empty", fix="Use 127.0.0.1, or the address of one interface.")
        with self._store.session() as session:
            connection = self._connection(session, connection_id)
            erp_type = ErpType(connection.erp_type)
            row = _hook_row(session, connection_id)
            created = row is None
            if row is None:
                row = WebhookRow(connection_id=connection_id, bind_port=port)
                session.add(row)
                session.flush()
            row.status = WebhookStatus.ACTIVE
            row.bind_host, row.bind_port = host, port
            row.event_types = list(event_types or default_event_types(erp_type))
            if created or session.get(SecretRow, (webhook_owner(row.id), SECRET_FIELD)) is None:
                put_secret(session, self._vault, webhook_owner(row.id), SECRET_FIELD, new_secret_value())
                created = True
            session.flush()
            return _view(row, erp_type), created

    def disable(self, connection_id: str) -> WebhookView:
        with self._store.session() as session:
            connection = self._connection(session, connection_id)
            row = _hook_row(session, connection_id)
            if row is None:
                raise WebhookNotFound(f"connection {connection_id}")
            row.status = WebhookStatus.DISABLED
            session.flush()
            return _view(row, ErpType(connection.erp_type))

    def rotate_secret(self, connection_id: str) -> WebhookView:
        """A new signing secret: the old one stops working at once."""
        with self._store.session() as session:
            connection = self._connection(session, connection_id)
            row = _hook_row(session, connection_id)
            if row is None:
                raise WebhookNotFound(f"connection {connection_id}")
            put_secret(session, self._vault, webhook_owner(row.id), SECRET_FIELD, new_secret_value())
            return _view(row, ErpType(connection.erp_type))

    def list(self, connection_id: str | None = None) -> builtins.list[WebhookView]:
        query = sa.select(WebhookRow, ConnectionRow.erp_type).join(
            ConnectionRow, ConnectionRow.id == WebhookRow.connection_id
        )
        if connection_id is not None:
            query = query.where(WebhookRow.connection_id == connection_id)
        with self._store.session() as session:
            rows = session.execute(query.order_by(WebhookRow.created_at, WebhookRow.id)).all()
            return [_view(row, erp_type) for row, erp_type in rows]

    def for_connection(self, connection_id: str) -> WebhookView | None:
        found = self.list(connection_id)
        return found[0] if found else None

    def active_with_secret(self, connection_id: str) -> tuple[WebhookView, Secret] | None:
        """The connection's active webhook and its secret, or None (unknown, disabled, or no secret)."""
        with self._store.session() as session:
            found = session.execute(
                sa.select(WebhookRow, ConnectionRow.erp_type)
                .join(ConnectionRow, ConnectionRow.id == WebhookRow.connection_id)
                .where(WebhookRow.connection_id == connection_id, WebhookRow.status == WebhookStatus.ACTIVE)
            ).first()
            if found is None:
                return None
            row, erp_type = found
            secret_row = session.get(SecretRow, (webhook_owner(row.id), SECRET_FIELD))
            if secret_row is None:
                return None
            secret = self._vault.decrypt(webhook_owner(row.id), SECRET_FIELD, secret_row.ciphertext)
            return _view(row, erp_type), secret

    def secret(self, connection_id: str) -> Secret:
        with self._store.session() as session:
            self._connection(session, connection_id)
            row = _hook_row(session, connection_id)
            if row is None:
                raise WebhookNotFound(f"connection {connection_id}")
            secret_row = session.get(SecretRow, (webhook_owner(row.id), SECRET_FIELD))
            if secret_row is None:
                raise WebhookNotFound(f"connection {connection_id} (its secret is missing; enable it again)")
            return self._vault.decrypt(webhook_owner(row.id), SECRET_FIELD, secret_row.ciphertext)

    def mark_received(self, webhook_ids: Iterable[str], at: datetime) -> None:
        ids = builtins.list(webhook_ids)
        if not ids:
            return
        with self._store.session() as session:
            session.execute(sa.update(WebhookRow).where(WebhookRow.id.in_(ids)).values(last_received_at=at))


class ApiKeyRepository:
    """The local management API's key, encrypted in `secrets` under owner "management-api"."""

    def __init__(self, store: Store, vault: Vault) -> None:
        self._store = store
        self._vault = vault

    def get(self) -> Secret | None:
        with self._store.session() as session:
            row = session.get(SecretRow, (MANAGEMENT_OWNER, API_KEY_FIELD))
            if row is None:
                return None
            return self._vault.decrypt(MANAGEMENT_OWNER, API_KEY_FIELD, row.ciphertext)

    def ensure(self) -> Secret:
        """The key, generated at the first call."""
        with self._store.session() as session:
            row = session.get(SecretRow, (MANAGEMENT_OWNER, API_KEY_FIELD))
            if row is not None:
                return self._vault.decrypt(MANAGEMENT_OWNER, API_KEY_FIELD, row.ciphertext)
            key = Secret("atk_" + secrets.token_urlsafe(32))
            put_secret(session, self._vault, MANAGEMENT_OWNER, API_KEY_FIELD, key)
            return key

    def rotate(self) -> Secret:
        key = Secret("atk_" + secrets.token_urlsafe(32))
        with self._store.session() as session:
            put_secret(session, self._vault, MANAGEMENT_OWNER, API_KEY_FIELD, key)
        return key
