"""The push's per-wave bookkeeping: mark_sending_many and mark_done_many act exactly like one-by-one calls."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from atlas_desktop.domain.drafts import DecisionDraft, MappingDraft, WriteDraft
from atlas_desktop.domain.enums import DecisionStatus, MappingStatus, MatchMethod, OutboxStatus
from atlas_desktop.domain.model import ErpType, Side
from atlas_desktop.domain.outbox import BATCH_POSTED
from atlas_desktop.domain.snapshots import BaseValues
from atlas_desktop.store import decisions as decisions_module
from atlas_desktop.store.db import Store
from atlas_desktop.store.decisions import DecisionRepository, OutboxEntryClosed, OutboxEntryNotFound
from atlas_desktop.store.mappings import MappingRepository
from atlas_desktop.store.models import ConnectionRow, InventoryMappingRow, OutboxRow, SyncBaseRow

MAPPINGS = 6


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated database with one connection and its mappings; each test works on a copy (fast)."""
    path = tmp_path_factory.mktemp("template") / "atlas.db"
    with Store.open(path) as store:
        with store.session() as session:
            session.add(ConnectionRow(erp_type=ErpType.NETSUITE, connection_name="bulk"))
        matched = (MappingStatus.MATCHED, MatchMethod.AUTO_NDC)
        drafts = [
            MappingDraft(f"a{i}", f"i{i}", "WH1", None, None, None, None, None, *matched)
            for i in range(MAPPINGS)
        ]
        MappingRepository(store).apply_discovery(_connection_id(store), drafts)
    return path


@dataclass
class World:
    store: Store
    repo: DecisionRepository
    connection_id: str
    mapping_ids: list[int]

    def write_ids(self) -> dict[str, int]:
        with self.store.session() as session:
            rows = session.execute(sa.select(OutboxRow.idempotency_key, OutboxRow.id))
            return {key: outbox_id for key, outbox_id in rows}

    def snapshot(self) -> tuple[list[Any], ...]:
        """Everything the bookkeeping may change, timestamps reduced to set / not set."""
        with self.store.engine.connect() as conn:
            return tuple(
                conn.exec_driver_sql(sql).all()
                for sql in (
                    "SELECT id, status, remote_id, attempts, decision_id FROM outbox ORDER BY id",
                    "SELECT id, status, applied_at IS NOT NULL FROM sync_decisions ORDER BY id",
                    "SELECT mapping_id, quantity, unit, expiry, lot, atlas_version, erp_version "
                    "FROM sync_bases ORDER BY mapping_id",
                    "SELECT id, last_synced_at IS NOT NULL FROM erp_inventory_mappings ORDER BY id",
                )
            )

    def base_quantity(self, mapping: int) -> Decimal | None:
        with self.store.session() as session:
            row = session.get(SyncBaseRow, self.mapping_ids[mapping])
            return None if row is None else row.quantity


def _connection_id(store: Store) -> str:
    with store.session() as session:
        return session.scalars(sa.select(ConnectionRow.id)).one()


def open_world(template: Path, directory: Path, name: str) -> World:
    path = directory / f"{name}.db"
    shutil.copy(template, path)
    store = Store.open(path)
    with store.session() as session:
        query = sa.select(InventoryMappingRow.id).order_by(InventoryMappingRow.id)
        mapping_ids = list(session.scalars(query))
    return World(store, DecisionRepository(store), _connection_id(store), mapping_ids)


@pytest.fixture
def twins(template: Path, tmp_path: Path) -> Iterator[tuple[World, World]]:
    """Two identical stores: one settles in a batch, the other one write at a time."""
    worlds = (open_world(template, tmp_path, "batch"), open_world(template, tmp_path, "single"))
    yield worlds
    for world in worlds:
        world.store.close()


def base(quantity: str) -> BaseValues:
    return BaseValues(Decimal(quantity), None, "EA")


def write(key: str, delta: str | None = None, target: Side = Side.ERP) -> WriteDraft:
    return WriteDraft(target, "adjust", {"key": key}, key, Decimal(delta) if delta is not None else None)


def set_bases(world: World, quantities: dict[int, str | None]) -> None:
    with world.store.session() as session:
        for mapping, quantity in quantities.items():
            value = Decimal(quantity) if quantity is not None else None
            session.add(SyncBaseRow(mapping_id=world.mapping_ids[mapping], quantity=value, unit="EA"))


