"""Mapping search: bulk writes index set-based instead of row by row.

An FTS5 insert made from a trigger costs ~150 µs a row (FTS5 flushes its pending terms at every
statement savepoint a trigger opens); the same rows indexed by one INSERT ... SELECT cost ~20 µs. A
first discovery of 100,000 items writes ~230,000 mappings, so the row triggers cost ~35 s of it.
The triggers stay the default for every write; they stand aside while `mapping_search_paused` holds a
row, which only a bulk writer's own transaction ever inserts (and deletes before it commits), so no
other connection ever sees it. The expression is the one of 0004, repeated here because a migration is
history and must not change when the code does.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-28
"""

from __future__ import annotations

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_TEXT = """
coalesce({m}.ndc_key, '') || ' ' || coalesce({m}.ndc_text_atlas, '') || ' ' ||
coalesce({m}.ndc_text_erp, '') || ' ' || coalesce({m}.item_name, '') || ' ' || coalesce({m}.lot, '') || ' ' ||
coalesce({m}.atlas_inventory_id, '') || ' ' || coalesce({m}.erp_item_id, '') || ' ' ||
coalesce((SELECT a.sku FROM atlas_rows a WHERE a.connection_id = {m}.connection_id
          AND a.atlas_id = {m}.atlas_inventory_id), '') || ' ' ||
coalesce((SELECT p.sku FROM erp_products p WHERE p.connection_id = {m}.connection_id
          AND p.item_id = {m}.erp_item_id), '')
"""
_UNPAUSED = "WHEN NOT EXISTS (SELECT 1 FROM mapping_search_paused)"
_TRIGGERS = ("mapping_search_insert", "mapping_search_update", "mapping_search_delete")


def _create_triggers(when: str) -> None:
    op.execute(
        f"""CREATE TRIGGER mapping_search_insert AFTER INSERT ON erp_inventory_mappings {when} BEGIN
            DELETE FROM mapping_search WHERE rowid = NEW.id;
            INSERT INTO mapping_search (rowid, text) VALUES (NEW.id, {_TEXT.format(m="NEW")});
        END"""
    )
    op.execute(
        f"""CREATE TRIGGER mapping_search_update AFTER UPDATE OF ndc_key, ndc_text_atlas, ndc_text_erp,
            item_name, lot, atlas_inventory_id, erp_item_id ON erp_inventory_mappings {when} BEGIN
            DELETE FROM mapping_search WHERE rowid = OLD.id;
            INSERT INTO mapping_search (rowid, text) VALUES (NEW.id, {_TEXT.format(m="NEW")});
        END"""
    )
    op.execute(
        f"""CREATE TRIGGER mapping_search_delete AFTER DELETE ON erp_inventory_mappings {when} BEGIN
            DELETE FROM mapping_search WHERE rowid = OLD.id;
        END"""
    )


def upgrade() -> None:
    op.execute("CREATE TABLE mapping_search_paused (paused INTEGER NOT NULL)")
    for trigger in _TRIGGERS:
        op.execute(f"DROP TRIGGER {trigger}")
    _create_triggers(_UNPAUSED)


def downgrade() -> None:
    for trigger in _TRIGGERS:
        op.execute(f"DROP TRIGGER {trigger}")
    _create_triggers("")
    op.execute("DROP TABLE mapping_search_paused")
