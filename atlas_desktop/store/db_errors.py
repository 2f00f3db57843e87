"""SQLite's own failures as typed store errors that name neither the SQL statement nor its values.

SQLAlchemy's exceptions print the statement and its parameters, and those carry item data (NDCs, lots,
quantities): they must never reach a terminal, a log or the Atlas cloud. Another process holding the
database is the usual cause: a transaction that read and then writes while another process writes
gets SQLITE_BUSY at once, without waiting out the busy timeout (SQLite cannot upgrade a read snapshot
that is no longer current).
"""

from __future__ import annotations

import sqlite3
import traceback
from collections.abc import Callable
from typing import ParamSpec, TypeVar

from sqlalchemy import exc

from atlas_desktop.store.db import StoreError

P = ParamSpec("P")
T = TypeVar("T")

# What a caller outside the store catches: SQLAlchemy's wrappers and the driver's own errors.
DATABASE_ERRORS: tuple[type[Exception], ...] = (exc.DBAPIError, sqlite3.Error)


class StoreBusy(StoreError):
    """Another process kept the profile's database locked longer than the busy timeout."""

    default_fix = (
        "Another Atlas Desktop process (the window, the agent or a command) is writing to this profile; "
        "try again in a moment."
    )


def sqlite_error_name(error: BaseException) -> str:
    """SQLite's result code name (SQLITE_BUSY, SQLITE_FULL, …), or the exception's type when unknown."""
    orig = error.orig if isinstance(error, exc.DBAPIError) and error.orig is not None else error
    return str(getattr(orig, "sqlite_errorname", "") or type(orig).__name__)


def store_error(error: BaseException) -> StoreError:
    """The typed error for a database failure: what happened to the profile, never the statement."""
    name = sqlite_error_name(error)
    if name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")):
        return StoreBusy("the profile's database is busy: another process is writing to it")
    if name == "SQLITE_FULL":
        return StoreError("the disk holding the profile is full", fix="Free some disk space, then try again.")
    if name.startswith("SQLITE_READONLY"):
        return StoreError(
            "the profile's database cannot be written",
            fix="Check that the profile folder and atlas.db belong to this user and are writable.",
        )
    if name in ("SQLITE_CORRUPT", "SQLITE_NOTADB") or name.startswith("SQLITE_CORRUPT"):
        return StoreError(
            "the profile's database (atlas.db) is damaged",
            fix="Close Atlas Desktop and copy the newest atlas.db.bak-* in the profile folder over atlas.db, "
            "or restore the folder from a backup; then send a diagnostics bundle to Atlas support.",
        )
    return StoreError(f"the profile's database failed ({name})")


def frames(error: BaseException) -> str:
    """Where the error was raised, for the log: the traceback's frames without the exception's text."""
    return "".join(traceback.format_tb(error.__traceback__))


def translated(fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """Call `fn`; an operational failure of SQLite comes out as a StoreError (the statement dropped)."""
    try:
        return fn(*args, **kwargs)
    except (exc.OperationalError, sqlite3.OperationalError) as error:
        failure = store_error(error)
    raise failure  # outside the handler: no __context__ keeps the statement and its values