def build_mixed(world: World) -> list[tuple[int, str | None]]:
    """The mixed wave of the brief; returns what the remote confirmed, in the order it answered."""
    m = world.mapping_ids
    set_bases(world, {0: "100", 1: "50", 2: "10"})
    world.repo.record(
        world.connection_id,
        None,
        [
            # base 100, Atlas -10 and ERP -5 to reach 85: c1 goes through, c3 is refused (the decision is
            # cancelled) while c2 is in flight; c2 lands in the wave.
            DecisionDraft(m[0], base("85"), (write("c1", "-10", Side.ATLAS), write("c2", "-5"), write("c3"))),
            DecisionDraft(m[1], base("40"), (write("t1", "-10"), write("t2"))),  # only t1 is confirmed
            DecisionDraft(m[2], base("12"), (write("f1", "1"), write("f2", "1"))),  # f2 completes it
            DecisionDraft(m[3], base("3"), (write("b1"), write("b2"))),  # both confirmed in the wave
            DecisionDraft(m[5], base("7"), (write("gone"),)),  # its mapping is removed meanwhile
            DecisionDraft(m[4], None, (write("nobase"),)),  # settles without moving a base
        ],
    )
    with world.store.session() as session:
        session.add(
            OutboxRow(
                connection_id=world.connection_id,
                mapping_id=m[4],
                target=Side.ERP,
                operation="adjust",
                payload={},
                idempotency_key="legacy",  # recorded before decisions existed
                quantity_delta=Decimal("3"),
            )
        )
        session.execute(sa.delete(InventoryMappingRow).where(InventoryMappingRow.id == m[5]))
    ids = world.write_ids()
    world.repo.mark_sending(ids["c1"])
    world.repo.mark_done(ids["c1"], "A-c1")
    world.repo.mark_sending(ids["c2"])
    world.repo.mark_failed(ids["c3"], "refused")
    world.repo.mark_done(ids["f1"], "R-f1")
    return [
        (ids["c2"], "R-c2"),
        (ids["t1"], "R-t1"),
        (ids["f1"], "again"),  # already done: left as it is
        (ids["f2"], "R-f2"),
        (ids["b1"], "R-b1"),
        (ids["t1"], "twice"),  # a repeated confirmation
        (ids["legacy"], "R-legacy"),
        (ids["b2"], "R-b2"),
        (ids["gone"], "R-gone"),
        (ids["nobase"], "R-nobase"),
    ]


def one_by_one(world: World, confirmed: list[tuple[int, str | None]]) -> int:
    return sum(world.repo.mark_done(outbox_id, remote_id) for outbox_id, remote_id in confirmed)


