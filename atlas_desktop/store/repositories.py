"""The store's API for connections and the Atlas account: rows in, plain values and Secrets out."""

from __future__ import annotations

import builtins
import copy
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from atlas_desktop.domain.connection import (
    ALL_SECRET_FIELDS,
    ConnectionSpec,
    check_connection_name,
    check_proxy,
    check_url,
)
from atlas_desktop.domain.connection_summary import ConnectionSummary
from atlas_desktop.domain.enums import (
    AtlasAuthMethod,
    ConflictPolicy,
    ConnectionStatus,
    OutboxStatus,
    SyncDirection,
    SyncLogStatus,
)
from atlas_desktop.domain.errors import AtlasDesktopError, ConfigError, ErrorKind
from atlas_desktop.domain.model import ErpType
from atlas_desktop.domain.proxy import (
    PROXY,
    PROXY_PASSWORD,
    has_plain_password,
    password_not_stored,
    split_proxy,
)
from atlas_desktop.domain.secrets import Secret
from atlas_desktop.store.db import Store
from atlas_desktop.store.models import AtlasAccountRow, ConnectionRow, OutboxRow, SecretRow, WebhookRow
from atlas_desktop.store.secret_owners import ATLAS_ACCOUNT_OWNER, webhook_owner
from atlas_desktop.store.types import utcnow
from atlas_desktop.store.vault import Vault

# Names that hold credentials wherever they appear; they belong in the vault, never in settings JSON.
SECRET_NAMES = ALL_SECRET_FIELDS | {
    "api_token",
    "access_token",
    "refresh_token",
    "webhook_secret",
    "passphrase",
}


class ConnectionNotFound(ConfigError):
    def __init__(self, connection_id: str) -> None:
        super().__init__(
            "connection_id",
            f"there is no connection with id {connection_id}",
            fix="It may have been removed; pick a connection from the list.",
        )
        self.connection_id = connection_id


@dataclass(frozen=True)
class OpenWrites:
    """A connection's outbox writes not settled yet: each is a sale or a receipt still to carry across."""

    pending: int = 0  # decided, not sent yet
    in_doubt: int = 0  # sent (or being sent) without an answer: may have landed

    @property
    def total(self) -> int:
        return self.pending + self.in_doubt

    def describe(self) -> str:
        return f"{self.pending} write(s) waiting to be sent and {self.in_doubt} in doubt"


class UnsettledWrites(AtlasDesktopError):
    """Removing the connection would silently discard writes that were decided but not confirmed."""

    kind = ErrorKind.CONFLICT
    default_fix = "Run a sync of the connection to settle them first, or force the removal to discard them."

    def __init__(self, name: str, writes: OpenWrites) -> None:
        super().__init__(f"connection '{name}' has {writes.describe()}; removing it would discard them")
        self.writes = writes


_OPEN = (OutboxStatus.PENDING, OutboxStatus.SENDING, OutboxStatus.IN_DOUBT)


def _open_writes(session: Session, connection_id: str) -> OpenWrites:
    counts = dict(
        session.execute(
            sa.select(OutboxRow.status, sa.func.count())
            .where(OutboxRow.connection_id == connection_id, OutboxRow.status.in_(_OPEN))
            .group_by(OutboxRow.status)
        ).all()
    )
    in_doubt = counts.get(OutboxStatus.SENDING, 0) + counts.get(OutboxStatus.IN_DOUBT, 0)
    return OpenWrites(pending=counts.get(OutboxStatus.PENDING, 0), in_doubt=in_doubt)


def check_settings(changes: Mapping[str, Any]) -> None:
    """Settings that may be stored in plain text: JSON values, never a credential."""
    for name, value in changes.items():
        if name in SECRET_NAMES or isinstance(value, Secret):
            raise ConfigError(
                f"settings.{name}",
                "is a credential and cannot be kept with the plain settings",
                fix="Store it with set_secret so it is encrypted.",
            )
        try:
            json.dumps(value)
        except (TypeError, ValueError):
            raise ConfigError(
                f"settings.{name}", f"cannot be stored ({type(value).__name__} is not JSON)"
            ) from None


