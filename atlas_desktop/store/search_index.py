"""The mapping search index (FTS5 trigram, migrations 0004/0005): bulk writers index set-based.

Row triggers keep the index in step with every ordinary write. A writer of thousands of mappings pauses
them inside its own transaction and indexes what it wrote with one INSERT ... SELECT per batch, several
times cheaper (see migration 0005).
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Connection

from atlas_desktop.store.sqlutil import IN_CHUNK, chunked

# Must stay the expression of migrations 0004/0005: the triggers and this module index the same text.
SEARCH_TEXT = """
coalesce(m.ndc_key, '') || ' ' || coalesce(m.ndc_text_atlas, '') || ' ' ||
coalesce(m.ndc_text_erp, '') || ' ' || coalesce(m.item_name, '') || ' ' || coalesce(m.lot, '') || ' ' ||
coalesce(m.atlas_inventory_id, '') || ' ' || coalesce(m.erp_item_id, '') || ' ' ||
coalesce((SELECT a.sku FROM atlas_rows a WHERE a.connection_id = m.connection_id
          AND a.atlas_id = m.atlas_inventory_id), '') || ' ' ||
coalesce((SELECT p.sku FROM erp_products p WHERE p.connection_id = m.connection_id
          AND p.item_id = m.erp_item_id), '')
"""


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
            self._connection.exec_driver_sql(
                f"INSERT INTO mapping_search (rowid, text) SELECT m.id, {SEARCH_TEXT} "
                f"FROM erp_inventory_mappings m WHERE m.id IN ({marks})",
                tuple(batch),
            )

    def finish(self) -> None:
        """Index the rows inserted since the pause, then resume the triggers (same transaction)."""
        self._connection.exec_driver_sql(
            f"INSERT INTO mapping_search (rowid, text) SELECT m.id, {SEARCH_TEXT} "
            "FROM erp_inventory_mappings m WHERE m.id > ?",
            (self.last_id,),
        )
        self._connection.exec_driver_sql("DELETE FROM mapping_search_paused")
