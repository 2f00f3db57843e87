"""Runs, item errors, watermarks, connection health; conflicts; the 0001 -> 0002 upgrade keeps data."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command

from atlas_desktop.domain.drafts import ConflictDraft, DecisionDraft, MappingDraft
from atlas_desktop.domain.enums import (
    ConflictStatus,
    MappingStatus,
    MatchMethod,
    Resolution,
    SyncDirection,
    SyncLogStatus,
    SyncType,
    WatermarkStream,
)
from atlas_desktop.domain.errors import ConfigError, ValidationFailed
from atlas_desktop.domain.model import Side
from atlas_desktop.store.conflicts import ConflictNotFound, ConflictRepository
from atlas_desktop.store.db import Store, alembic_config, create_sqlite_engine
from atlas_desktop.store.decisions import DecisionRepository
from atlas_desktop.store.mappings import MappingRepository
from atlas_desktop.store.models import ConnectionRow, OutboxRow, SyncLogRow
from atlas_desktop.store.repositories import ConnectionNotFound
from atlas_desktop.store.runs import INTERRUPTED_MESSAGE, RunNotFound, RunRepository

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def runs(store: Store) -> RunRepository:
    return RunRepository(store)


def connection(store: Store, connection_id: str) -> ConnectionRow:
    with store.session() as session:
        row = session.get(ConnectionRow, connection_id)
        assert row is not None
        return row


def finish(runs: RunRepository, log_id: int, status: SyncLogStatus, **changes: object) -> object:
    counts: dict[str, object] = dict(
        items_synced=3,
        items_failed=1,
        items_skipped=2,
        api_calls_made=10,
        api_errors=1,
        conflicts_opened=1,
        in_doubt=0,
    )
    counts.update(changes)
    return runs.finish(log_id, status=status, **counts)  # type: ignore[arg-type]


def test_a_run_is_logged_and_failures_count_up_until_one_gets_through(
    store: Store, runs: RunRepository, connection_id: str
) -> None:
    first = runs.start(connection_id, SyncType.MANUAL, SyncDirection.BIDIRECTIONAL)
    view = finish(runs, first, SyncLogStatus.FAILED, error_message="SAP down", error_details={"items": [1]})
    assert view.status is SyncLogStatus.FAILED and view.error_details == {"items": [1]}  # type: ignore[attr-defined]
    assert view.completed_at is not None and view.duration_seconds >= Decimal(0)  # type: ignore[attr-defined]
    finish(
        runs, runs.start(connection_id, SyncType.SCHEDULED, SyncDirection.BIDIRECTIONAL), SyncLogStatus.FAILED
    )
    row = connection(store, connection_id)
    assert (row.consecutive_failures, row.last_sync_status) == (2, SyncLogStatus.FAILED)
    finish(
        runs,
        runs.start(connection_id, SyncType.SCHEDULED, SyncDirection.BIDIRECTIONAL),
        SyncLogStatus.PARTIAL,
    )
    row = connection(store, connection_id)
    assert (row.consecutive_failures, row.last_sync_status) == (0, SyncLogStatus.PARTIAL)
    assert row.last_sync_at is not None

    recent = runs.recent(connection_id, limit=2)
    assert [r.status for r in recent] == [SyncLogStatus.PARTIAL, SyncLogStatus.FAILED]
    assert runs.get(first).items_synced == 3 and runs.get(first).sync_type is SyncType.MANUAL
    with pytest.raises(RunNotFound):
        finish(runs, 99_999, SyncLogStatus.SUCCESS)
    with pytest.raises(ValueError, match="final status"):
        finish(runs, first, SyncLogStatus.RUNNING)
    with pytest.raises(ConnectionNotFound):
        runs.start("nope", SyncType.MANUAL, SyncDirection.BIDIRECTIONAL)


def test_item_errors_are_kept_until_replayed(runs: RunRepository, connection_id: str) -> None:
    log_id = runs.start(connection_id, SyncType.MANUAL, SyncDirection.BIDIRECTIONAL)
    error = ValidationFailed(
        "NetSuite refused the adjustment", remote_code="INVALID_FLD_VALUE", remote_message="bad"
    )
    runs.add_item_error(log_id, connection_id, None, "NDC 0002-1433-80 / lot L1", error.as_dict())
    runs.add_item_error(log_id, connection_id, None, "x" * 500, {"message": "odd"})
    first, second = runs.unreplayed_errors(connection_id)
    assert (first.error_kind, first.remote_code, first.fix) == (
        "validation_failed",
        "INVALID_FLD_VALUE",
        error.fix,
    )
    assert (
        first.message == "NetSuite refused the adjustment" and first.item_ref == "NDC 0002-1433-80 / lot L1"
    )
    assert len(second.item_ref) == 200 and second.error_kind == "server_error"
    runs.mark_replayed([first.id])
    assert [e.id for e in runs.unreplayed_errors(connection_id)] == [second.id]


def test_watermarks_per_side_and_stream_and_inside_a_callers_session(
    store: Store, runs: RunRepository, connection_id: str
) -> None:
    assert runs.get_watermark(connection_id, Side.ERP, WatermarkStream.STOCK) is None
    runs.set_watermark(connection_id, Side.ERP, WatermarkStream.STOCK, "2026-03-01T00:00:00Z")
    runs.set_watermark(connection_id, Side.ERP, WatermarkStream.STOCK, "2026-03-02T00:00:00Z")
    runs.set_watermark(connection_id, Side.ATLAS, WatermarkStream.CHANGES, "cursor-9")
    assert runs.get_watermark(connection_id, Side.ERP, WatermarkStream.STOCK) == "2026-03-02T00:00:00Z"
    assert runs.get_watermark(connection_id, Side.ATLAS, WatermarkStream.CHANGES) == "cursor-9"
    # Inside a caller's transaction that fails, the cursor does not move: it must not pass lost data.
    with pytest.raises(RuntimeError), store.session() as session:
        runs.set_watermark(connection_id, Side.ATLAS, WatermarkStream.CHANGES, "cursor-10", session=session)
        raise RuntimeError("upsert failed")
    assert runs.get_watermark(connection_id, Side.ATLAS, WatermarkStream.CHANGES) == "cursor-9"
    assert runs.clear_watermarks(connection_id) == 2


def test_runs_left_running_by_a_crash_become_failed(
    store: Store, runs: RunRepository, connection_id: str
) -> None:
    left = runs.start(connection_id, SyncType.SCHEDULED, SyncDirection.BIDIRECTIONAL)
    done = runs.start(connection_id, SyncType.SCHEDULED, SyncDirection.BIDIRECTIONAL)
    finish(runs, done, SyncLogStatus.SUCCESS)
    assert runs.mark_interrupted(connection_id) == 1
    assert (
        runs.get(left).status is SyncLogStatus.FAILED and runs.get(left).error_message == INTERRUPTED_MESSAGE
    )
    assert runs.get(done).status is SyncLogStatus.SUCCESS
    assert runs.mark_interrupted(connection_id) == 0


@pytest.fixture
def conflict_ids(store: Store, connection_id: str) -> list[int]:
    MappingRepository(store).apply_discovery(
        connection_id,
        [
            MappingDraft(
                "a1",
                "i1",
                "WH1",
                "L1",
                "00002143380",
                None,
                None,
                "Humalog",
                MappingStatus.MATCHED,
                MatchMethod.AUTO_NDC,
            )
        ],
    )
    [view] = MappingRepository(store).page(connection_id, status=None, search=None, offset=0, limit=1)
    drafts = [
        ConflictDraft("expiry", "2027-01-01", "2027-02-01", "2027-03-01", T0, T0, note="both changed"),
        ConflictDraft("quantity", "10", "-2", "3", T0, None),
    ]
    DecisionRepository(store).record(connection_id, None, [DecisionDraft(view.id, None, (), tuple(drafts))])
    return [c.id for c in ConflictRepository(store).open_conflicts(connection_id)]


def test_conflicts_list_resolve_and_history(
    store: Store, connection_id: str, conflict_ids: list[int]
) -> None:
    conflicts = ConflictRepository(store)
    assert conflicts.count_open(connection_id) == 2
    first = conflicts.open_conflicts(connection_id, limit=1)[0]
    assert (first.field, first.item_name, first.lot, first.note) == (
        "expiry",
        "Humalog",
        "L1",
        "both changed",
    )

    taken = conflicts.resolve(conflict_ids[0], Resolution.TAKE_ERP, None)
    assert (taken.status, taken.resolution, taken.resolved_value) == (
        ConflictStatus.RESOLVED,
        Resolution.TAKE_ERP,
        "2027-03-01",
    )
    assert taken.resolved_at is not None
    with pytest.raises(ConfigError, match="already resolved"):
        conflicts.resolve(conflict_ids[0], Resolution.TAKE_ATLAS, None)
    with pytest.raises(ConfigError, match="value"):
        conflicts.resolve(conflict_ids[1], Resolution.VALUE, "  ")
    assert conflicts.resolve(conflict_ids[1], Resolution.VALUE, " 4 ").resolved_value == "4"
    with pytest.raises(ConflictNotFound):
        conflicts.get(123_456)
    assert conflicts.count_open(connection_id) == 0
    assert [c.id for c in conflicts.history(connection_id)] == conflict_ids[::-1]


def test_close_false_resolves_without_a_resolution(
    store: Store, connection_id: str, conflict_ids: list[int]
) -> None:
    conflicts = ConflictRepository(store)
    mapping_id = conflicts.get(conflict_ids[0]).mapping_id
    assert conflicts.close_false(mapping_id) == 2
    assert conflicts.close_false(mapping_id) == 0
    closed = conflicts.history(connection_id, mapping_id)
    assert {(c.status, c.resolution) for c in closed} == {(ConflictStatus.RESOLVED, None)}


def test_upgrade_from_0001_keeps_outbox_rows_and_adds_the_sync_tables(tmp_path: Path) -> None:
    path = tmp_path / "atlas.db"
    engine = create_sqlite_engine(path, foreign_keys=False)
    config = alembic_config()
    with engine.begin() as db:
        config.attributes["connection"] = db
        command.upgrade(config, "0001")
    engine.dispose()
    with sqlite3.connect(path) as db:
        now = "2026-03-01T12:00:00.000000+00:00"
        db.execute(
            "INSERT INTO erp_connections VALUES ('c1', 'netsuite', 'NS', 'active', '{}', '{}', 1, 15, "
            f"'bidirectional', 'manual', '{{}}', NULL, NULL, 0, '{now}', '{now}')"
        )
        db.execute(
            "INSERT INTO outbox (id, connection_id, target, operation, payload, idempotency_key, status, "
            "attempts, created_at, updated_at) "
            "VALUES (7, 'c1', 'erp', 'adjust', '{}', 'k7', 'in_doubt', 2, ?, ?)",
            (now, now),
        )
    with Store.open(path) as store, store.session() as session:
        row = session.get(OutboxRow, 7)
        assert row is not None and (row.idempotency_key, row.attempts, row.decision_id) == ("k7", 2, None)
        tables = set(sa.inspect(session.connection()).get_table_names())
        assert {"atlas_rows", "erp_products", "erp_stock", "sync_decisions"} <= tables
        assert session.scalars(sa.select(SyncLogRow)).all() == []
    assert (tmp_path / "atlas.db.bak-0001").exists()