def put_secret(session: Session, vault: Vault, owner_id: str, name: str, value: Secret) -> None:
    """Encrypt `value` for (owner_id, name) and insert or replace its row, in the caller's transaction."""
    blob = vault.encrypt(owner_id, name, value)
    row = session.get(SecretRow, (owner_id, name))
    if row is None:
        session.add(SecretRow(owner_id=owner_id, field=name, ciphertext=blob))
    else:
        row.ciphertext = blob
        row.updated_at = utcnow()


def _truncate_wal(store: Store) -> None:
    """Copy the WAL into the database file and empty it: overwritten secrets leave no copy behind."""
    raw = store.engine.raw_connection()
    try:
        raw.cursor().execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()  # autocommit: no BEGIN first
    finally:
        raw.close()


def _secrets_of(session: Session, vault: Vault, owner_id: str) -> dict[str, Secret]:
    rows = session.scalars(sa.select(SecretRow).where(SecretRow.owner_id == owner_id))
    return {row.field: vault.decrypt(owner_id, row.field, row.ciphertext) for row in rows}


def _secret_names(session: Session, owner_id: str) -> tuple[str, ...]:
    names = session.scalars(sa.select(SecretRow.field).where(SecretRow.owner_id == owner_id))
    return tuple(sorted(names))




def _summary(row: ConnectionRow, secret_fields: tuple[str, ...]) -> ConnectionSummary:
    return ConnectionSummary(
        id=row.id,
        erp_type=ErpType(row.erp_type),
        name=row.connection_name,
        status=row.status,
        settings=MappingProxyType(copy.deepcopy(row.settings)),
        sync_enabled=row.sync_enabled,
        sync_frequency_minutes=row.sync_frequency_minutes,
        sync_direction=row.sync_direction,
        conflict_policy=row.conflict_policy,
        sync_scopes=MappingProxyType(dict(row.sync_scopes)),
        field_mappings=MappingProxyType(copy.deepcopy(row.field_mappings)),
        last_sync_at=row.last_sync_at,
        last_sync_status=row.last_sync_status,
        consecutive_failures=row.consecutive_failures,
        created_at=row.created_at,
        updated_at=row.updated_at,
        secret_fields=secret_fields,
    )


_UNSET: Any = object()


