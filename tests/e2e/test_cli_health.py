"""`connections list` says each connection's state by the window's rule: never "in sync" before a sync,
"syncing" while another process runs it (its run lock held)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from atlas_desktop.store.process_locks import ProcessLocks
from tests.e2e.test_cli_connections import NETSUITE, run_cli, write
from tests.torture.sockets import cli, sandbox_process, setup_profile, sync_json


def test_connections_list_carries_the_state_in_json_and_text(tmp_path: Path) -> None:
    home = tmp_path / "home"
    imported = run_cli(home, "connections", "import", str(write(tmp_path, "ns.json", NETSUITE)))
    assert imported.returncode == 0, imported.stderr
    connection_id = imported.stdout.strip().splitlines()[-1]

    listed = run_cli(home, "connections", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    [row] = json.loads(listed.stdout)
    assert (row["state"], row["state_text"]) == ("not_synced_yet", "Not synced yet")
    text = run_cli(home, "connections", "list")
    assert "Not synced yet" in text.stdout

    lock = ProcessLocks(home / "locks").run(connection_id)  # as a sync in another process holds it
    assert lock.acquire()
    try:
        [row] = json.loads(run_cli(home, "connections", "list", "--json").stdout)
    finally:
        lock.release()
    assert (row["state"], row["state_text"]) == ("syncing", f"Syncing — in process {os.getpid()}")


@pytest.mark.e2e
def test_sync_json_carries_the_state_after_the_run(tmp_path: Path) -> None:
    with sandbox_process(tmp_path, items=20) as sandbox:
        home = tmp_path / "home"
        connection_id = setup_profile(home, sandbox, "netsuite")
        done = sync_json(home, connection_id)
        listed = {row["id"]: row for row in json.loads(cli(home, "connections", "list", "--json").stdout)}
    assert done["status"] == "success", done
    assert done["state"] == listed[connection_id]["state"]
    assert done["state"] in ("in_sync", "needs_choice"), done  # ambiguous items, if the catalog made some
    assert done["state_text"] == listed[connection_id]["state_text"]
