"""A confirmed ERP quantity write moves the ERP stock mirror once, never a row read after it was recorded."""

from __future__ import annotations

from decimal import Decimal

import pytest
import sqlalchemy as sa

from atlas_desktop.domain.drafts import DecisionDraft, MappingDraft, WriteDraft
from atlas_desktop.domain.enums import MappingStatus, MatchMethod
from atlas_desktop.domain.model import Side, StockKey, StockLevel
from atlas_desktop.domain.snapshots import BaseValues
from atlas_desktop.store.db import Store
from atlas_desktop.store.decisions import DecisionRepository
from atlas_desktop.store.mappings import MappingRepository
from atlas_desktop.store.mirrors import MirrorRepository
from atlas_desktop.store.models import InventoryMappingRow


def erp_write(key: str, delta: str, item: str = "i0", lot: str | None = "L1") -> WriteDraft:
    payload = {"item_id": item, "location_id": "WH1", "lot": lot, "delta": delta, "unit": "EA"}
    return WriteDraft(Side.ERP, "erp_adjust", payload, key, Decimal(delta))


@pytest.fixture
def mapping_id(store: Store, connection_id: str) -> int:
    draft = MappingDraft("a0", "i0", "WH1", "L1", None, None, None, None, MappingStatus.MATCHED,
                         MatchMethod.AUTO_NDC)  # fmt: skip
    MappingRepository(store).apply_discovery(connection_id, [draft])
    with store.session() as session:
        return int(session.scalar(sa.select(InventoryMappingRow.id)))


def stock(mirrors: MirrorRepository, connection_id: str) -> dict[str, Decimal]:
    return {row.item_id: row.quantity for row in mirrors.iter_erp_stock(connection_id)}


def test_a_write_read_before_it_was_recorded_moves_the_mirror_once(
    store: Store, connection_id: str, mapping_id: int
) -> None:
    mirrors, decisions = MirrorRepository(store), DecisionRepository(store)
    levels = [StockLevel(StockKey("i0", "WH1", "L1"), Decimal("239"), "EA"),
              StockLevel(StockKey("i1", "WH1"), Decimal("7"), "EA")]  # fmt: skip
    mirrors.upsert_erp_stock(connection_id, levels)
    decision = DecisionDraft(mapping_id, BaseValues(Decimal("233.5"), None, "EA"),
                             (erp_write("k1", "-5"), erp_write("k2", "-0.5")))  # fmt: skip
    decisions.record(connection_id, None, [decision])
    first, second = decisions.pending_writes(connection_id)

    decisions.mark_done_many([(first.id, "R1"), (second.id, "R2")])
    assert stock(mirrors, connection_id) == {"i0": Decimal("233.5"), "i1": Decimal("7")}
    decisions.mark_done_many([(first.id, "R1")])  # confirmed again (a lookup after lost commits)
    assert stock(mirrors, connection_id) == {"i0": Decimal("233.5"), "i1": Decimal("7")}


def test_a_row_read_after_the_write_was_recorded_keeps_what_was_read(
    store: Store, connection_id: str, mapping_id: int
) -> None:
    """The write was in doubt and a later pull read the row: the read may hold the write already."""
    mirrors, decisions = MirrorRepository(store), DecisionRepository(store)
    key = StockKey("i0", "WH1", "L1")
    mirrors.upsert_erp_stock(connection_id, [StockLevel(key, Decimal("239"), "EA")])
    decisions.record(connection_id, None, [DecisionDraft(mapping_id, None, (erp_write("k1", "-5"),))])
    [entry] = decisions.pending_writes(connection_id)
    mirrors.upsert_erp_stock(connection_id, [StockLevel(key, Decimal("234"), "EA")])  # landed, read

    decisions.mark_done_many([(entry.id, "R1")])
    assert stock(mirrors, connection_id) == {"i0": Decimal("234")}


def test_atlas_writes_and_writes_to_rows_not_mirrored_leave_the_erp_mirror_alone(
    store: Store, connection_id: str, mapping_id: int
) -> None:
    mirrors, decisions = MirrorRepository(store), DecisionRepository(store)
    mirrors.upsert_erp_stock(connection_id, [StockLevel(StockKey("i0", "WH1", "L1"), Decimal("9"), "EA")])
    atlas = WriteDraft(Side.ATLAS, "atlas_adjust", {"row_id": "a0", "delta": "-1"}, "k1", Decimal(-1))
    elsewhere = erp_write("k2", "-2", item="i9")
    decisions.record(connection_id, None, [DecisionDraft(mapping_id, None, (atlas, elsewhere))])
    decisions.mark_done_many([(entry.id, None) for entry in decisions.pending_writes(connection_id)])
    assert stock(mirrors, connection_id) == {"i0": Decimal("9")}
