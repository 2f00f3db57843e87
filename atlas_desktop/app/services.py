"""Opens one profile's services (store, vault, repositories, settings) and closes them together."""

from __future__ import annotations

import getpass
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from atlas_desktop.app.paths import ProfilePaths
from atlas_desktop.app.settings import AppSettings
from atlas_desktop.store.db import Store
from atlas_desktop.store.keys import KeySource, choose_key_source
from atlas_desktop.store.repositories import AtlasAccountRepository, ConnectionRepository
from atlas_desktop.store.vault import Vault


@dataclass
class Services:
    paths: ProfilePaths
    store: Store
    vault: Vault
    settings: AppSettings
    connections: ConnectionRepository
    atlas_accounts: AtlasAccountRepository


def _prompt(message: str) -> str:
    return getpass.getpass(message)


@contextmanager
def open_services(
    paths: ProfilePaths,
    *,
    interactive: bool = False,
    key_source: KeySource | None = None,
    prompt: Callable[[str], str] | None = None,
) -> Iterator[Services]:
    """The store is migrated on open; the vault key is unlocked lazily, at the first secret used."""
    paths.ensure()
    source = key_source or choose_key_source(paths.root, prompt=(prompt or _prompt) if interactive else None)
    vault = Vault(source)
    store = Store.open(paths.database)
    try:
        yield Services(
            paths=paths,
            store=store,
            vault=vault,
            settings=AppSettings(paths.settings),
            connections=ConnectionRepository(store, vault),
            atlas_accounts=AtlasAccountRepository(store, vault),
        )
    finally:
        store.close()
