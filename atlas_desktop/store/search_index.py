"""The mapping search index (FTS5 trigram, migrations 0004/0005/0012): bulk writers index set-based.

Row triggers keep the index in step with every ordinary write. A writer of thousands of mappings pauses
them inside its own transaction and indexes what it wrote with one INSERT ... SELECT per batch, several
times cheaper (see migration 0005).
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Connection

from atlas_desktop.store.sqlutil import IN_CHUNK, chunked

# Must stay the columns and values of migration 0012: the triggers and this module index the same values.
# A value equal to one already indexed for the row is left out (NULL): its fragments find the row already.
COLUMNS = "ndc_key, ndc_text_atlas, ndc_text_erp, item_name, lot, atlas_id, erp_item_id, atlas_sku, erp_sku"
_ATLAS_SKU = """(SELECT a.sku FROM atlas_rows a WHERE a.connection_id = m.connection_id
                 AND a.atlas_id = m.atlas_inventory_id)"""
SEARCH_VALUES = f"""
m.ndc_key, nullif(m.ndc_text_atlas, m.ndc_key),
CASE WHEN m.ndc_text_erp IS m.ndc_key OR m.ndc_text_erp IS m.ndc_text_atlas THEN NULL
     ELSE m.ndc_text_erp END,
m.item_name, m.lot, m.atlas_inventory_id, m.erp_item_id, {_ATLAS_SKU},
(SELECT p.sku FROM erp_products p WHERE p.connection_id = m.connection_id AND p.item_id = m.erp_item_id
 AND p.sku IS NOT {_ATLAS_SKU})
"""
_INDEX = (
    f"INSERT INTO mapping_search (rowid, {COLUMNS}) SELECT m.id, {SEARCH_VALUES} "
    "FROM erp_inventory_mappings m"
)
# FTS5's default: merge a level's segments as rows come once it holds 4 (a level of 16 is merged at once).
_AUTOMERGE = 4


class BulkIndexing:
    """Pauses the index triggers for the caller's transaction; the caller reports what it changed.

    Rows inserted while paused are found by id: SQLite gives a new row max(id) + 1, so everything
    inserted after `__init__` (and before any delete of the newest rows) has an id above `self.last_id`.
    """

    def __init__(self, connection: Connection) -> None:
        self._connection = connection
        connection.exec_driver_sql("INSERT INTO mapping_search_paused (paused) VALUES (1)")
        self.last_id: int = connection.exec_driver_sql(
            "SELECT coalesce(max(id), 0) FROM erp_inventory_mappings"
        ).scalar_one()

    def forget(self, mapping_ids: Iterable[int]) -> None:
        """Deleted mappings (or ones about to be re-indexed) leave the index."""
        for batch in chunked(mapping_ids, IN_CHUNK):
            marks = ", ".join("?" * len(batch))
            self._connection.exec_driver_sql(
                f"DELETE FROM mapping_search WHERE rowid IN ({marks})", tuple(batch)
            )

    def reindex(self, mapping_ids: Iterable[int]) -> None:
        """Mappings whose searchable columns were updated."""
        for batch in chunked(mapping_ids, IN_CHUNK):
            self.forget(batch)
            marks = ", ".join("?" * len(batch))
            self._connection.exec_driver_sql(f"{_INDEX} WHERE m.id IN ({marks})", tuple(batch))

    def finish(self) -> None:
        """Index the rows inserted since the pause, then resume the triggers (same transaction).

        A first discovery indexes every mapping at once: merging the segments as they come would rewrite
        most entries several times over, so only a level's 16th segment merges it (FTS5's crisis merge).
        """
        self._automerge(0)
        self._connection.exec_driver_sql(f"{_INDEX} WHERE m.id > ?", (self.last_id,))
        self._automerge(_AUTOMERGE)
        self._connection.exec_driver_sql("DELETE FROM mapping_search_paused")

    def _automerge(self, segments: int) -> None:
        self._connection.exec_driver_sql(
            "INSERT INTO mapping_search (mapping_search, rank) VALUES ('automerge', ?)", (segments,)
        )
