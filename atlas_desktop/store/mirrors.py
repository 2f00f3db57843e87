"""The Atlas listing and the ERP products and stock as last seen: bulk upserts and streamed reads."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from atlas_desktop.domain.mirror_rows import AtlasMirror, ErpProductMirror, ErpStockMirror
from atlas_desktop.domain.model import AtlasInventoryRow, Product, StockKey, StockLevel
from atlas_desktop.store.db import Store
from atlas_desktop.store.models import AtlasMirrorRow, ErpProductRow, ErpStockRow
from atlas_desktop.store.sqlutil import (
    IN_CHUNK,
    chunked,
    date_text,
    decimal_text,
    flat_json,
    lot_or_none,
    no_lot,
    parse_date,
    parse_utc,
    require_connection,
    upsert_sql,
    utc_text,
)
from atlas_desktop.store.types import utcnow

# Rows per executemany: big enough to amortise the statement, small enough to keep memory flat.
UPSERT_BATCH = 2000

_ATLAS = AtlasMirrorRow.__table__
_PRODUCTS = ErpProductRow.__table__
_STOCK = ErpStockRow.__table__


# Bulk writes bind one tuple per row, its values in this order of the table's columns.
_ATLAS_ORDER = (
    "connection_id", "atlas_id", "sku", "ndc_text", "ndc_key", "name", "lot", "expiry", "quantity", "unit",
    "location", "version", "updated_at", "deleted", "observed_at",
)  # fmt: skip
_PRODUCT_ORDER = (
    "connection_id", "item_id", "sku", "name", "unit", "ndc_text", "ndc_key", "manufacturer", "lot_tracked",
    "inactive", "last_modified", "attributes", "observed_at",
)  # fmt: skip
_STOCK_ORDER = (
    "connection_id", "item_id", "location_id", "lot", "quantity", "unit", "expiry", "version", "updated_at",
    "observed_at", "seen_marker", "lot_ref",
)  # fmt: skip

# An older version of a row (a change feed replaying its overlap window) never replaces a newer one, and
# the same version with the same values (the feed handing back a row our own write returned, or its
# overlap replaying) is left as it is: observed_at says when a row last changed as read, and a row that
# did not change is no key for the next merge to look at.
_ATLAS_VALUES = [name for name in _ATLAS_ORDER if name not in ("connection_id", "atlas_id", "observed_at")]
_ATLAS_CHANGED = " OR ".join(f"excluded.{name} IS NOT atlas_rows.{name}" for name in _ATLAS_VALUES)
_ATLAS_UPSERT = upsert_sql(
    _ATLAS,
    ("connection_id", "atlas_id"),
    where=(
        "excluded.version > atlas_rows.version "
        f"OR (excluded.version = atlas_rows.version AND ({_ATLAS_CHANGED}))"
    ),
    order=_ATLAS_ORDER,
)
_PRODUCT_UPSERT = upsert_sql(_PRODUCTS, ("connection_id", "item_id"), order=_PRODUCT_ORDER)
# An incremental pull (no marker) must not erase the marker of the last full pull.
_STOCK_UPSERT = upsert_sql(
    _STOCK,
    ("connection_id", "item_id", "location_id", "lot"),
    overrides={
        "seen_marker": "coalesce(excluded.seen_marker, erp_stock.seen_marker)",
        "lot_ref": "coalesce(excluded.lot_ref, erp_stock.lot_ref)",  # a read without ids keeps the known
    },
    order=_STOCK_ORDER,
)


def _atlas_params(
    connection_id: str,
    rows: Iterable[AtlasInventoryRow],
    ndc_key: Callable[[str], str | None],
    now: str | None,
) -> Iterator[tuple[Any, ...]]:
    """One tuple per row in _ATLAS_ORDER."""
    for row in rows:
        yield (
            connection_id,
            row.id,
            row.sku,
            row.ndc_text,
            ndc_key(row.ndc_text),
            row.name,
            lot_or_none(row.lot),
            date_text(row.expiry),
            decimal_text(row.quantity),
            row.unit,
            row.location,
            row.version,
            utc_text(row.updated_at),
            int(row.deleted),
            now,
        )


def _product_params(
    connection_id: str,
    products: Iterable[Product],
    ndc_key: Callable[[str | None], str | None],
    now: str | None,
) -> Iterator[tuple[Any, ...]]:
    """One tuple per product in _PRODUCT_ORDER."""
    for product in products:
        yield (
            connection_id,
            product.erp_item_id,
            product.sku,
            product.name,
            product.unit,
            product.ndc_text,
            ndc_key(product.ndc_text),
            product.manufacturer,
            int(product.lot_tracked),
            int(product.inactive),
            utc_text(product.last_modified),
            flat_json(product.attributes),
            now,
        )


def _stock_params(
    connection_id: str, levels: Iterable[StockLevel], seen_marker: str | None, now: str | None
) -> Iterator[tuple[Any, ...]]:
    """One tuple per stock level in _STOCK_ORDER."""
    for level in levels:
        key = level.key
        yield (
            connection_id,
            key.item_id,
            key.location_id,
            no_lot(key.lot),
            decimal_text(level.quantity),
            level.unit,
            date_text(level.expiry),
            level.observed_version,
            utc_text(level.updated_at),
            now,
            seen_marker,
            level.lot_ref,
        )


# Reads select these columns in this order and unpack rows by position: named access on 100k rows
# costs more than the query.
_ATLAS_COLUMNS = (
    "atlas_id, sku, ndc_text, ndc_key, name, lot, expiry, quantity, unit, location, version, "
    "updated_at, deleted, observed_at"
)
_PRODUCT_COLUMNS = (
    "item_id, sku, name, unit, ndc_text, ndc_key, manufacturer, lot_tracked, inactive, last_modified, "
    "observed_at, attributes"
)
_STOCK_COLUMNS = (
    "item_id, location_id, lot, quantity, unit, expiry, version, updated_at, observed_at, seen_marker, "
    "lot_ref"
)


def _atlas_mirror(row: Any) -> AtlasMirror:
    (
        atlas_id,
        sku,
        ndc_text,
        key,
        name,
        lot,
        expiry,
        quantity,
        unit,
        location,
        version,
        updated,
        deleted,
        seen,
    ) = row
    return AtlasMirror(
        atlas_id=atlas_id,
        sku=sku,
        ndc_text=ndc_text,
        ndc_key=key,
        name=name,
        lot=lot,
        expiry=parse_date(expiry),
        quantity=Decimal(quantity),
        unit=unit,
        location=location,
        version=version,
        updated_at=parse_utc(updated),
        deleted=bool(deleted),
        observed_at=parse_utc(seen),
    )


def _product_mirror(row: Any) -> ErpProductMirror:
    (item_id, sku, name, unit, ndc_text, key, manufacturer, lot_tracked, inactive, modified, seen, attrs) = (
        row
    )
    return ErpProductMirror(
        item_id=item_id,
        sku=sku,
        name=name,
        unit=unit,
        ndc_text=ndc_text,
        ndc_key=key,
        manufacturer=manufacturer,
        lot_tracked=bool(lot_tracked),
        inactive=bool(inactive),
        last_modified=parse_utc(modified),
        observed_at=parse_utc(seen),
        attributes=json.loads(attrs) if attrs else {},
    )


def _stock_mirror(row: Any) -> ErpStockMirror:
    (item_id, location_id, lot, quantity, unit, expiry, version, updated, seen, marker, lot_ref) = row
    return ErpStockMirror(
        item_id=item_id,
        location_id=location_id,
        lot=lot or None,
        quantity=Decimal(quantity),
        unit=unit,
        expiry=parse_date(expiry),
        version=version,
        updated_at=parse_utc(updated),
        observed_at=parse_utc(seen),
        seen_marker=marker,
        lot_ref=lot_ref,
    )


class MirrorRepository:
    """Mirrors of both sides, per connection; the merge reads them, the pulls and writes keep them."""

    def __init__(self, store: Store) -> None:
        self._store = store

    def _bulk(self, connection_id: str, sql: str, params: Iterable[tuple[Any, ...]]) -> int:
        count = 0
        with self._store.session() as session:
            require_connection(session, connection_id)
            connection = session.connection()
            for batch in chunked(params, UPSERT_BATCH):
                connection.exec_driver_sql(sql, batch)
                count += len(batch)
        return count

    def upsert_atlas_rows(
        self, connection_id: str, rows: Iterable[AtlasInventoryRow], ndc_key: Callable[[str], str | None]
    ) -> int:
        """Insert or refresh Atlas rows (one transaction); returns how many were given.

        A row older (lower version) than the stored one is ignored.
        """
        now = utc_text(utcnow())
        return self._bulk(connection_id, _ATLAS_UPSERT, _atlas_params(connection_id, rows, ndc_key, now))

    def apply_atlas_row(
        self,
        connection_id: str,
        row: AtlasInventoryRow,
        ndc_key: Callable[[str], str | None],
        *,
        session: Session | None = None,
    ) -> None:
        """Store the row an Atlas write returned (inside `session` when given, e.g. mark_done's)."""
        (params,) = _atlas_params(connection_id, [row], ndc_key, utc_text(utcnow()))
        if session is not None:
            session.connection().exec_driver_sql(_ATLAS_UPSERT, params)
            return
        with self._store.session() as own:
            require_connection(own, connection_id)
            own.connection().exec_driver_sql(_ATLAS_UPSERT, params)

    def upsert_erp_products(
        self,
        connection_id: str,
        products: Iterable[Product],
        ndc_key: Callable[[str | None], str | None],
    ) -> int:
        now = utc_text(utcnow())
        return self._bulk(
            connection_id, _PRODUCT_UPSERT, _product_params(connection_id, products, ndc_key, now)
        )

    def upsert_erp_stock(
        self, connection_id: str, levels: Iterable[StockLevel], *, seen_marker: str | None = None
    ) -> int:
        """Insert or refresh stock levels; a full pull passes its id as `seen_marker`."""
        now = utc_text(utcnow())
        return self._bulk(
            connection_id, _STOCK_UPSERT, _stock_params(connection_id, levels, seen_marker, now)
        )

    def erp_stock_not_seen(self, connection_id: str, seen_marker: str) -> list[StockKey]:
        """Stock rows the full pull `seen_marker` did not see: gone (or zero) in the ERP."""
        with self._store.session() as session:
            rows = session.execute(
                sa.select(_STOCK.c.item_id, _STOCK.c.location_id, _STOCK.c.lot)
                .where(
                    _STOCK.c.connection_id == connection_id,
                    sa.or_(_STOCK.c.seen_marker.is_(None), _STOCK.c.seen_marker != seen_marker),
                )
                .order_by(_STOCK.c.item_id, _STOCK.c.location_id, _STOCK.c.lot)
            )
            return [StockKey(item, location, lot_or_none(lot)) for item, location, lot in rows]

    def remove_erp_stock(self, connection_id: str, keys: Iterable[StockKey]) -> int:
        """Forget stock rows (e.g. those erp_stock_not_seen named). Returns how many were removed."""
        removed = 0
        with self._store.session() as session:
            connection = session.connection()
            for batch in chunked(keys, IN_CHUNK):
                for key in batch:
                    result = connection.execute(
                        _STOCK.delete().where(
                            _STOCK.c.connection_id == connection_id,
                            _STOCK.c.item_id == key.item_id,
                            _STOCK.c.location_id == key.location_id,
                            _STOCK.c.lot == no_lot(key.lot),
                        )
                    )
                    removed += result.rowcount
        return removed

    def set_erp_stock_quantity(
        self,
        connection_id: str,
        key: StockKey,
        quantity: Decimal,
        *,
        unit: str | None = None,
        session: Session | None = None,
    ) -> None:
        """Record the quantity our own write left in the ERP, so the next pull does not echo it.

        A position the mirror does not hold yet is created only when `unit` is given.
        """
        if not isinstance(quantity, Decimal):
            raise TypeError("quantity must be a Decimal")

        def run(target: Session) -> None:
            connection = target.connection()
            where = (
                _STOCK.c.connection_id == connection_id,
                _STOCK.c.item_id == key.item_id,
                _STOCK.c.location_id == key.location_id,
                _STOCK.c.lot == no_lot(key.lot),
            )
            result = connection.execute(
                _STOCK.update().where(*where).values(quantity=quantity, observed_at=utcnow())
            )
            if result.rowcount == 0 and unit is not None:
                connection.execute(
                    _STOCK.insert().values(
                        connection_id=connection_id,
                        item_id=key.item_id,
                        location_id=key.location_id,
                        lot=no_lot(key.lot),
                        quantity=quantity,
                        unit=unit,
                        observed_at=utcnow(),
                    )
                )

        if session is not None:
            run(session)
            return
        with self._store.session() as own:
            require_connection(own, connection_id)
            run(own)

    def _pages(
        self, sql: str, params: dict[str, Any], cursor_names: Sequence[str], batch: int
    ) -> Iterator[tuple[Any, ...]]:
        """Rows of `sql` page by page, each page one short read resuming after the last key seen.

        `sql` holds `{after}` where the keyset condition goes, selects `cursor_names` first, and ends in
        LIMIT :limit. Keyset, not OFFSET: every page costs the same however deep it is.
        """
        if batch < 1:
            raise ValueError("batch must be at least 1")
        after_columns = ", ".join(cursor_names)
        after_values = ", ".join(f":after_{name}" for name in cursor_names)
        rest = sql.replace("{after}", f"({after_columns}) > ({after_values})")
        query = sql.replace("{after}", "1")
        values = dict(params, limit=batch)
        while True:
            with self._store.session() as session:
                rows = session.connection().exec_driver_sql(query, values).all()
            yield from rows
            if len(rows) < batch:
                return
            last = rows[-1]
            values.update({f"after_{name}": last[index] for index, name in enumerate(cursor_names)})
            query = rest

    def iter_atlas_rows(
        self, connection_id: str, *, include_deleted: bool = False, batch: int = 5000
    ) -> Iterator[AtlasMirror]:
        """Every Atlas row of the connection in atlas_id order, read page by page (keyset)."""
        deleted = "" if include_deleted else "AND deleted = 0 "
        sql = (
            f"SELECT {_ATLAS_COLUMNS} FROM atlas_rows WHERE connection_id = :connection_id AND {{after}} "
            f"{deleted}ORDER BY atlas_id LIMIT :limit"
        )
        for row in self._pages(sql, {"connection_id": connection_id}, ("atlas_id",), batch):
            yield _atlas_mirror(row)

    def iter_erp_products(self, connection_id: str, batch: int = 5000) -> Iterator[ErpProductMirror]:
        sql = (
            f"SELECT {_PRODUCT_COLUMNS} FROM erp_products WHERE connection_id = :connection_id AND {{after}} "
            "ORDER BY item_id LIMIT :limit"
        )
        for row in self._pages(sql, {"connection_id": connection_id}, ("item_id",), batch):
            yield _product_mirror(row)

    def iter_erp_stock(self, connection_id: str, batch: int = 5000) -> Iterator[ErpStockMirror]:
        sql = (
            f"SELECT {_STOCK_COLUMNS} FROM erp_stock WHERE connection_id = :connection_id AND {{after}} "
            "ORDER BY item_id, location_id, lot LIMIT :limit"
        )
        names = ("item_id", "location_id", "lot")
        for row in self._pages(sql, {"connection_id": connection_id}, names, batch):
            yield _stock_mirror(row)

    def sides_with_stock(self, connection_id: str) -> tuple[bool, bool]:
        """(Atlas has a live row, the ERP has a stock row): what the empty-read guard of a run needs,
        answered from the first index entry instead of counting 100k rows on every run."""
        live = sa.select(_ATLAS.c.atlas_id).where(
            _ATLAS.c.connection_id == connection_id, _ATLAS.c.deleted.is_(False)
        )
        stock = sa.select(_STOCK.c.item_id).where(_STOCK.c.connection_id == connection_id)
        with self._store.session() as session:
            atlas_has_rows = bool(session.scalar(sa.exists(live).select()))
            erp_has_stock = bool(session.scalar(sa.exists(stock).select()))
        return atlas_has_rows, erp_has_stock

    def counts(self, connection_id: str) -> dict[str, int]:
        """Rows per mirror: atlas_rows (live), atlas_deleted, erp_products, erp_stock."""
        with self._store.session() as session:

            def count(table: sa.Table, *conditions: Any) -> int:
                query = sa.select(sa.func.count()).select_from(table)
                return session.scalar(query.where(table.c.connection_id == connection_id, *conditions)) or 0

            return {
                "atlas_rows": count(_ATLAS, _ATLAS.c.deleted.is_(False)),
                "atlas_deleted": count(_ATLAS, _ATLAS.c.deleted.is_(True)),
                "erp_products": count(_PRODUCTS),
                "erp_stock": count(_STOCK),
            }
