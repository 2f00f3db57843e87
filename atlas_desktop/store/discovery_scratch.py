"""Discovery's ERP side in scratch tables, so that a discovery of any catalog holds only a chunk in memory.

For one discovery a connection of its own gets two TEMP tables (private to it, dropped at the end):
- disc_links: every value an ERP product's NDC texts (its own and its pack levels') are filed under,
  with the item; the values come from the engine (`link_values`), as do the normalised lots;
- disc_stock: every ERP stock position by (item, location, normalised lot), with the lot as the ERP
  spells it and its state: open, claimed by an Atlas row, or asked for by an Atlas row but missing.
The engine then asks, a chunk of Atlas rows at a time, for the products linked to some values and for
the positions of some items, and writes its claims back (engine/discovery_source.py).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection

from atlas_desktop.domain.discovery_rows import (
    ASKED,
    CLAIMED,
    OPEN,
    AtlasPick,
    ErpOpenPosition,
    Position,
    PositionPick,
    ProductPick,
)
from atlas_desktop.domain.packs import NDC_PREFIX
from atlas_desktop.store.db import Store
from atlas_desktop.store.sqlutil import IN_CHUNK, chunked, require_connection

_FILL_BATCH = 2000  # rows per executemany while the scratch tables are filled

_CREATE = (
    "CREATE TEMP TABLE disc_links (value TEXT NOT NULL, item_id TEXT NOT NULL)",
    # A rowid table: the rowid keeps the order positions were first read in, which the ERP-only drafts
    # follow.
    "CREATE TEMP TABLE disc_stock (item_id TEXT NOT NULL, location_id TEXT NOT NULL, nlot TEXT NOT NULL, "
    "lot TEXT, state INTEGER NOT NULL, PRIMARY KEY (item_id, location_id, nlot))",
)
_DROP = ("DROP TABLE IF EXISTS temp.disc_links", "DROP TABLE IF EXISTS temp.disc_stock")
# Built after the fill: one sort beats keeping the index up to date row by row.
_INDEX = "CREATE INDEX temp.disc_links_value ON disc_links (value, item_id)"
_LINK_SQL = "INSERT INTO disc_links (value, item_id) VALUES (?, ?)"
# Two ERP lots that normalise alike are one position: the one read last gives the spelling (as a dict
# would keep it), the one read first its place.
_POSITION_SQL = (
    f"INSERT INTO disc_stock (item_id, location_id, nlot, lot, state) VALUES (?, ?, ?, ?, {OPEN}) "
    "ON CONFLICT (item_id, location_id, nlot) DO UPDATE SET lot = excluded.lot"
)
_CLAIM_SQL = f"UPDATE disc_stock SET state = {CLAIMED} WHERE item_id = ? AND location_id = ? AND nlot = ?"
_ASKED_SQL = (
    f"INSERT INTO disc_stock (item_id, location_id, nlot, lot, state) VALUES (?, ?, ?, NULL, {ASKED})"
)


class DiscoveryScratch:
    """One discovery's scratch tables and its reads, on one connection held for the discovery."""

    def __init__(self, connection: Connection, connection_id: str) -> None:
        self._db = connection
        self._connection_id = connection_id

    def _fill(
        self,
        link_values: Callable[[str | None, str, Mapping[str, str]], Iterable[str]],
        lot_key: Callable[[str | None], str],
    ) -> None:
        products = self._db.exec_driver_sql(
            "SELECT item_id, ndc_text, unit, attributes FROM erp_products WHERE connection_id = ?",
            (self._connection_id,),
        )
        links = (
            (value, item_id)
            for part in products.partitions(_FILL_BATCH)
            for item_id, ndc_text, unit, attributes in part
            for value in link_values(ndc_text, unit, _attributes(attributes))
        )
        for link_batch in chunked(links, _FILL_BATCH):
            self._db.exec_driver_sql(_LINK_SQL, link_batch)
        self._db.exec_driver_sql(_INDEX)
        stock = self._db.exec_driver_sql(
            "SELECT item_id, location_id, lot FROM erp_stock WHERE connection_id = ? "
            "ORDER BY item_id, location_id, lot",
            (self._connection_id,),
        )
        positions = (
            (item_id, location_id, lot_key(lot or None), lot or None)
            for part in stock.partitions(_FILL_BATCH)
            for item_id, location_id, lot in part
        )
        for batch in chunked(positions, _FILL_BATCH):
            self._db.exec_driver_sql(_POSITION_SQL, batch)

    def atlas_pages(self, size: int) -> Iterator[Sequence[AtlasPick]]:
        """The connection's live Atlas rows in atlas_id order, `size` at a time (keyset pages)."""
        sql = (
            "SELECT atlas_id, ndc_text, lot, location, name FROM atlas_rows "
            "WHERE connection_id = ? AND deleted = 0 {after}ORDER BY atlas_id LIMIT ?"
        )
        first, sql = sql.format(after=""), sql.format(after="AND atlas_id > ? ")
        page: Sequence[Any] = self._db.exec_driver_sql(first, (self._connection_id, size)).all()
        while page:
            yield page
            if len(page) < size:
                return
            page = self._db.exec_driver_sql(sql, (self._connection_id, page[-1][0], size)).all()

    def products_linked(self, values: Collection[str]) -> list[ProductPick]:
        """Every product filed under one of `values`: (item id, NDC text, name, unit, attributes)."""
        found: dict[str, ProductPick] = {}
        for batch in chunked(sorted(values), IN_CHUNK):
            marks = ", ".join("?" * len(batch))
            rows = self._db.exec_driver_sql(
                "SELECT item_id, ndc_text, name, unit, attributes FROM erp_products WHERE connection_id = ? "
                f"AND item_id IN (SELECT item_id FROM disc_links WHERE value IN ({marks}))",
                (self._connection_id, *batch),
            ).all()
            for item_id, ndc_text, name, unit, attributes in rows:
                found[item_id] = (item_id, ndc_text, name, unit, _attributes(attributes))
        return list(found.values())

    def positions_of(self, item_ids: Collection[str]) -> list[PositionPick]:
        """The positions of these items, open, claimed or asked for: (item, location, nlot, lot, state)."""
        picked: list[PositionPick] = []
        for batch in chunked(sorted(item_ids), IN_CHUNK):
            marks = ", ".join("?" * len(batch))
            rows = self._db.exec_driver_sql(
                f"SELECT item_id, location_id, nlot, lot, state FROM disc_stock WHERE item_id IN ({marks})",
                tuple(batch),
            ).all()
            picked.extend(tuple(row) for row in rows)
        return picked

    def mark(self, claimed: Sequence[Position], asked: Sequence[Position]) -> None:
        """Positions Atlas rows took, and the missing ones Atlas rows asked for."""
        if claimed:
            self._db.exec_driver_sql(_CLAIM_SQL, list(claimed))
        if asked:
            self._db.exec_driver_sql(_ASKED_SQL, list(asked))

    def unclaimed(self) -> Iterator[ErpOpenPosition]:
        """The open positions in the order first read, each with its product's NDC text and name."""
        sql = (
            "SELECT s.rowid, s.item_id, s.location_id, s.lot, p.item_id IS NOT NULL, p.ndc_text, p.name "
            "FROM disc_stock s LEFT JOIN erp_products p ON p.connection_id = ? AND p.item_id = s.item_id "
            f"WHERE s.state = {OPEN} AND s.rowid > ? ORDER BY s.rowid LIMIT ?"
        )
        after = 0
        while True:
            page = self._db.exec_driver_sql(sql, (self._connection_id, after, _FILL_BATCH)).all()
            for _rowid, item_id, location_id, lot, known, ndc_text, name in page:
                yield ErpOpenPosition(item_id, location_id, lot, bool(known), ndc_text, name)
            if len(page) < _FILL_BATCH:
                return
            after = page[-1][0]


