"""A power cut mid-push: a real `atlas-desktop sync` process killed with SIGKILL while its writes are on
the wire, and its database's write-ahead log deleted before the next run.

Deleting `atlas.db-wal` (and `-shm`) takes every commit that had not yet reached the database file, as
a power cut takes what the disk had not yet made durable. Writes that landed on a remote stay there.
Round after round, with sales on Atlas and stock moves on the ERP (some rows on both), both sides must
end at start + every delta: a write sent again under a new key would count a sale twice.

The sandbox holds each write's answer back (`delay` fault rule), so the process is found, and killed,
with writes applied on the remote whose answers it has not seen.
"""

from __future__ import annotations

import random
import re
import subprocess
import sys
import time
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from atlas_desktop.domain.model import StockChange, StockKey
from atlas_desktop.engine.factory import build_erp_connector
from tests.torture.sockets import (
    ROOT,
    Sandbox,
    Sides,
    cli_env,
    key_of,
    matched,
    sandbox_process,
    setup_profile,
    sync_json,
)  # fmt: skip

pytestmark = [pytest.mark.e2e]

# The write routes of each system, as regular expressions over the request path.
WRITE_ROUTES = {
    "atlas": r"/api/v1/inventory/[^/]+/adjustments$|/api/v1/inventory/batch$",
    "netsuite": r"/record/v1/inventoryAdjustment$",
    "sap-onprem": r"/A_MaterialDocumentHeader$|/API_MATERIAL_DOCUMENT_SRV/\$batch$",
}
ANSWER_DELAY_S = 0.4  # each write is applied at once, its answer leaves this much later


@dataclass
class Round:
    """One round's changes on both sides and what the totals must become."""

    sales: dict[str, Decimal] = field(default_factory=dict)  # Atlas row id -> quantity sold
    moves: dict[StockKey, Decimal] = field(default_factory=dict)  # ERP key -> quantity received


class Remotes:
    """The sandbox's fault rules and request counters of the two systems a connection writes to."""

    def __init__(self, sandbox: Sandbox, erp: str) -> None:
        self.urls = {"atlas": sandbox.urls["atlas"], erp: sandbox.urls[erp]}
        self.client = httpx.Client(timeout=30)

    def close(self) -> None:
        self.client.close()

    def hold_answers(self, delay_s: float) -> None:
        for name, url in self.urls.items():
            rule = {"kind": "delay", "path": WRITE_ROUTES[name], "method": "POST", "delay_s": delay_s}
            self.client.put(f"{url}/_sandbox/faults", json={"rules": [rule]}).raise_for_status()

    def answer_at_once(self) -> None:
        for url in self.urls.values():
            self.client.put(f"{url}/_sandbox/faults", json={"rules": []}).raise_for_status()

    def writes_received(self) -> int:
        total = 0
        for name, url in self.urls.items():
            routes = self.client.get(f"{url}/_sandbox/stats").raise_for_status().json()["by_route"]
            pattern = re.compile(WRITE_ROUTES[name])
            for route, count in routes.items():
                method, _, path = route.partition(" ")
                if method == "POST" and pattern.search(path):
                    total += count
        return total


def database_files(home: Path) -> list[Path]:
    return [home / "atlas.db-wal", home / "atlas.db-shm"]


def power_cut(process: subprocess.Popen[bytes], home: Path) -> None:
    """SIGKILL, then lose what only the write-ahead log held."""
    process.kill()
    process.wait(10)
    for path in database_files(home):
        path.unlink(missing_ok=True)


async def erp_moves(spec: Any, moves: dict[StockKey, Decimal], units: dict[StockKey, str], tag: str) -> None:
    """ERP users' own adjustments, through the ERP's API (their own keys), one connector for all."""
    connector = build_erp_connector(spec)
    try:
        for n, (key, delta) in enumerate(moves.items()):
            change = StockChange(key, delta, units[key], memo="warehouse count")
            await connector.adjust_stock(change, f"user-{tag}-{n}")
    finally:
        await connector.aclose()


