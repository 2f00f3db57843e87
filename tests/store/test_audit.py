"""The audit trail: hash chain, tamper detection, export round trips, DSCSA pruning, no secrets stored."""

from __future__ import annotations

import argparse
import csv
import json
import sqlite3
import threading
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from atlas_desktop.app.audit_commands import run_audit
from atlas_desktop.app.paths import ProfilePaths
from atlas_desktop.app.services import open_services
from atlas_desktop.domain.audit_events import AuditEvent, AuditSource
from atlas_desktop.domain.errors import ConfigError
from atlas_desktop.domain.secrets import Secret
from atlas_desktop.store.audit import GENESIS_HASH, AuditLog, ProblemKind, hash_record
from atlas_desktop.store.audit_keys import VaultAuditKey
from atlas_desktop.store.db import Store
from atlas_desktop.store.keys import MemoryKeySource
from atlas_desktop.store.vault import Vault


def _fill(audit: AuditLog, n: int) -> list[int]:
    return [
        audit.append(
            "write", actor="scheduler", source=AuditSource.SCHEDULED, connection_id="conn-1",
            subject=f"mapping:{i}", details={"quantity": Decimal(f"{i}.50"), "field": "quantity"},
        )
        for i in range(1, n + 1)
    ]


def _tamper(store: Store, *statements: str) -> None:
    """What someone with the file could do: drop the guards, change rows, behind the app's back."""
    db = sqlite3.connect(store.path)
    try:
        db.execute("DROP TRIGGER IF EXISTS audit_log_no_update")
        db.execute("DROP TRIGGER IF EXISTS audit_log_no_young_delete")
        for statement in statements:
            db.execute(statement)
        db.commit()
    finally:
        db.close()


def _rows(store: Store) -> list[sqlite3.Row]:
    db = sqlite3.connect(store.path)
    db.row_factory = sqlite3.Row
    try:
        return db.execute("SELECT * FROM audit_log ORDER BY id").fetchall()
    finally:
        db.close()


@pytest.fixture
def keys(vault: Vault) -> VaultAuditKey:
    return VaultAuditKey(vault)


@pytest.fixture
def audit(store: Store, keys: VaultAuditKey) -> AuditLog:
    return AuditLog(store, keys)


def _key(store: Store, keys: VaultAuditKey) -> bytes:
    with store.engine.begin() as conn:
        key = keys.load(conn, create=False)
    assert key is not None
    return key


def test_appends_form_a_chain_that_verifies(audit: AuditLog, store: Store) -> None:
    ids = _fill(audit, 5)
    assert ids == [1, 2, 3, 4, 5]
    rows = _rows(store)
    assert rows[0]["prev_hash"] == GENESIS_HASH
    assert [r["prev_hash"] for r in rows[1:]] == [r["hash"] for r in rows[:-1]]
    assert json.loads(rows[2]["details"]) == {"quantity": "3.50", "field": "quantity"}  # exact, no float
    report = audit.verify()
    assert report.ok and report.count == 5 and (report.first_id, report.last_id) == (1, 5)
    assert audit.head_path is not None
    assert audit.head_path.read_text().split() == ["5", rows[-1]["hash"]]


def test_empty_log_verifies(audit: AuditLog) -> None:
    report = audit.verify()
    assert report.ok and report.count == 0


def test_the_table_refuses_updates_and_young_deletes(audit: AuditLog, store: Store) -> None:
    _fill(audit, 2)
    db = sqlite3.connect(store.path)
    try:
        with pytest.raises(sqlite3.IntegrityError, match="cannot be changed"):
            db.execute("UPDATE audit_log SET action = 'signin' WHERE id = 1")
        with pytest.raises(sqlite3.IntegrityError, match="younger than 6 years"):
            db.execute("DELETE FROM audit_log WHERE id = 2")
    finally:
        db.close()


