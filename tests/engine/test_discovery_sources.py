"""Discovery over scratch tables, a chunk of Atlas rows at a time, drafts what it drafts in memory.

Both sources read the same mirrors; catalogs are generated with the cases the pairing rules tell apart.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from atlas_desktop.domain.drafts import MappingDraft
from atlas_desktop.domain.enums import MappingStatus
from atlas_desktop.domain.model import AtlasInventoryRow, ErpType, Location, Product, StockKey, StockLevel
from atlas_desktop.domain.ndc import parse_ndc
from atlas_desktop.engine.discovery import LocationResolver, unambiguous_key
from atlas_desktop.engine.discovery_source import discover_in_memory, discover_in_scratch
from atlas_desktop.store.db import Store
from atlas_desktop.store.discovery_scratch import DiscoveryScratches
from atlas_desktop.store.mirrors import MirrorRepository
from atlas_desktop.store.models import ConnectionRow

NOW = datetime(2026, 12, 1, tzinfo=UTC)
BASES = ("0071-0155-23", "54321-123-45", "54321-123-46", "1234-5678-90")
# 11 digits whose 10-digit form is unsure, and a bare 10-digit text that is one reading of them
UNSURE = ("01234056789", "1234056789")


def _forms(ndc: str) -> list[str]:
    """One NDC as ERPs and Atlas spell it: hyphenated, 11 digits, bare 10 digits (ambiguous), GTIN."""
    parsed = parse_ndc(ndc)
    assert parsed.eleven and parsed.ten
    return [ndc, parsed.eleven, parsed.ten.replace("-", ""), parsed.to_gtin14()]


NDC_TEXTS = [form for base in BASES for form in _forms(base)] + [*UNSURE, "not an ndc", "", " 0071-0155-23 "]
ITEMS = [f"I{n}" for n in range(6)]  # I4 and I5 never have master data: stock without a product
LOTS = ["A1", "a1", " A1 ", "B2", None]
ERP_LOCATIONS = ["L1", "L2"]
ATLAS_LOCATIONS = ["L1", "l2", "MAIN", "", None, "NOWHERE"]
RESOLVER = LocationResolver([Location("L1", "Main", "MAIN"), Location("L2", "Back", "BACK")])

products = st.lists(
    st.builds(
        lambda item, ndc, case: Product(
            item, f"SKU-{item}", f"Name {item}", "EA", ndc_text=ndc,
            attributes={"ndc:CS": case, "per:CS": "12"} if case else {},
        ),
        st.sampled_from(ITEMS[:4]),
        st.sampled_from([*NDC_TEXTS, None]),
        st.one_of(st.none(), st.sampled_from(NDC_TEXTS[:12])),
    ),
    max_size=6,
    unique_by=lambda product: product.erp_item_id,
)  # fmt: skip
stock = st.lists(
    st.builds(
        lambda item, location, lot: StockLevel(StockKey(item, location, lot), Decimal(1), "EA"),
        st.sampled_from(ITEMS),
        st.sampled_from(ERP_LOCATIONS),
        st.sampled_from(LOTS),
    ),
    max_size=12,
)
atlas = st.lists(
    st.builds(
        lambda ndc, lot, location: (ndc, lot, location),
        st.sampled_from(NDC_TEXTS),
        st.sampled_from(LOTS),
        st.sampled_from(ATLAS_LOCATIONS),
    ),
    max_size=14,
)


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    opened = Store.open(Path(tmp_path_factory.mktemp("sources")) / "atlas.db")
    yield opened
    opened.close()


def _seed(
    store: Store,
    catalog: list[Product],
    levels: list[StockLevel],
    rows: list[tuple[str, str | None, str | None]],
) -> str:
    with store.session() as session:
        connection = ConnectionRow(erp_type=ErpType.NETSUITE, connection_name="sources")
        session.add(connection)
        session.flush()
        connection_id = connection.id
    mirrors = MirrorRepository(store)
    mirrors.upsert_erp_products(connection_id, catalog, unambiguous_key)
    mirrors.upsert_erp_stock(connection_id, levels)
    listing = [
        AtlasInventoryRow(f"r{n:02d}", ndc, f"Row {n}" if n % 3 else "", Decimal(1), "EA", 1, NOW, lot=lot,
                          location=location)
        for n, (ndc, lot, location) in enumerate(rows)
    ]  # fmt: skip
    mirrors.upsert_atlas_rows(connection_id, listing, unambiguous_key)
    return connection_id


def _both(store: Store, connection_id: str, chunk: int) -> tuple[list[MappingDraft], list[MappingDraft]]:
    held = list(discover_in_memory(MirrorRepository(store), connection_id, RESOLVER))
    with discover_in_scratch(DiscoveryScratches(store), connection_id, RESOLVER, chunk) as drafts:
        scratched = list(drafts)
    return held, scratched


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(products, stock, atlas, st.sampled_from([1, 3, 2000]))
def test_scratch_tables_draft_what_the_erp_side_in_memory_drafts(
    store: Store,
    catalog: list[Product],
    levels: list[StockLevel],
    rows: list[tuple[str, str | None, str | None]],
    chunk: int,
) -> None:
    connection_id = _seed(store, catalog, levels, rows)
    held, scratched = _both(store, connection_id, chunk)
    assert scratched == held  # the same drafts, in the same order


def test_the_generated_cases_are_the_ones_the_rules_tell_apart(store: Store) -> None:
    """A fixed catalog that has each case at least once, so the comparison above is not of empty runs."""
    case = _forms("54321-123-46")[2]
    catalog = [
        Product("I0", "S0", "Each", "EA", ndc_text="0071-0155-23"),
        Product("I1", "S1", "Twin", "EA", ndc_text="00071015523"),  # the same NDC as I0: duplicates
        Product("I2", "S2", "Cased", "EA", ndc_text=parse_ndc("54321-123-45").to_gtin14(),
                attributes={"ndc:CS": case, "per:CS": "12"}),
        Product("I3", "S3", "Plain", "EA", ndc_text="1234-5678-90"),
        Product("I6", "S6", "Unsure", "EA", ndc_text=UNSURE[0]),
    ]  # fmt: skip
    levels = [
        StockLevel(StockKey("I2", "L1", "a1 "), Decimal(1), "EA"),
        StockLevel(StockKey("I3", "L1", None), Decimal(1), "EA"),
        StockLevel(StockKey("I3", "L2", None), Decimal(1), "EA"),
        StockLevel(StockKey("I5", "L1", "X"), Decimal(1), "EA"),  # no master data
    ]
    rows: list[tuple[str, str | None, str | None]] = [
        ("0071-0155-23", None, "MAIN"),  # two products share it
        ("54321-123-46", "A1", ""),  # the case's NDC, lot spelled otherwise, the item's only location
        ("54321-123-46", "A1", "MAIN"),  # the same position again: a duplicate
        ("1234-5678-90", None, ""),  # blank location, item at two locations
        ("1234-5678-90", "Z9", "MAIN"),  # not in the ERP
        ("1234-5678-90", "z9", "MAIN"),  # the same missing position again
        (UNSURE[1], None, "BACK"),  # bare ten digits: one reading of I6's NDC
        ("not an ndc", None, "MAIN"),
    ]
    connection_id = _seed(store, catalog, levels, rows)
    held, scratched = _both(store, connection_id, chunk=2)
    assert scratched == held
    notes = [d.note or "" for d in held]
    assert {d.status for d in held} == set(MappingStatus) - {MappingStatus.CONFLICT, MappingStatus.IGNORED}
    for expected in ("2 ERP items", "1 CS = 12", "duplicate", "has no ERP location", "not in the ERP",
                     "read several ways", "not usable", "master data was not read"):  # fmt: skip
        assert any(expected in note for note in notes), expected
    duplicates = [d for d in held if "duplicate" in (d.note or "")]
    assert len(duplicates) == 2  # the case's position, and the missing lot asked for twice


def test_a_discovery_that_fails_midway_leaves_no_scratch_behind(store: Store) -> None:
    catalog = [Product("I0", "S0", "Each", "EA", ndc_text="0071-0155-23")]
    levels = [StockLevel(StockKey("I0", "L1", "A1"), Decimal(1), "EA")]
    rows: list[tuple[str, str | None, str | None]] = [("0071-0155-23", "A1", "MAIN")] * 3
    connection_id = _seed(store, catalog, levels, rows)
    scratches = DiscoveryScratches(store)
    with pytest.raises(RuntimeError), discover_in_scratch(scratches, connection_id, RESOLVER, 1) as drafts:
        next(drafts)  # the first row claims the position
        raise RuntimeError("the writes failed")
    assert _temp_tables(store) == []
    held, scratched = _both(store, connection_id, chunk=1)
    assert scratched == held
    assert [d.status for d in scratched].count(MappingStatus.MATCHED) == 1
    assert _temp_tables(store) == []  # dropped after a discovery that succeeded too


def _temp_tables(store: Store) -> list[str]:
    """The TEMP tables on the pooled connection (one here: these tests never hold two sessions at once)."""
    assert store.engine.pool.checkedin() == 1  # type: ignore[attr-defined]
    with store.session() as session:
        return [
            name for (name,) in session.connection().exec_driver_sql("SELECT name FROM sqlite_temp_master")
        ]
