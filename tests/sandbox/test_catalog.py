"""The seeded pharma catalog: determinism, identifiers, lots and the ERP/Atlas overlap it promises."""

from __future__ import annotations

import inspect
import re
from collections import Counter
from datetime import date, timedelta
from decimal import Decimal

import pytest
from biip.gtin import Gtin

from atlas_desktop.domain.errors import ConfigError
from atlas_desktop.sandbox.catalog import (
    MAX_SIZE,
    NDC_LAYOUTS,
    Catalog,
    CatalogProduct,
    OverlapProfile,
    atlas_rows,
    erp_items,
    gs1_check_digit,
    ndc_as,
    ndc_to_11,
    overlap_report,
)

TODAY = date(2026, 11, 27)


def snapshot(catalog: Catalog) -> list[tuple]:
    return [(catalog.product(i), catalog.lots(i), catalog.stock(i)) for i in range(len(catalog))]


def test_same_seed_same_catalog_and_other_seed_differs():
    a, b = Catalog(7, 300, TODAY), Catalog(7, 300, TODAY)
    assert snapshot(a) == snapshot(b)
    other = Catalog(8, 300, TODAY)
    differing = sum(a.product(i) != other.product(i) for i in range(300))
    assert differing > 290


def test_product_does_not_depend_on_size_so_small_catalogs_are_prefixes():
    small, big = Catalog(3, 50, TODAY), Catalog(3, 5000, TODAY)
    assert snapshot(small) == [(big.product(i), big.lots(i), big.stock(i)) for i in range(50)]


def test_today_anchors_expiry_dates_but_not_products():
    a, b = Catalog(3, 200, TODAY), Catalog(3, 200, TODAY + timedelta(days=400))
    assert list(a.products()) == list(b.products())
    def expiries(catalog: Catalog) -> list[date]:
        return [lot.expiry for i in range(200) for lot in catalog.lots(i)]

    assert expiries(a) != expiries(b)
    for catalog in (a, b):
        for i in range(200):
            for lot in catalog.lots(i):
                assert -181 <= (lot.expiry - catalog.today).days <= 3 * 366


def test_product_fields_look_like_a_pharma_catalog():
    catalog = Catalog(42, 500, TODAY)
    p = catalog.product(122)
    assert p.index == 122 and p.sku == "SKU-000123" and p.unit == "EA"
    unit = r"(mcg|mg|g|mL|units/mL|%|mcg/actuation|mcg/spray)"
    assert re.fullmatch(rf"[A-Z][a-z].* \d[\d.,/]*\s?{unit}.*, .+", p.name), p.name
    tracked = sum(x.lot_tracked for x in catalog.products())
    assert 0.88 * 500 < tracked < 500


def test_index_outside_the_catalog_and_bad_size_are_refused():
    catalog = Catalog(1, 10, TODAY)
    with pytest.raises(IndexError):
        catalog.product(10)
    with pytest.raises(ConfigError):
        Catalog(1, MAX_SIZE + 1, TODAY)


def test_ndc_layouts_even_valid_unique_and_labelers_shared_by_manufacturer():
    catalog = Catalog(11, 3000, TODAY)
    layouts = Counter()
    tens, elevens = set(), set()
    labelers_by_maker: dict[str, set[str]] = {}
    for p in catalog.products():
        layouts[p.ndc_layout] += 1
        segments = p.ndc.split("-")
        assert [len(s) for s in segments] == [int(n) for n in p.ndc_layout.split("-")], p.ndc
        assert all(s.isdigit() for s in segments)
        tens.add(p.ndc)
        elevens.add(ndc_to_11(p.ndc))
        labelers_by_maker.setdefault(p.manufacturer, set()).add(segments[0])
    assert set(layouts) == set(NDC_LAYOUTS)
    assert all(0.25 * 3000 < n < 0.42 * 3000 for n in layouts.values()), layouts
    assert len(tens) == len(elevens) == 3000
    assert all(1 <= len(codes) <= 2 for codes in labelers_by_maker.values())
    assert sum(len(codes) for codes in labelers_by_maker.values()) == len(
        {c for codes in labelers_by_maker.values() for c in codes}
    ), "a labeler code belongs to one manufacturer"
    assert max(Counter(p.manufacturer for p in catalog.products()).values()) > 50, "labelers are reused"


