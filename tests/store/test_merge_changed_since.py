"""merge_inputs(changed_since=...) finds, through indexes, exactly the keys the full scan's rule names:
those it merges, and the settled ones it leaves out, which merging would change nothing for."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import sqlalchemy as sa

from atlas_desktop.domain.change_window import ChangeWindow
from atlas_desktop.domain.drafts import DecisionDraft, MappingDraft, WriteDraft
from atlas_desktop.domain.enums import (
    ConflictStatus,
    DecisionStatus,
    MappingStatus,
    MatchMethod,
    OutboxStatus,
    SyncDirection,
    SyncType,
)
from atlas_desktop.domain.model import AtlasInventoryRow, Product, Side, StockKey, StockLevel
from atlas_desktop.domain.snapshots import BaseValues
from atlas_desktop.engine.plan import PlanCounts, plan
from atlas_desktop.store.db import Store
from atlas_desktop.store.decisions import DecisionRepository, recent_bases_query
from atlas_desktop.store.mappings import MappingRepository
from atlas_desktop.store.merge_inputs import CANDIDATES_SQL, CHANGED_IDS_SQL, window_params
from atlas_desktop.store.mirrors import MirrorRepository
from atlas_desktop.store.models import ConflictRow, OutboxRow, SyncBaseRow, SyncDecisionRow
from atlas_desktop.store.product_names import _NAMES_CHANGED_IDS_SQL, _NAMES_TO_COMPARE_SQL
from atlas_desktop.store.runs import RunRepository
from atlas_desktop.store.sqlutil import utc_text

from .conftest import make_connection

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
SINCE = T0 + timedelta(hours=5)

# The rule as the full scan applied it before the indexed lookup (the specification of "changed").
_REFERENCE = (
    "SELECT m.id FROM erp_inventory_mappings m "
    "LEFT JOIN sync_bases b ON b.mapping_id = m.id "
    "LEFT JOIN atlas_rows a ON a.connection_id = m.connection_id AND a.atlas_id = m.atlas_inventory_id "
    "LEFT JOIN erp_stock s ON s.connection_id = m.connection_id AND s.item_id = m.erp_item_id "
    "AND s.location_id = m.erp_location_id AND s.lot = coalesce(m.lot, '') "
    f"WHERE m.connection_id = :connection_id AND m.status = '{MappingStatus.MATCHED}' "
    "AND (b.mapping_id IS NULL OR a.observed_at >= :since OR s.observed_at >= :since "
    "OR b.updated_at >= :since OR EXISTS (SELECT 1 FROM outbox o WHERE o.mapping_id = m.id "
    f"AND o.status = '{OutboxStatus.FAILED}' AND o.updated_at >= :since)) ORDER BY m.id"
)


# Mostly the same values on both sides and the base (settled keys), a few apart, written apart, or negative
# (a negative key is held as a clash even when all three agree).
_SPELLINGS = [Decimal("1.000"), Decimal("1E+0"), Decimal("10"), Decimal(2)]
_QUANTITIES = [Decimal(1)] * 10 + _SPELLINGS + [Decimal(-1)] * 3
_EXPIRIES = [None] * 6 + [date(2027, 1, 31)]


def _moment(rng: random.Random) -> datetime:
    return T0 + timedelta(hours=rng.choice([0, 0, 0, 4, 5, 6]))  # long before, just before, at, after SINCE


def _world(store: Store, connection_id: str, rng: random.Random, size: int) -> None:
    """Mappings of every status (lots or none), mirrors, bases and outbox rows at random moments."""
    mirrors, mappings = MirrorRepository(store), MappingRepository(store)
    drafts = []
    atlas = f"a{connection_id[:8]}-"  # an Atlas row belongs to one connection: each has its own rows
    for i in range(size):
        lot = rng.choice([None, f"L{i}"])
        status = rng.choice([MappingStatus.MATCHED] * 4 + [MappingStatus.UNMATCHED_ATLAS])
        method = MatchMethod.AUTO_NDC if status is MappingStatus.MATCHED else None
        item = f"i{i}" if status is MappingStatus.MATCHED else None
        drafts.append(MappingDraft(f"{atlas}{i}", item, "WH1" if item else None, lot if item else None, "k",
                                   "n", "n", f"Drug {i}", status, method))  # fmt: skip
        if rng.random() < 0.9:
            mirrors.upsert_atlas_rows(
                connection_id,
                [
                    AtlasInventoryRow(
                        f"{atlas}{i}",
                        "n",
                        "d",
                        rng.choice(_QUANTITIES),
                        "EA",
                        1,
                        T0,
                        lot=lot,
                        expiry=rng.choice(_EXPIRIES),
                        deleted=rng.random() < 0.1,
                    )
                ],  # fmt: skip
                lambda text: None,
            )
        if rng.random() < 0.9:
            level = StockLevel(StockKey(f"i{i}", "WH1", lot), rng.choice(_QUANTITIES), "EA",
                               expiry=rng.choice(_EXPIRIES))  # fmt: skip
            mirrors.upsert_erp_stock(connection_id, [level])
        if item is not None and rng.random() < 0.9:
            product = Product(item, f"SKU{i}", rng.choice(["d", "Renamed in the ERP"]), "EA")
            mirrors.upsert_erp_products(connection_id, [product], lambda text: None)
        if rng.random() < 0.3:  # another lot of the same item: its reads are not this key's changes
            level = StockLevel(StockKey(f"i{i}", "WH1", f"other-{i}"), Decimal(1), "EA")
            mirrors.upsert_erp_stock(connection_id, [level])
    mappings.apply_discovery(connection_id, drafts)
    with store.session() as session:
        # The ERP name last seen: the old one on most pairs (some renamed since), none yet on a few.
        session.execute(
            sa.text("UPDATE erp_inventory_mappings SET erp_name_seen = 'd' WHERE connection_id = :c "
                    "AND id % 5 != 0"), {"c": connection_id},
        )  # fmt: skip
        ids = list(session.scalars(sa.text("SELECT id FROM erp_inventory_mappings WHERE connection_id = :c"),
                                   {"c": connection_id}))  # fmt: skip
        for table in ("atlas_rows", "erp_stock", "erp_products"):
            keys = session.execute(sa.text(f"SELECT rowid FROM {table} WHERE connection_id = :c"),
                                   {"c": connection_id}).scalars().all()  # fmt: skip
            for rowid in keys:
                session.execute(
                    sa.text(f"UPDATE {table} SET observed_at = :t WHERE rowid = :r"),
                    {"t": utc_text(_moment(rng)), "r": rowid},
                )
        for mapping_id in ids:
            if rng.random() < 0.7:
                session.add(SyncBaseRow(mapping_id=mapping_id, quantity=rng.choice(_QUANTITIES), unit="EA",
                                        expiry=rng.choice(_EXPIRIES), updated_at=_moment(rng)))  # fmt: skip
            if rng.random() < 0.1:
                session.add(SyncDecisionRow(connection_id=connection_id, mapping_id=mapping_id,
                                            status=rng.choice(list(DecisionStatus))))  # fmt: skip
            if rng.random() < 0.1:
                session.add(ConflictRow(connection_id=connection_id, mapping_id=mapping_id, field="quantity",
                                        status=rng.choice(list(ConflictStatus))))  # fmt: skip
            if rng.random() < 0.1:  # a pack-level pair: Atlas counts packs, so its values are not the base's
                session.execute(sa.text("UPDATE erp_inventory_mappings SET unit_factor = '2' WHERE id = :i"),
                                {"i": mapping_id})  # fmt: skip
            if rng.random() < 0.2:
                session.add(OutboxRow(
                    connection_id=connection_id, mapping_id=mapping_id, target="atlas",
                    operation="atlas_adjust", payload={}, idempotency_key=f"k{connection_id}-{mapping_id}",
                    status=rng.choice(list(OutboxStatus)), updated_at=_moment(rng),
                ))  # fmt: skip


def test_the_indexed_lookup_names_exactly_the_keys_of_the_full_scan(store: Store) -> None:
    repo = MappingRepository(store)
    left_out = names_left_out = settled_seen = 0
    for seed in range(8):
        rng = random.Random(seed)
        connection_id, other = make_connection(store, f"c{seed}"), make_connection(store, f"o{seed}")
        _world(store, connection_id, rng, 40)
        _world(store, other, rng, 10)  # another connection's changes never leak in
        with store.session() as session:
            expected = (
                session.execute(
                    sa.text(_REFERENCE), {"connection_id": connection_id, "since": utc_text(SINCE)}
                )
                .scalars()
                .all()
            )
        settled: list[int] = []
        found = [
            row.mapping_id
            for row in repo.merge_inputs(
                connection_id, changed_since=ChangeWindow.since(SINCE), batch=7, settled=settled
            )
        ]
        assert sorted(found + settled) == expected, seed
        assert found and not set(found) & set(settled)
        # A settled key is one merging would change nothing for: no draft, counted unchanged.
        counts = PlanCounts()
        assert plan(repo.merge_inputs(connection_id, mapping_ids=settled), counts) == [], seed
        assert counts.rows == counts.unchanged == len(settled), seed
        settled_seen += len(settled)
        left_out += sum(1 for _ in repo.merge_inputs(connection_id)) - len(found)

        # Names: compared where the merge looks and where the product was read again, nowhere else.
        with store.session() as session:
            products_read = set(session.execute(sa.text(
                "SELECT m.id FROM erp_inventory_mappings m JOIN erp_products p ON p.connection_id = "
                "m.connection_id AND p.item_id = m.erp_item_id "
                "WHERE m.connection_id = :c AND p.observed_at >= :s"
            ), {"c": connection_id, "s": utc_text(SINCE)}).scalars())  # fmt: skip
        every_diff = repo.product_master_diffs(connection_id)
        recent = repo.product_master_diffs(connection_id, changed_since=ChangeWindow.since(SINCE))
        assert recent == [d for d in every_diff if d.mapping_id in set(expected) | products_read], seed
        names_left_out += len(every_diff) - len(recent)
    assert left_out > 0 and names_left_out > 0  # the rule does leave unchanged keys out
    assert settled_seen > 0


def test_the_lookups_walk_indexes_not_the_mirrors(store: Store) -> None:
    """Each part of the lookups searches an index (on the moment, or the bases' key): no table scan."""
    for sql in (CHANGED_IDS_SQL, _NAMES_CHANGED_IDS_SQL, CANDIDATES_SQL, _NAMES_TO_COMPARE_SQL):
        with store.session() as session:
            plan = (
                session.connection()
                .exec_driver_sql("EXPLAIN QUERY PLAN " + sql, window_params("c", ChangeWindow.since(SINCE)))
                .all()
            )
        steps = [str(row[-1]) for row in plan]
        # Only the lookup's own list of keys is walked whole (SCAN k, f), never a table.
        assert not [step for step in steps if step.startswith("SCAN") and step not in ("SCAN k", "SCAN f")]
        for index in ("atlas_rows_connection_id_observed_at", "erp_stock_connection_id_observed_at",
                      "sync_bases_updated_at"):  # fmt: skip
            assert any(f"ix_{index}" in step for step in steps), steps
    assert any("ix_erp_products_connection_id_observed_at" in step for step in steps), steps


def _one_key(store: Store, connection_id: str) -> int:
    """One matched key, both sides at 10 and no base yet (a first sync's input)."""
    mirrors = MirrorRepository(store)
    mirrors.upsert_atlas_rows(
        connection_id, [AtlasInventoryRow("row-1", "n", "d", Decimal(10), "EA", 1, T0)], lambda text: None
    )
    mirrors.upsert_erp_stock(connection_id, [StockLevel(StockKey("i1", "WH1", None), Decimal(10), "EA")])
    draft = MappingDraft("row-1", "i1", "WH1", None, "k", "n", "n", "Drug", MappingStatus.MATCHED,
                         MatchMethod.AUTO_NDC)  # fmt: skip
    MappingRepository(store).apply_discovery(connection_id, [draft])
    return next(row.mapping_id for row in MappingRepository(store).merge_inputs(connection_id))


def _merged(store: Store, connection_id: str, since: datetime) -> tuple[list[int], list[int]]:
    settled: list[int] = []
    rows = MappingRepository(store).merge_inputs(
        connection_id, changed_since=ChangeWindow.since(since), settled=settled
    )
    return [row.mapping_id for row in rows], settled


def test_a_key_busy_when_its_change_was_read_is_merged_once_its_base_moves(store: Store) -> None:
    connection_id = make_connection(store)
    key = _one_key(store, connection_id)
    decisions = DecisionRepository(store)
    ten = BaseValues(Decimal(10), None, "EA")
    decisions.record(connection_id, None, [DecisionDraft(key, ten)])  # the first sync: both agree
    # A later decision with one write, left in doubt: the key is busy.
    write = WriteDraft(Side.ATLAS, "atlas_adjust", {"row_id": "row-1", "delta": "0"}, "w1", Decimal(0))
    decisions.record(connection_id, None, [DecisionDraft(key, ten, (write,))])
    run_start = datetime.now(UTC)
    # A sale read by the next run, while the key is busy: merged, but skipped.
    MirrorRepository(store).upsert_atlas_rows(
        connection_id, [AtlasInventoryRow("row-1", "n", "d", Decimal(9), "EA", 2, T0)], lambda text: None
    )
    assert _merged(store, connection_id, run_start) == ([key], [])
    counts = PlanCounts()
    assert plan(MappingRepository(store).merge_inputs(connection_id, mapping_ids=[key]), counts) == []
    assert counts.skipped_busy == 1
    next_run_start = datetime.now(UTC)
    assert _merged(store, connection_id, next_run_start) == ([], [])  # nothing read or moved since

    # The write is confirmed later: the base moves, and the sale read while busy is merged then.
    (entry,) = decisions.pending_writes(connection_id)
    assert decisions.mark_done(entry.id, "r1")
    assert _merged(store, connection_id, next_run_start) == ([key], [])
    drafts = plan(MappingRepository(store).merge_inputs(connection_id, mapping_ids=[key]), PlanCounts())
    assert [w.quantity_delta for d in drafts for w in d.writes] == [Decimal(-1)]  # the sale goes to the ERP


def test_a_key_whose_base_moved_to_what_both_sides_hold_is_left_out_as_settled(store: Store) -> None:
    connection_id = make_connection(store)
    key = _one_key(store, connection_id)
    before = datetime.now(UTC)
    drafts = plan(MappingRepository(store).merge_inputs(connection_id), PlanCounts())
    DecisionRepository(store).record(connection_id, None, drafts)  # both agree: the base is set at once
    assert _merged(store, connection_id, before) == ([], [key])


def test_what_the_last_run_read_and_decided_is_not_looked_at_again_but_what_waits_is(store: Store) -> None:
    connection_id = make_connection(store)
    runs = RunRepository(store)
    run = runs.start(connection_id, SyncType.MANUAL, SyncDirection.BIDIRECTIONAL)
    started = datetime.now(UTC)
    key = _one_key(store, connection_id)  # the run reads both sides...
    reads_done = datetime.now(UTC)
    runs.reads_done(run, reads_done)
    drafts = plan(MappingRepository(store).merge_inputs(connection_id), PlanCounts())
    decisions = DecisionRepository(store)
    decisions.record(connection_id, run, drafts)  # ...and sets the base itself
    assert runs.get(run).reads_done_at == reads_done

    def named(window: ChangeWindow) -> list[int]:
        settled: list[int] = []
        merged = [r.mapping_id for r in MappingRepository(store).merge_inputs(
            connection_id, changed_since=window, settled=settled)]  # fmt: skip
        return merged + settled

    window = ChangeWindow(started, reads_done, run)
    assert named(ChangeWindow.since(started)) == [key]  # by its start alone, the run's own work is named
    assert named(window) == []
    # A key the run had to skip (busy) is touched: the next runs look at it until it is merged.
    decisions.touch_bases([key])
    assert named(window) == [key]
    decisions.record(connection_id, run, drafts)
    assert named(window) == []
    # A row read after the run's reads ended is new to the merge.
    MirrorRepository(store).upsert_atlas_rows(
        connection_id, [AtlasInventoryRow("row-1", "n", "d", Decimal(9), "EA", 2, T0)], lambda text: None
    )
    assert named(window) == [key]


def test_a_change_read_while_its_key_was_busy_is_merged_when_the_key_is_freed_without_a_base_move(
    store: Store,
) -> None:
    connection_id = make_connection(store)
    key = _one_key(store, connection_id)
    decisions, runs = DecisionRepository(store), RunRepository(store)
    ten = BaseValues(Decimal(10), None, "EA")
    decisions.record(connection_id, None, [DecisionDraft(key, ten)])
    write = WriteDraft(Side.ATLAS, "atlas_adjust", {"row_id": "row-1", "delta": "0"}, "w1", Decimal(0))
    decisions.record(connection_id, None, [DecisionDraft(key, ten, (write,))])  # in flight: busy

    def run(sale: bool = False) -> tuple[ChangeWindow, list[DecisionDraft], list[int]]:
        """One run's marks and merge; the keys it skipped are touched as the runner does."""
        log_id = runs.start(connection_id, SyncType.MANUAL, SyncDirection.BIDIRECTIONAL)
        started = datetime.now(UTC)
        if sale:
            MirrorRepository(store).upsert_atlas_rows(
                connection_id, [AtlasInventoryRow("row-1", "n", "d", Decimal(9), "EA", 2, T0)], lambda t: None
            )
        reads_done = datetime.now(UTC)
        counts = PlanCounts()
        drafts = plan(MappingRepository(store).merge_inputs(connection_id, changed_since=window), counts)
        decisions.touch_bases(counts.waiting)
        return ChangeWindow(started, reads_done, log_id), drafts, counts.waiting

    window = ChangeWindow.since(datetime.now(UTC))
    window, drafts, waiting = run(sale=True)  # the sale is read while the key is busy
    assert (drafts, waiting) == ([], [key])
    window, drafts, waiting = run()
    assert (drafts, waiting) == ([], [key])
    assert decisions.cancel_pending(connection_id, key) == 1  # freed, the base where it was
    window, drafts, waiting = run()
    assert waiting == [] and [w.quantity_delta for d in drafts for w in d.writes] == [Decimal(-1)]


def test_the_loop_guard_reads_the_last_hour_of_decisions_through_an_index(store: Store) -> None:
    query = recent_bases_query("c", datetime.now(UTC), 5)
    with store.session() as session:
        compiled = query.compile(session.connection(), compile_kwargs={"literal_binds": True})
        plan = session.connection().exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled}").all()
    steps = [str(row[-1]) for row in plan]
    timed = [s for s in steps if "ix_sync_decisions_connection_id_created_at_mapping_id" in s]
    assert len(timed) == 2, steps  # the decisions and the keys with enough of them, both by time
    assert any("COVERING INDEX" in s for s in timed), steps
