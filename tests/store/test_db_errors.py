"""SQLite failures leave the store as typed errors that carry neither the SQL statement nor its values."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy import exc

from atlas_desktop.store.db import Store, StoreError
from atlas_desktop.store.db_errors import StoreBusy, store_error, translated

STATEMENT = "UPDATE erp_stock SET quantity=? WHERE item_id=?"
VALUES = ("4711.5", "NDC-00093-7146-56")


def locked_error(name: str = "SQLITE_BUSY") -> exc.OperationalError:
    orig = sqlite3.OperationalError("database is locked")
    orig.sqlite_errorname = name  # type: ignore[attr-defined] - set by the driver on real errors
    return exc.OperationalError(STATEMENT, VALUES, orig)


def test_a_locked_database_is_a_busy_store_error_without_the_statement_or_its_values() -> None:
    def write() -> None:
        raise locked_error()

    with pytest.raises(StoreBusy) as raised:
        translated(write)
    text = f"{raised.value} {raised.value!r} {raised.value.fix}"
    assert "UPDATE" not in text and "4711.5" not in text and "NDC-" not in text
    assert raised.value.__context__ is None and raised.value.__cause__ is None  # nothing to print it from
    assert "busy" in raised.value.message


@pytest.mark.parametrize(
    ("name", "words"),
    [("SQLITE_BUSY_SNAPSHOT", "busy"), ("SQLITE_FULL", "disk"), ("SQLITE_READONLY", "cannot be written"),
     ("SQLITE_IOERR_SHORT_READ", "SQLITE_IOERR_SHORT_READ")],
)  # fmt: skip
def test_each_kind_of_failure_says_what_happened_to_the_profile(name: str, words: str) -> None:
    error = store_error(locked_error(name))
    assert isinstance(error, StoreError) and words in error.message
    assert "UPDATE" not in str(error)


def test_a_transaction_that_read_gets_busy_at_once_while_another_process_writes(tmp_path: Path) -> None:
    """Why "database is locked" came despite the 5 s busy timeout: SQLite cannot wait to upgrade a read
    transaction to a write, it answers SQLITE_BUSY at once. Now it is a typed error, not SQL."""
    store = Store.open(tmp_path / "atlas.db")
    other = sqlite3.connect(tmp_path / "atlas.db", isolation_level=None)

    def read_then_write() -> None:
        with store.session() as session:
            session.execute(sa.text("SELECT count(*) FROM erp_sync_logs")).all()
            session.execute(sa.text("DELETE FROM erp_sync_logs WHERE id = -1"))

    try:
        other.execute("BEGIN IMMEDIATE")  # another process in the middle of a write
        started = time.monotonic()
        with pytest.raises(StoreBusy):
            translated(read_then_write)
        assert time.monotonic() - started < 2
    finally:
        other.execute("ROLLBACK")
        other.close()
        store.close()


def test_a_damaged_page_met_after_opening_names_the_way_back() -> None:
    import sqlite3

    from atlas_desktop.store.db_errors import store_error

    error = sqlite3.DatabaseError("database disk image is malformed")
    error.sqlite_errorname = "SQLITE_CORRUPT"  # type: ignore[attr-defined]
    typed = store_error(error)
    assert "damaged" in typed.message and "atlas.db.bak-" in typed.fix
