"""Mapping search: one index column per searchable value, duplicates left out.

The single text of 0004 (every value joined by spaces) made the trigram tokenizer index the trigrams that
span two values, which nobody types, and indexed an NDC text equal to the key, the ERP's NDC text equal
to Atlas's and an ERP SKU equal to the Atlas SKU twice. A first discovery of 100,000 items indexes
~240,000 mappings, so every trigram saved is ~240,000 index entries less. A phrase query matches in any
column, so any fragment of three or more characters of one value still finds its row.
The expressions are repeated here because a migration is history and must not change when the code does.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-08
"""

from __future__ import annotations

from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

_TRIGGERS = ("mapping_search_insert", "mapping_search_update", "mapping_search_delete")
_UNPAUSED = "WHEN NOT EXISTS (SELECT 1 FROM mapping_search_paused)"
_ATLAS_SKU = """(SELECT a.sku FROM atlas_rows a WHERE a.connection_id = {m}.connection_id
                 AND a.atlas_id = {m}.atlas_inventory_id)"""
_COLUMNS = "ndc_key, ndc_text_atlas, ndc_text_erp, item_name, lot, atlas_id, erp_item_id, atlas_sku, erp_sku"
_VALUES = f"""
{{m}}.ndc_key, nullif({{m}}.ndc_text_atlas, {{m}}.ndc_key),
CASE WHEN {{m}}.ndc_text_erp IS {{m}}.ndc_key OR {{m}}.ndc_text_erp IS {{m}}.ndc_text_atlas THEN NULL
     ELSE {{m}}.ndc_text_erp END,
{{m}}.item_name, {{m}}.lot, {{m}}.atlas_inventory_id, {{m}}.erp_item_id, {_ATLAS_SKU},
(SELECT p.sku FROM erp_products p WHERE p.connection_id = {{m}}.connection_id
 AND p.item_id = {{m}}.erp_item_id AND p.sku IS NOT {_ATLAS_SKU})
"""
# 0004's single text, for the downgrade.
_TEXT_0004 = """
coalesce({m}.ndc_key, '') || ' ' || coalesce({m}.ndc_text_atlas, '') || ' ' ||
coalesce({m}.ndc_text_erp, '') || ' ' || coalesce({m}.item_name, '') || ' ' || coalesce({m}.lot, '') || ' ' ||
coalesce({m}.atlas_inventory_id, '') || ' ' || coalesce({m}.erp_item_id, '') || ' ' ||
coalesce((SELECT a.sku FROM atlas_rows a WHERE a.connection_id = {m}.connection_id
          AND a.atlas_id = {m}.atlas_inventory_id), '') || ' ' ||
coalesce((SELECT p.sku FROM erp_products p WHERE p.connection_id = {m}.connection_id
          AND p.item_id = {m}.erp_item_id), '')
"""


def _rebuild(columns: str, values: str) -> None:
    """The index table with `columns`, filled from every mapping, and its triggers writing `values`."""
    for trigger in _TRIGGERS:
        op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
    op.execute("DROP TABLE IF EXISTS mapping_search")
    op.execute(f"CREATE VIRTUAL TABLE mapping_search USING fts5({columns}, tokenize = 'trigram')")
    # As a bulk discovery does (store/search_index.py): no segment merging while every row comes in.
    op.execute("INSERT INTO mapping_search (mapping_search, rank) VALUES ('automerge', 0)")
    op.execute(
        f"INSERT INTO mapping_search (rowid, {columns}) SELECT m.id, {values.format(m='m')} "
        "FROM erp_inventory_mappings m"
    )
    op.execute("INSERT INTO mapping_search (mapping_search, rank) VALUES ('automerge', 4)")
    # SQLite may give a new mapping the id of a deleted one: clear any index row left under that id.
    op.execute(
        f"""CREATE TRIGGER mapping_search_insert AFTER INSERT ON erp_inventory_mappings {_UNPAUSED} BEGIN
            DELETE FROM mapping_search WHERE rowid = NEW.id;
            INSERT INTO mapping_search (rowid, {columns}) VALUES (NEW.id, {values.format(m="NEW")});
        END"""
    )
    op.execute(
        f"""CREATE TRIGGER mapping_search_update AFTER UPDATE OF ndc_key, ndc_text_atlas, ndc_text_erp,
            item_name, lot, atlas_inventory_id, erp_item_id ON erp_inventory_mappings {_UNPAUSED} BEGIN
            DELETE FROM mapping_search WHERE rowid = OLD.id;
            INSERT INTO mapping_search (rowid, {columns}) VALUES (NEW.id, {values.format(m="NEW")});
        END"""
    )
    op.execute(
        f"""CREATE TRIGGER mapping_search_delete AFTER DELETE ON erp_inventory_mappings {_UNPAUSED} BEGIN
            DELETE FROM mapping_search WHERE rowid = OLD.id;
        END"""
    )


def upgrade() -> None:
    _rebuild(_COLUMNS, _VALUES)


def downgrade() -> None:
    _rebuild("text", _TEXT_0004)