@pytest.mark.parametrize(
    "change",
    [
        "details = json_set(details, '$.quantity', '999')",
        "action = 'signin'",
        "actor = 'user'",
        "at = '2020-01-01T00:00:00.000000+00:00'",
        "connection_id = NULL",
    ],
)
def test_an_edited_row_is_reported_by_id(audit: AuditLog, store: Store, change: str) -> None:
    _fill(audit, 6)
    _tamper(store, f"UPDATE audit_log SET {change} WHERE id = 4")
    report = audit.verify()
    assert not report.ok and report.problem is not None
    assert report.problem.kind is ProblemKind.EDITED and report.problem.entry_id == 4
    assert report.count == 3
    assert "Entry 4" in report.problem.message and "changed" in report.problem.message


def test_an_edit_resealed_with_the_key_still_breaks_the_next_link(
    audit: AuditLog, store: Store, keys: VaultAuditKey
) -> None:
    _fill(audit, 5)
    row = dict(_rows(store)[2])
    row["details"] = {"quantity": "0", "field": "quantity"}
    forged = hash_record(row, _key(store, keys))  # an insider with the vault key
    _tamper(
        store,
        f"UPDATE audit_log SET details = '{json.dumps(row['details'])}', hash = '{forged}' WHERE id = 3",
    )
    problem = audit.verify().problem
    assert problem is not None and problem.kind is ProblemKind.REORDERED and problem.entry_id == 4


def test_a_deleted_middle_row_is_reported(audit: AuditLog, store: Store) -> None:
    _fill(audit, 6)
    _tamper(store, "DELETE FROM audit_log WHERE id = 3")
    problem = audit.verify().problem
    assert problem is not None and problem.kind is ProblemKind.DELETED and problem.entry_id == 4
    assert "entry 3 was deleted" in problem.message


def test_deleting_the_first_rows_is_reported(audit: AuditLog, store: Store) -> None:
    _fill(audit, 4)
    _tamper(store, "DELETE FROM audit_log WHERE id <= 2")
    problem = audit.verify().problem
    assert problem is not None and problem.kind is ProblemKind.DELETED and "1 to 2" in problem.message


def test_a_deleted_newest_row_is_reported_through_the_head_file(
    audit: AuditLog, store: Store, keys: VaultAuditKey
) -> None:
    _fill(audit, 5)
    _tamper(store, "DELETE FROM audit_log WHERE id = 5")
    problem = audit.verify().problem
    assert problem is not None and problem.kind is ProblemKind.NEWEST_DELETED and problem.entry_id == 5
    # Without the head file the chain alone cannot tell: this is what the file is for.
    assert AuditLog(store, keys, head_path=None).verify().ok


def test_an_append_after_the_newest_rows_vanished_keeps_the_evidence(audit: AuditLog, store: Store) -> None:
    _fill(audit, 5)
    _tamper(store, "DELETE FROM audit_log WHERE id >= 4", "UPDATE sqlite_sequence SET seq = 3")
    new_id = audit.append("signin", actor="user", source="manual")
    rows = _rows(store)
    assert [r["action"] for r in rows[-2:]] == ["audit_head_mismatch", "signin"] and rows[-1]["id"] == new_id
    problem = audit.verify().problem
    assert problem is not None and problem.kind is ProblemKind.NEWEST_DELETED and problem.entry_id == 4


def test_a_missing_head_file_is_reported(audit: AuditLog) -> None:
    _fill(audit, 2)
    assert audit.head_path is not None
    audit.head_path.unlink()
    problem = audit.verify().problem
    assert problem is not None and problem.kind is ProblemKind.HEAD_UNREADABLE


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_export_round_trips_and_each_record_checks(
    audit: AuditLog, store: Store, keys: VaultAuditKey, tmp_path: Path, fmt: str
) -> None:
    _fill(audit, 4)
    details = {"changed": ["proxy"], "n": 1.5}
    audit.append("settings_changed", actor="api:key-7", source="api", details=details)
    out = tmp_path / f"audit.{fmt}"
    assert audit.export(out, fmt=fmt) == 5  # type: ignore[arg-type]
    if fmt == "csv":
        with out.open(newline="", encoding="utf-8") as handle:
            records = list(csv.DictReader(handle))
        for record in records:
            record["id"] = int(record["id"])
            record["details"] = json.loads(record["details"])
            record["connection_id"] = record["connection_id"] or None
            record["subject"] = record["subject"] or None
    else:
        records = json.loads(out.read_text(encoding="utf-8"))
    assert [r["id"] for r in records] == [1, 2, 3, 4, 5]
    assert records[-1]["details"] == {"changed": ["proxy"], "n": 1.5}
    assert records[0]["details"]["quantity"] == "1.50"
    # The links can be checked from the file alone; the digests need the key (`audit verify` has it).
    assert [r["prev_hash"] for r in records] == [GENESIS_HASH] + [r["hash"] for r in records[:-1]]
    key = _key(store, keys)
    assert all(hash_record(r, key) == r["hash"] for r in records)
    assert out.stat().st_mode & 0o077 == 0