def test_gtin14_embeds_the_10_digit_ndc_with_a_valid_check_digit():
    assert gs1_check_digit("629104150021") == "3"  # GS1's worked example
    for p in Catalog(5, 400, TODAY).products():
        assert len(p.gtin14) == 14 and p.gtin14[:3] == "003"
        assert p.gtin14[3:13] == p.ndc.replace("-", "")
        Gtin.parse(p.gtin14)  # an independent implementation validates the check digit
        assert p.gtin14[-1] == gs1_check_digit(p.gtin14[:-1])


@pytest.mark.parametrize(
    ("ndc", "layout", "eleven"),
    [("1234-5678-90", "4-4-2", "01234567890"), ("12345-678-90", "5-3-2", "12345067890"),
     ("12345-6789-0", "5-4-1", "12345678900")],
)  # fmt: skip
def test_ndc_written_in_each_format(ndc, layout, eleven):
    product = CatalogProduct(0, "SKU-000001", "x", "m", "EA", ndc, layout, True, "0")
    assert ndc_as(product, "10-hyphenated") == ndc
    assert ndc_as(product, "10-bare") == ndc.replace("-", "")
    assert ndc_as(product, "11-bare") == eleven
    assert ndc_as(product, "11-hyphenated") == f"{eleven[:5]}-{eleven[5:9]}-{eleven[9:]}"
    with pytest.raises(ValueError):
        ndc_as(product, "12-digit")


def test_lots_expiry_categories_and_stock():
    catalog = Catalog(9, 2000, TODAY)
    categories = Counter()
    for i in range(len(catalog)):
        product, lots, stock = catalog.product(i), catalog.lots(i), catalog.stock(i)
        assert stock, "every product has at least one stock row"
        assert {s.location for s in stock} <= {loc.code for loc in catalog.locations}
        assert "MAIN" in {s.location for s in stock}
        assert all(isinstance(s.quantity, Decimal) and s.quantity >= 0 for s in stock)
        if not product.lot_tracked:
            assert lots == () and all(s.lot is None for s in stock)
            continue
        assert 1 <= len(lots) <= 3 and len({lot.lot for lot in lots}) == len(lots)
        assert {s.lot for s in stock} == {lot.lot for lot in lots}
        for lot in lots:
            assert re.fullmatch(r"[A-Z]\d{4}[A-Z]", lot.lot)
            assert lot.manufacture_date <= TODAY and lot.manufacture_date < lot.expiry
            days = (lot.expiry - TODAY).days
            categories["expired" if days < 0 else "90d" if days < 90 else "1y" if days < 365 else "long"] += 1
    total = sum(categories.values())
    assert categories["expired"] > 0 and categories["90d"] > 0 and categories["1y"] > 0
    assert categories["long"] > 0.6 * total, categories
    assert all((lot.expiry - TODAY).days <= 3 * 366 for i in range(100) for lot in catalog.lots(i))
    quantities = [s.quantity for i in range(len(catalog)) for s in catalog.stock(i)]
    assert sum(q == q.to_integral_value() for q in quantities) > 0.95 * len(quantities)


def test_100k_products_iterate_lazily():
    catalog = Catalog(1, 100_000, TODAY)
    products = catalog.products()
    assert inspect.isgenerator(products), "products() must not build a list"
    count, last = 0, None
    for product in products:
        count, last = count + 1, product
    assert count == len(catalog) == 100_000
    assert last is not None and last.sku == "SKU-100000"
    assert catalog.lots(99_999) == catalog.lots(99_999)


