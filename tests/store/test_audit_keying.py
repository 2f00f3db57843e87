"""The one-off keying of audit entries written by older versions (plain SHA-256) after migration 0009."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from alembic import command

from atlas_desktop.app.paths import ProfilePaths
from atlas_desktop.app.services import open_services
from atlas_desktop.store.audit import (
    GENESIS_HASH,
    AuditLog,
    ProblemKind,
    at_text,
    canonical_json,
    legacy_hash_record,
)
from atlas_desktop.store.audit_keys import VaultAuditKey
from atlas_desktop.store.db import Store, alembic_config, create_sqlite_engine
from atlas_desktop.store.keys import MemoryKeySource, VaultError
from atlas_desktop.store.vault import Vault


def legacy_profile(root: Path, n: int, *, prune_through: int = 0) -> ProfilePaths:
    """A profile as version 0007 left it: `n` entries chained with unkeyed SHA-256, and audit.head.

    With `prune_through`, the entries up to it were pruned and entry n + 1 is the prune anchor.
    """
    paths = ProfilePaths(root).ensure()
    config = alembic_config()
    engine = create_sqlite_engine(paths.database, foreign_keys=False)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0007")
    engine.dispose()
    start = datetime.now(UTC) - timedelta(days=3)
    records: list[dict[str, Any]] = []
    prev = GENESIS_HASH
    for i in range(1, n + 1):
        record = {
            "id": i, "at": at_text(start + timedelta(minutes=i)), "actor": "user", "source": "manual",
            "action": "settings_changed", "connection_id": None, "subject": f"s{i}",
            "details": {"value": str(i)}, "prev_hash": prev,
        }  # fmt: skip
        prev = record["hash"] = legacy_hash_record(record)
        records.append(record)
    if prune_through:
        anchor = {
            "id": n + 1, "at": at_text(start + timedelta(hours=1)), "actor": "system", "source": "system",
            "action": "audit_pruned", "connection_id": None, "subject": None, "prev_hash": prev,
            "details": {"through_id": prune_through, "last_hash": records[prune_through - 1]["hash"],
                        "pruned": prune_through, "cutoff": at_text(start)},
        }  # fmt: skip
        prev = anchor["hash"] = legacy_hash_record(anchor)
        records = records[prune_through:] + [anchor]
    db = sqlite3.connect(paths.database)
    try:
        for record in records:
            db.execute(
                "INSERT INTO audit_log (id, at, actor, source, action, connection_id, subject, details,"
                " prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (*[record[k] for k in ("id", "at", "actor", "source", "action", "connection_id", "subject")],
                 canonical_json(record["details"]), record["prev_hash"], record["hash"]),
            )  # fmt: skip
        db.commit()
    finally:
        db.close()
    paths.database.with_name("audit.head").write_text(f"{records[-1]['id']} {prev}\n", encoding="ascii")
    return paths


def rows(path: Path) -> list[sqlite3.Row]:
    db = sqlite3.connect(path)
    db.row_factory = sqlite3.Row
    try:
        return db.execute("SELECT * FROM audit_log ORDER BY id").fetchall()
    finally:
        db.close()


def keying(path: Path) -> tuple[str, int | None]:
    db = sqlite3.connect(path)
    try:
        return db.execute("SELECT state, legacy_through FROM audit_keying").fetchone()  # type: ignore[no-any-return]
    finally:
        db.close()


def sql(path: Path, *statements: str) -> None:
    db = sqlite3.connect(path)
    try:
        db.execute("DROP TRIGGER IF EXISTS audit_log_no_update")
        for statement in statements:
            db.execute(statement)
        db.commit()
    finally:
        db.close()


def test_a_new_database_starts_keyed(store: Store) -> None:
    assert keying(store.path) == ("keyed", None)


def test_the_upgrade_marks_older_entries_pending_and_the_first_open_reseals_them_once(tmp_path: Path) -> None:
    paths = legacy_profile(tmp_path / "profile", 5)
    before = rows(paths.database)
    Store.open(paths.database).close()
    assert keying(paths.database) == ("pending", None)

    key_source = MemoryKeySource()
    with open_services(paths, key_source=key_source) as services:
        after = rows(paths.database)
        assert keying(paths.database) == ("keyed", None)
        assert [r["hash"] for r in after[:5]] != [r["hash"] for r in before]  # every digest is new
        assert [dict(r) | {"hash": "", "prev_hash": ""} for r in after[:5]] == [
            dict(r) | {"hash": "", "prev_hash": ""} for r in before
        ]  # and nothing else changed
        keyed = after[5]
        assert keyed["action"] == "audit_keyed"
        expected = {"legacy_head": before[-1]["hash"], "entries": 5, "resealed": True}
        assert json.loads(keyed["details"]) == expected
        assert (paths.root / "audit.head").read_text().split() == ["6", keyed["hash"]]
        report = services.audit.verify()
        assert report.ok and report.count == 6
        services.audit.append("signin", actor="user", source="manual")
        assert services.audit.verify().ok
        # The trigger is back: the re-sealed entries are as unchangeable as before.
        db = sqlite3.connect(paths.database)
        with pytest.raises(sqlite3.IntegrityError, match="cannot be changed"):
            db.execute("UPDATE audit_log SET actor = 'system' WHERE id = 1")
        db.close()
    with open_services(paths, key_source=key_source) as services:
        assert [r["action"] for r in rows(paths.database)].count("audit_keyed") == 1
        assert services.audit.verify().ok


def test_older_entries_after_a_prune_are_resealed_from_the_anchor(tmp_path: Path) -> None:
    paths = legacy_profile(tmp_path / "profile", 6, prune_through=3)
    with open_services(paths, key_source=MemoryKeySource()) as services:
        assert keying(paths.database) == ("keyed", None)
        report = services.audit.verify()
        assert report.ok and (report.first_id, report.count) == (4, 5)


def test_an_older_chain_that_was_already_broken_is_not_resealed_and_stays_reported(tmp_path: Path) -> None:
    paths = legacy_profile(tmp_path / "profile", 5)
    sql(paths.database, "UPDATE audit_log SET subject = 'forged' WHERE id = 3")
    before = rows(paths.database)
    with open_services(paths, key_source=MemoryKeySource()) as services:
        after = rows(paths.database)
        assert [r["hash"] for r in after[:5]] == [r["hash"] for r in before]  # left as evidence
        assert keying(paths.database) == ("broken", 5)
        details = json.loads(after[5]["details"])
        assert after[5]["action"] == "audit_keyed" and details["resealed"] is False
        assert details["problem"] == "edited" and details["problem_entry"] == 3
        for _ in range(2):
            problem = services.audit.verify().problem
            assert problem is not None and problem.kind is ProblemKind.EDITED and problem.entry_id == 3
            services.audit.append("signin", actor="user", source="manual")  # the trail goes on, keyed


def test_a_marker_set_back_after_keying_is_refused_and_reported(tmp_path: Path) -> None:
    paths = legacy_profile(tmp_path / "profile", 3)
    key_source = MemoryKeySource()
    with open_services(paths, key_source=key_source):
        pass
    # An attacker rewrites the chain with plain SHA-256 and marks it as never keyed.
    records = rows(paths.database)
    prev = GENESIS_HASH
    statements = ["UPDATE audit_keying SET state = 'pending'"]
    for row in records:
        record = {k: row[k] for k in row.keys() if k != "hash"} | {"prev_hash": prev}
        record["details"] = json.loads(record["details"])
        if row["id"] == 2:
            record["subject"] = "forged"
        prev = legacy_hash_record(record)
        statements.append(
            f"UPDATE audit_log SET subject = '{record['subject']}', prev_hash = '{record['prev_hash']}', "
            f"hash = '{prev}' WHERE id = {row['id']}"
        )
    sql(paths.database, *statements)
    (paths.root / "audit.head").write_text(f"{records[-1]['id']} {prev}\n")
    with open_services(paths, key_source=key_source) as services:
        assert keying(paths.database) == ("pending", None)  # not re-sealed
        problem = services.audit.verify().problem
        assert problem is not None and problem.kind is ProblemKind.UNKEYED


def test_without_the_vault_at_open_the_reseal_waits_for_the_first_use(tmp_path: Path) -> None:
    paths = legacy_profile(tmp_path / "profile", 2)

    class Locked:
        description = "locked"

        def load_key(self) -> bytes:
            raise VaultError("no passphrase")

    with open_services(paths, key_source=Locked()) as services:  # type: ignore[arg-type]
        assert keying(paths.database) == ("pending", None)
        assert services.connections.list() == []  # what needs no vault still works
    with open_services(paths, key_source=MemoryKeySource()) as services:
        assert keying(paths.database) == ("keyed", None)
        assert services.audit.verify().ok


def test_a_deleted_key_row_is_reported_and_a_new_key_does_not_hide_it(store: Store) -> None:
    vault = Vault(MemoryKeySource())
    AuditLog(store, VaultAuditKey(vault)).append("signin", actor="user", source="manual")
    sql(store.path, "DELETE FROM secrets WHERE owner_id = 'profile' AND field = 'audit_hmac_key'")
    fresh = AuditLog(store, VaultAuditKey(vault))
    problem = fresh.verify().problem
    assert problem is not None and problem.kind is ProblemKind.KEY_MISSING
    fresh.append("signin", actor="user", source="manual")  # makes a new key
    problem = AuditLog(store, VaultAuditKey(vault)).verify().problem
    assert problem is not None and problem.kind is ProblemKind.EDITED and problem.entry_id == 1
