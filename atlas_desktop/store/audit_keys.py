"""The audit trail's HMAC key (32 random bytes sealed by the vault) and the keying marker (migration 0009)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Protocol

import sqlalchemy as sa
from sqlalchemy import Connection
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from atlas_desktop.domain.secrets import Secret
from atlas_desktop.store.keys import VaultError
from atlas_desktop.store.models import AuditKeyingRow, SecretRow
from atlas_desktop.store.secret_owners import PROFILE_OWNER
from atlas_desktop.store.vault import Vault

AUDIT_KEY_FIELD = "audit_hmac_key"
AUDIT_KEY_BYTES = 32

KEYED, PENDING, BROKEN = "keyed", "pending", "broken"

# The same trigger as migration 0003: re-created after the one-off re-seal of unkeyed entries.
DROP_NO_UPDATE = "DROP TRIGGER IF EXISTS audit_log_no_update"
CREATE_NO_UPDATE = """
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
WHEN OLD.hash <> ''
BEGIN SELECT RAISE(ABORT, 'audit_log entries cannot be changed'); END
"""

_SECRETS = SecretRow.__table__
_KEYING = AuditKeyingRow.__table__
_KEY_ROW = sa.select(_SECRETS.c.ciphertext).where(
    _SECRETS.c.owner_id == PROFILE_OWNER, _SECRETS.c.field == AUDIT_KEY_FIELD
)


class AuditKeySource(Protocol):
    """Where AuditLog gets its key: read in the caller's transaction, created there if asked to."""

    def load(self, conn: Connection, *, create: bool) -> bytes | None: ...


class VaultAuditKey:
    """The key as an encrypted row of `secrets` (owner "profile"): never in plain text on disk."""

    def __init__(self, vault: Vault) -> None:
        self._vault = vault

    def load(self, conn: Connection, *, create: bool) -> bytes | None:
        if create:
            # Insert first: the write takes SQLite's lock before the read, so two processes creating it at
            # once queue up (a read first could not be upgraded) and the first row wins for both.
            new_key = Secret(secrets.token_hex(AUDIT_KEY_BYTES))
            conn.execute(
                sqlite_insert(_SECRETS)
                .values(
                    owner_id=PROFILE_OWNER, field=AUDIT_KEY_FIELD,
                    ciphertext=self._vault.encrypt(PROFILE_OWNER, AUDIT_KEY_FIELD, new_key),
                )
                .on_conflict_do_nothing()
            )  # fmt: skip
        blob = conn.execute(_KEY_ROW).scalar()
        if blob is None:
            return None
        text = self._vault.decrypt(PROFILE_OWNER, AUDIT_KEY_FIELD, blob).reveal()
        try:
            key = bytes.fromhex(text)
        except ValueError:
            key = b""
        if len(key) != AUDIT_KEY_BYTES:
            raise VaultError("The audit log's key in the vault is damaged.")
        return key


@dataclass(frozen=True)
class Keying:
    state: str
    legacy_through: int | None = None


def read_keying(conn: Connection, *, for_update: bool = False) -> Keying:
    """The marker; a database without the row counts as keyed. `for_update` takes the write lock first."""
    if for_update:
        # A write before the read: SQLite then holds its write lock, so two processes cannot both re-seal.
        conn.execute(sa.update(_KEYING).values(state=_KEYING.c.state))
    row = conn.execute(sa.select(_KEYING.c.state, _KEYING.c.legacy_through)).first()
    return Keying(KEYED) if row is None else Keying(row.state, row.legacy_through)


def write_keying(conn: Connection, state: str, legacy_through: int | None = None) -> None:
    values = {"state": state, "legacy_through": legacy_through}
    if conn.execute(sa.update(_KEYING).values(**values)).rowcount == 0:
        conn.execute(sa.insert(_KEYING).values(id=1, **values))