class ConnectionRepository:
    """ERP connections: settings in `erp_connections`, each credential encrypted in `secrets`."""

    def __init__(self, store: Store, vault: Vault) -> None:
        self._store = store
        self._vault = vault

    @staticmethod
    def any_secret_stored(store: Store) -> bool:
        """True once any encrypted value is stored: the profile's key exists and must not be replaced."""
        with store.session() as session:
            return session.scalar(sa.select(SecretRow.owner_id).limit(1)) is not None

    @staticmethod
    def _row(session: Session, connection_id: str) -> ConnectionRow:
        row = session.get(ConnectionRow, connection_id)
        if row is None:
            raise ConnectionNotFound(connection_id)
        return row

    def add(self, spec: ConnectionSpec) -> str:
        """Store a validated connection (row and secrets in one transaction). Returns its new id."""
        check_connection_name(spec.name)
        check_settings(spec.settings)
        settings, secrets = dict(spec.settings), dict(spec.secrets)
        if has_plain_password(settings.get(PROXY)):  # a spec built by hand: parse_connection splits it
            proxy = check_proxy(f"settings.{PROXY}", settings[PROXY])
            settings[PROXY] = proxy.url
            if proxy.password is not None:
                secrets[PROXY_PASSWORD] = proxy.password
        with self._store.session() as session:
            row = ConnectionRow(erp_type=spec.erp_type, connection_name=spec.name, settings=settings)
            session.add(row)
            session.flush()
            for name, value in secrets.items():
                put_secret(session, self._vault, row.id, name, value)
            return row.id

    def list(self) -> builtins.list[ConnectionSummary]:
        with self._store.session() as session:
            rows = session.scalars(
                sa.select(ConnectionRow).order_by(ConnectionRow.connection_name, ConnectionRow.id)
            )
            return [_summary(row, _secret_names(session, row.id)) for row in rows]

    def summary(self, connection_id: str) -> ConnectionSummary:
        with self._store.session() as session:
            return _summary(self._row(session, connection_id), _secret_names(session, connection_id))

    def get(self, connection_id: str) -> ConnectionSpec:
        """The connection with its credentials decrypted (VaultError if one cannot be)."""
        with self._store.session() as session:
            row = self._row(session, connection_id)
            return ConnectionSpec(
                erp_type=ErpType(row.erp_type),
                name=row.connection_name,
                settings=copy.deepcopy(row.settings),
                secrets=_secrets_of(session, self._vault, connection_id),
            )

    def open_writes(self, connection_id: str) -> OpenWrites:
        with self._store.session() as session:
            self._row(session, connection_id)
            return _open_writes(session, connection_id)

    def remove(self, connection_id: str, *, force: bool = False) -> OpenWrites:
        """Delete the connection, its credentials, its webhooks' secrets and every dependent row.

        Refuses (UnsettledWrites) while outbox writes are pending or in doubt, unless `force`; counted in
        the deleting transaction, so no write recorded meanwhile is lost unseen. Returns what was discarded.
        """
        with self._store.session() as session:
            row = self._row(session, connection_id)
            writes = _open_writes(session, connection_id)
            if writes.total and not force:
                raise UnsettledWrites(row.connection_name, writes)
            hook_ids = session.scalars(
                sa.select(WebhookRow.id).where(WebhookRow.connection_id == connection_id)
            )
            owners = [connection_id, *(webhook_owner(hook_id) for hook_id in hook_ids)]
            session.execute(sa.delete(SecretRow).where(SecretRow.owner_id.in_(owners)))
            # Mappings, logs, outbox, conflicts, watermarks and webhooks go by ON DELETE CASCADE.
            session.delete(row)
            return writes

    def update_settings(self, connection_id: str, **changes: Any) -> None:
        """Merge `changes` into the non-secret settings; a value of None removes that setting.

        A proxy address keeps only `user:****@` here, its password goes to the vault; the masked
        address as shown (unchanged) keeps the stored password.
        """
        check_settings({k: v for k, v in changes.items() if v is not None})
        with self._store.session() as session:
            row = self._row(session, connection_id)
            if PROXY in changes:
                changes = {**changes, PROXY: self._proxy_change(session, row, changes[PROXY])}
            settings = copy.deepcopy(row.settings)
            for name, value in changes.items():
                if value is None:
                    settings.pop(name, None)
                else:
                    settings[name] = value
            row.settings = settings  # a new object: JSON columns do not see in-place edits

    def _proxy_change(self, session: Session, row: ConnectionRow, value: Any) -> str | None:
        """The proxy address to keep in the settings (None: no proxy), its password vaulted."""
        field_name = f"settings.{PROXY}"
        if value is None or value == "":
            self._forget_proxy_password(session, row.id)
            return None
        proxy = check_proxy(field_name, value)
        if proxy.keep_stored:
            # Write-only: **** keeps the stored password, but only for the very address it belongs to.
            stored = session.get(SecretRow, (row.id, PROXY_PASSWORD))
            if row.settings.get(PROXY) != proxy.url or stored is None:
                raise password_not_stored(field_name)
        elif proxy.password is not None:
            put_secret(session, self._vault, row.id, PROXY_PASSWORD, proxy.password)
        else:
            self._forget_proxy_password(session, row.id)
        return proxy.url

    @staticmethod
    def _forget_proxy_password(session: Session, owner_id: str) -> None:
        session.execute(
            sa.delete(SecretRow).where(SecretRow.owner_id == owner_id, SecretRow.field == PROXY_PASSWORD)
        )

    def vault_plain_proxy_passwords(self) -> int:
        """Move proxy passwords that older versions kept in plain settings into the vault; how many.

        Run at open (it needs the vault key, which a migration cannot reach). The rows are rewritten
        with secure_delete on and the WAL checkpointed, so the old text is not left in the file.
        """
        with self._store.engine.connect() as conn:
            rows = conn.execute(sa.select(ConnectionRow.id, ConnectionRow.settings)).all()
        found = [cid for cid, settings in rows if has_plain_password((settings or {}).get(PROXY))]
        if not found:
            return 0
        with self._store.session() as session:
            session.connection().exec_driver_sql("PRAGMA secure_delete = ON")
            for connection_id in found:
                row = self._row(session, connection_id)
                proxy = split_proxy(str(row.settings[PROXY]).strip())
                if proxy.password is not None:
                    put_secret(session, self._vault, row.id, PROXY_PASSWORD, proxy.password)
                row.settings = {**copy.deepcopy(row.settings), PROXY: proxy.url}
        _truncate_wal(self._store)
        return len(found)

    def update(
        self,
        connection_id: str,
        *,
        name: str = _UNSET,
        status: ConnectionStatus = _UNSET,
        sync_enabled: bool = _UNSET,
        sync_frequency_minutes: int = _UNSET,
        sync_direction: SyncDirection = _UNSET,
        conflict_policy: ConflictPolicy = _UNSET,
        sync_scopes: Mapping[str, bool] = _UNSET,
        field_mappings: Mapping[str, Any] = _UNSET,
    ) -> None:
        """Change the connection's own columns; arguments left out stay as they are."""
        if sync_frequency_minutes is not _UNSET and not 1 <= sync_frequency_minutes <= 7 * 24 * 60:
            raise ConfigError(
                "sync_frequency_minutes", "must be between 1 minute and 7 days", fix="Pick e.g. 15 minutes."
            )
        values: dict[str, Any] = {
            "connection_name": check_connection_name(name) if name is not _UNSET else _UNSET,
            "status": ConnectionStatus(status) if status is not _UNSET else _UNSET,
            "sync_enabled": sync_enabled,
            "sync_frequency_minutes": sync_frequency_minutes,
            "sync_direction": SyncDirection(sync_direction) if sync_direction is not _UNSET else _UNSET,
            "conflict_policy": ConflictPolicy(conflict_policy) if conflict_policy is not _UNSET else _UNSET,
            "sync_scopes": dict(sync_scopes) if sync_scopes is not _UNSET else _UNSET,
            "field_mappings": copy.deepcopy(dict(field_mappings)) if field_mappings is not _UNSET else _UNSET,
        }
        with self._store.session() as session:
            row = self._row(session, connection_id)
            for column, value in values.items():
                if value is not _UNSET:
                    setattr(row, column, value)

    def record_sync(self, connection_id: str, *, status: SyncLogStatus, at: datetime) -> None:
        """Note a finished run: failures count up until a run gets through (partial counts as through)."""
        with self._store.session() as session:
            row = self._row(session, connection_id)
            row.last_sync_at = at
            row.last_sync_status = status
            if status is SyncLogStatus.FAILED:
                row.consecutive_failures += 1
            elif status in (SyncLogStatus.SUCCESS, SyncLogStatus.PARTIAL):
                row.consecutive_failures = 0

    def set_secret(self, connection_id: str, name: str, value: Secret) -> None:
        with self._store.session() as session:
            self._row(session, connection_id)
            put_secret(session, self._vault, connection_id, name, value)

    def swap_credentials(
        self, connection_id: str, secrets: Mapping[str, Secret | None], settings: Mapping[str, Any]
    ) -> None:
        """Replace secrets (None removes one) and merge settings (None removes one) in ONE transaction:
        a certificate's key and its ID never disagree, even if the process dies between them."""
        check_settings({k: v for k, v in settings.items() if v is not None})
        with self._store.session() as session:
            row = self._row(session, connection_id)
            for name, value in secrets.items():
                if value is None:
                    mine = sa.and_(SecretRow.owner_id == connection_id, SecretRow.field == name)
                    session.execute(sa.delete(SecretRow).where(mine))
                else:
                    put_secret(session, self._vault, connection_id, name, value)
            merged = copy.deepcopy(row.settings)
            for name, value in settings.items():
                if value is None:
                    merged.pop(name, None)
                else:
                    merged[name] = value
            row.settings = merged

    def get_secret(self, connection_id: str, name: str) -> Secret | None:
        with self._store.session() as session:
            self._row(session, connection_id)
            row = session.get(SecretRow, (connection_id, name))
            return None if row is None else self._vault.decrypt(connection_id, name, row.ciphertext)


