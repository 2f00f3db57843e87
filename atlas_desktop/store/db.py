"""Opens a profile's SQLite database with the right pragmas and migrates it to the current schema."""

from __future__ import annotations

import contextlib
import logging
import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import URL, Connection, Engine, create_engine, event, exc
from sqlalchemy.orm import Session, sessionmaker

from atlas_desktop.domain.errors import AtlasDesktopError, ErrorKind

MIGRATIONS_DIR = Path(__file__).resolve().with_name("migrations")
BUSY_TIMEOUT_MS = 5000
log = logging.getLogger(__name__)


class StoreError(AtlasDesktopError):
    """The local database cannot be opened or upgraded."""

    kind = ErrorKind.CONFIG_ERROR
    default_fix = "Restore the database from its backup, or send a diagnostics bundle to Atlas support."


class NotDurable(StoreError):
    """A record that must be in the database file before a write leaves could not be put there."""

    default_fix = (
        "Another program kept the profile's database open for reading; nothing was sent. "
        "Try again in a moment."
    )


class SchemaTooNew(StoreError):
    """The database was written by a newer Atlas Desktop than this one."""

    default_fix = "Update Atlas Desktop to the latest version, then open this profile again."


def create_sqlite_engine(path: Path, *, foreign_keys: bool = True) -> Engine:
    """An engine whose every connection has WAL, foreign keys, a busy timeout and NORMAL sync set."""
    engine = create_engine(URL.create("sqlite", database=str(path)))

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the driver, decide where transactions begin: the driver's own
        # implicit BEGIN skips SELECTs and breaks SAVEPOINT (SQLAlchemy pysqlite docs,
        # "Serializable isolation / Savepoints / Transactional DDL").
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("PRAGMA journal_mode=WAL").fetchall()
            cursor.execute(f"PRAGMA foreign_keys={'ON' if foreign_keys else 'OFF'}")
            cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
            cursor.execute("PRAGMA synchronous=NORMAL")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        connection.exec_driver_sql("BEGIN")

    return engine


def alembic_config(migrations_dir: Path = MIGRATIONS_DIR) -> Config:
    """Alembic's configuration built in code, so an installed wheel needs no alembic.ini."""
    config = Config()
    config.set_main_option("script_location", str(migrations_dir))
    config.set_main_option("path_separator", "os")
    return config


def backup_database(path: Path, revision: str) -> Path:
    """Copy the database to `<name>.bak-<revision>` with SQLite's online backup (WAL content included).

    An existing backup of the same revision is kept: it is the copy taken before the first attempt.
    """
    target = path.with_name(f"{path.name}.bak-{revision}")
    if target.exists():
        return target
    partial = target.with_name(target.name + ".partial")
    partial.unlink(missing_ok=True)
    source = sqlite3.connect(path)
    try:
        copy = sqlite3.connect(partial)
        try:
            source.backup(copy)
        finally:
            copy.close()
    finally:
        source.close()
    os.replace(partial, target)
    return target


def migrate(path: Path, migrations_dir: Path = MIGRATIONS_DIR) -> str | None:
    """Upgrade the database at `path` to the newest schema. Returns the revision it had before."""
    config = alembic_config(migrations_dir)
    script = ScriptDirectory.from_config(config)
    head = script.get_current_head()
    # Foreign keys off while migrating: a batch rebuild drops and re-creates tables, and with
    # foreign keys on, dropping a parent table would cascade-delete its children.
    engine = create_sqlite_engine(path, foreign_keys=False)
    try:
        with engine.connect() as connection:
            current = MigrationContext.configure(connection).get_current_revision()
        if current == head:
            return current
        known = {revision.revision for revision in script.walk_revisions()}
        if current is not None and current not in known:
            raise SchemaTooNew(
                f"The database {path.name} was written by a newer version of Atlas Desktop "
                f"(schema {current}; this version knows up to {head})."
            )
        if current is not None:
            backup_database(path, current)
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
            broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
            if broken:
                raise StoreError(
                    f"Upgrading {path.name} from schema {current} left {len(broken)} broken references; "
                    "nothing was changed."
                )
        return current
    finally:
        engine.dispose()


def _refuse_empty_file(path: Path) -> None:
    """SQLite treats a zero-length file as a new, empty database: for a profile that had data (a disk
    that filled up, a copy that went wrong) that would silently be a fresh profile with nothing in it."""
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        return
    if size == 0:
        raise StoreError(
            f"{path} is empty (0 bytes): the profile's data is missing or was cut off.",
            fix=f"{restore_advice(path)} To start a new profile instead, delete the empty file.",
        )


def restore_advice(path: Path) -> str:
    """How to get a damaged or lost database back: the newest pre-upgrade copy, else the user's backup."""
    backups = sorted(path.parent.glob(f"{path.name}.bak-*"))
    restore = f"copy {backups[-1].name} over it" if backups else "restore it from a backup of the folder"
    return f"Close Atlas Desktop and {restore} ({path.name}.bak-* copies are kept in {path.parent})."


class Store:
    """The profile's database: an engine, sessions that commit or roll back as a unit, and close()."""

    def __init__(self, engine: Engine, path: Path) -> None:
        self._engine = engine
        self.path = path
        self._sessions = sessionmaker(engine, expire_on_commit=False)

    @classmethod
    def open(cls, path: Path, *, migrations_dir: Path = MIGRATIONS_DIR) -> Store:
        """Create or open the database at `path` and migrate it (backing it up first if it is older)."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        _refuse_empty_file(path)
        try:
            migrate(path, migrations_dir)
        except exc.DatabaseError as error:
            raise StoreError(
                f"{path} is not an Atlas Desktop database or is damaged ({error.orig or error}).",
                fix=f"{restore_advice(path)} If it recurs, send a diagnostics bundle to Atlas support.",
            ) from None
        with contextlib.suppress(OSError):
            os.chmod(path, 0o600)
        return cls(create_sqlite_engine(path), path)

    @property
    def engine(self) -> Engine:
        return self._engine

    def checkpoint(self) -> bool:
        """Make every commit so far durable in the database file itself, before something leaves that
        depends on it (a write to a remote whose key those commits hold).

        Commits run with synchronous=NORMAL: they reach the write-ahead log but are synced only at a
        checkpoint, so a power cut can take the newest ones. A checkpoint syncs the log, copies it into
        the database file and syncs that; FULL mode waits (busy timeout) for readers of older snapshots,
        so nothing is left behind in the log. Then not even a lost or damaged -wal file can take them.
        Returns False (logged) in the rare case another connection held the log past the busy timeout:
        the commits are in the log, as with NORMAL alone.
        """
        raw = self._engine.raw_connection()
        try:
            row = raw.cursor().execute("PRAGMA wal_checkpoint(FULL)").fetchone()
        finally:
            raw.close()
        busy, frames, copied = row if row is not None else (1, -1, -1)
        if busy or copied != frames:
            log.warning("the database checkpoint was incomplete (%s of %s log frames copied)", copied, frames)
            return False
        return True

    def make_durable(self) -> None:
        """Checkpoint, or raise NotDurable: for a commit that a send depends on, where the log's own
        durability is not enough (a write whose record a power cut took would be planned again and
        posted twice)."""
        if not self.checkpoint():
            raise NotDurable("The record of the writes about to be sent could not be made durable.")

    @contextlib.contextmanager
    def session(self) -> Iterator[Session]:
        """A unit of work: committed when the block ends, rolled back if it raises."""
        session = self._sessions()
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def close(self) -> None:
        self._engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
