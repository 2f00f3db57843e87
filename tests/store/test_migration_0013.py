"""Migration 0013: the Atlas mirror's NDC-key index goes, and comes back on a downgrade."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from alembic import command

from atlas_desktop.store.db import Store, alembic_config, create_sqlite_engine

INDEX = "ix_atlas_rows_connection_id_ndc_key"


def _indexes(path: Path) -> set[str]:
    with sqlite3.connect(path) as db:
        rows = db.execute("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'atlas_rows'")
        return {name for (name,) in rows}


def _migrate(path: Path, step: str, revision: str) -> None:
    engine = create_sqlite_engine(path, foreign_keys=False)
    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        getattr(command, step)(config, revision)
    engine.dispose()


def test_the_atlas_ndc_key_index_is_dropped_and_restored(tmp_path: Path) -> None:
    path = tmp_path / "atlas.db"
    _migrate(path, "upgrade", "0012")
    assert INDEX in _indexes(path)
    Store.open(path).close()  # upgrades to head
    assert INDEX not in _indexes(path)
    assert "ix_atlas_rows_connection_id_observed_at" in _indexes(path)  # the merge's index stays
    _migrate(path, "downgrade", "0012")
    assert INDEX in _indexes(path)
