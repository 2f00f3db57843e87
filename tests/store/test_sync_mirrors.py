"""Mirrors of both sides: exact values, version guard, seen markers, keyset streaming, bulk speed."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import pytest
import sqlalchemy as sa

from atlas_desktop.domain.model import AtlasInventoryRow, Product, StockKey, StockLevel
from atlas_desktop.store.db import Store
from atlas_desktop.store.mirrors import MirrorRepository
from atlas_desktop.store.models import ConnectionRow
from atlas_desktop.store.repositories import ConnectionNotFound

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def ndc_key(text: str | None) -> str | None:
    # Stand-in for the domain's canonical key: digits, or None for the "ambiguous" marker.
    if text is None or "?" in text:
        return None
    return "".join(ch for ch in text if ch.isdigit())


def atlas_row(i: int, *, version: int = 1, quantity: str = "10", **changes: object) -> AtlasInventoryRow:
    values: dict[str, object] = {
        "id": f"atl-{i:06d}",
        "ndc_text": f"0002-{i % 10000:04d}-01",
        "name": f"Drug {i}",
        "quantity": Decimal(quantity),
        "unit": "EA",
        "version": version,
        "updated_at": T0,
        "lot": f"L{i}",
        "expiry": date(2027, 1, 31),
        "location": "MAIN",
    }
    values.update(changes)
    return AtlasInventoryRow(**values)  # type: ignore[arg-type]


def level(item: str, quantity: str, lot: str | None = None, **changes: object) -> StockLevel:
    return StockLevel(StockKey(item, "WH1", lot), Decimal(quantity), "EA", **changes)  # type: ignore[arg-type]


@pytest.fixture
def mirrors(store: Store) -> MirrorRepository:
    return MirrorRepository(store)


def test_atlas_rows_round_trip_exactly(mirrors: MirrorRepository, connection_id: str) -> None:
    tricky = atlas_row(
        1, quantity="0.1", updated_at=datetime(2026, 3, 1, 7, 0, tzinfo=timezone(timedelta(hours=-5)))
    )
    assert mirrors.upsert_atlas_rows(connection_id, [tricky, atlas_row(2, ndc_text="0002-??")], ndc_key) == 2

    first, second = mirrors.iter_atlas_rows(connection_id)
    assert first.quantity == Decimal("0.1") and str(first.quantity) == "0.1"
    assert first.updated_at == datetime(2026, 3, 1, 12, 0, tzinfo=UTC) and first.updated_at.tzinfo is UTC
    assert first.expiry == date(2027, 1, 31) and first.lot == "L1" and first.location == "MAIN"
    assert first.ndc_key == "0002000101" and first.observed_at.tzinfo is UTC
    assert second.ndc_key is None  # ambiguous text: no key, so discovery cannot match it by accident


def test_an_older_atlas_version_never_replaces_a_newer_one(
    mirrors: MirrorRepository, connection_id: str
) -> None:
    mirrors.upsert_atlas_rows(connection_id, [atlas_row(1, version=5, quantity="7")], ndc_key)
    # A change feed replaying its overlap window delivers version 4 again.
    mirrors.upsert_atlas_rows(connection_id, [atlas_row(1, version=4, quantity="99")], ndc_key)
    assert [r.quantity for r in mirrors.iter_atlas_rows(connection_id)] == [Decimal("7")]
    mirrors.apply_atlas_row(connection_id, atlas_row(1, version=6, quantity="3"), ndc_key)
    assert [(r.version, r.quantity) for r in mirrors.iter_atlas_rows(connection_id)] == [(6, Decimal("3"))]


def test_the_same_atlas_row_read_again_is_left_as_it_was(
    mirrors: MirrorRepository, connection_id: str
) -> None:
    """The feed handing back the row our own write returned (or replaying its overlap) changes nothing, not
    even when the row was last seen: the next merge looks only at rows that changed."""

    def seen() -> list[tuple[int, Decimal, str | None, datetime]]:
        return [(r.version, r.quantity, r.lot, r.observed_at) for r in mirrors.iter_atlas_rows(connection_id)]

    mirrors.apply_atlas_row(connection_id, atlas_row(1, version=5, quantity="7"), ndc_key)
    written = seen()
    time.sleep(0.002)  # a later write would carry a later observed_at
    mirrors.upsert_atlas_rows(connection_id, [atlas_row(1, version=5, quantity="7")], ndc_key)
    assert seen() == written
    # The same version with another value (a server that does not bump versions) is still taken.
    mirrors.upsert_atlas_rows(connection_id, [atlas_row(1, version=5, quantity="7", lot=None)], ndc_key)
    [(version, quantity, lot, observed)] = seen()
    assert (version, quantity, lot) == (5, Decimal("7"), None) and observed > written[0][3]
    mirrors.upsert_atlas_rows(connection_id, [atlas_row(1, version=6, quantity="7", lot=None)], ndc_key)
    assert seen()[0][0] == 6


def test_deleted_atlas_rows_are_hidden_unless_asked_for(
    mirrors: MirrorRepository, connection_id: str
) -> None:
    mirrors.upsert_atlas_rows(connection_id, [atlas_row(1), atlas_row(2, deleted=True)], ndc_key)
    assert [r.atlas_id for r in mirrors.iter_atlas_rows(connection_id)] == ["atl-000001"]
    assert len(list(mirrors.iter_atlas_rows(connection_id, include_deleted=True))) == 2
    assert mirrors.counts(connection_id) == {
        "atlas_rows": 1,
        "atlas_deleted": 1,
        "erp_products": 0,
        "erp_stock": 0,
    }


def test_erp_products_upsert_and_refresh(mirrors: MirrorRepository, connection_id: str) -> None:
    product = Product("item-1", "SKU-1", "Amoxicillin", "EA", ndc_text="0093-4155-73", lot_tracked=True)
    mirrors.upsert_erp_products(connection_id, [product, Product("item-2", "SKU-2", "No NDC", "BX")], ndc_key)
    renamed = Product(
        "item-1",
        "SKU-1",
        "Amoxicillin 500",
        "EA",
        ndc_text="0093-4155-73",
        last_modified=T0,
        attributes={"a": "b"},
    )
    mirrors.upsert_erp_products(connection_id, [renamed], ndc_key)
    first, second = mirrors.iter_erp_products(connection_id)
    assert (first.name, first.lot_tracked, first.last_modified, first.attributes) == (
        "Amoxicillin 500",
        False,
        T0,
        {"a": "b"},
    )
    assert first.ndc_key == "0093415573"
    assert second.ndc_text is None and second.ndc_key is None


def test_stock_lot_none_is_stored_as_empty_and_read_back_as_none(
    mirrors: MirrorRepository, connection_id: str
) -> None:
    mirrors.upsert_erp_stock(connection_id, [level("A", "5"), level("A", "6", lot="L1")])
    # Same key again: one row per (item, location, lot), including the no-lot row.
    mirrors.upsert_erp_stock(connection_id, [level("A", "7")])
    rows = list(mirrors.iter_erp_stock(connection_id))
    assert [(r.key, r.quantity) for r in rows] == [
        (StockKey("A", "WH1", None), Decimal("7")),
        (StockKey("A", "WH1", "L1"), Decimal("6")),
    ]


def test_seen_marker_finds_rows_a_full_pull_missed_and_incrementals_keep_it(
    mirrors: MirrorRepository, connection_id: str
) -> None:
    mirrors.upsert_erp_stock(
        connection_id, [level("A", "1"), level("B", "2"), level("C", "3")], seen_marker="full-1"
    )
    mirrors.upsert_erp_stock(connection_id, [level("B", "4")])  # incremental: no marker
    mirrors.upsert_erp_stock(connection_id, [level("A", "1"), level("B", "4")], seen_marker="full-2")
    assert mirrors.erp_stock_not_seen(connection_id, "full-2") == [StockKey("C", "WH1", None)]
    assert mirrors.erp_stock_not_seen(connection_id, "full-1") == [StockKey("A", "WH1"), StockKey("B", "WH1")]
    assert mirrors.remove_erp_stock(connection_id, [StockKey("C", "WH1")]) == 1
    assert mirrors.erp_stock_not_seen(connection_id, "full-2") == []


def test_the_lots_erp_id_is_kept_and_a_read_without_one_does_not_erase_it(
    mirrors: MirrorRepository, connection_id: str
) -> None:
    mirrors.upsert_erp_stock(connection_id, [level("A", "5", lot="L1", lot_ref="901"), level("B", "1")])
    mirrors.upsert_erp_stock(connection_id, [level("A", "4", lot="L1")])  # a read that had no id
    rows = {r.key: r for r in mirrors.iter_erp_stock(connection_id)}
    assert (rows[StockKey("A", "WH1", "L1")].quantity, rows[StockKey("A", "WH1", "L1")].lot_ref) == (
        Decimal("4"),
        "901",
    )
    assert rows[StockKey("B", "WH1")].lot_ref is None
    mirrors.upsert_erp_stock(connection_id, [level("A", "4", lot="L1", lot_ref="902")])  # lot re-created
    assert next(mirrors.iter_erp_stock(connection_id)).lot_ref == "902"


def test_sides_with_stock_sees_live_atlas_rows_and_any_erp_stock(
    mirrors: MirrorRepository, connection_id: str
) -> None:
    assert mirrors.sides_with_stock(connection_id) == (False, False)
    mirrors.upsert_atlas_rows(connection_id, [atlas_row(1, deleted=True)], ndc_key)
    mirrors.upsert_erp_stock(connection_id, [level("A", "0")])
    assert mirrors.sides_with_stock(connection_id) == (False, True)  # a tombstone is not a listing
    mirrors.upsert_atlas_rows(connection_id, [atlas_row(2)], ndc_key)
    assert mirrors.sides_with_stock(connection_id) == (True, True)


def test_set_erp_stock_quantity_after_our_write(mirrors: MirrorRepository, connection_id: str) -> None:
    mirrors.upsert_erp_stock(connection_id, [level("A", "10", lot="L1", observed_version="v1")])
    mirrors.set_erp_stock_quantity(connection_id, StockKey("A", "WH1", "L1"), Decimal("8.5"))
    # Unknown position: ignored without a unit, created with one.
    mirrors.set_erp_stock_quantity(connection_id, StockKey("B", "WH1"), Decimal("1"))
    mirrors.set_erp_stock_quantity(connection_id, StockKey("C", "WH1"), Decimal("2"), unit="BX")
    rows = {r.key: r for r in mirrors.iter_erp_stock(connection_id)}
    assert rows[StockKey("A", "WH1", "L1")].quantity == Decimal("8.5")
    assert rows[StockKey("A", "WH1", "L1")].version == "v1"
    assert StockKey("B", "WH1") not in rows
    assert (rows[StockKey("C", "WH1")].quantity, rows[StockKey("C", "WH1")].unit) == (Decimal("2"), "BX")
    with pytest.raises(TypeError):
        mirrors.set_erp_stock_quantity(connection_id, StockKey("A", "WH1", "L1"), 1.5)  # type: ignore[arg-type]


def test_streaming_pages_by_key_and_sees_every_row_once(
    mirrors: MirrorRepository, connection_id: str
) -> None:
    levels = [level(f"I{i % 7}", str(i), lot=f"L{i}" if i >= 7 else None) for i in range(50)]
    mirrors.upsert_erp_stock(connection_id, levels)
    mirrors.upsert_atlas_rows(connection_id, [atlas_row(i) for i in range(23)], ndc_key)
    stock = [r.key for r in mirrors.iter_erp_stock(connection_id, batch=4)]
    assert stock == sorted(stock, key=lambda k: (k.item_id, k.location_id, k.lot or ""))
    assert len(set(stock)) == 50
    assert [r.atlas_id for r in mirrors.iter_atlas_rows(connection_id, batch=5)] == [
        f"atl-{i:06d}" for i in range(23)
    ]
    # A page size that divides the row count exactly still ends.
    assert len(list(mirrors.iter_erp_stock(connection_id, batch=10))) == 50


def test_mirrors_are_per_connection_and_go_with_it(
    store: Store, mirrors: MirrorRepository, connection_id: str
) -> None:
    with store.session() as session:
        other = ConnectionRow(erp_type="sap_cloud", connection_name="SAP")
        session.add(other)
        session.flush()
        other_id = other.id
    mirrors.upsert_atlas_rows(connection_id, [atlas_row(1)], ndc_key)
    mirrors.upsert_atlas_rows(other_id, [atlas_row(1, quantity="3")], ndc_key)
    mirrors.upsert_erp_stock(other_id, [level("A", "1")])
    assert [r.quantity for r in mirrors.iter_atlas_rows(other_id)] == [Decimal("3")]
    with store.session() as session:
        session.execute(sa.delete(ConnectionRow).where(ConnectionRow.id == other_id))
    assert mirrors.counts(other_id) == {
        "atlas_rows": 0,
        "atlas_deleted": 0,
        "erp_products": 0,
        "erp_stock": 0,
    }
    assert mirrors.counts(connection_id)["atlas_rows"] == 1


def test_unknown_connection_is_refused_and_a_bad_row_rolls_back_the_batch(
    mirrors: MirrorRepository, connection_id: str
) -> None:
    with pytest.raises(ConnectionNotFound):
        mirrors.upsert_atlas_rows("nope", [atlas_row(1)], ndc_key)

    def rows() -> object:
        yield atlas_row(1)
        raise RuntimeError("feed broke")

    with pytest.raises(RuntimeError):
        mirrors.upsert_atlas_rows(connection_id, rows(), ndc_key)  # type: ignore[arg-type]
    assert list(mirrors.iter_atlas_rows(connection_id)) == []


@pytest.mark.parametrize("count", [20_000, pytest.param(100_000, marks=pytest.mark.slow)])
def test_bulk_upsert_and_stream_100k_rows(mirrors: MirrorRepository, connection_id: str, count: int) -> None:
    rows = [atlas_row(i) for i in range(count)]
    levels = [level(f"I{i:06d}", str(i), lot=None if i % 2 else f"L{i}") for i in range(count)]
    started = time.perf_counter()
    assert mirrors.upsert_atlas_rows(connection_id, rows, ndc_key) == count
    inserted = time.perf_counter()
    assert mirrors.upsert_atlas_rows(connection_id, rows, ndc_key) == count
    updated = time.perf_counter()
    assert mirrors.upsert_erp_stock(connection_id, levels, seen_marker="m") == count
    stocked = time.perf_counter()
    assert sum(1 for _ in mirrors.iter_atlas_rows(connection_id)) == count
    streamed = time.perf_counter()
    print(
        f"\n{count} rows: atlas insert {inserted - started:.2f}s, update {updated - inserted:.2f}s, "
        f"stock insert {stocked - updated:.2f}s, stream {streamed - stocked:.2f}s"
    )
    assert mirrors.counts(connection_id)["erp_stock"] == count


def _stored(store: Store, table: str, connection_id: str) -> list[tuple[object, ...]]:
    """Every column of the connection's rows as SQLite holds it (value and storage class), by key."""
    with store.session() as session:
        names = [row[1] for row in session.connection().exec_driver_sql(f"PRAGMA table_info({table})")]
        kept = [name for name in names if name not in ("connection_id", "observed_at")]
        picked = ", ".join(f"{name}, typeof({name})" for name in kept)
        query = f"SELECT {picked} FROM {table} WHERE connection_id = ? ORDER BY 1, 3, 5, 7"
        return list(session.connection().exec_driver_sql(query, (connection_id,)))


