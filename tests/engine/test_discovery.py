"""Discovery pairs by NDC in any format, per lot and location, and flags what it cannot be sure of."""

from __future__ import annotations

import time
from typing import Any

import pytest

from atlas_desktop.domain.enums import MappingStatus
from atlas_desktop.domain.model import Location
from atlas_desktop.domain.ndc import parse_ndc
from atlas_desktop.engine import discovery
from atlas_desktop.engine.discovery import (
    AtlasRef,
    ErpProductRef,
    ErpStockRef,
    LocationResolver,
    discover,
    identify_ndc,
)

LOCATIONS = LocationResolver([Location("1", "Main warehouse", "MAIN"), Location("2", "East", "EAST")])


def by_atlas(results):  # type: ignore[no-untyped-def]
    return {r.atlas_inventory_id: r for r in results if r.atlas_inventory_id}


def test_identity_forms() -> None:
    assert identify_ndc("0071-0155-23").key == "00071015523"
    assert identify_ndc("0071-0155-23").ten == "0071015523"
    assert identify_ndc("0071015523").key is None  # bare 10 digits: ambiguous
    assert identify_ndc("0071015523").ten == "0071015523"
    gtin = parse_ndc("0071-0155-23").to_gtin14()
    assert identify_ndc(gtin).ten == "0071015523"
    assert identify_ndc("hello").error


def test_formats_match_strongly_and_weak_links_are_only_suggestions() -> None:
    gtin = parse_ndc("0071-0155-23").to_gtin14()
    products = [
        ErpProductRef("A", "0071-0155-23", "Lipitor"),
        ErpProductRef("B", gtin.replace("0071015523", "1234567890")[:0] or "12345-678-90", "Other"),
        ErpProductRef("G", parse_ndc("54321-123-45").to_gtin14(), "By GTIN"),
    ]
    stock = [ErpStockRef("A", "1", "LOT1"), ErpStockRef("B", "1", None), ErpStockRef("G", "2", "X9")]
    atlas = [
        AtlasRef("r1", "00071-0155-23", "lot1", "MAIN"),  # 11-digit key == ERP key
        AtlasRef("r2", "12345067890", None, "main"),  # bare 11 == 12345-678-90
        AtlasRef("r3", "5432112345", "X9", "EAST"),  # bare 10, same ten digits as the ERP's GTIN
        AtlasRef("r4", "1234567890", None, "MAIN"),  # bare 10 vs an 11-digit-only ERP: weak
    ]
    results = by_atlas(discover(atlas, products, stock, LOCATIONS))
    assert results["r1"].status is MappingStatus.MATCHED and results["r1"].erp_item_id == "A"
    assert results["r1"].lot == "LOT1"
    assert results["r2"].status is MappingStatus.MATCHED and results["r2"].erp_item_id == "B"
    assert results["r3"].status is MappingStatus.MATCHED and results["r3"].erp_location_id == "2"
    assert results["r4"].status is MappingStatus.AMBIGUOUS and results["r4"].erp_item_id == "B"


def test_duplicates_and_unmatched_are_flagged() -> None:
    products = [ErpProductRef("A", "11111-222-33"), ErpProductRef("A2", "11111-0222-33")]
    stock = [ErpStockRef("A", "1", None), ErpStockRef("A2", "1", None), ErpStockRef("Z", "1", "L")]
    atlas = [
        AtlasRef("dup", "11111022233", None, "MAIN"),  # both ERP items have key 11111022233
        AtlasRef("none", "99999-999-99", None, "MAIN"),
        AtlasRef("bad", "not an ndc", None, "MAIN"),
    ]
    results = list(discover(atlas, products, stock, LOCATIONS))
    atlas_side = by_atlas(results)
    assert (
        atlas_side["dup"].status is MappingStatus.UNMATCHED_ATLAS and "2 ERP items" in atlas_side["dup"].note
    )
    assert atlas_side["none"].status is MappingStatus.UNMATCHED_ATLAS
    assert "not usable" in atlas_side["bad"].note
    erp_only = {(r.erp_item_id, r.lot) for r in results if r.status is MappingStatus.UNMATCHED_ERP}
    assert erp_only == {("A", None), ("A2", None), ("Z", "L")}


def test_lot_and_location_must_agree() -> None:
    products = [ErpProductRef("A", "22222-333-44")]
    stock = [ErpStockRef("A", "1", "L1"), ErpStockRef("A", "2", "L1")]
    atlas = [
        AtlasRef("same", "22222-333-44", "L1", "EAST"),
        AtlasRef("otherlot", "22222-333-44", "L2", "MAIN"),
        AtlasRef("noloc", "22222-333-44", "L1", "NORTH"),
        AtlasRef("twice", "22222-333-44", " l1 ", "EAST"),
    ]
    results = list(discover(atlas, products, stock, LOCATIONS))
    atlas_side = by_atlas(results)
    assert atlas_side["same"].status is MappingStatus.MATCHED and atlas_side["same"].erp_location_id == "2"
    assert atlas_side["otherlot"].status is MappingStatus.UNMATCHED_ATLAS
    assert atlas_side["noloc"].status is MappingStatus.UNMATCHED_ATLAS and "NORTH" in atlas_side["noloc"].note
    assert atlas_side["twice"].status is MappingStatus.AMBIGUOUS and "duplicate" in atlas_side["twice"].note
    leftovers = [(r.erp_location_id, r.lot) for r in results if r.status is MappingStatus.UNMATCHED_ERP]
    assert leftovers == [("1", "L1")]


def test_ten_thousand_items_discover_quickly() -> None:
    products, stock, atlas = [], [], []
    for i in range(10_000):
        ndc = f"{10000 + i:05d}-{i % 1000:03d}-{i % 100:02d}"
        products.append(ErpProductRef(f"I{i}", ndc))
        stock.append(ErpStockRef(f"I{i}", "1", f"L{i}"))
        atlas.append(AtlasRef(f"R{i}", parse_ndc(ndc).eleven, f"L{i}", "MAIN"))
    started = time.perf_counter()
    results = list(discover(atlas, products, stock, LOCATIONS))
    elapsed = time.perf_counter() - started
    print(f"discovery of 10,000 items: {elapsed:.2f} s")
    assert sum(r.status is MappingStatus.MATCHED for r in results) == 10_000


def test_the_erp_side_is_freed_entry_by_entry_after_the_drafts(monkeypatch: pytest.MonkeyPatch) -> None:
    # Freed at once, 100k items' index and positions held the GIL ~90 ms (the window froze meanwhile).
    emptied: list[int] = []
    real = discovery.empty_gradually

    def spy(table: dict[Any, Any]) -> None:
        emptied.append(len(table))
        real(table)
        assert not table

    monkeypatch.setattr(discovery, "empty_gradually", spy)
    products = [ErpProductRef(f"P{i}", f"00071-{i:04d}-23", f"Item {i}") for i in range(50)]
    stock = [ErpStockRef(f"P{i}", "1", f"L{i}") for i in range(50)]
    atlas = [AtlasRef(f"r{i}", f"00071-{i:04d}-23", f"l{i}", "MAIN") for i in range(40)]

    drafts = discover(atlas, products, stock, LOCATIONS)
    results = [next(drafts) for _ in range(50)]  # 40 pairs, 10 ERP-only positions
    assert not emptied  # still in use while drafts are being taken
    assert next(drafts, None) is None
    assert sum(r.status is MappingStatus.MATCHED for r in results) == 40
    assert sum(r.status is MappingStatus.UNMATCHED_ERP for r in results) == 10
    assert 50 in emptied  # the positions and the products, each a dict of 50
    assert emptied.count(50) >= 2