def test_export_filters_by_time(store: Store, keys: VaultAuditKey, tmp_path: Path) -> None:
    now = datetime.now(UTC)
    times = iter([now - timedelta(days=3), now - timedelta(days=2), now - timedelta(days=1)])
    audit = AuditLog(store, keys, clock=lambda: next(times))
    _fill(audit, 3)
    out = tmp_path / "recent.json"
    assert audit.export(out, fmt="json", since=now - timedelta(days=2, hours=1), until=now) == 2
    assert [r["id"] for r in json.loads(out.read_text())] == [2, 3]


def test_prune_refuses_anything_younger_than_six_years(audit: AuditLog, store: Store) -> None:
    _fill(audit, 3)
    with pytest.raises(ConfigError, match="6 years"):
        audit.prune_before(datetime.now(UTC) - timedelta(days=365 * 6 - 30))
    assert len(_rows(store)) == 3
    assert audit.prune_before(datetime.now(UTC) - timedelta(days=365 * 6 + 5)).pruned == 0
    assert len(_rows(store)) == 3  # nothing old enough: no anchor either


def test_prune_deletes_old_entries_and_the_chain_verifies_from_the_anchor(
    store: Store, keys: VaultAuditKey
) -> None:
    now = datetime.now(UTC)
    clock = {"now": now - timedelta(days=365 * 8)}
    audit = AuditLog(store, keys, clock=lambda: clock["now"])
    _fill(audit, 4)
    clock["now"] = now - timedelta(days=30)
    _fill(audit, 2)
    clock["now"] = now
    result = audit.prune_before(now - timedelta(days=365 * 7))
    assert (result.pruned, result.through_id, result.anchor_id) == (4, 4, 7)
    rows = _rows(store)
    assert [r["id"] for r in rows] == [5, 6, 7] and rows[-1]["action"] == "audit_pruned"
    report = audit.verify()
    assert report.ok and report.count == 3
    audit.append("sync_run", actor="agent", source="scheduled")
    assert audit.verify().ok
    # The anchor is covered by the chain: changing what it says about the pruned entries is caught.
    _tamper(store, "UPDATE audit_log SET details = json_set(details, '$.pruned', 1) WHERE id = 7")
    problem = audit.verify().problem
    assert problem is not None and problem.entry_id == 7


def test_prune_refuses_to_destroy_evidence(store: Store, keys: VaultAuditKey) -> None:
    now = datetime.now(UTC)
    audit = AuditLog(store, keys, clock=lambda: now - timedelta(days=365 * 8))
    _fill(audit, 3)
    _tamper(store, "UPDATE audit_log SET action = 'signin' WHERE id = 2")
    with pytest.raises(ConfigError, match="chain is broken"):
        AuditLog(store, keys).prune_before(now - timedelta(days=365 * 7))


@pytest.mark.parametrize(
    "details",
    [
        {"password": "x"},
        {"settings": {"client_secret": "x"}},
        {"apiKey": "x"},
        {"X-API-Key": "x"},
        {"access_token": "x"},
        {"value": Secret("hunter2-long-secret")},
        {"values": [Secret("hunter2-long-secret")]},
    ],
)
def test_credentials_are_refused(audit: AuditLog, store: Store, details: dict[str, object]) -> None:
    with pytest.raises(ConfigError, match="credential"):
        audit.append("settings_changed", actor="user", source="manual", details=details)
    assert _rows(store) == []


