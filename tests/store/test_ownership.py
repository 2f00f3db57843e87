"""An Atlas row belongs to one connection: discovery and manual mapping refuse rows another connection
maps, and doubles made before that was checked are marked once, skipped, and released by an unmap."""

from __future__ import annotations

from decimal import Decimal

import pytest
import sqlalchemy as sa

from atlas_desktop.domain.drafts import MappingDraft
from atlas_desktop.domain.enums import MappingStatus, MatchMethod
from atlas_desktop.store.db import Store
from atlas_desktop.store.mappings import MappingRepository
from atlas_desktop.store.models import InventoryMappingRow, SyncBaseRow
from atlas_desktop.store.ownership import MappedElsewhere
from tests.store.conftest import make_connection

M, UA, UE, AMB, C = (
    MappingStatus.MATCHED,
    MappingStatus.UNMATCHED_ATLAS,
    MappingStatus.UNMATCHED_ERP,
    MappingStatus.AMBIGUOUS,
    MappingStatus.CONFLICT,
)


def pair(atlas: str, item: str) -> MappingDraft:
    return MappingDraft(
        atlas, item, "WH1", None, "00002143380", "x", "x", f"Drug {atlas}", M, MatchMethod.AUTO_NDC
    )


def only_atlas(atlas: str, status: MappingStatus = UA) -> MappingDraft:
    item = "i-suggested" if status is AMB else None
    return MappingDraft(atlas, item, None, None, None, "bad", None, f"Drug {atlas}", status, None)


@pytest.fixture
def repo(store: Store) -> MappingRepository:
    return MappingRepository(store)


@pytest.fixture
def two(store: Store) -> tuple[str, str]:
    return make_connection(store, "NetSuite main"), make_connection(store, "SAP plant 1000")


def rows(store: Store, connection_id: str) -> list[tuple[str | None, str | None, MappingStatus, str | None]]:
    with store.session() as session:
        found = session.scalars(
            sa.select(InventoryMappingRow)
            .where(InventoryMappingRow.connection_id == connection_id)
            .order_by(InventoryMappingRow.id)
        )
        return [(r.atlas_inventory_id, r.erp_item_id, r.status, r.note) for r in found]


def mapping_id(store: Store, connection_id: str, atlas_id: str) -> int:
    with store.session() as session:
        return session.scalars(
            sa.select(InventoryMappingRow.id).where(
                InventoryMappingRow.connection_id == connection_id,
                InventoryMappingRow.atlas_inventory_id == atlas_id,
            )
        ).one()


def test_discovery_leaves_out_rows_another_connection_maps_and_says_which(
    store: Store, repo: MappingRepository, two: tuple[str, str]
) -> None:
    netsuite, sap = two
    repo.apply_discovery(netsuite, [pair("a1", "ns1"), pair("a2", "ns2"), only_atlas("a3")])
    counts = repo.apply_discovery(
        sap, [pair("a1", "S1"), only_atlas("a2", AMB), pair("a3", "S3"), pair("a4", "S4")]
    )
    # a1 and a2 belong to NetSuite: left out (the ERP side of a1 stays visible, unmatched); a3 is only
    # unmatched there, so SAP may pair it.
    assert counts.mapped_elsewhere == (("NetSuite main", 2),)
    assert counts.matched == 2 and counts.unmatched_erp == 1 and counts.doubles == 0
    assert rows(store, sap) == [
        (None, "S1", UE, "its Atlas row is mapped by connection 'NetSuite main'"),
        ("a3", "S3", M, None),
        ("a4", "S4", M, None),
    ]
    assert [r[:3] for r in rows(store, netsuite)][:2] == [("a1", "ns1", M), ("a2", "ns2", M)]


def test_an_ignored_pair_elsewhere_claims_nothing(
    store: Store, repo: MappingRepository, two: tuple[str, str]
) -> None:
    netsuite, sap = two
    repo.apply_discovery(netsuite, [pair("a1", "ns1")])
    repo.set_mapping_options(mapping_id(store, netsuite, "a1"), status=MappingStatus.IGNORED)
    counts = repo.apply_discovery(sap, [pair("a1", "S1")])
    assert counts.matched == 1 and counts.mapped_elsewhere == ()


