"""Mapping search: an FTS5 trigram index over each mapping's searchable text.

The review table searches 100,000 mappings by any fragment of an NDC (any format), name, SKU, lot or
id; LIKE '%...%' over seven columns and two mirrors scanned everything on every keystroke. A trigram
index answers a fragment of three or more characters from the index. Triggers keep it in step with
the mapping rows; SKUs are taken from the mirrors when the mapping row is written.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28
"""

from __future__ import annotations

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

# The searchable text of mapping NEW (or of row m in the backfill): every identifier a person may type.
_TEXT = """
coalesce({m}.ndc_key, '') || ' ' || coalesce({m}.ndc_text_atlas, '') || ' ' ||
coalesce({m}.ndc_text_erp, '') || ' ' || coalesce({m}.item_name, '') || ' ' || coalesce({m}.lot, '') || ' ' ||
coalesce({m}.atlas_inventory_id, '') || ' ' || coalesce({m}.erp_item_id, '') || ' ' ||
coalesce((SELECT a.sku FROM atlas_rows a WHERE a.connection_id = {m}.connection_id
          AND a.atlas_id = {m}.atlas_inventory_id), '') || ' ' ||
coalesce((SELECT p.sku FROM erp_products p WHERE p.connection_id = {m}.connection_id
          AND p.item_id = {m}.erp_item_id), '')
"""

_STATEMENTS = (
    "CREATE VIRTUAL TABLE mapping_search USING fts5(text, tokenize = 'trigram')",
    f"INSERT INTO mapping_search (rowid, text) SELECT m.id, {_TEXT.format(m='m')} "
    "FROM erp_inventory_mappings m",
    # SQLite may give a new mapping the id of a deleted one: clear any index row left under that id.
    f"""CREATE TRIGGER mapping_search_insert AFTER INSERT ON erp_inventory_mappings BEGIN
        DELETE FROM mapping_search WHERE rowid = NEW.id;
        INSERT INTO mapping_search (rowid, text) VALUES (NEW.id, {_TEXT.format(m='NEW')});
    END""",
    f"""CREATE TRIGGER mapping_search_update AFTER UPDATE OF ndc_key, ndc_text_atlas, ndc_text_erp,
        item_name, lot, atlas_inventory_id, erp_item_id ON erp_inventory_mappings BEGIN
        DELETE FROM mapping_search WHERE rowid = OLD.id;
        INSERT INTO mapping_search (rowid, text) VALUES (NEW.id, {_TEXT.format(m='NEW')});
    END""",
    """CREATE TRIGGER mapping_search_delete AFTER DELETE ON erp_inventory_mappings BEGIN
        DELETE FROM mapping_search WHERE rowid = OLD.id;
    END""",
)


def upgrade() -> None:
    for statement in _STATEMENTS:
        op.execute(statement)


def downgrade() -> None:
    for trigger in ("mapping_search_insert", "mapping_search_update", "mapping_search_delete"):
        op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
    op.execute("DROP TABLE IF EXISTS mapping_search")