def test_overlap_proportions_match_the_documented_defaults():
    catalog = Catalog(42, 4000, TODAY)
    report = overlap_report(catalog)
    n = report.products
    assert report.both + report.erp_only + report.atlas_only == n
    assert abs(report.erp_only / n - 0.05) < 0.015 and abs(report.atlas_only / n - 0.05) < 0.015
    listed = report.both + report.atlas_only
    shares = {fmt: count / listed for fmt, count in report.ndc_formats.items()}
    assert abs(shares["10-hyphenated"] - 0.72) < 0.04
    assert abs(shares["11-bare"] - 0.10) < 0.025 and abs(shares["11-hyphenated"] - 0.10) < 0.025
    assert abs(shares["gtin14"] - 0.05) < 0.02 and abs(shares["10-bare"] - 0.03) < 0.015
    assert report.ambiguous_ndc_products == report.ndc_formats["10-bare"] > 0
    assert report.lots_missing_on_atlas > 0 and report.lots_extra_on_atlas > 0 and report.expiry_differs > 0
    assert 0.03 < report.quantity_differs / report.atlas_rows < 0.07
    assert report.atlas_rows_in_sync > 0.8 * report.atlas_rows


def test_views_agree_with_the_report_and_with_the_catalog():
    catalog = Catalog(4, 1500, TODAY)
    report = overlap_report(catalog)
    erp = list(erp_items(catalog, "netsuite"))
    assert [e.product.index for e in erp] == [e.product.index for e in erp_items(catalog, "sap")]
    assert len(erp) == report.both + report.erp_only
    assert sum(len(e.stock) for e in erp) == report.erp_stock_rows
    erp_index = {e.product.index for e in erp}
    rows = list(atlas_rows(catalog))
    assert len(rows) == report.atlas_rows
    tags = Counter(tag for r in rows for tag in r.tags)
    assert tags["quantity_differs"] == report.quantity_differs
    assert tags["extra_lot"] == report.lots_extra_on_atlas
    atlas_index = {r.product_index for r in rows}
    assert len(atlas_index - erp_index) == report.atlas_only
    assert len(erp_index - atlas_index) == report.erp_only
    for r in rows:
        product = catalog.product(r.product_index)
        digits = r.ndc.replace("-", "")
        expected = {
            "10-hyphenated": product.ndc, "10-bare": product.ndc.replace("-", ""),
            "11-bare": ndc_to_11(product.ndc), "gtin14": product.gtin14,
        }.get(r.ndc_format)  # fmt: skip
        assert r.ndc == expected if expected else digits == ndc_to_11(product.ndc)
        assert ("atlas_only" in r.tags) == (r.product_index not in erp_index)
        erp_lots = {lot.lot: lot.expiry for lot in catalog.lots(r.product_index)}
        if r.lot_number is not None and "extra_lot" not in r.tags:
            assert (r.expiry_date != erp_lots[r.lot_number]) == ("expiry_differs" in r.tags)
        if not r.tags - {"ndc_reformatted", "ambiguous_ndc"}:
            erp_qty = {(s.location, s.lot): s.quantity for s in catalog.stock(r.product_index)}
            assert erp_qty[(r.location, r.lot_number)] == r.quantity


