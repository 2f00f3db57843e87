"""Pack-level NDCs: an Atlas listing of cases names the case's NDC and matches the product at that unit."""

from __future__ import annotations

from decimal import Decimal

from atlas_desktop.domain.enums import MappingStatus, MatchMethod
from atlas_desktop.domain.model import Location
from atlas_desktop.domain.ndc import parse_ndc
from atlas_desktop.domain.packs import PackLevel
from atlas_desktop.engine.discovery import AtlasRef, ErpProductRef, ErpStockRef, LocationResolver, discover

LOCATIONS = LocationResolver([Location("1010/0001", "Main", "MAIN")])
EACH, CASE = "54321-123-45", "54321-123-46"  # the case's GTIN embeds another package code


def case_of(ndc: str) -> PackLevel:
    return PackLevel("CS", (parse_ndc(ndc).ten.replace("-", ""),), Decimal(12))


def by_atlas(drafts):  # type: ignore[no-untyped-def]
    return {d.atlas_inventory_id: d for d in drafts if d.atlas_inventory_id}


def test_an_atlas_listing_with_a_case_ndc_matches_the_product_at_the_case_unit() -> None:
    products = [ErpProductRef("M1", parse_ndc(EACH).to_gtin14(), "Each", packs=(case_of(CASE),))]
    stock = [ErpStockRef("M1", "1010/0001", "B1")]
    drafts = by_atlas(discover([AtlasRef("r-cases", CASE, "B1", "MAIN")], products, stock, LOCATIONS))
    draft = drafts["r-cases"]
    assert (draft.status, draft.match_method) == (MappingStatus.MATCHED, MatchMethod.AUTO_NDC)
    assert (draft.erp_item_id, draft.erp_location_id, draft.lot) == ("M1", "1010/0001", "B1")
    assert (draft.erp_unit, draft.unit_factor) == ("CS", Decimal(12))
    assert "1 CS = 12" in (draft.note or "")


def test_the_base_unit_match_stays_unconverted() -> None:
    products = [ErpProductRef("M1", parse_ndc(EACH).to_gtin14(), "Each", packs=(case_of(CASE),))]
    stock = [ErpStockRef("M1", "1010/0001", None)]
    draft = by_atlas(discover([AtlasRef("r", EACH, None, "MAIN")], products, stock, LOCATIONS))["r"]
    assert draft.status is MappingStatus.MATCHED
    assert (draft.erp_unit, draft.unit_factor) == (None, None)


def test_a_case_ndc_that_is_another_products_base_ndc_is_ambiguous_as_any_duplicate() -> None:
    products = [
        ErpProductRef("M1", parse_ndc(EACH).to_gtin14(), "Each", packs=(case_of(CASE),)),
        ErpProductRef("M2", CASE, "Another product with the same NDC"),
    ]
    stock = [ErpStockRef("M1", "1010/0001", None), ErpStockRef("M2", "1010/0001", None)]
    draft = by_atlas(discover([AtlasRef("r", CASE, None, "MAIN")], products, stock, LOCATIONS))["r"]
    assert draft.status is MappingStatus.UNMATCHED_ATLAS and "2 ERP items" in (draft.note or "")


def test_a_case_ndc_read_several_ways_is_only_a_suggestion() -> None:
    """Ranked as any NDC: a bare 10-digit text that is one reading of the case's 11 digits is weak."""
    case = PackLevel("CS", ("01234056789",), Decimal(12))  # 11 digits whose 10-digit form is unsure
    products = [ErpProductRef("M1", parse_ndc(EACH).eleven, "Each", packs=(case,))]
    stock = [ErpStockRef("M1", "1010/0001", None)]
    draft = by_atlas(discover([AtlasRef("r", "1234056789", None, "MAIN")], products, stock, LOCATIONS))["r"]
    assert (draft.status, draft.erp_item_id, draft.erp_unit) == (MappingStatus.AMBIGUOUS, "M1", "CS")
