"""The sent mark: a database put back to an older copy is told apart from one that only moved forward."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

import pytest
import sqlalchemy as sa

from atlas_desktop.domain.enums import OutboxStatus
from atlas_desktop.domain.model import Side
from atlas_desktop.store.db import Store
from atlas_desktop.store.decisions import DecisionRepository
from atlas_desktop.store.models import OutboxRow
from atlas_desktop.store.sent_mark import SentMark, mark_path, read_marks
from tests.store.conftest import make_connection


def add_writes(store: Store, connection_id: str, *keys: str, target: Side = Side.ERP) -> list[int]:
    with store.session() as session:
        rows = [
            OutboxRow(
                connection_id=connection_id,
                target=target,
                operation="adjust",
                payload={},
                idempotency_key=key,
            )
            for key in keys
        ]
        session.add_all(rows)
        session.flush()
        return [row.id for row in rows]


def copy_aside(store: Store, into: Path) -> Path:
    """A copy of the database file as a backup would take it (every commit checkpointed into it)."""
    assert store.checkpoint()
    target = into / "copy.db"
    shutil.copy(store.path, target)
    return target


def restore(store: Store, copy: Path) -> Store:
    """Close the profile, put the copy over its file (the log of the newer state goes), open it again."""
    path = store.path
    store.close()
    for suffix in ("-wal", "-shm"):
        path.with_name(path.name + suffix).unlink(missing_ok=True)
    shutil.copy(copy, path)
    return Store.open(path)


def test_each_wave_leaves_its_highest_write_as_the_mark(store: Store, connection_id: str) -> None:
    ids = add_writes(store, connection_id, "w1", "w2", "w3")
    DecisionRepository(store).mark_sending_many([ids[1], ids[0]])
    assert mark_path(store.path).name == "atlas.db.sent-mark"
    witness = read_marks(store.path)[connection_id]
    assert (witness.outbox_id, witness.key, witness.attempts, witness.rewound) == (ids[1], "w2", 1, False)
    DecisionRepository(store).mark_sending_many([ids[1]])
    assert read_marks(store.path)[connection_id].attempts == 2


def test_a_fresh_database_without_a_mark_is_not_rewound(store: Store, connection_id: str) -> None:
    add_writes(store, connection_id, "w1")
    assert not mark_path(store.path).exists()
    assert SentMark(store).rewound(connection_id) is False


def test_a_database_that_only_moved_forward_is_not_rewound(store: Store, connection_id: str) -> None:
    repo = DecisionRepository(store)
    first = add_writes(store, connection_id, "w1", "w2")
    repo.mark_sending_many(first)
    repo.mark_done_many([(outbox_id, f"R-{outbox_id}") for outbox_id in first])
    add_writes(store, connection_id, "w3")  # planned since, not sent yet
    assert SentMark(store).rewound(connection_id) is False


def test_a_copy_taken_before_the_writes_were_planned_is_rewound(
    store: Store, connection_id: str, tmp_path: Path
) -> None:
    copy = copy_aside(store, tmp_path)
    DecisionRepository(store).mark_sending_many(add_writes(store, connection_id, "w1", "w2"))
    store = restore(store, copy)
    try:
        assert SentMark(store).rewound(connection_id) is True
    finally:
        store.close()


def test_a_copy_taken_before_the_planned_writes_left_is_rewound(
    store: Store, connection_id: str, tmp_path: Path
) -> None:
    """Same ids, same keys: only the sending mark tells the copy's pending writes from those that left."""
    ids = add_writes(store, connection_id, "w1", "w2")
    copy = copy_aside(store, tmp_path)
    DecisionRepository(store).mark_sending_many(ids)
    store = restore(store, copy)
    try:
        assert SentMark(store).rewound(connection_id) is True
    finally:
        store.close()


def test_a_copy_taken_after_the_last_wave_is_not_rewound(
    store: Store, connection_id: str, tmp_path: Path
) -> None:
    DecisionRepository(store).mark_sending_many(add_writes(store, connection_id, "w1"))
    copy = copy_aside(store, tmp_path)
    store = restore(store, copy)
    try:
        assert SentMark(store).rewound(connection_id) is False
    finally:
        store.close()


def test_a_rewind_holds_until_a_drain_leaves_no_erp_write_pending(
    store: Store, connection_id: str, tmp_path: Path
) -> None:
    ids = add_writes(store, connection_id, "w1", "w2")
    copy = copy_aside(store, tmp_path)
    DecisionRepository(store).mark_sending_many(ids)
    store = restore(store, copy)
    try:
        marks, repo = SentMark(store), DecisionRepository(store)
        assert marks.rewound(connection_id) is True
        repo.mark_sending_many(ids[:1])  # a wave of the asking run: the mark stays rewound
        assert marks.rewound(connection_id) is True
        assert marks.settle(connection_id) is False  # w2 is still pending: not asked yet
        assert marks.rewound(connection_id) is True
        repo.mark_done_many([(ids[0], "R-1"), (ids[1], "R-2")])
        assert marks.settle(connection_id) is True
        assert marks.rewound(connection_id) is False
        # The same copy put back again is told again: the mark was taken from the settled database.
        store = restore(store, copy)
        assert SentMark(store).rewound(connection_id) is True
    finally:
        store.close()


def test_each_connection_has_its_own_mark(store: Store, connection_id: str, tmp_path: Path) -> None:
    other = make_connection(store, "other")
    copy = copy_aside(store, tmp_path)
    DecisionRepository(store).mark_sending_many(add_writes(store, other, "o1"))
    store = restore(store, copy)
    try:
        assert SentMark(store).rewound(connection_id) is False
        assert SentMark(store).rewound(other) is True
    finally:
        store.close()


def test_a_mark_that_cannot_be_written_does_not_stop_the_wave(
    store: Store, connection_id: str, caplog: pytest.LogCaptureFixture
) -> None:
    mark_path(store.path).mkdir()  # a directory in its place: the file cannot be replaced
    ids = add_writes(store, connection_id, "w1")
    with caplog.at_level(logging.WARNING):
        assert DecisionRepository(store).mark_sending_many(ids) == ids
    assert "cannot be written" in caplog.text
    with store.session() as session:
        assert session.scalars(sa.select(OutboxRow.status)).one() is OutboxStatus.SENDING


def test_a_write_found_posted_and_settled_is_a_witness_too(
    store: Store, connection_id: str, tmp_path: Path
) -> None:
    """A drain that found every pending write posted marks none sending: the write settled last is the
    mark, and a copy in which it is still pending is told (the same attempts: only its state differs)."""
    ids = add_writes(store, connection_id, "w1")
    copy = copy_aside(store, tmp_path)
    DecisionRepository(store).mark_done_many([(ids[0], "R-1")])  # found by posted_before, never marked
    assert SentMark(store).settle(connection_id) is True
    witness = read_marks(store.path)[connection_id]
    assert (witness.outbox_id, witness.attempts) == (ids[0], 0)
    store = restore(store, copy)
    try:
        assert SentMark(store).rewound(connection_id) is True
    finally:
        store.close()
