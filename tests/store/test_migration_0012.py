"""Migration 0012: an existing index is rebuilt with one column per value and stays in step afterwards."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from alembic import command

from atlas_desktop.store.db import Store, alembic_config, create_sqlite_engine
from atlas_desktop.store.review_table import ReviewTable

_ROWS = (
    "INSERT INTO erp_connections (id, erp_type, connection_name, status, settings, field_mappings, "
    "sync_enabled, sync_frequency_minutes, sync_direction, conflict_policy, sync_scopes, "
    "consecutive_failures, created_at, updated_at) VALUES ('c1', 'netsuite', 'NS', 'active', '{}', '{}', "
    "1, 15, 'bidirectional', 'manual', '{}', 0, '2026-01-01', '2026-01-01')",
    "INSERT INTO erp_products (connection_id, item_id, sku, name, unit, lot_tracked, inactive, attributes, "
    "observed_at) VALUES ('c1', '101', 'LIP-10', 'Lipitor', 'EA', 0, 0, '{}', '2026-01-01')",
    "INSERT INTO atlas_rows (connection_id, atlas_id, sku, ndc_text, name, quantity, unit, version, "
    "updated_at, deleted, observed_at) VALUES ('c1', 'inv-1', 'LIP-10', '0071-0155-23', 'Lipitor 10 mg', "
    "'1', 'EA', 1, '2026-01-01', 0, '2026-01-01')",
    "INSERT INTO erp_inventory_mappings (id, connection_id, atlas_inventory_id, erp_item_id, "
    "erp_location_id, lot, ndc_key, ndc_text_atlas, ndc_text_erp, item_name, status, sync_direction, "
    "created_at, updated_at) VALUES "
    "(1, 'c1', 'inv-1', '101', '1', 'A7X', '00071015523', '0071-0155-23', '0071-0155-23', 'Lipitor 10 mg', "
    "'matched', 'bidirectional', '2026-01-01', '2026-01-01'), "
    "(2, 'c1', 'inv-2', NULL, NULL, NULL, '12345067890', '12345067890', NULL, 'Metformin', "
    "'unmatched_atlas', 'bidirectional', '2026-01-01', '2026-01-01')",
)


def test_the_index_is_rebuilt_per_value_without_duplicates(tmp_path: Path) -> None:
    path = tmp_path / "atlas.db"
    engine = create_sqlite_engine(path, foreign_keys=False)
    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0011")
        for sql in _ROWS:
            connection.exec_driver_sql(sql)  # the 0005 triggers index them as one text
    engine.dispose()

    with Store.open(path) as store:  # upgrades to head
        table = ReviewTable(store)

        def found(text: str) -> list[str | None]:
            return [view.atlas_inventory_id for view in table.page("c1", status=None, search=text, offset=0,
                                                                   limit=10)]  # fmt: skip

        for fragment in ("pitor 1", "0071-0155", "71015", "a7x", "inv-1", "101", "lip-10"):
            assert found(fragment) == ["inv-1"], fragment
        assert found("12345-678-90") == found("metf") == ["inv-2"]
        with store.session() as session:
            session.connection().exec_driver_sql(
                "UPDATE erp_inventory_mappings SET item_name = 'Glucophage' WHERE id = 2"
            )
        assert found("metf") == [] and found("cophag") == ["inv-2"]  # the new triggers index columns
    with sqlite3.connect(path) as db:
        indexed = db.execute("SELECT rowid, ndc_text_atlas, ndc_text_erp, atlas_sku, erp_sku FROM "
                             "mapping_search ORDER BY rowid").fetchall()  # fmt: skip
        automerge = db.execute("SELECT v FROM mapping_search_config WHERE k = 'automerge'").fetchall()
    # The NDC text equal to the key, the ERP's equal to Atlas's and the SKU both sides share: once each.
    assert indexed == [(1, "0071-0155-23", None, "LIP-10", None), (2, None, None, None, None)]
    assert automerge == [(4,)]  # FTS5's default again after the backfill


def test_the_downgrade_restores_the_single_text(tmp_path: Path) -> None:
    path = tmp_path / "atlas.db"
    Store.open(path).close()
    engine = create_sqlite_engine(path, foreign_keys=False)
    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        for sql in _ROWS:
            connection.exec_driver_sql(sql)
        command.downgrade(config, "0011")
        texts = connection.exec_driver_sql("SELECT rowid, text FROM mapping_search ORDER BY rowid").all()
        connection.exec_driver_sql("DELETE FROM erp_inventory_mappings WHERE id = 2")
        left = connection.exec_driver_sql("SELECT rowid FROM mapping_search").scalars().all()
    engine.dispose()
    assert texts == [
        (1, "00071015523 0071-0155-23 0071-0155-23 Lipitor 10 mg A7X inv-1 101 LIP-10 LIP-10"),
        (2, "12345067890 12345067890  Metformin  inv-2   "),
    ]
    assert left == [1]