def test_secret_text_is_redacted_before_it_is_stored_or_hashed(audit: AuditLog, store: Store) -> None:
    secret = Secret("s3cr3t-value-XYZ-123")
    audit.append(
        "connection_added", actor="user", source="manual", subject=f"token {secret.reveal()}",
        details={"note": f"sent Authorization: Bearer {secret.reveal()}", "url": "https://h/?api_key=abc123"},
    )
    assert audit.verify().ok
    raw = store.path.read_bytes() + store.path.with_name(store.path.name + "-wal").read_bytes()
    assert b"s3cr3t-value-XYZ-123" not in raw and b"abc123" not in raw
    row = _rows(store)[0]
    assert "****" in row["subject"] and "****" in row["details"]


@pytest.mark.parametrize(
    ("field", "kwargs"),
    [
        ("actor", {"actor": "root", "source": "manual"}),
        ("source", {"actor": "user", "source": "cron"}),
        ("action", {"actor": "user", "source": "manual", "action": "Drop Table"}),
        ("action", {"actor": "user", "source": "manual", "action": "audit_pruned"}),
    ],
)
def test_bad_input_is_refused_with_the_field_named(
    audit: AuditLog, field: str, kwargs: dict[str, str]
) -> None:
    action = kwargs.pop("action", "signin")
    with pytest.raises(ConfigError) as error:
        audit.append(action, **kwargs)  # type: ignore[arg-type]
    assert error.value.field == f"audit.{field}"


def test_concurrent_writers_on_two_connections_keep_one_chain(store: Store, keys: VaultAuditKey) -> None:
    other = Store.open(store.path)
    try:
        logs = [AuditLog(store, keys), AuditLog(other, keys)]

        def work(log: AuditLog) -> None:
            for i in range(60):
                log.append("write", actor="agent", source="real_time", details={"i": i})

        threads = [threading.Thread(target=work, args=(logs[i % 2],)) for i in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        report = logs[0].verify()
        assert report.ok and report.count == 240
    finally:
        other.close()


def test_ten_thousand_entries_append_and_verify_in_reasonable_time(audit: AuditLog) -> None:
    start = time.perf_counter()
    for batch in range(100):  # a sync run's writes go in together
        audit.append_many(
            AuditEvent("write", "scheduler", "scheduled", "conn-1", f"k{batch}-{i}", {"q": Decimal(i)})
            for i in range(100)
        )
    appended = time.perf_counter()
    report = audit.verify()
    verified = time.perf_counter()
    assert report.ok and report.count == 10_000
    took = f"append {appended - start:.2f} s (batches of 100), verify {verified - appended:.2f} s"
    print(f"\n10,000 entries: {took}")
    assert verified - appended < 10


@pytest.mark.slow
def test_ten_thousand_single_appends(audit: AuditLog) -> None:
    start = time.perf_counter()
    _fill(audit, 10_000)
    appended = time.perf_counter()
    assert audit.verify().ok
    print(f"\n10,000 single appends {appended - start:.1f} s, verify {time.perf_counter() - appended:.2f} s")


def test_cli_verify_and_export(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    paths = ProfilePaths(tmp_path / "profile")
    with open_services(paths, key_source=MemoryKeySource()) as services:
        services.audit.append("signin", actor="user", source="manual")
        verify = argparse.Namespace(command="audit", action="verify")
        assert run_audit(verify, services) == 0
        assert "intact: 1 entry verified" in capsys.readouterr().out
        out = tmp_path / "a.csv"
        export = argparse.Namespace(action="export", format="csv", out=str(out), since="2000-01-01")
        assert run_audit(export, services) == 0
        assert len(out.read_text().splitlines()) == 2
        _tamper(services.store, "UPDATE audit_log SET actor = 'system' WHERE id = 1")
        assert run_audit(verify, services) == 1
        assert "BROKEN: Entry 1" in capsys.readouterr().out
        bad = argparse.Namespace(action="export", format="csv", out=str(out), since="yesterday")
        with pytest.raises(ConfigError, match="--since"):
            run_audit(bad, services)