def test_bulk_writes_store_what_the_typed_columns_store(store: Store, mirrors: MirrorRepository) -> None:
    """The bulk paths bind plain driver values; each column holds the same value and storage class as
    when the same row goes in through the ORM's column types."""
    from atlas_desktop.domain.model import ErpType
    from atlas_desktop.store.models import AtlasMirrorRow, ErpProductRow, ErpStockRow

    with store.session() as session:
        bulk, typed = (ConnectionRow(erp_type=ErpType.NETSUITE, connection_name=n) for n in ("bulk", "typed"))
        session.add_all([bulk, typed])
        session.flush()
        bulk_id, typed_id = bulk.id, typed.id
    east = timezone(timedelta(hours=5, minutes=30))
    atlas = [
        atlas_row(1, quantity="0.10", updated_at=datetime(2026, 3, 1, 7, 0, 0, 5, tzinfo=east), deleted=True),
        atlas_row(2, quantity="1E+3", lot=None, expiry=None, location=None, sku="S-2"),
        atlas_row(3, quantity="-0", lot="", ndc_text="0002-??"),
    ]
    products = [
        Product("p1", "S1", "Ä name", "EA", ndc_text="0093-4155-73", manufacturer="M", lot_tracked=True,
                inactive=True, last_modified=datetime(2026, 1, 2, tzinfo=east),
                attributes={"é": "1", "b": "2"}),
        Product("p2", "S2", "plain", "BX"),
    ]  # fmt: skip
    levels = [
        level("A", "12.500", lot="L1", expiry=date(2027, 5, 1), observed_version="v9", lot_ref="77",
              updated_at=datetime(2026, 2, 3, 4, 5, 6, 7, tzinfo=UTC)),
        level("B", "3", updated_at=datetime(2026, 2, 3, tzinfo=east)),
    ]  # fmt: skip
    mirrors.upsert_atlas_rows(bulk_id, atlas, ndc_key)
    mirrors.upsert_erp_products(bulk_id, products, ndc_key)
    mirrors.upsert_erp_stock(bulk_id, levels, seen_marker="m1")
    with store.session() as session:
        for row in atlas:
            session.add(AtlasMirrorRow(
                connection_id=typed_id, atlas_id=row.id, sku=row.sku, ndc_text=row.ndc_text,
                ndc_key=ndc_key(row.ndc_text), name=row.name, lot=row.lot or None, expiry=row.expiry,
                quantity=row.quantity, unit=row.unit, location=row.location, version=row.version,
                updated_at=row.updated_at, deleted=row.deleted,
            ))  # fmt: skip
        for product in products:
            session.add(ErpProductRow(
                connection_id=typed_id, item_id=product.erp_item_id, sku=product.sku, name=product.name,
                unit=product.unit, ndc_text=product.ndc_text, ndc_key=ndc_key(product.ndc_text),
                manufacturer=product.manufacturer, lot_tracked=product.lot_tracked, inactive=product.inactive,
                last_modified=product.last_modified, attributes=dict(product.attributes),
            ))  # fmt: skip
        for stock in levels:
            session.add(ErpStockRow(
                connection_id=typed_id, item_id=stock.key.item_id, location_id=stock.key.location_id,
                lot=stock.key.lot or "", quantity=stock.quantity, unit=stock.unit, expiry=stock.expiry,
                version=stock.observed_version, updated_at=stock.updated_at, seen_marker="m1",
                lot_ref=stock.lot_ref,
            ))  # fmt: skip
    for table, count in (("atlas_rows", 3), ("erp_products", 2), ("erp_stock", 2)):
        written = _stored(store, table, bulk_id)
        assert len(written) == count and written == _stored(store, table, typed_id), table
