"""Migration 0014: the run's and the base's merge marks, their indexes, and back on a downgrade."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from atlas_desktop.store.db import Store
from tests.store.test_migration_0013 import _migrate


def _schema(path: Path) -> tuple[set[str], set[str]]:
    """(index names, table.column names) of the tables 0014 touches."""
    tables = ("sync_bases", "sync_decisions", "erp_sync_logs")
    with sqlite3.connect(path) as db:
        marks = ", ".join("?" for _ in tables)
        query = f"SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name IN ({marks})"
        found = db.execute(query, tables)
        indexes = {name for (name,) in found}
        columns = {f"{t}.{row[1]}" for t in tables for row in db.execute(f"PRAGMA table_info({t})")}
    return indexes, columns


def test_the_merge_marks_come_and_go(tmp_path: Path) -> None:
    path = tmp_path / "atlas.db"
    _migrate(path, "upgrade", "0013")
    before = _schema(path)
    Store.open(path).close()  # upgrades to head
    indexes, columns = _schema(path)
    assert {"sync_bases.decided_in", "erp_sync_logs.reads_done_at"} <= columns
    assert {
        "ix_sync_bases_updated_at_decided_in",
        "ix_sync_decisions_connection_id_created_at_mapping_id",
    } <= indexes
    assert "ix_sync_bases_updated_at" not in indexes
    _migrate(path, "downgrade", "0013")
    assert _schema(path) == before
