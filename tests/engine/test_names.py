"""The product master's name rule: carry an ERP rename, never a first sight, never a cut name."""

from __future__ import annotations

import logging

import pytest

from atlas_desktop.domain.model import ErpType
from atlas_desktop.engine.names import is_cut_of, plan_names
from atlas_desktop.store.product_names import ProductMasterDiff

LONG = "Amoxicillin 400 mg/5 mL powder for oral suspension, 150 mL bottle"
SAP_CUT = LONG[:40]  # 'Amoxicillin 400 mg/5 mL powder for oral ' — SAP keeps 40 characters


def diff(atlas: str, erp: str, seen: str | None, mapping_id: int = 1) -> ProductMasterDiff:
    return ProductMasterDiff(
        mapping_id, f"inv-{mapping_id}", 3, atlas, erp, key_scope="scope", erp_name_seen=seen
    )


def test_a_cut_is_a_cut_whatever_the_whitespace_or_case() -> None:
    assert SAP_CUT.endswith(" ") and is_cut_of(SAP_CUT, LONG)
    assert is_cut_of("AMOXICILLIN 400 MG/5 ML  POWDER", LONG)
    assert not is_cut_of(LONG, LONG) and not is_cut_of("", LONG)
    assert not is_cut_of("Amoxil 400 mg/5 mL powder", LONG)


@pytest.mark.parametrize(
    ("atlas", "erp", "seen"),
    [
        (LONG, SAP_CUT, None),  # first sight: the ERP's name becomes the base, no write
        ("Atlas's own listing name", "ERP name", "ERP name"),  # not renamed in the ERP: Atlas keeps its own
        (LONG, SAP_CUT, "Amoxicillin 250 mg/5 mL powder for oral"),  # renamed to a cut of the Atlas name
        (LONG, LONG[:25], LONG),  # NetSuite too: a shorter start of the Atlas name loses the pack size
        ("Renamed 10 mg tablet", "renamed 10 mg  tablet ", "Old name"),  # Atlas already shows it
    ],
)
def test_nothing_is_written_unless_the_erp_renamed_the_item(atlas: str, erp: str, seen: str | None) -> None:
    plan = plan_names([diff(atlas, erp, seen)], ErpType.SAP_CLOUD)
    assert plan.carry == [] and plan.seen == [(1, erp)]


def test_an_erp_rename_is_carried_and_becomes_the_base_once_atlas_shows_it() -> None:
    renamed = "Amoxil 400 mg/5 mL oral susp, 150 mL "
    plan = plan_names([diff(LONG, renamed, SAP_CUT)], ErpType.SAP_CLOUD)
    assert [d.erp_name for d in plan.carry] == [renamed.strip()] and plan.seen == []
    # Next run the Atlas mirror shows the name written: remembered, nothing written again.
    again = plan_names([diff(renamed.strip(), renamed, SAP_CUT)], ErpType.SAP_CLOUD)
    assert again.carry == [] and again.seen == [(1, renamed)]


def test_a_sap_name_filling_the_field_never_replaces_a_longer_atlas_name(
    caplog: pytest.LogCaptureFixture,
) -> None:
    full = "Amoxil 400 mg/5 mL powder for oral suspe"  # 40 characters: may be cut by the field
    assert len(full) == 40
    with caplog.at_level(logging.WARNING):
        plan = plan_names([diff(LONG, full, SAP_CUT)], ErpType.SAP_CLOUD)
    assert plan.carry == [] and plan.seen == [(1, full)]
    assert "not carried over the longer Atlas name" in caplog.text
    # NetSuite keeps longer names: a 40-character rename there is carried.
    assert len(plan_names([diff(LONG, full, "Old")], ErpType.NETSUITE).carry) == 1


def test_two_connections_mapping_one_row_do_not_rewrite_its_name_back_and_forth() -> None:
    """NetSuite holds the full name, SAP the cut one: against their own bases neither has a change."""
    netsuite_seen, sap_seen = LONG, SAP_CUT
    atlas = LONG
    for _ in range(5):
        netsuite = plan_names([diff(atlas, LONG, netsuite_seen)], ErpType.NETSUITE)
        sap = plan_names([diff(atlas, SAP_CUT, sap_seen)], ErpType.SAP_CLOUD)
        assert netsuite.carry == [] and sap.carry == []
    # Even from bases an older version left behind (each ERP saw the other's write), nothing flips.
    sap = plan_names([diff(LONG, SAP_CUT, LONG)], ErpType.SAP_CLOUD)
    netsuite = plan_names([diff(SAP_CUT, LONG, SAP_CUT)], ErpType.NETSUITE)
    assert sap.carry == []
    assert [d.erp_name for d in netsuite.carry] == [LONG]  # the longer name is restored, once
