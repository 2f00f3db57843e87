"""Fixtures for the store tests: a fresh database per test and a vault with a memory key."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from atlas_desktop.domain.model import ErpType
from atlas_desktop.store.db import Store
from atlas_desktop.store.models import ConnectionRow
from atlas_desktop.store.vault import MemoryKeySource, Vault


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    opened = Store.open(tmp_path / "atlas.db")
    yield opened
    opened.close()


@pytest.fixture
def vault() -> Vault:
    return Vault(MemoryKeySource())


def make_connection(store: Store, name: str = "NetSuite test") -> str:
    """A bare connection row (no secrets): what the sync-state tables hang off."""
    with store.session() as session:
        row = ConnectionRow(erp_type=ErpType.NETSUITE, connection_name=name)
        session.add(row)
        session.flush()
        return row.id


@pytest.fixture
def connection_id(store: Store) -> str:
    return make_connection(store)
