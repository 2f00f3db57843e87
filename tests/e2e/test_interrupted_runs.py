"""A sync process killed mid-run leaves its run "running"; the next run, holding the run lock (so no
live process can own that row), closes it as interrupted."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from atlas_desktop.store.runs import INTERRUPTED_MESSAGE
from tests.torture.sockets import ROOT, cli_env, sandbox_process, setup_profile, sync_json

pytestmark = [pytest.mark.e2e]


def runs(home: Path) -> list[tuple[Any, ...]]:
    database = sqlite3.connect(f"file:{home / 'atlas.db'}?mode=ro", uri=True)
    try:
        return database.execute(
            "SELECT id, status, error_message, completed_at FROM erp_sync_logs ORDER BY id"
        ).fetchall()
    finally:
        database.close()


def kill_mid_run(home: Path, connection_id: str) -> int:
    """SIGKILL a `sync` process as soon as its run is logged as running; the id of that run."""
    for _ in range(5):
        before = {row[0] for row in runs(home)}
        process = subprocess.Popen(
            [sys.executable, "-m", "atlas_desktop", "sync", connection_id, "--yes", "--full"],
            env=cli_env(home), cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + 60
        while process.poll() is None and time.monotonic() < deadline:
            running = [row[0] for row in runs(home) if row[0] not in before and row[1] == "running"]
            if running:
                process.kill()  # no cleanup, no flush: the row stays as it was
                process.wait(10)
                return running[0]
            time.sleep(0.01)
        process.wait(60)
    raise AssertionError("every sync finished before it could be killed")


def test_a_killed_runs_row_is_marked_interrupted_by_the_next_run(tmp_path: Path) -> None:
    with sandbox_process(tmp_path, items=60) as sandbox:
        home = tmp_path / "home"
        connection_id = setup_profile(home, sandbox, "netsuite")
        killed = kill_mid_run(home, connection_id)
        assert {row[0]: row[1] for row in runs(home)}[killed] == "running"

        assert sync_json(home, connection_id)["status"] == "success"
        row = next(row for row in runs(home) if row[0] == killed)
        assert row[1:3] == ("failed", INTERRUPTED_MESSAGE) and row[3] is not None
        assert all(status != "running" for _, status, _, _ in runs(home))
