"""Decisions and the outbox: atomic recording, the base moves only when every write of a decision is done."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from atlas_desktop.domain.drafts import ConflictDraft, DecisionDraft, MappingDraft, WriteDraft
from atlas_desktop.domain.enums import (
    ConflictStatus,
    DecisionStatus,
    MappingStatus,
    MatchMethod,
    OutboxStatus,
)
from atlas_desktop.domain.model import AtlasInventoryRow, Side, StockKey, StockLevel
from atlas_desktop.domain.snapshots import BaseValues
from atlas_desktop.store.db import Store
from atlas_desktop.store.decisions import DecisionRepository, DuplicateWrite, OutboxEntryClosed
from atlas_desktop.store.mappings import MappingRepository
from atlas_desktop.store.mirrors import MirrorRepository
from atlas_desktop.store.models import (
    ConflictRow,
    InventoryMappingRow,
    OutboxRow,
    SyncBaseRow,
    SyncDecisionRow,
)

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def base(quantity: str, expiry: date | None = None) -> BaseValues:
    return BaseValues(Decimal(quantity), expiry, "EA")


def write(key: str, target: Side = Side.ERP, delta: str | None = None) -> WriteDraft:
    payload = {"delta": delta} if delta else {"x": key}
    return WriteDraft(target, "adjust", payload, key, Decimal(delta) if delta else None)


@pytest.fixture
def decisions(store: Store) -> DecisionRepository:
    return DecisionRepository(store)


@pytest.fixture
def mapping_ids(store: Store, connection_id: str) -> list[int]:
    drafts = [
        MappingDraft(
            f"a{i}", f"i{i}", "WH1", None, None, None, None, None, MappingStatus.MATCHED, MatchMethod.AUTO_NDC
        )
        for i in range(3)
    ]
    MappingRepository(store).apply_discovery(connection_id, drafts)
    with store.session() as session:
        return list(session.scalars(sa.select(InventoryMappingRow.id).order_by(InventoryMappingRow.id)))


def base_row(store: Store, mapping_id: int) -> SyncBaseRow | None:
    with store.session() as session:
        return session.get(SyncBaseRow, mapping_id)


def table_sizes(store: Store) -> tuple[int, int, int, int]:
    with store.session() as session:
        return tuple(  # type: ignore[return-value]
            session.scalar(sa.select(sa.func.count()).select_from(model))
            for model in (SyncDecisionRow, OutboxRow, ConflictRow, SyncBaseRow)
        )


def test_record_stores_decisions_writes_and_conflicts_together(
    store: Store, decisions: DecisionRepository, connection_id: str, mapping_ids: list[int]
) -> None:
    conflict = ConflictDraft(
        "expiry", "2027-01-01", "2027-02-01", "2027-03-01", T0, None, note="both changed"
    )
    ids = decisions.record(
        connection_id,
        None,
        [
            DecisionDraft(mapping_ids[0], base("85"), (write("k1", Side.ATLAS), write("k2")), (conflict,)),
            DecisionDraft(mapping_ids[1], None, (), (conflict,)),
        ],
    )
    assert len(ids) == 2 and ids[0] < ids[1]
    pending = decisions.pending_writes(connection_id)
    assert [(e.idempotency_key, e.decision_id, e.mapping_id, e.target) for e in pending] == [
        ("k1", ids[0], mapping_ids[0], Side.ATLAS),
        ("k2", ids[0], mapping_ids[0], Side.ERP),
    ]
    assert pending[0].payload == {"x": "k1"} and pending[0].status is OutboxStatus.PENDING
    with store.session() as session:
        conflicts = session.scalars(sa.select(ConflictRow).order_by(ConflictRow.id)).all()
        assert [(c.mapping_id, c.status, c.note, c.atlas_changed_at) for c in conflicts] == [
            (mapping_ids[0], ConflictStatus.OPEN, "both changed", T0),
            (mapping_ids[1], ConflictStatus.OPEN, "both changed", T0),
        ]
    # The decision with writes waits; the conflict-only one is settled at once without a base.
    assert decisions.decision_status(ids) == {ids[0]: DecisionStatus.PENDING, ids[1]: DecisionStatus.APPLIED}
    assert base_row(store, mapping_ids[0]) is None and base_row(store, mapping_ids[1]) is None


def test_a_decision_without_writes_applies_its_base_at_once_with_mirror_versions(
    store: Store, decisions: DecisionRepository, connection_id: str, mapping_ids: list[int]
) -> None:
    mirrors = MirrorRepository(store)
    mirrors.upsert_atlas_rows(
        connection_id, [AtlasInventoryRow("a0", "x", "n", Decimal("5"), "EA", 12, T0)], lambda text: None
    )
    mirrors.upsert_erp_stock(
        connection_id, [StockLevel(StockKey("i0", "WH1"), Decimal("5"), "EA", observed_version="v3")]
    )
    [decision_id] = decisions.record(
        connection_id, None, [DecisionDraft(mapping_ids[0], base("5", date(2027, 1, 1)))]
    )
    assert decisions.decision_status([decision_id]) == {decision_id: DecisionStatus.APPLIED}
    row = base_row(store, mapping_ids[0])
    assert row is not None
    assert (row.quantity, row.expiry, row.unit, row.atlas_version, row.erp_version) == (
        Decimal("5"),
        date(2027, 1, 1),
        "EA",
        "12",
        "v3",
    )
    assert MappingRepository(store).get(mapping_ids[0]).last_synced_at is not None


def test_a_failure_mid_record_leaves_nothing(
    store: Store, decisions: DecisionRepository, connection_id: str, mapping_ids: list[int]
) -> None:
    decisions.record(connection_id, None, [DecisionDraft(mapping_ids[2], base("1"), (write("taken"),))])
    before = table_sizes(store)
    drafts = [
        DecisionDraft(mapping_ids[0], base("9")),  # would apply a base at once
        DecisionDraft(
            mapping_ids[1], base("8"), (write("fresh"),), (ConflictDraft("q", "1", "2", "3", None, None),)
        ),
        DecisionDraft(mapping_ids[1], base("7"), (write("taken"),)),  # key already used
    ]
    with pytest.raises(DuplicateWrite, match="nothing was recorded"):
        decisions.record(connection_id, None, drafts)
    assert table_sizes(store) == before
    bad_payload = DecisionDraft(
        mapping_ids[0], base("9"), (WriteDraft(Side.ERP, "adjust", {"d": Decimal(1)}, "n"),)
    )
    with pytest.raises(ValueError, match="not JSON-safe"):
        decisions.record(connection_id, None, [DecisionDraft(mapping_ids[1], base("2")), bad_payload])
    assert table_sizes(store) == before


def test_mark_done_applies_the_base_only_when_every_write_is_done(
    store: Store, decisions: DecisionRepository, connection_id: str, mapping_ids: list[int]
) -> None:
    [decision_id] = decisions.record(
        connection_id, None, [DecisionDraft(mapping_ids[0], base("85"), (write("k1"), write("k2")))]
    )
    first, second = decisions.pending_writes(connection_id)
    decisions.mark_sending(first.id)
    assert decisions.mark_done(first.id, "R1") is False
    assert base_row(store, mapping_ids[0]) is None
    assert decisions.decision_status([decision_id])[decision_id] is DecisionStatus.PENDING

    decisions.mark_sending(second.id)
    decisions.mark_in_doubt(second.id, "timeout")
    assert [e.status for e in decisions.pending_writes(connection_id)] == [OutboxStatus.IN_DOUBT]
    assert decisions.mark_done(second.id, "R2") is True
    row = base_row(store, mapping_ids[0])
    assert row is not None and row.quantity == Decimal("85")
    assert decisions.decision_status([decision_id])[decision_id] is DecisionStatus.APPLIED
    assert decisions.mark_done(second.id, "R2") is False  # a replayed confirmation changes nothing
    assert decisions.pending_writes(connection_id) == []
    assert decisions.get(second.id).remote_id == "R2" and decisions.get(second.id).attempts == 1
    assert decisions.counts(connection_id)[OutboxStatus.DONE] == 2


def test_mark_done_runs_the_mirror_update_in_the_same_transaction(
    store: Store, decisions: DecisionRepository, connection_id: str, mapping_ids: list[int]
) -> None:
    mirrors = MirrorRepository(store)
    mirrors.upsert_erp_stock(connection_id, [StockLevel(StockKey("i0", "WH1"), Decimal("10"), "EA")])
    decisions.record(connection_id, None, [DecisionDraft(mapping_ids[0], base("8"), (write("k1"),))])
    [entry] = decisions.pending_writes(connection_id)

    def broken(session: Session) -> None:
        mirrors.set_erp_stock_quantity(connection_id, StockKey("i0", "WH1"), Decimal("8"), session=session)
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        decisions.mark_done(entry.id, "R", mirror_update=broken)
    assert decisions.get(entry.id).status is OutboxStatus.PENDING
    assert [s.quantity for s in mirrors.iter_erp_stock(connection_id)] == [Decimal("10")]

    def update(session: Session) -> None:
        mirrors.set_erp_stock_quantity(connection_id, StockKey("i0", "WH1"), Decimal("8"), session=session)

    assert decisions.mark_done(entry.id, "R", mirror_update=update) is True
    assert [s.quantity for s in mirrors.iter_erp_stock(connection_id)] == [Decimal("8")]
    row = base_row(store, mapping_ids[0])
    assert row is not None and row.quantity == Decimal("8")


def test_mark_failed_cancels_the_decision_and_its_unsent_writes(
    store: Store, decisions: DecisionRepository, connection_id: str, mapping_ids: list[int]
) -> None:
    with store.session() as session:
        session.add(SyncBaseRow(mapping_id=mapping_ids[0], quantity=Decimal("100"), unit="EA"))
    # base 100, Atlas sold 5 (95), ERP shipped 10 (90): merged 85 = Atlas -10, ERP -5.
    [decision_id] = decisions.record(
        connection_id,
        None,
        [
            DecisionDraft(
                mapping_ids[0],
                base("85"),
                (write("atl", Side.ATLAS, "-10"), write("erp", Side.ERP, "-5"), write("exp")),
            )
        ],
    )
    atlas_write, erp_write, third = decisions.pending_writes(connection_id)
    decisions.mark_sending(atlas_write.id)
    decisions.mark_done(atlas_write.id, "A1")
    decisions.mark_sending(erp_write.id)
    decisions.mark_failed(erp_write.id, "item is inactive")

    assert decisions.decision_status([decision_id])[decision_id] is DecisionStatus.CANCELLED
    assert decisions.get(erp_write.id).status is OutboxStatus.FAILED
    assert decisions.get(erp_write.id).last_error == "item is inactive"
    assert decisions.get(third.id).status is OutboxStatus.CANCELLED
    assert decisions.pending_writes(connection_id) == []
    # Atlas is at 85 and the ERP at 90: a base of 90 makes the next merge 85 + 90 - 90 = 85, counting
    # the Atlas write once rather than again as an Atlas change.
    row = base_row(store, mapping_ids[0])
    assert row is not None and row.quantity == Decimal("90")
    with pytest.raises(OutboxEntryClosed):
        decisions.mark_sending(third.id)  # cancelled meanwhile: must not be sent
    with pytest.raises(OutboxEntryClosed):
        decisions.mark_in_doubt(erp_write.id, "late")


def test_pending_writes_order_paging_and_cancel_pending(
    store: Store, decisions: DecisionRepository, connection_id: str, mapping_ids: list[int]
) -> None:
    decisions.record(
        connection_id,
        None,
        [
            DecisionDraft(mapping_ids[0], base("1"), (write("a"), write("b"))),
            DecisionDraft(mapping_ids[1], base("2"), (write("c"),)),
        ],
    )
    a, b, c = decisions.pending_writes(connection_id)
    assert [e.idempotency_key for e in decisions.pending_writes(connection_id, limit=1, after_id=a.id)] == [
        "b"
    ]
    decisions.mark_sending(a.id)  # in flight: cancelling must leave it alone
    assert decisions.cancel_pending(connection_id, mapping_ids[0]) == 1
    assert [e.idempotency_key for e in decisions.pending_writes(connection_id)] == ["a", "c"]
    assert decisions.counts(connection_id) == {
        "pending": 1,
        "sending": 1,
        "in_doubt": 0,
        "done": 0,
        "failed": 0,
        "cancelled": 1,
    }
    # The in-flight write landed after all; its decision stays cancelled and the base does not move.
    assert decisions.mark_done(a.id, "R") is False
    assert base_row(store, mapping_ids[0]) is None


def test_a_pending_write_survives_its_mapping_being_removed(
    store: Store, decisions: DecisionRepository, connection_id: str, mapping_ids: list[int]
) -> None:
    decisions.record(connection_id, None, [DecisionDraft(mapping_ids[0], base("1"), (write("a"),))])
    with store.session() as session:
        session.execute(sa.delete(InventoryMappingRow).where(InventoryMappingRow.id == mapping_ids[0]))
    [entry] = decisions.pending_writes(connection_id)
    assert entry.mapping_id is None and entry.decision_id is not None
    assert decisions.mark_done(entry.id, "R") is True  # nothing to apply the base to, but settled


def test_record_10k_decisions_speed(
    decisions: DecisionRepository, connection_id: str, mapping_ids: list[int]
) -> None:
    count = 10_000
    drafts = [
        DecisionDraft(mapping_ids[i % 3], base(str(i)), (write(f"k{i}-a"), write(f"k{i}-b", Side.ATLAS)))
        for i in range(count)
    ]
    started = time.perf_counter()
    ids = decisions.record(connection_id, None, drafts)
    print(f"\nrecorded {count} decisions with {2 * count} writes in {time.perf_counter() - started:.2f}s")
    assert len(set(ids)) == count
    assert decisions.counts(connection_id)["pending"] == 2 * count


def test_record_gives_decisions_the_ids_sqlite_gives_one_by_one(
    store: Store, decisions: DecisionRepository, connection_id: str, mapping_ids: list[int]
) -> None:
    """record() assigns ids up front (the highest + 1, as SQLite without AUTOINCREMENT does): the ids it
    returns are the stored rows', in order, and they continue where a row inserted on its own ends,
    also after the newest decision was deleted."""
    first = decisions.record(connection_id, None, [DecisionDraft(m, base("1")) for m in mapping_ids])
    with store.session() as session:
        single = SyncDecisionRow(connection_id=connection_id, mapping_id=mapping_ids[0], status="applied")
        session.add(single)
        session.flush()
        assert single.id == first[-1] + 1
        session.delete(single)
    drafts = [DecisionDraft(mapping_ids[1], None, (write("k1"),)), DecisionDraft(mapping_ids[2], base("2"))]
    second = decisions.record(connection_id, None, drafts)
    assert first == [1, 2, 3] and second == [4, 5]
    with store.session() as session:
        stored = session.execute(
            sa.select(SyncDecisionRow.id, SyncDecisionRow.mapping_id, SyncDecisionRow.status)
            .order_by(SyncDecisionRow.id)
        ).all()
        outbox = session.execute(sa.select(OutboxRow.decision_id, OutboxRow.idempotency_key)).all()
    assert [(i, m, s.value) for i, m, s in stored] == [
        *((i, m, "applied") for i, m in zip(first, mapping_ids, strict=True)),
        (4, mapping_ids[1], "pending"),
        (5, mapping_ids[2], "applied"),
    ]
    assert outbox == [(4, "k1")]
    assert decisions.record(connection_id, None, []) == []
