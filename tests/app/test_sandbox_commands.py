"""`atlas-desktop sandbox ACTION` does what the demo's Sandbox menu does, against a sandbox on sockets."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest

from atlas_desktop.cli import main
from atlas_desktop.sandbox.catalog import Catalog
from atlas_desktop.sandbox.registry import SandboxOptions, load_emulators
from atlas_desktop.sandbox.server import running_sandbox


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[dict[str, Any], dict[str, str]]]:
    options = SandboxOptions(Catalog(seed=3, size=12), seed=3, data_dir=tmp_path_factory.mktemp("sbx"))
    emulators = load_emulators(options, ["netsuite", "atlas"])
    with running_sandbox(options, emulators=emulators) as urls:
        yield {e.name: e for e in emulators}, urls


def _args(urls: dict[str, str], *rest: str) -> list[str]:
    return ["sandbox", rest[0], "--atlas", urls["atlas"], "--erp", urls["netsuite"], *rest[1:]]


def test_sell_by_name_lowers_the_row_and_says_what_to_watch(sandbox: Any, capsys: Any) -> None:
    emulators, urls = sandbox
    atlas = emulators["atlas"]
    rows = atlas.rows()
    names = [r["name"] for r in rows]
    row = next(r for r in rows if Decimal(r["quantity"]) >= 3 and names.count(r["name"]) == 1)
    assert main(_args(urls, "sell", "--item", row["name"].upper(), "--qty", "3")) == 0  # any case
    out = capsys.readouterr().out
    assert f"Sold 3 of {row['name']}" in out and "next sync" in out
    assert Decimal(atlas.row(row["id"])["quantity"]) == Decimal(row["quantity"]) - 3


def test_receive_and_expiry_change_the_erp(sandbox: Any, capsys: Any) -> None:
    emulators, urls = sandbox
    netsuite = emulators["netsuite"]
    assert main(_args(urls, "items", "--erp-side")) == 0
    listed = capsys.readouterr().out
    lot_row = netsuite.state.one(
        "SELECT n.item, n.inventorynumber, COALESCE(i.displayname, i.itemid) AS name FROM inventorynumber n"
        " JOIN item i ON i.id = n.item ORDER BY n.id LIMIT 1"
    )
    assert lot_row["name"] in listed
    before = netsuite.state.stock(lot_row["item"], None, lot_row["inventorynumber"])
    lot = ["--item", lot_row["name"], "--lot", lot_row["inventorynumber"]]
    assert main(_args(urls, "receive", *lot, "--qty", "5")) == 0
    assert netsuite.state.stock(lot_row["item"], None, lot_row["inventorynumber"]) == before + 5
    assert main(_args(urls, "expiry", *lot, "--date", "2030-01-31")) == 0
    assert "to 2030-01-31" in capsys.readouterr().out
    sql = "SELECT expirationdate FROM inventorynumber WHERE item = ? AND inventorynumber = ?"
    expiry = netsuite.state.one(sql, (lot_row["item"], lot_row["inventorynumber"]))
    assert expiry[0].startswith("2030-01-31")


def test_a_fault_and_an_unknown_item(sandbox: Any, capsys: Any) -> None:
    emulators, urls = sandbox
    assert main(_args(urls, "fault", "--status", "503", "--times", "2")) == 0
    assert [(r.status, r.times) for r in emulators["netsuite"].faults.rules][-1] == (503, 2)
    emulators["netsuite"].faults.rules.clear()
    assert main(_args(urls, "sell", "--item", "no such medicine", "--qty", "1")) == 1
    assert "no item named 'no such medicine'" in capsys.readouterr().err


def test_without_an_address_it_says_where_to_find_one(capsys: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ATLAS_SANDBOX_ATLAS_URL", raising=False)
    assert main(["sandbox", "sell", "--item", "x", "--qty", "1"]) == 2
    assert "--atlas" in capsys.readouterr().err


def test_order_places_a_marketplace_order_and_issue_lowers_erp_stock(sandbox: Any, capsys: Any) -> None:
    emulators, urls = sandbox
    atlas, netsuite = emulators["atlas"], emulators["netsuite"]
    rows = atlas.rows()
    names = [r["name"] for r in rows]
    row = next(r for r in rows if names.count(r["name"]) == 1)
    before = atlas.state.orders("confirmed", 0, 100)[0]
    assert main(_args(urls, "order", "--item", row["name"], "--qty", "7")) == 0
    assert f"Ordered 7 of {row['name']}" in capsys.readouterr().out
    after = atlas.state.orders("confirmed", 0, 100)[0]
    assert len(after) == len(before) + 1 and after[-1]["lines"][0]["quantity"] == "7"
    lot_row = netsuite.state.one(
        "SELECT n.item, n.inventorynumber, COALESCE(i.displayname, i.itemid) AS name FROM inventorynumber n"
        " JOIN item i ON i.id = n.item ORDER BY n.id DESC LIMIT 1"
    )
    held = netsuite.state.stock(lot_row["item"], None, lot_row["inventorynumber"])
    lot = ["--item", lot_row["name"], "--lot", lot_row["inventorynumber"]]
    assert main(_args(urls, "issue", *lot, "--qty", "1")) == 0
    assert "Issued 1 of" in capsys.readouterr().out
    assert netsuite.state.stock(lot_row["item"], None, lot_row["inventorynumber"]) == held - 1