@pytest.mark.parametrize("chunk", [decisions_module.IN_CHUNK, 2])
def test_mark_done_many_matches_one_by_one_on_a_mixed_wave(
    twins: tuple[World, World], chunk: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(decisions_module, "IN_CHUNK", chunk)  # 2: every lookup crosses chunk borders
    batch, single = twins
    confirmed = build_mixed(batch)
    assert build_mixed(single) == confirmed and batch.snapshot() == single.snapshot()

    assert batch.repo.mark_done_many(confirmed) == 4  # f's, b's, the removed mapping's, the base-less one
    assert one_by_one(single, confirmed) == 4
    assert batch.snapshot() == single.snapshot()

    ids = batch.write_ids()
    # The cancelled decision: c2 landed after all, so the base moves by its -5 too (100 - 10 - 5).
    assert batch.base_quantity(0) == Decimal("85")
    assert batch.base_quantity(1) == Decimal("50")  # t2 still open: the base waits
    assert batch.base_quantity(2) == Decimal("12") and batch.base_quantity(3) == Decimal("3")
    assert batch.base_quantity(4) is None  # neither the legacy write nor a None base makes one
    assert batch.repo.get(ids["f1"]).remote_id == "R-f1"  # the replay changed nothing
    assert batch.repo.get(ids["t1"]).remote_id == "R-t1"  # the first confirmation counts
    assert batch.repo.get(ids["c3"]).status is OutboxStatus.FAILED
    assert batch.repo.counts(batch.connection_id)["done"] == 10
    assert [status for _, status, _ in batch.snapshot()[1]] == [
        DecisionStatus.CANCELLED,
        DecisionStatus.PENDING,
        DecisionStatus.APPLIED,
        DecisionStatus.APPLIED,
        DecisionStatus.APPLIED,
        DecisionStatus.APPLIED,
    ]
    assert batch.repo.mark_done_many(confirmed) == 0  # a replayed wave changes nothing
    assert batch.snapshot() == single.snapshot()


@pytest.mark.parametrize(("order", "expected"), [("abc", "27"), ("cba", "29")])
def test_one_base_moved_several_times_in_a_wave_follows_the_confirmation_order(
    twins: tuple[World, World], order: str, expected: str
) -> None:
    """Shifts before a new base are overwritten by it; shifts after it add up on top."""
    batch, single = twins
    for world in twins:
        m = world.mapping_ids[0]
        set_bases(world, {0: "20"})
        world.repo.record(
            world.connection_id,
            None,
            [
                DecisionDraft(m, base("30"), (write("a", "4"), write("a-fails", "6"))),
                DecisionDraft(m, base("25"), (write("b"),)),
                DecisionDraft(m, base("31"), (write("c", "2"), write("c-fails", "9"))),
            ],
        )
        ids = world.write_ids()
        world.repo.mark_sending_many([ids["a"], ids["c"]])
        world.repo.mark_failed(ids["a-fails"], "refused")
        world.repo.mark_failed(ids["c-fails"], "refused")
    ids = batch.write_ids()
    confirmed = [(ids[key], f"R-{key}") for key in order]
    assert batch.repo.mark_done_many(confirmed) == one_by_one(single, confirmed) == 1
    assert batch.snapshot() == single.snapshot()
    assert batch.base_quantity(0) == Decimal(expected)  # abc: 20 + 4 -> 25 + 2; cba: 20 + 2 -> 25 + 4


def test_a_missing_id_refuses_the_whole_wave(twins: tuple[World, World]) -> None:
    batch, single = twins
    confirmed = build_mixed(batch)
    build_mixed(single)
    before = batch.snapshot()
    missing = max(batch.write_ids().values()) + 1
    wave = [*confirmed[:3], (missing, "R"), *confirmed[3:]]
    with pytest.raises(OutboxEntryNotFound, match=f"no outbox entry {missing}"):
        batch.repo.mark_done_many(wave)
    assert batch.snapshot() == before  # one transaction: the writes before it are not marked either
    with pytest.raises(OutboxEntryNotFound, match=f"no outbox entry {missing}"):
        single.repo.mark_done(missing, "R")


def test_mark_sending_many_matches_one_by_one(twins: tuple[World, World]) -> None:
    batch, single = twins
    for world in twins:
        build_mixed(world)
        world.repo.mark_in_doubt(world.write_ids()["t1"], "timeout")
    ids = batch.write_ids()
    missing = max(ids.values()) + 1
    # done (c1, f1), failed (c3), in flight (c2), in doubt (t1), pending (the rest), missing, repeated.
    wanted = [ids[k] for k in ("b2", "c1", "t1", "c3", "c2", "f1", "legacy")] + [missing, ids["b2"]]

    sent = batch.repo.mark_sending_many(wanted)
    expected: list[int] = []
    for outbox_id in wanted:
        try:
            single.repo.mark_sending(outbox_id)
        except (OutboxEntryClosed, OutboxEntryNotFound):
            continue
        expected.append(outbox_id)
    assert sent == expected == [ids["b2"], ids["t1"], ids["c2"], ids["legacy"], ids["b2"]]
    assert batch.snapshot() == single.snapshot()
    assert batch.repo.get(ids["b2"]).attempts == 2 and batch.repo.get(ids["c2"]).attempts == 2
    assert batch.repo.get(ids["t1"]).status is OutboxStatus.SENDING
    assert batch.repo.mark_sending_many([]) == []


def test_a_wave_marked_sending_is_in_the_database_file_before_it_leaves(
    twins: tuple[World, World], tmp_path: Path
) -> None:
    # What a power cut that takes the write-ahead log leaves behind: the main file alone. The decisions
    # and writes recorded, and the wave's marks, must be there before any write of the wave is sent.
    world = twins[0]
    world.repo.record(
        world.connection_id, None, [DecisionDraft(world.mapping_ids[0], base("5"), (write("w1", "-1"),))]
    )
    world.repo.mark_sending_many([world.write_ids()["w1"]])
    copy = tmp_path / "main-file-only.db"
    shutil.copyfile(world.store.path, copy)
    with Store.open(copy) as survivor:
        (entry,) = DecisionRepository(survivor).pending_writes(world.connection_id)
    assert (entry.idempotency_key, entry.status, entry.attempts) == ("w1", OutboxStatus.SENDING, 1)


# Random waves: decisions over three mappings, some writes settled beforehand, then a wave confirmed.
_DELTAS = st.sampled_from([None, "0", "1", "-2.5", "1E+1", "0.10"])
_PRIOR = st.sampled_from(["pending", "sending", "done", "failed"])
_WRITES = st.lists(st.tuples(_DELTAS, _PRIOR), max_size=3)
_DECISIONS = st.lists(
    st.tuples(st.integers(0, 2), st.sampled_from([None, "7", "8.0"]), _WRITES), min_size=1, max_size=5
)


def _build_random(
    world: World, plan: list[tuple[int, str | None, list[tuple[str | None, str]]]], bases: list[str | None]
) -> list[tuple[str, str]]:
    set_bases(world, {i: q for i, q in enumerate(bases) if q != "none"})
    drafts = []
    priors: list[tuple[str, str]] = []
    for d, (mapping, new_base, writes) in enumerate(plan):
        keys = [f"d{d}w{w}" for w in range(len(writes))]
        drafts.append(
            DecisionDraft(
                world.mapping_ids[mapping],
                base(new_base) if new_base else None,
                tuple(write(key, delta) for key, (delta, _) in zip(keys, writes, strict=True)),
            )
        )
        priors += [(key, prior) for key, (_, prior) in zip(keys, writes, strict=True)]
    world.repo.record(world.connection_id, None, drafts)
    ids = world.write_ids()
    for key, prior in priors:
        try:
            if prior == "sending":
                world.repo.mark_sending(ids[key])
            elif prior == "done":
                world.repo.mark_done(ids[key], "before")
            elif prior == "failed":
                world.repo.mark_failed(ids[key], "refused")
        except OutboxEntryClosed:  # cancelled by an earlier failure of its decision
            pass
    return priors


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    plan=_DECISIONS,
    bases=st.lists(st.sampled_from(["none", None, "5", "5E+1"]), min_size=3, max_size=3),
    picks=st.lists(st.integers(0, 14), max_size=12),
)
def test_random_waves_settle_like_one_by_one(
    template: Path,
    plan: list[tuple[int, str | None, list[tuple[str | None, str]]]],
    bases: list[str | None],
    picks: list[int],
) -> None:
    with tempfile.TemporaryDirectory() as directory:
        worlds = [open_world(template, Path(directory), name) for name in ("batch", "single")]
        try:
            batch, single = worlds
            priors = _build_random(batch, plan, bases)
            _build_random(single, plan, bases)
            if not priors:
                return
            ids = batch.write_ids()
            confirmed = [(ids[priors[p % len(priors)][0]], f"R{n}") for n, p in enumerate(picks)]
            assert batch.snapshot() == single.snapshot()
            assert batch.repo.mark_done_many(confirmed) == one_by_one(single, confirmed)
            assert batch.snapshot() == single.snapshot()
        finally:
            for world in worlds:
                world.store.close()


def test_a_batch_is_frozen_with_its_writes_before_it_leaves(twins: tuple[World, World]) -> None:
    world, _ = twins
    m = world.mapping_ids
    world.repo.record(
        world.connection_id,
        None,
        [
            DecisionDraft(m[0], base("9"), (write("k1", "-1"),)),
            DecisionDraft(m[1], base("8"), (write("k2", "2"),)),
        ],
    )
    ids = world.write_ids()
    world.repo.mark_done_many([(ids["k2"], "already")])  # settled meanwhile: not carried

    frozen = world.repo.freeze_batches(world.connection_id, Side.ERP, [("atb-1", [ids["k1"], ids["k2"]])])

    assert frozen == [[ids["k1"]]]
    entry = world.repo.get(ids["k1"])
    assert entry.batch_key == "atb-1" and entry.status is OutboxStatus.SENDING
    assert world.repo.get(ids["k2"]).batch_key is None
    world.repo.settle_batches([("atb-1", BATCH_POSTED, "4711")])
    with world.store.engine.connect() as conn:
        row = conn.exec_driver_sql("SELECT state, entries, remote_id, target FROM write_batches").one()
    assert tuple(row) == ("posted", 1, "4711", "erp")