def test_manual_mapping_refuses_a_row_another_connection_maps_naming_it(
    store: Store, repo: MappingRepository, two: tuple[str, str]
) -> None:
    netsuite, sap = two
    repo.apply_discovery(netsuite, [pair("a1", "ns1")])
    repo.apply_discovery(sap, [pair("a2", "S2")])
    with pytest.raises(
        MappedElsewhere, match=r"a1 is already mapped by connection 'NetSuite main'"
    ) as caught:
        repo.map_manually(sap, "a1", "S9", "WH1", None)
    assert "unmap it in 'NetSuite main' first" in caught.value.fix
    # Nor may an ignored pair of the row be switched back on while NetSuite maps it.
    with store.session() as session:
        session.add(
            InventoryMappingRow(
                connection_id=sap, atlas_inventory_id="a1", erp_item_id="S1", erp_location_id="WH1",
                status=MappingStatus.IGNORED, match_method=MatchMethod.MANUAL,
            )
        )  # fmt: skip
    with pytest.raises(MappedElsewhere):
        repo.set_mapping_options(mapping_id(store, sap, "a1"), status=MappingStatus.MATCHED)
    repo.map_manually(sap, "a2", "S2", "WH1", None)  # its own row: fine


def make_double(store: Store, repo: MappingRepository, netsuite: str, sap: str) -> tuple[int, int]:
    """A double as an older version left it: both connections pair a1, each with its base."""
    repo.apply_discovery(netsuite, [pair("a1", "ns1"), pair("a2", "ns2")])
    repo.apply_discovery(sap, [pair("a3", "S3")])
    with store.session() as session:
        row = InventoryMappingRow(
            connection_id=sap, atlas_inventory_id="a1", erp_item_id="S1", erp_location_id="WH1",
            status=M, match_method=MatchMethod.AUTO_NDC,
        )  # fmt: skip
        session.add(row)
        session.flush()
        ns_id = mapping_id(store, netsuite, "a1")
        for mapping in (ns_id, row.id):
            session.add(SyncBaseRow(mapping_id=mapping, quantity=Decimal(10), unit="EA"))
        return ns_id, row.id


def test_a_double_is_marked_once_on_both_sides_skipped_and_released_by_an_unmap(
    store: Store, repo: MappingRepository, two: tuple[str, str]
) -> None:
    netsuite, sap = two
    ns_id, sap_id = make_double(store, repo, netsuite, sap)

    found = repo.settle_doubles(netsuite)
    assert [(d.mapping_id, d.other.connection_name, d.other.mapping_id) for d in found] == [
        (ns_id, "SAP plant 1000", sap_id)
    ]
    assert "also mapped by connection 'SAP plant 1000'" in found[0].message
    assert repo.settle_doubles(netsuite) == []  # reported once
    assert [d.mapping_id for d in repo.settle_doubles(sap)] == [sap_id]
    for cid, mid in ((netsuite, ns_id), (sap, sap_id)):
        view = repo.get(mid)
        assert view.status is C and "unmap it in one of them" in (view.note or "")
        assert [m.id for m in repo.page(cid, status=C, search=None, offset=0, limit=10)] == [mid]
        assert mid not in {row.mapping_id for row in repo.merge_inputs(cid)}  # neither side syncs it

    # Rediscovery keeps the double (and its note), so the mark can be lifted when it is over.
    repo.apply_discovery(sap, [pair("a1", "S1"), pair("a3", "S3")])
    assert repo.get(sap_id).status is C and repo.get(sap_id).note

    with store.session() as session:
        session.execute(
            sa.update(SyncBaseRow).values(updated_at=sa.text("'2000-01-01T00:00:00.000000+00:00'"))
        )
    repo.unmap(sap, sap_id)
    released = repo.get(ns_id)
    assert (released.status, released.note, released.base_quantity) == (M, None, Decimal(10))
    assert ns_id in {row.mapping_id for row in repo.merge_inputs(netsuite)}
    # Its base is touched, so the next incremental run merges the key (a sale made meanwhile goes across).
    with store.session() as session:
        touched = session.get(SyncBaseRow, ns_id)
        assert touched is not None and touched.updated_at.year > 2000
    assert repo.settle_doubles(netsuite) == [] and repo.get(ns_id).status is M


def test_a_run_lifts_the_mark_when_the_other_side_stopped_mapping_the_row(
    store: Store, repo: MappingRepository, two: tuple[str, str]
) -> None:
    netsuite, sap = two
    ns_id, sap_id = make_double(store, repo, netsuite, sap)
    repo.settle_doubles(netsuite)
    repo.set_mapping_options(sap_id, status=MappingStatus.IGNORED)  # resolved on the SAP side
    assert repo.settle_doubles(netsuite) == []
    assert repo.get(ns_id).status is M


def test_discovery_reports_doubles_from_before(
    store: Store, repo: MappingRepository, two: tuple[str, str]
) -> None:
    netsuite, sap = two
    _, sap_id = make_double(store, repo, netsuite, sap)
    counts = repo.apply_discovery(sap, [pair("a1", "S1"), pair("a3", "S3")])
    assert counts.doubles == 1 and [d.mapping_id for d in counts.new_doubles] == [sap_id]
    again = repo.apply_discovery(sap, [pair("a1", "S1"), pair("a3", "S3")])
    assert again.doubles == 1 and again.new_doubles == ()
