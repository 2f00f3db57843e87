"""Fixtures for the store tests: a fresh database per test and a vault with a memory key."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from atlas_desktop.store.db import Store
from atlas_desktop.store.vault import MemoryKeySource, Vault


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    opened = Store.open(tmp_path / "atlas.db")
    yield opened
    opened.close()


@pytest.fixture
def vault() -> Vault:
    return Vault(MemoryKeySource())
