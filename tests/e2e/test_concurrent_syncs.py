"""Three real `atlas-desktop sync` processes of one connection started 50 ms apart, round after round.

Only one runs at a time; the others wait their turn or answer "already running" (exit 5) — never a
traceback, never SQL. The runs' logged intervals never overlap, and with sales on Atlas and stock moves
in the ERP between rounds both sides end at base + every delta: a sale applied twice by two overlapping
runs (or lost) breaks that equality.
"""

from __future__ import annotations

import json
import random
import sqlite3
import subprocess
import sys
import time
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from atlas_desktop.domain.model import StockChange
from atlas_desktop.engine.factory import build_erp_connector
from tests.torture.sockets import (
    ROOT,
    Sides,
    cli_env,
    key_of,
    matched,
    sandbox_process,
    setup_profile,
    sync_json,
)

pytestmark = [pytest.mark.e2e]

EXIT_OK, EXIT_ALREADY_RUNNING = 0, 5
PROCESSES = 3
STAGGER_S = 0.05


def start_syncs(home: Path, connection_id: str) -> list[subprocess.Popen[str]]:
    """The first two wait their turn (the default), the last one will not wait at all."""
    processes = []
    for n in range(PROCESSES):
        wait = ["--wait", "0"] if n == PROCESSES - 1 else []
        processes.append(subprocess.Popen(
            [sys.executable, "-m", "atlas_desktop", "sync", connection_id, "--yes", "--json", *wait],
            env=cli_env(home), cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        ))  # fmt: skip
        time.sleep(STAGGER_S)
    return processes


def check_outcomes(processes: list[subprocess.Popen[str]]) -> list[dict[str, Any]]:
    """Every process ran its sync (0) or stood aside (5), and said so in one JSON object."""
    results = []
    for process in processes:
        out, err = process.communicate(timeout=120)
        text = out + err
        assert "Traceback" not in text, err
        assert "SELECT" not in text and "INSERT" not in text and "UPDATE" not in text, text
        assert process.returncode in (EXIT_OK, EXIT_ALREADY_RUNNING), (process.returncode, out, err)
        result = json.loads(out.strip().splitlines()[-1])
        if process.returncode == EXIT_ALREADY_RUNNING:
            assert result["status"] == "already_running" and isinstance(result["pid"], int), result
        else:
            assert result["status"] == "success", result
        results.append(result)
    return results


def overlapping_runs(home: Path, connection_id: str) -> list[tuple[str, str]]:
    """Pairs of logged runs of the connection whose start-to-end intervals overlap (read-only look)."""
    database = sqlite3.connect(f"file:{home / 'atlas.db'}?mode=ro", uri=True)
    try:
        rows = database.execute(
            "SELECT started_at, completed_at FROM erp_sync_logs WHERE connection_id = ? ORDER BY started_at",
            (connection_id,),
        ).fetchall()
    finally:
        database.close()
    assert all(end is not None for _, end in rows), "a run was left running"
    spans = [(datetime.fromisoformat(start), datetime.fromisoformat(end)) for start, end in rows]
    return [(str(a[0]), str(b[0])) for a, b in zip(spans, spans[1:], strict=False) if b[0] < a[1]]


async def rounds_of_concurrent_syncs(
    tmp_path: Path, erp: str, *, rounds: int, moves: int, items: int = 60
) -> dict[str, int]:
    rng = random.Random(18)
    with sandbox_process(tmp_path, items=items) as sandbox:
        home = tmp_path / "home"
        connection_id = setup_profile(home, sandbox, erp)
        assert sync_json(home, connection_id)["status"] == "success"
        sides = Sides(sandbox, erp)
        connector = build_erp_connector(sides.spec)
        try:
            levels = await sides.erp_levels()
            mappings = [m for m in matched(home, connection_id) if levels[key_of(m)].quantity >= 2 * rounds]
            expected = {m["id"]: levels[key_of(m)].quantity for m in mappings}
            counts = {"ran": 0, "stood_aside": 0}
            for round_no in range(rounds):
                for n, mapping in enumerate(rng.sample(mappings, min(moves, len(mappings)))):
                    if n % 2:  # a sale on the marketplace
                        sides.atlas_sell(mapping["atlas_inventory_id"], Decimal(1))
                        expected[mapping["id"]] -= 1
                    else:  # a receipt in the warehouse, through the ERP's own API
                        change = StockChange(key_of(mapping), Decimal(2), levels[key_of(mapping)].unit,
                                             memo="warehouse count")  # fmt: skip
                        await connector.adjust_stock(change, f"user-{round_no}-{n}")
                        expected[mapping["id"]] += 2
                for result in check_outcomes(start_syncs(home, connection_id)):
                    counts["ran" if result["status"] == "success" else "stood_aside"] += 1
            for _ in range(3):  # a last run alone carries whatever the stood-aside ones left
                final = sync_json(home, connection_id)
                if final["status"] == "success" and not final["in_doubt"]:
                    break
            assert final["status"] == "success", final
            assert not overlapping_runs(home, connection_id)
            after = await sides.erp_levels()
            wrong = {}  # mapping id -> (want, Atlas, ERP): a delta applied twice, or lost
            for mapping in mappings:
                want = expected[mapping["id"]]
                got = (sides.atlas_qty(mapping["atlas_inventory_id"]), after[key_of(mapping)].quantity)
                if got != (want, want):
                    wrong[mapping["id"]] = (want, *got)
            assert not wrong, f"{len(wrong)} of {len(mappings)} rows off base + deltas: {wrong}"
            return counts
        finally:
            await connector.aclose()
            sides.close()


async def test_concurrent_sync_processes_post_once(tmp_path: Path) -> None:
    counts = await rounds_of_concurrent_syncs(tmp_path, "netsuite", rounds=3, moves=12)
    assert counts["ran"] >= 3, counts


@pytest.mark.slow
@pytest.mark.timeout(1800)
@pytest.mark.parametrize("erp", ["netsuite", "sap-onprem"])
async def test_many_rounds_of_concurrent_sync_processes(tmp_path: Path, erp: str) -> None:
    # A thousand-item catalog: runs long enough to overlap, as in the report (2,019 rows, 400 moved a round).
    counts = await rounds_of_concurrent_syncs(tmp_path, erp, rounds=10, moves=400, items=1000)
    assert counts["ran"] >= 10, counts
