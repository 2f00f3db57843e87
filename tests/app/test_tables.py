"""CLI tables: a header, aligned columns, "-" for nothing; and `conflicts list` printing one."""

from __future__ import annotations

import argparse
import asyncio
from types import SimpleNamespace

from atlas_desktop.app import sync_commands
from atlas_desktop.app.tables import table


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