def test_profile_is_a_parameter_and_zero_shares_mean_a_perfect_mirror():
    catalog = Catalog(6, 400, TODAY)
    mirror = OverlapProfile(0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
    report = overlap_report(catalog, mirror)
    assert report.both == 400 and report.atlas_rows == report.erp_stock_rows == report.atlas_rows_in_sync
    assert report.ndc_formats["10-hyphenated"] == 400
    # Raising one share moves only its own category.
    more_erp_only = overlap_report(catalog, OverlapProfile(erp_only=0.5))
    assert more_erp_only.erp_only > 150 and more_erp_only.ndc_formats["gtin14"] > 0
    with pytest.raises(ConfigError):
        OverlapProfile(erp_only=0.7, atlas_only=0.5)
    with pytest.raises(ConfigError):
        next(erp_items(catalog, "oracle"))


def test_report_counts_what_the_views_hold_even_with_large_shares():
    # The report walks the catalog once on its own path: it must still count exactly what the views yield.
    catalog = Catalog(12, 1200, TODAY)
    profile = OverlapProfile(
        erp_only=0.2, atlas_only=0.2, lot_missing_on_atlas=0.4, expiry_differs=0.4, extra_lot_on_atlas=0.5,
        quantity_differs=0.5,
    )  # fmt: skip
    report = overlap_report(catalog, profile)
    erp = {e.product.index: e for e in erp_items(catalog, "sap", profile)}
    rows = list(atlas_rows(catalog, profile))
    assert report.atlas_rows == len(rows)
    assert report.erp_stock_rows == sum(len(e.stock) for e in erp.values())
    assert report.quantity_differs == sum("quantity_differs" in r.tags for r in rows) > 0.2 * len(rows)
    assert report.lots_extra_on_atlas == sum("extra_lot" in r.tags for r in rows) > 0
    assert report.atlas_rows_in_sync == sum(not r.tags - {"ndc_reformatted", "ambiguous_ndc"} for r in rows)
    shifted = {(r.product_index, r.lot_number) for r in rows if "expiry_differs" in r.tags}
    assert report.expiry_differs == len(shifted) > 0
    listed = {(r.product_index, r.lot_number) for r in rows}
    on_atlas = {r.product_index for r in rows}
    missing = {(i, lot.lot) for i, e in erp.items() if i in on_atlas for lot in e.lots}
    assert report.lots_missing_on_atlas == len(missing - listed) > 0
    for r in rows:
        if "quantity_differs" in r.tags:
            erp_qty = {(s.location, s.lot): s.quantity for s in erp[r.product_index].stock}
            assert 1 <= abs(r.quantity - erp_qty[(r.location, r.lot_number)]) <= 24


def test_each_share_moves_only_its_own_category():
    catalog = Catalog(21, 1500, TODAY)
    base = overlap_report(catalog)
    more_quantity = overlap_report(catalog, OverlapProfile(quantity_differs=0.6))
    more_expiry = overlap_report(catalog, OverlapProfile(expiry_differs=0.6))
    assert more_quantity.quantity_differs > 5 * base.quantity_differs
    assert more_expiry.expiry_differs > 5 * base.expiry_differs
    unchanged = (
        "both", "erp_only", "atlas_only", "ndc_formats", "lots_missing_on_atlas", "lots_extra_on_atlas",
    )  # fmt: skip
    for other in (more_quantity, more_expiry):
        assert {k: getattr(other, k) for k in unchanged} == {k: getattr(base, k) for k in unchanged}
    assert more_quantity.expiry_differs == base.expiry_differs
    assert more_expiry.quantity_differs == base.quantity_differs


def test_views_are_deterministic_and_today_moves_dates_only():
    a, b = Catalog(5, 600, TODAY), Catalog(5, 600, TODAY)
    assert list(atlas_rows(a)) == list(atlas_rows(b))
    assert list(erp_items(a, "netsuite")) == list(erp_items(b, "netsuite"))
    later = Catalog(5, 600, TODAY + timedelta(days=30))

    def shape(catalog: Catalog) -> list[tuple]:
        return [(r.product_index, r.ndc, r.lot_number, r.location, r.quantity, r.tags)
                for r in atlas_rows(catalog)]  # fmt: skip

    assert shape(a) == shape(later)
    assert overlap_report(Catalog(5, 300, TODAY)) == overlap_report(Catalog(5, 300, TODAY))


def test_gtin_check_digits_across_seeds_and_both_labeler_widths():
    widths = Counter()
    for seed in (1, 2, 3):
        for p in Catalog(seed, 3000, TODAY).products():
            widths[len(p.ndc.split("-")[0])] += 1
            assert p.gtin14[-1] == gs1_check_digit(p.gtin14[:-1]), p
    assert set(widths) == {4, 5}


def test_lots_of_a_product_stay_unique_and_quantities_in_range_over_a_large_catalog():
    catalog = Catalog(31, 20_000, TODAY)
    counts = Counter()
    for i in range(0, len(catalog), 3):
        lots = catalog.lots(i)
        counts[len(lots)] += 1
        assert len({lot.lot for lot in lots}) == len(lots)
        for s in catalog.stock(i):
            assert 0 <= s.quantity <= 480 and s.quantity * 2 == (s.quantity * 2).to_integral_value()
    tracked = sum(counts[n] for n in (1, 2, 3))
    assert abs(counts[1] / tracked - 0.55) < 0.03 and abs(counts[3] / tracked - 0.15) < 0.03, counts
