"""Migration 0008: existing pairs start from the ERP name their mirror holds, so nothing is rewritten."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from alembic import command

from atlas_desktop.store.db import Store, alembic_config, create_sqlite_engine

ROWS = (
    "INSERT INTO erp_connections (id, erp_type, connection_name, status, settings, field_mappings, "
    "sync_enabled, sync_frequency_minutes, sync_direction, conflict_policy, sync_scopes, "
    "consecutive_failures, created_at, updated_at) VALUES ('c1', 'sap_cloud', 'SAP', 'active', '{}', '{}', "
    "1, 15, 'bidirectional', 'manual', '{}', 0, '2026-01-01', '2026-01-01')",
    "INSERT INTO erp_products (connection_id, item_id, sku, name, unit, lot_tracked, inactive, attributes, "
    "observed_at) VALUES ('c1', 'MAT-1', 'MAT-1', 'Amoxicillin 400 mg/5 mL powder for oral ', 'EA', 0, 0, "
    "'{}', '2026-01-01')",
    "INSERT INTO erp_inventory_mappings (id, connection_id, atlas_inventory_id, erp_item_id, "
    "erp_location_id, status, sync_direction, created_at, updated_at) VALUES "
    "(1, 'c1', 'inv-1', 'MAT-1', '1000/0001', 'matched', 'bidirectional', '2026-01-01', '2026-01-01'), "
    "(2, 'c1', 'inv-2', NULL, NULL, 'unmatched_atlas', 'bidirectional', '2026-01-01', '2026-01-01'), "
    "(3, 'c1', 'inv-3', 'MAT-9', '1000/0001', 'matched', 'bidirectional', '2026-01-01', '2026-01-01')",
)


def test_pairs_take_the_mirrored_erp_name_as_the_name_seen(tmp_path: Path) -> None:
    path = tmp_path / "atlas.db"
    engine = create_sqlite_engine(path, foreign_keys=False)
    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0007")
        for sql in ROWS:
            connection.exec_driver_sql(sql)
    engine.dispose()

    Store.open(path).close()  # upgrades to head
    with sqlite3.connect(path) as db:
        seen = db.execute("SELECT id, erp_name_seen FROM erp_inventory_mappings ORDER BY id").fetchall()
        triggers = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")}
    assert seen == [(1, "Amoxicillin 400 mg/5 mL powder for oral "), (2, None), (3, None)]
    assert {"mapping_search_insert", "mapping_search_update", "mapping_search_delete"} <= triggers
