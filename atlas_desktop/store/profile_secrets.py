"""The profile's own credentials (e.g. the app-wide proxy's password), encrypted in `secrets`."""

from __future__ import annotations

import sqlalchemy as sa

from atlas_desktop.domain.secrets import Secret
from atlas_desktop.store.db import Store
from atlas_desktop.store.models import SecretRow
from atlas_desktop.store.repositories import put_secret
from atlas_desktop.store.secret_owners import PROFILE_OWNER
from atlas_desktop.store.vault import Vault


class ProfileSecrets:
    """Named secrets under owner "profile": written and read through the vault, never kept in files."""

    def __init__(self, store: Store, vault: Vault) -> None:
        self._store = store
        self._vault = vault

    def get(self, name: str) -> Secret | None:
        with self._store.session() as session:
            row = session.get(SecretRow, (PROFILE_OWNER, name))
            return None if row is None else self._vault.decrypt(PROFILE_OWNER, name, row.ciphertext)

    def put(self, name: str, value: Secret) -> None:
        with self._store.session() as session:
            put_secret(session, self._vault, PROFILE_OWNER, name, value)

    def delete(self, name: str) -> None:
        with self._store.session() as session:
            session.execute(
                sa.delete(SecretRow).where(SecretRow.owner_id == PROFILE_OWNER, SecretRow.field == name)
            )
