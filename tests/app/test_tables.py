"""CLI tables: a header, aligned columns, "-" for nothing; `conflicts list` printing one; the preview."""

from __future__ import annotations

import argparse
import asyncio
from types import SimpleNamespace

import pytest

from atlas_desktop.app import sync_commands
from atlas_desktop.app.tables import table
from atlas_desktop.domain.enums import MappingStatus, SyncType
from atlas_desktop.engine.api import RunStatus, RunSummary, SyncPlan
from atlas_desktop.engine.changes import ChangeKind


def test_columns_line_up_under_their_headers_without_trailing_spaces() -> None:
    lines = table(["ID", "NAME", "WHERE"], [["a1", "Main NetSuite", "1234567_SB1"], ["b22", None, ""]])
    assert lines == [
        "ID   NAME           WHERE",
        "a1   Main NetSuite  1234567_SB1",
        "b22  -              ",
    ]
    assert table(["ID", "NAME"], []) == ["ID  NAME"]


def test_conflicts_list_prints_a_header_then_one_row_per_conflict(monkeypatch, capsys) -> None:
    conflict = SimpleNamespace(id=7, mapping_id=3, field="expiry", base_value="2027-01-31",
                               atlas_value="2027-03-31", erp_value=None)  # fmt: skip

    async def db(function, *args):
        return function(*args)

    conflicts = SimpleNamespace(open_conflicts=lambda connection_id: [conflict])
    engine = SimpleNamespace(db=db, repos=SimpleNamespace(conflicts=conflicts))
    monkeypatch.setattr(sync_commands, "_with_engine", lambda services, work, **kw: asyncio.run(work(engine)))
    args = argparse.Namespace(action="list", id="conn-1", json=False)
    assert sync_commands.run_conflicts(args, services=None) == 0  # type: ignore[arg-type]
    header, row = capsys.readouterr().out.splitlines()
    assert header.split() == ["ID", "MAPPING", "FIELD", "BASE", "ATLAS", "ERP"]
    assert row.split() == ["7", "3", "expiry", "2027-01-31", "2027-03-31", "-"]  # values whole, not cut


def test_the_cli_preview_lists_every_kind_the_run_will_carry_out(capsys: pytest.CaptureFixture[str]) -> None:
    kinds = {kind.value: 0 for kind in ChangeKind}
    kinds.update({"quantity_to_atlas": 42, "purchase_order": 3, "already_same": 1250})
    plan = SyncPlan(42, 0, 0, 0, 1250, reason="first sync", kinds=kinds)
    summary = RunSummary(1, "conn-1", SyncType.MANUAL, RunStatus.PREVIEW, plan=plan)
    sync_commands._print_summary(summary)
    out = capsys.readouterr().out
    assert "Quantity updates on Atlas (ERP → Atlas): 42" in out
    assert "Purchase orders entered in the ERP: 3" in out and "Already the same: 1,250" in out
    assert "New listings" not in out and "in the ERP (Atlas → ERP)" not in out


def test_mappings_list_prints_a_header_ndcs_as_people_read_them_and_says_when_empty(
    monkeypatch, capsys
) -> None:
    row = SimpleNamespace(id=12, status=MappingStatus.AMBIGUOUS, ndc_key="00093715301",
                          atlas_inventory_id="inv_9", erp_item_id="399", erp_location_id="1", lot=None,
                          item_name="Amoxicillin 500 mg", note="two ERP items")  # fmt: skip
    found: list[object] = [row]

    async def db(function, *args, **kwargs):
        return function(*args, **kwargs)

    mappings = SimpleNamespace(page=lambda *args, **kwargs: found)
    engine = SimpleNamespace(db=db, repos=SimpleNamespace(mappings=mappings))
    monkeypatch.setattr(sync_commands, "_with_engine", lambda services, work, **kw: asyncio.run(work(engine)))
    args = argparse.Namespace(action="list", id="conn-1", json=False, status=None, search=None, limit=100)
    assert sync_commands.run_mappings(args, services=None) == 0  # type: ignore[arg-type]
    header, line = capsys.readouterr().out.splitlines()
    assert header.split() == ["ID", "STATUS", "NDC", "ATLAS", "ERP", "ITEM", "LOCATION", "LOT", "NAME"]
    assert line.split()[:7] == ["12", "ambiguous", "00093-7153-01", "inv_9", "399", "1", "-"]
    assert line.endswith("Amoxicillin 500 mg  (two ERP items)")
    found.clear()
    assert sync_commands.run_mappings(args, services=None) == 0  # type: ignore[arg-type]
    assert (
        capsys.readouterr().out
        == "no mappings yet: find them with `atlas-desktop mappings discover conn-1`\n"
    )


def test_the_cli_summary_counts_in_words(capsys: pytest.CaptureFixture[str]) -> None:
    plan = SyncPlan(1, 0, 1, 0, 1, reason="first sync", kinds={})  # a plan without counts per kind
    summary = RunSummary(1, "conn-1", SyncType.MANUAL, RunStatus.PREVIEW, conflicts_opened=1, plan=plan)
    sync_commands._print_summary(summary)
    out = capsys.readouterr().out
    assert "1 conflict, " in out and "1 conflicts" not in out
    assert "1 change to write to Atlas" in out and "1 conflict to resolve, 1 item already in step" in out


def test_audit_verify_counts_entries_in_words(capsys: pytest.CaptureFixture[str]) -> None:
    from atlas_desktop.app.audit_commands import audit_verify
    from atlas_desktop.store.audit_chain import AuditReport

    services = SimpleNamespace(audit=SimpleNamespace(verify=lambda: AuditReport(True, 1, 1, 1)))
    assert audit_verify(argparse.Namespace(), services) == 0  # type: ignore[arg-type]
    assert capsys.readouterr().out == "audit log intact: 1 entry verified (entries 1 to 1)\n"