@dataclass(frozen=True)
class AtlasAccount:
    base_url: str
    auth_method: AtlasAuthMethod
    account_id: str | None
    company_name: str | None
    created_at: datetime
    updated_at: datetime
    secrets: Mapping[str, Secret] = field(repr=False, default_factory=dict)


_ACCOUNT_ROW_ID = 1


class AtlasAccountRepository:
    """The profile's one Atlas account; its tokens are in `secrets` under owner "atlas-account"."""

    def __init__(self, store: Store, vault: Vault) -> None:
        self._store = store
        self._vault = vault

    def save(
        self,
        base_url: str,
        auth_method: AtlasAuthMethod | str,
        secrets: Mapping[str, Secret],
        *,
        account_id: str | None = None,
        company_name: str | None = None,
    ) -> None:
        """Replace the stored account and all of its tokens."""
        url = check_url("base_url", base_url, what="Atlas address")
        try:
            method = AtlasAuthMethod(auth_method)
        except ValueError:
            raise ConfigError("auth_method", f"'{auth_method}' is not api_token or device") from None
        with self._store.session() as session:
            row = session.get(AtlasAccountRow, _ACCOUNT_ROW_ID)
            if row is None:
                row = AtlasAccountRow(id=_ACCOUNT_ROW_ID, base_url=url, auth_method=method)
                session.add(row)
            row.base_url, row.auth_method = url, method
            row.account_id, row.company_name = account_id, company_name
            row.updated_at = utcnow()
            session.execute(sa.delete(SecretRow).where(SecretRow.owner_id == ATLAS_ACCOUNT_OWNER))
            for name, value in secrets.items():
                put_secret(session, self._vault, ATLAS_ACCOUNT_OWNER, name, value)

    def load(self) -> AtlasAccount | None:
        with self._store.session() as session:
            row = session.get(AtlasAccountRow, _ACCOUNT_ROW_ID)
            if row is None:
                return None
            return AtlasAccount(
                base_url=row.base_url,
                auth_method=row.auth_method,
                account_id=row.account_id,
                company_name=row.company_name,
                created_at=row.created_at,
                updated_at=row.updated_at,
                secrets=MappingProxyType(_secrets_of(session, self._vault, ATLAS_ACCOUNT_OWNER)),
            )

    def clear(self) -> None:
        with self._store.session() as session:
            session.execute(sa.delete(SecretRow).where(SecretRow.owner_id == ATLAS_ACCOUNT_OWNER))
            session.execute(sa.delete(AtlasAccountRow))

    def set_secret(self, name: str, value: Secret) -> None:
        """Replace one token (e.g. after a refresh) without touching the others."""
        with self._store.session() as session:
            if session.get(AtlasAccountRow, _ACCOUNT_ROW_ID) is None:
                raise ConfigError(
                    "atlas_account", "no Atlas account is set up", fix="Sign in to Atlas first."
                )
            put_secret(session, self._vault, ATLAS_ACCOUNT_OWNER, name, value)

    def get_secret(self, name: str) -> Secret | None:
        with self._store.session() as session:
            row = session.get(SecretRow, (ATLAS_ACCOUNT_OWNER, name))
            return None if row is None else self._vault.decrypt(ATLAS_ACCOUNT_OWNER, name, row.ciphertext)