class DiscoveryScratches:
    """Hands out a DiscoveryScratch for one discovery, filled from the connection's mirrors."""

    def __init__(self, store: Store) -> None:
        self._store = store

    @contextmanager
    def open(
        self,
        connection_id: str,
        link_values: Callable[[str | None, str, Mapping[str, str]], Iterable[str]],
        lot_key: Callable[[str | None], str],
    ) -> Iterator[DiscoveryScratch]:
        """The scratch tables filled: `link_values(ndc text, unit, attributes)` gives the values a product is
        filed under, `lot_key` a lot's normalised form. They are dropped when the block ends."""
        with self._store.session() as session:
            require_connection(session, connection_id)
            connection = session.connection()
            for sql in _DROP:  # a pooled connection keeps TEMP tables a failed discovery left
                connection.exec_driver_sql(sql)
            for sql in _CREATE:
                connection.exec_driver_sql(sql)
            try:
                scratch = DiscoveryScratch(connection, connection_id)
                scratch._fill(link_values, lot_key)
                yield scratch
            finally:
                for sql in _DROP:
                    connection.exec_driver_sql(sql)


def _attributes(text: Any) -> dict[str, str]:
    """A product's attributes as far as discovery reads them: its pack levels, named by `ndc:` keys. Most
    products have none, and their JSON is not decoded (the stored text spells every key out in ASCII)."""
    return json.loads(text) if text and NDC_PREFIX in text else {}
