"""Opens one profile's services (store, vault, repositories, settings) and closes them together."""

from __future__ import annotations

import getpass
import logging
import os
import sys
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from atlas_desktop.app.paths import ProfilePaths
from atlas_desktop.app.settings import AppSettings
from atlas_desktop.domain.connection import ConnectionSpec
from atlas_desktop.domain.secrets import Secret
from atlas_desktop.store.audit import AuditLog
from atlas_desktop.store.audit_keys import VaultAuditKey
from atlas_desktop.store.db import Store
from atlas_desktop.store.keys import (
    MIN_PASSPHRASE_CHARS,
    KeySource,
    PassphrasePrompt,
    VaultError,
    choose_key_source,
    why_a_passphrase,
)
from atlas_desktop.store.process_locks import ProcessLocks
from atlas_desktop.store.profile_secrets import ProfileSecrets
from atlas_desktop.store.repositories import AtlasAccountRepository, ConnectionRepository, OpenWrites
from atlas_desktop.store.test_reports import LatestTestReports
from atlas_desktop.store.vault import Vault

log = logging.getLogger(__name__)


class AuditedConnections:
    """The connection repository, with every add, removal and change entered in the audit trail."""

    def __init__(self, repository: ConnectionRepository, audit: AuditLog, *, actor: str, source: str) -> None:
        self._repository = repository
        self._audit = audit
        self._actor = actor
        self._source = source

    def with_source(self, source: str, *, actor: str) -> AuditedConnections:
        return AuditedConnections(self._repository, self._audit, actor=actor, source=source)

    def __getattr__(self, name: str) -> Any:  # reads and everything else: the repository's own
        return getattr(self._repository, name)

    def _record(self, action: str, connection_id: str, details: dict[str, Any]) -> None:
        self._audit.append(action, actor=self._actor, source=self._source, connection_id=connection_id,
                           details=details)  # fmt: skip

    def add(self, spec: ConnectionSpec) -> str:
        connection_id = self._repository.add(spec)
        self._record("connection_added", connection_id, {"erp_type": spec.erp_type.value, "name": spec.name})
        return connection_id

    def remove(self, connection_id: str, *, force: bool = False) -> OpenWrites:
        """Refuses (UnsettledWrites) while writes are pending or in doubt, unless `force`; the audit entry
        says how many a forced removal discarded."""
        discarded = self._repository.remove(connection_id, force=force)
        self._record("connection_removed", connection_id, {
            "discarded_writes": discarded.total, "pending": discarded.pending, "in_doubt": discarded.in_doubt,
        })  # fmt: skip
        return discarded

    def update(self, connection_id: str, **changes: Any) -> None:
        self._repository.update(connection_id, **changes)
        self._record("settings_changed", connection_id, {k: str(v) for k, v in changes.items()})

    def update_settings(self, connection_id: str, **changes: Any) -> None:
        self._repository.update_settings(connection_id, **changes)
        self._record("settings_changed", connection_id, {"settings": sorted(changes)})


@dataclass
class Services:
    paths: ProfilePaths
    store: Store
    vault: Vault
    settings: AppSettings
    connections: AuditedConnections
    atlas_accounts: AtlasAccountRepository
    audit: AuditLog
    locks: ProcessLocks  # one run per connection and one schedule per profile, across processes
    test_reports: LatestTestReports  # the latest connection test of each connection, for support


def _finish_upgrades(audit: AuditLog, connections: ConnectionRepository, settings: AppSettings) -> None:
    """What older versions left that only the vault can fix; cheap reads (no vault) when nothing is left.

    Not Alembic migrations: these need the vault key, which migrations cannot reach.
    """
    try:
        # Once, after the upgrade that keyed the trail (migration 0009), close to it.
        audit.finish_keying()
    except VaultError as error:  # e.g. no passphrase at hand: it happens at the trail's next use
        log.warning("audit log: older entries not sealed with the key yet (%s)", error.message)
    try:
        # Proxy passwords older versions kept in plain settings (erp_connections.settings, settings.json).
        moved = connections.vault_plain_proxy_passwords() + int(settings.vault_plain_proxy_password())
    except VaultError as error:
        log.warning("proxy passwords not moved to the vault yet (%s); they will be at the next open",
                    error.message)  # fmt: skip
    else:
        if moved:
            log.info("moved %d proxy password(s) from the plain settings into the vault", moved)


class TerminalPassphrasePrompt:
    """The passphrase asked on a terminal; it explains first, because a bare prompt is alarming."""

    def __init__(
        self, ask: Callable[[str], str] = getpass.getpass, say: Callable[[str], None] | None = None
    ) -> None:
        self._ask = ask
        self._say = say or (lambda text: print(text, file=sys.stderr))

    def _typed(self, question: str) -> str:
        try:
            return self._ask(question)
        except EOFError:  # Ctrl-D: the same as cancelling
            return ""

    def choose(self, data_dir: Path) -> Secret | None:
        self._say(why_a_passphrase(data_dir))
        for _ in range(3):
            first = self._typed(f"Choose a passphrase (at least {MIN_PASSPHRASE_CHARS} characters): ")
            if not first:
                return None
            if len(first) < MIN_PASSPHRASE_CHARS:
                self._say(f"That is {len(first)} characters; use at least {MIN_PASSPHRASE_CHARS}.")
                continue
            if self._typed("Type the same passphrase again: ") != first:
                self._say("The two entries differ. Try again.")
                continue
            return Secret(first)
        return None

    def unlock(self, data_dir: Path, problem: str | None) -> Secret | None:
        if problem:
            self._say(problem)
        typed = self._typed("Passphrase for the stored credentials: ")
        return Secret(typed) if typed else None


@contextmanager
def open_services(
    paths: ProfilePaths,
    *,
    interactive: bool = False,
    key_source: KeySource | None = None,
    prompt: PassphrasePrompt | None = None,
    env: Mapping[str, str] | None = None,
) -> Iterator[Services]:
    """The store is migrated on open; the vault key is unlocked lazily, at the first secret used.

    `env` holds ATLAS_DESKTOP_PASSPHRASE when the entry point took it out of the process environment
    (see store.keys.take_env_passphrase); None reads the process environment.
    """
    paths.ensure()
    store = Store.open(paths.database)
    try:
        source = key_source or choose_key_source(
            paths.root,
            env=os.environ if env is None else env,
            prompt=(prompt or TerminalPassphrasePrompt()) if interactive else None,
            has_secrets=ConnectionRepository.any_secret_stored(store),
        )
    except BaseException:
        store.close()
        raise
    vault = Vault(source)
    audit = AuditLog(store, VaultAuditKey(vault))

    def settings_changed(key: str, value: Any) -> None:
        audit.append(
            "settings_changed", actor="user", source="manual", subject=key, details={"value": str(value)}
        )

    try:
        # The proxy's password goes to the vault; settings.json and the audit entry see it masked.
        secrets = ProfileSecrets(store, vault)
        settings = AppSettings(paths.settings, on_change=settings_changed, secrets=secrets)
        connections = ConnectionRepository(store, vault)
        _finish_upgrades(audit, connections, settings)
        yield Services(
            paths=paths,
            store=store,
            vault=vault,
            settings=settings,
            connections=AuditedConnections(connections, audit, actor="user", source="manual"),
            atlas_accounts=AtlasAccountRepository(store, vault),
            audit=audit,
            locks=ProcessLocks(paths.locks),
            test_reports=LatestTestReports(paths.root),
        )
    finally:
        store.close()