def sync_until_killed(home: Path, connection_id: str, remotes: Remotes, rng: random.Random) -> bool:
    """Start a sync and cut the power once some of its writes reached the remotes. False: it finished
    before (nothing was cut)."""
    before = remotes.writes_received()
    # Writes go in batches now (one Atlas batch, a few ERP documents a sync): cut after the first or second.
    target = rng.randint(1, 2)
    process = subprocess.Popen(
        [sys.executable, "-m", "atlas_desktop", "sync", connection_id, "--yes"],
        env=cli_env(home), cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    deadline = time.monotonic() + 90
    while process.poll() is None and time.monotonic() < deadline:
        if remotes.writes_received() - before >= target:
            # Answers are held back: the process is waiting for them, between two commits of its push.
            time.sleep(rng.uniform(0.0, ANSWER_DELAY_S / 2))
            power_cut(process, home)
            return True
        time.sleep(0.02)
    if process.poll() is None:
        power_cut(process, home)
        raise AssertionError("the sync neither wrote nor finished within 90 s")
    return False


def settle(home: Path, connection_id: str) -> dict[str, Any]:
    """Runs until one succeeds with nothing in doubt (not until nothing changes: a run that undoes a
    double post would hide it)."""
    final: dict[str, Any] = {}
    for _ in range(3):
        final = sync_json(home, connection_id)
        if final["status"] == "success" and not final["in_doubt"]:
            break
    return final


async def power_cuts_mid_push(tmp_path: Path, erp: str, *, rounds: int, rows: int, seed: int) -> None:
    rng = random.Random(seed)
    with sandbox_process(tmp_path, items=60) as sandbox:
        home = tmp_path / "home"
        connection_id = setup_profile(home, sandbox, erp)
        assert sync_json(home, connection_id)["status"] == "success"
        sides, remotes = Sides(sandbox, erp), Remotes(sandbox, erp)
        try:
            levels = await sides.erp_levels()
            mappings = [m for m in matched(home, connection_id) if levels[key_of(m)].quantity >= 20]
            assert len(mappings) >= rows, f"only {len(mappings)} mapped rows with stock to sell"
            units = {key_of(m): levels[key_of(m)].unit for m in mappings}
            expected = {m["id"]: levels[key_of(m)].quantity for m in mappings}
            cuts = 0
            for number in range(rounds):
                chosen = rng.sample(mappings, rows)
                moves: dict[StockKey, Decimal] = {}
                for n, mapping in enumerate(chosen):
                    # A third sold on Atlas, a third received in the ERP, a third both (a two-sided merge).
                    if n % 3 != 1:
                        sides.atlas_sell(mapping["atlas_inventory_id"], Decimal(1))
                        expected[mapping["id"]] -= 1
                    if n % 3 != 0:
                        moves[key_of(mapping)] = Decimal(2)
                        expected[mapping["id"]] += 2
                await erp_moves(sides.spec, moves, units, f"{seed}-{number}")
                remotes.hold_answers(ANSWER_DELAY_S)
                try:
                    cuts += sync_until_killed(home, connection_id, remotes, rng)
                finally:
                    remotes.answer_at_once()
            assert cuts >= rounds // 2, f"only {cuts} of {rounds} syncs were cut mid-push"
            final = settle(home, connection_id)
            assert final["status"] == "success", final
            after = await sides.erp_levels()
            wrong = []
            for mapping in mappings:
                want = expected[mapping["id"]]
                atlas = sides.atlas_qty(mapping["atlas_inventory_id"])
                erp_qty = after[key_of(mapping)].quantity
                if atlas != want or erp_qty != want:
                    wrong.append((mapping["id"], str(want), str(atlas), str(erp_qty)))
            assert not wrong, f"{len(wrong)} of {len(mappings)} rows (id, want, atlas, erp): {wrong}"
        finally:
            sides.close()
            remotes.close()


@pytest.mark.parametrize("erp", ["netsuite", "sap-onprem"])
async def test_power_cuts_mid_push_post_nothing_twice(tmp_path: Path, erp: str) -> None:
    await power_cuts_mid_push(tmp_path, erp, rounds=4, rows=18, seed=7)


@pytest.mark.slow
@pytest.mark.parametrize("erp", ["netsuite", "sap-onprem"])
async def test_many_power_cuts_mid_push_post_nothing_twice(tmp_path: Path, erp: str) -> None:
    await power_cuts_mid_push(tmp_path, erp, rounds=15, rows=36, seed=11)
