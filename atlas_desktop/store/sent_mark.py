"""The sent mark: a small file next to the profile database that tells a database put back in time.

A write still pending in the outbox never left, so the push sends it without asking the ERP: true as
long as the database only moves forward. A database restored from an older copy (a backup, a
migration's `.bak-*`) breaks that: writes that landed after the copy was taken are pending again, or
missing and planned again with the same keys, and SAP would post them twice.

So after each wave's sending mark is durable, the file `<database>.sent-mark` records, per connection,
one write of that wave (id, key, attempts after the mark): the witness. A database in which the witness
is missing, pending, or marked fewer times was put back to before that wave. A run checks it before it
plans (`SentMark.rewound`): then every pending ERP write is asked for first, until a run drains with
none left pending (`SentMark.settle`). The file lives outside the database on purpose: a restored
database cannot carry it back. No file (a new machine, an older version) is not a rewind; a file that
cannot be written is logged and the run goes on (the mark only narrows a rare case).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from filelock import FileLock, Timeout

from atlas_desktop.domain.enums import OutboxStatus
from atlas_desktop.domain.model import Side
from atlas_desktop.store.db import Store
from atlas_desktop.store.models import OutboxRow

log = logging.getLogger(__name__)
SUFFIX = ".sent-mark"
LOCK_WAIT_S = 5.0  # another process's read-and-replace of the file takes milliseconds
_OUTBOX = OutboxRow.__table__


@dataclass(frozen=True)
class Witness:
    """One outbox write as a wave's sending mark left it; `rewound`: the database was found older."""

    outbox_id: int
    key: str
    attempts: int
    rewound: bool = False


def mark_path(database: Path) -> Path:
    return database.with_name(database.name + SUFFIX)


@contextlib.contextmanager
def _updating(database: Path) -> Iterator[bool]:
    """Held while the file is read and replaced: runs of two connections in two processes share it.
    Yields False (logged) if it could not be taken: the caller leaves the file as it is."""
    lock = FileLock(database.with_name(database.name + SUFFIX + ".lock"), thread_local=False)
    try:
        lock.acquire(timeout=LOCK_WAIT_S)
    except (Timeout, OSError) as error:
        log.warning("the sent mark of %s is busy (%s): left as it is", database.name, error)
        yield False
        return
    try:
        yield True
    finally:
        lock.release()


def read_marks(database: Path) -> dict[str, Witness]:
    """The witnesses per connection id; none if the file is missing or unreadable (logged)."""
    path = mark_path(database)
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        return {cid: Witness(**fields) for cid, fields in raw["connections"].items()}
    except FileNotFoundError:
        return {}
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as error:
        log.warning("the sent mark %s cannot be read (%s): a rewound database goes unnoticed", path, error)
        return {}


def _write(database: Path, marks: Mapping[str, Witness]) -> None:
    """Replace the file atomically and sync it; a failure is logged, never raised."""
    path = mark_path(database)
    partial = path.with_name(path.name + ".partial")
    body = json.dumps({"connections": {cid: asdict(w) for cid, w in sorted(marks.items())}})
    try:
        # Private like the database: it names the connections and their writes' keys.
        with os.fdopen(
            os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w", encoding="utf-8"
        ) as file:
            file.write(body)
            file.flush()
            os.fsync(file.fileno())
        os.replace(partial, path)
    except OSError as error:
        log.warning("the sent mark %s cannot be written (%s): a rewound database goes unnoticed", path, error)


def note_sent(database: Path, witnesses: Mapping[str, Witness]) -> None:
    """After a wave's sending mark is durable: its witness per connection. A connection found rewound
    stays so (its pending writes are still asked for) until `settle`."""
    if not witnesses:
        return
    with _updating(database) as held:
        if not held:
            return
        marks = read_marks(database)
        for connection_id, witness in witnesses.items():
            earlier = marks.get(connection_id)
            marks[connection_id] = Witness(
                witness.outbox_id, witness.key, witness.attempts, earlier is not None and earlier.rewound
            )
        _write(database, marks)


def _holds(session: Any, witness: Witness) -> bool:
    row = session.execute(
        sa.select(_OUTBOX.c.idempotency_key, _OUTBOX.c.attempts, _OUTBOX.c.status).where(
            _OUTBOX.c.id == witness.outbox_id
        )
    ).first()
    return (
        row is not None
        and row.idempotency_key == witness.key
        and row.attempts >= witness.attempts
        and row.status is not OutboxStatus.PENDING
    )


class SentMark:
    """The check a run makes before it plans, and the all-clear after it drained."""

    def __init__(self, store: Store) -> None:
        self._store = store

    def rewound(self, connection_id: str) -> bool:
        """Whether the database is older than the writes this machine sent for the connection (or was
        found so and not settled yet). Call before the run plans: its new writes could hide the rewind."""
        witness = read_marks(self._store.path).get(connection_id)
        if witness is None:
            return False
        if witness.rewound:
            return True
        with self._store.session() as session:
            if _holds(session, witness):
                return False
        # Kept in the file: a run that stops before it asked for everything leaves the next one asking.
        with _updating(self._store.path) as held:
            if held:
                marks = read_marks(self._store.path)
                marks[connection_id] = Witness(witness.outbox_id, witness.key, witness.attempts, rewound=True)
                _write(self._store.path, marks)
        return True

    def settle(self, connection_id: str) -> bool:
        """After a run that asked the ERP for every pending write and drained: if no ERP write of the
        connection is left pending, the mark is taken from the database again (its latest settled
        write). Returns whether it was settled."""
        with self._store.session() as session:
            left = session.execute(
                sa.select(_OUTBOX.c.id)
                .where(
                    _OUTBOX.c.connection_id == connection_id,
                    _OUTBOX.c.status == OutboxStatus.PENDING,
                    _OUTBOX.c.target == Side.ERP,
                )
                .limit(1)
            ).first()
            if left is not None:
                return False
            latest = session.execute(
                sa.select(_OUTBOX.c.id, _OUTBOX.c.idempotency_key, _OUTBOX.c.attempts)
                .where(_OUTBOX.c.connection_id == connection_id, _OUTBOX.c.status != OutboxStatus.PENDING)
                .order_by(_OUTBOX.c.updated_at.desc(), _OUTBOX.c.id.desc())
                .limit(1)
            ).first()
        with _updating(self._store.path) as held:
            if not held:
                return False
            marks = read_marks(self._store.path)
            if latest is None:
                marks.pop(connection_id, None)
            else:
                marks[connection_id] = Witness(latest.id, latest.idempotency_key, latest.attempts)
            _write(self._store.path, marks)
        return True
