"""Mappings: discovery keeps user choices and confirmed pairs; manual map/unmap; review; merge inputs."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
import sqlalchemy as sa

from atlas_desktop.domain.drafts import DecisionDraft, MappingDraft, WriteDraft
from atlas_desktop.domain.enums import (
    ConflictPolicy,
    DecisionStatus,
    MappingStatus,
    MatchMethod,
    OutboxStatus,
    SyncDirection,
)
from atlas_desktop.domain.errors import ConfigError
from atlas_desktop.domain.model import AtlasInventoryRow, ErpType, Product, Side, StockKey, StockLevel
from atlas_desktop.domain.snapshots import BaseValues
from atlas_desktop.store.db import Store
from atlas_desktop.store.decisions import DecisionRepository
from atlas_desktop.store.mappings import MappingNotFound, MappingRepository
from atlas_desktop.store.mirrors import MirrorRepository
from atlas_desktop.store.models import ConflictRow, ConnectionRow, InventoryMappingRow, SyncBaseRow

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
M, UA, UE, AMB = (
    MappingStatus.MATCHED,
    MappingStatus.UNMATCHED_ATLAS,
    MappingStatus.UNMATCHED_ERP,
    MappingStatus.AMBIGUOUS,
)


def matched(atlas: str, item: str, lot: str | None = None, key: str = "00002143380") -> MappingDraft:
    return MappingDraft(
        atlas,
        item,
        "WH1",
        lot,
        key,
        "0002-1433-80",
        "00002-1433-80",
        f"Drug {atlas}",
        M,
        MatchMethod.AUTO_NDC,
    )


def only_atlas(atlas: str, note: str | None = None) -> MappingDraft:
    return MappingDraft(atlas, None, None, None, None, "bad", None, f"Drug {atlas}", UA, None, note)


def only_erp(item: str, lot: str | None = None) -> MappingDraft:
    return MappingDraft(None, item, "WH1", lot, None, None, "x", f"Item {item}", UE, None)


@pytest.fixture
def mappings(store: Store) -> MappingRepository:
    return MappingRepository(store)


def rows_of(store: Store, connection_id: str) -> list[InventoryMappingRow]:
    with store.session() as session:
        return list(
            session.scalars(
                sa.select(InventoryMappingRow)
                .where(InventoryMappingRow.connection_id == connection_id)
                .order_by(InventoryMappingRow.id)
            )
        )


def set_base(store: Store, mapping_id: int, quantity: str) -> None:
    with store.session() as session:
        session.merge(SyncBaseRow(mapping_id=mapping_id, quantity=Decimal(quantity), unit="EA"))


def base_of(store: Store, mapping_id: int) -> Decimal | None:
    with store.session() as session:
        row = session.get(SyncBaseRow, mapping_id)
        return None if row is None else row.quantity


def id_of(store: Store, connection_id: str, atlas_id: str | None = None, item: str | None = None) -> int:
    for row in rows_of(store, connection_id):
        if (atlas_id is None or row.atlas_inventory_id == atlas_id) and (
            item is None or row.erp_item_id == item
        ):
            return row.id
    raise AssertionError("no such mapping")


def test_draft_shapes_are_checked() -> None:
    with pytest.raises(ValueError, match="needs an Atlas id, an ERP item and a location"):
        MappingDraft("a", None, None, None, None, None, None, None, M, MatchMethod.AUTO_NDC)
    with pytest.raises(ValueError):
        MappingDraft(None, None, None, None, None, None, None, None, UA, None)


def test_first_discovery_inserts_and_counts(mappings: MappingRepository, connection_id: str) -> None:
    counts = mappings.apply_discovery(
        connection_id, [matched("a1", "i1"), matched("a2", "i2", "L1"), only_atlas("a3"), only_erp("i4")]
    )
    assert (counts.matched, counts.unmatched_atlas, counts.unmatched_erp, counts.ambiguous) == (2, 1, 1, 0)
    assert (counts.inserted, counts.kept, counts.removed, counts.skipped) == (4, 0, 0, 0)
    assert counts.by_status()[MappingStatus.MATCHED] == 2


def test_rediscovery_keeps_confirmed_pairs_with_their_base_and_replaces_the_rest(
    store: Store, mappings: MappingRepository, connection_id: str
) -> None:
    mappings.apply_discovery(connection_id, [matched("a1", "i1"), matched("a2", "i2"), only_atlas("a3")])
    kept_id = id_of(store, connection_id, "a1")
    moved_id = id_of(store, connection_id, "a2")
    set_base(store, kept_id, "100")
    set_base(store, moved_id, "50")
    mappings.set_mapping_options(kept_id, sync_direction=SyncDirection.ERP_TO_ATLAS)

    # a1 still pairs with i1; a2 now pairs with i9 (its old pair is gone); a3 got its NDC fixed.
    counts = mappings.apply_discovery(
        connection_id, [matched("a1", "i1"), matched("a2", "i9"), matched("a3", "i3"), only_erp("i2")]
    )
    assert (counts.kept, counts.inserted, counts.removed) == (1, 3, 2)
    assert counts.matched == 3 and counts.unmatched_erp == 1 and counts.unmatched_atlas == 0
    view = mappings.get(kept_id)
    assert view.sync_direction is SyncDirection.ERP_TO_ATLAS and view.base_quantity == Decimal("100")
    assert base_of(store, kept_id) == Decimal("100")
    moved = mappings.get(id_of(store, connection_id, "a2"))
    assert moved.erp_item_id == "i9" and moved.base_quantity is None  # the old pair's base went with it
    assert base_of(store, moved.id) is None
    assert moved_id not in {r.id for r in rows_of(store, connection_id)} or moved_id == moved.id


def test_rediscovery_never_touches_manual_or_ignored_rows_and_skips_their_sides(
    store: Store, mappings: MappingRepository, connection_id: str
) -> None:
    mappings.apply_discovery(connection_id, [only_atlas("a1"), only_erp("i1"), matched("a2", "i2")])
    manual_id = mappings.map_manually(connection_id, "a1", "i1", "WH1", None)
    set_base(store, manual_id, "7")
    ignored_id = id_of(store, connection_id, "a2")
    mappings.set_mapping_options(ignored_id, status=MappingStatus.IGNORED)

    # Discovery now thinks a1 belongs with i5 and i1 is unmatched, and re-proposes a2/i2.
    counts = mappings.apply_discovery(
        connection_id, [matched("a1", "i5"), only_erp("i1"), matched("a2", "i2"), only_erp("i5")]
    )
    assert counts.skipped == 3 and counts.kept == 2 and counts.inserted == 1
    manual = mappings.get(manual_id)
    assert (manual.status, manual.match_method, manual.erp_item_id) == (M, MatchMethod.MANUAL, "i1")
    assert base_of(store, manual_id) == Decimal("7")
    assert mappings.get(ignored_id).status is MappingStatus.IGNORED
    assert [
        (r.erp_item_id, r.status)
        for r in rows_of(store, connection_id)
        if r.id not in (manual_id, ignored_id)
    ] == [("i5", UE)]


def test_engine_conflict_mark_survives_rediscovery(
    mappings: MappingRepository, store: Store, connection_id: str
) -> None:
    mappings.apply_discovery(connection_id, [matched("a1", "i1")])
    mapping_id = id_of(store, connection_id, "a1")
    with store.session() as session:
        session.get(InventoryMappingRow, mapping_id).status = MappingStatus.CONFLICT  # type: ignore[union-attr]
    mappings.apply_discovery(connection_id, [matched("a1", "i1")])
    assert mappings.get(mapping_id).status is MappingStatus.CONFLICT


def test_map_manually_replaces_unmatched_rows_and_refuses_taken_sides(
    store: Store, mappings: MappingRepository, connection_id: str
) -> None:
    mirrors = MirrorRepository(store)
    mirrors.upsert_atlas_rows(
        connection_id,
        [AtlasInventoryRow("a1", "0002-1433-80", "Humalog", Decimal("4"), "EA", 1, T0)],
        lambda text: "00002143380",
    )
    mirrors.upsert_erp_products(
        connection_id, [Product("i1", "SKU-1", "Insulin", "EA", "00002143380")], lambda t: t
    )
    mappings.apply_discovery(
        connection_id, [only_atlas("a1"), only_erp("i1"), matched("a2", "i2"), AMB_DRAFT]
    )
    mapping_id = mappings.map_manually(connection_id, "a1", "i1", "WH1", "")
    view = mappings.get(mapping_id)
    assert (view.status, view.match_method, view.lot) == (M, MatchMethod.MANUAL, None)
    assert (view.ndc_text_atlas, view.ndc_key, view.item_name) == ("0002-1433-80", "00002143380", "Humalog")
    assert [r.status for r in rows_of(store, connection_id)] == [M, M]  # unmatched + ambiguous rows gone

    with pytest.raises(ConfigError, match="already matched"):
        mappings.map_manually(connection_id, "a1", "i2", "WH1", None)
    with pytest.raises(ConfigError, match="already matched"):
        mappings.map_manually(connection_id, "a9", "i2", "WH1", None)
    with pytest.raises(ConfigError, match="erp_item_id"):
        mappings.map_manually(connection_id, "a9", " ", "WH1", None)
    # The same pair again just confirms it (an auto pair becomes manual and keeps its id).
    auto_id = id_of(store, connection_id, "a2")
    assert mappings.map_manually(connection_id, "a2", "i2", "WH1", None) == auto_id
    assert mappings.get(auto_id).match_method is MatchMethod.MANUAL


AMB_DRAFT = MappingDraft(
    "a1", None, None, None, None, "0002-1433", None, "Humalog", AMB, None, "2 ERP items match"
)


def test_unmap_splits_the_pair_drops_the_base_and_cancels_unsent_writes(
    store: Store, mappings: MappingRepository, connection_id: str
) -> None:
    mappings.apply_discovery(connection_id, [matched("a1", "i1", lot="L1")])
    mapping_id = id_of(store, connection_id, "a1")
    set_base(store, mapping_id, "10")
    decisions = DecisionRepository(store)
    [decision_id] = decisions.record(
        connection_id,
        None,
        [
            DecisionDraft(
                mapping_id, BaseValues(Decimal("9"), None, "EA"), (WriteDraft(Side.ERP, "adjust", {}, "k1"),)
            )
        ],
    )
    mappings.unmap(connection_id, mapping_id)

    rows = rows_of(store, connection_id)
    assert [(r.status, r.atlas_inventory_id, r.erp_item_id, r.lot, r.match_method) for r in rows] == [
        (UA, "a1", None, None, MatchMethod.MANUAL),
        (UE, None, "i1", "L1", MatchMethod.MANUAL),
    ]
    assert base_of(store, mapping_id) is None
    assert decisions.counts(connection_id)[OutboxStatus.CANCELLED] == 1
    assert decisions.decision_status([decision_id]) == {decision_id: DecisionStatus.CANCELLED}
    # Discovery does not pair them again behind the user's back.
    counts = mappings.apply_discovery(connection_id, [matched("a1", "i1", lot="L1")])
    assert counts.skipped == 1 and counts.matched == 0
    with pytest.raises(ConfigError, match="not a pair"):
        mappings.unmap(connection_id, rows[0].id)
    with pytest.raises(MappingNotFound):
        mappings.unmap("other-connection", rows[0].id)


def test_set_mapping_options(store: Store, mappings: MappingRepository, connection_id: str) -> None:
    mappings.apply_discovery(connection_id, [matched("a1", "i1"), only_atlas("a2")])
    mapping_id = id_of(store, connection_id, "a1")
    mappings.set_mapping_options(mapping_id, conflict_policy=ConflictPolicy.ERP_WINS)
    assert mappings.get(mapping_id).conflict_policy is ConflictPolicy.ERP_WINS
    assert mappings.get(mapping_id).match_method is MatchMethod.AUTO_NDC  # options alone are not a re-match
    mappings.set_mapping_options(mapping_id, inherit_policy=True)
    assert mappings.get(mapping_id).conflict_policy is None
    with pytest.raises(ConfigError, match="only one side"):
        mappings.set_mapping_options(id_of(store, connection_id, "a2"), status=MappingStatus.MATCHED)
    with pytest.raises(MappingNotFound):
        mappings.set_mapping_options(999_999, sync_direction=SyncDirection.ATLAS_TO_ERP)


def test_page_count_search_and_order(store: Store, mappings: MappingRepository, connection_id: str) -> None:
    mirrors = MirrorRepository(store)
    mirrors.upsert_atlas_rows(
        connection_id,
        [
            AtlasInventoryRow(
                "a1",
                "0002-1433-80",
                "Humalog",
                Decimal("4.5"),
                "EA",
                1,
                T0,
                sku="HUM_100",
                expiry=date(2027, 5, 1),
            )
        ],
        lambda text: None,
    )
    mirrors.upsert_erp_stock(connection_id, [StockLevel(StockKey("i1", "WH1"), Decimal("6"), "EA")])
    drafts = [matched("a1", "i1")] + [only_atlas(f"b{i:02d}") for i in range(30)]
    mappings.apply_discovery(connection_id, drafts)
    mapping_id = id_of(store, connection_id, "a1")
    set_base(store, mapping_id, "5")

    assert mappings.count(connection_id) == 31
    assert mappings.count(connection_id, status=UA) == 30
    page = mappings.page(
        connection_id, status=None, search=None, offset=10, limit=5, order_by="-atlas_inventory_id"
    )
    assert [v.atlas_inventory_id for v in page] == ["b19", "b18", "b17", "b16", "b15"]

    [view] = mappings.page(connection_id, status=M, search=None, offset=0, limit=10)
    assert (view.base_quantity, view.atlas_quantity, view.erp_quantity) == (
        Decimal("5"),
        Decimal("4.5"),
        Decimal("6"),
    )
    assert view.atlas_expiry == date(2027, 5, 1) and view.erp_expiry is None

    # By SKU (joined from the mirror), with "_" taken literally, by NDC with dashes, by id.
    assert [v.id for v in mappings.page(connection_id, status=None, search="HUM_1", offset=0, limit=9)] == [
        mapping_id
    ]
    assert mappings.count(connection_id, search="HUMX1") == 0
    assert mappings.count(connection_id, search="HUM%") == 0
    assert mappings.count(connection_id, search="00002-1433-80") == 1
    assert mappings.count(connection_id, search="b0") == 10
    with pytest.raises(ConfigError, match="cannot sort"):
        mappings.page(connection_id, status=None, search=None, offset=0, limit=5, order_by="name; drop table")


def test_merge_inputs_join_base_mirrors_flags_and_policy(
    store: Store, mappings: MappingRepository, connection_id: str
) -> None:
    with store.session() as session:
        connection = session.get(ConnectionRow, connection_id)
        assert connection is not None
        connection.conflict_policy = ConflictPolicy.ATLAS_WINS
        connection.sync_direction = SyncDirection.ERP_TO_ATLAS
    mirrors = MirrorRepository(store)
    mirrors.upsert_atlas_rows(
        connection_id,
        [AtlasInventoryRow("a1", "x", "n", Decimal("3"), "EA", 4, T0, expiry=date(2027, 1, 1), lot="L1")],
        lambda text: None,
    )
    mirrors.upsert_erp_stock(
        connection_id,
        [
            StockLevel(
                StockKey("i1", "WH1", "L1"), Decimal("2.50"), "EA", observed_version="v9", updated_at=T0
            )
        ],
    )
    mappings.apply_discovery(
        connection_id, [matched("a1", "i1", lot="L1"), matched("a2", "i2"), only_atlas("a3")]
    )
    first, second = id_of(store, connection_id, "a1"), id_of(store, connection_id, "a2")
    with store.session() as session:
        session.add(SyncBaseRow(mapping_id=first, quantity=Decimal("4"), unit="EA", expiry=date(2027, 1, 1)))
        session.add(ConflictRow(connection_id=connection_id, mapping_id=second, field="expiry"))
    mappings.set_mapping_options(
        second, conflict_policy=ConflictPolicy.MANUAL, sync_direction=SyncDirection.ATLAS_TO_ERP
    )
    DecisionRepository(store).record(
        connection_id,
        None,
        [DecisionDraft(first, None, (WriteDraft(Side.ATLAS, "adjust", {"d": "1"}, "k"),))],
    )

    rows = list(mappings.merge_inputs(connection_id, batch=1))
    assert [r.mapping_id for r in rows] == [first, second]  # matched only, id order
    one, two = rows
    assert one.erp_key == StockKey("i1", "WH1", "L1") and one.atlas_inventory_id == "a1"
    assert one.base == BaseValues(Decimal("4"), date(2027, 1, 1), "EA")
    assert one.atlas is not None and (one.atlas.quantity, one.atlas.version, one.atlas.deleted) == (
        Decimal("3"),
        4,
        False,
    )
    assert one.erp is not None and (str(one.erp.quantity), one.erp.version, one.erp.updated_at) == (
        "2.50",
        "v9",
        T0,
    )
    assert (one.policy, one.direction) == (ConflictPolicy.ATLAS_WINS, SyncDirection.ERP_TO_ATLAS)
    assert (one.has_pending_decision, one.has_open_conflict) == (True, False)
    assert (two.base, two.atlas, two.erp) == (None, None, None)
    assert (two.policy, two.direction) == (ConflictPolicy.MANUAL, SyncDirection.ATLAS_TO_ERP)
    assert (two.has_pending_decision, two.has_open_conflict) == (False, True)
    assert [r.mapping_id for r in mappings.merge_inputs(connection_id, mapping_ids=[second, 12345])] == [
        second
    ]


@pytest.mark.slow
def test_discovery_and_merge_inputs_on_100k_rows(
    store: Store, mappings: MappingRepository, connection_id: str
) -> None:
    count = 100_000
    drafts = [matched(f"a{i:06d}", f"i{i:06d}") for i in range(count)]
    started = time.perf_counter()
    assert mappings.apply_discovery(connection_id, drafts).matched == count
    first = time.perf_counter()
    again = mappings.apply_discovery(connection_id, drafts)
    second = time.perf_counter()
    streamed = sum(1 for _ in mappings.merge_inputs(connection_id))
    merged = time.perf_counter()
    print(
        f"\ndiscovery of {count}: first {first - started:.2f}s, again {second - first:.2f}s; "
        f"merge_inputs {merged - second:.2f}s"
    )
    assert (again.kept, again.inserted, again.removed, streamed) == (count, 0, 0, count)


def test_discovery_inserts_what_the_typed_columns_store(store: Store) -> None:
    """Discovery binds plain values by position; each column holds the same value and storage class as
    when the same mapping goes in through the ORM's column types."""
    with store.session() as session:
        bulk, typed = (ConnectionRow(erp_type=ErpType.NETSUITE, connection_name=n) for n in ("bulk", "typed"))
        session.add_all([bulk, typed])
        session.flush()
        bulk_id, typed_id = bulk.id, typed.id
    drafts = [
        MappingDraft("a1", "i1", "WH1", "L1", "00002143380", "0002-1433-80", "00002-1433-80", "Ä name",
                     MappingStatus.MATCHED, MatchMethod.AUTO_NDC, None, "CS", Decimal("12.50")),
        MappingDraft("a2", None, None, "", None, "0002-??", None, None, MappingStatus.UNMATCHED_ATLAS, None,
                     "no key"),
        MappingDraft(None, "i3", "WH2", None, "1", None, "x", "n", MappingStatus.UNMATCHED_ERP, None),
    ]  # fmt: skip
    MappingRepository(store).apply_discovery(bulk_id, drafts)
    with store.session() as session:
        for d in drafts:
            session.add(InventoryMappingRow(
                connection_id=typed_id, atlas_inventory_id=d.atlas_inventory_id, erp_item_id=d.erp_item_id,
                erp_location_id=d.erp_location_id, lot=d.lot or None, ndc_key=d.ndc_key,
                ndc_text_atlas=d.ndc_text_atlas, ndc_text_erp=d.ndc_text_erp, item_name=d.item_name,
                status=d.status, match_method=d.match_method, note=d.note, erp_unit=d.erp_unit,
                unit_factor=d.unit_factor,
            ))  # fmt: skip

    def stored(connection_id: str) -> list[tuple[object, ...]]:
        with store.session() as session:
            info = session.connection().exec_driver_sql("PRAGMA table_info(erp_inventory_mappings)")
            names = [row[1] for row in info]
            kept = [n for n in names if n not in ("id", "connection_id", "created_at", "updated_at")]
            picked = ", ".join(f"{name}, typeof({name})" for name in kept)
            query = f"SELECT {picked} FROM erp_inventory_mappings WHERE connection_id = ? ORDER BY id"
            return list(session.connection().exec_driver_sql(query, (connection_id,)))

    assert len(stored(bulk_id)) == 3 and stored(bulk_id) == stored(typed_id)
    with store.session() as session:
        times = session.connection().exec_driver_sql(
            "SELECT count(*) FROM erp_inventory_mappings WHERE connection_id = ? AND created_at = updated_at "
            "AND length(created_at) = 32", (bulk_id,)
        ).scalar()
    assert times == 3
