"""`connections remove` refuses while writes are pending or in doubt, says what to do, and `--force`
removes anyway with the number discarded in the audit trail; never during a run of the connection."""

from __future__ import annotations

import json
import os
from pathlib import Path

from atlas_desktop.domain.enums import OutboxStatus
from atlas_desktop.domain.model import Side
from atlas_desktop.store.db import Store
from atlas_desktop.store.models import OutboxRow
from atlas_desktop.store.process_locks import ProcessLocks
from tests.e2e.test_cli_connections import NETSUITE, run_cli, write


def connection_with_writes(tmp_path: Path, *statuses: OutboxStatus) -> tuple[Path, str]:
    home = tmp_path / "home"
    imported = run_cli(home, "connections", "import", str(write(tmp_path, "ns.json", NETSUITE)))
    assert imported.returncode == 0, imported.stderr
    connection_id = imported.stdout.strip().splitlines()[-1]
    with Store.open(home / "atlas.db") as store, store.session() as session:
        for n, status in enumerate(statuses):  # what a run that stopped mid-push leaves in the outbox
            row = OutboxRow(connection_id=connection_id, target=Side.ATLAS, operation="adjust_stock",
                            payload={"delta": "-2"}, idempotency_key=f"k-{n}", status=status)  # fmt: skip
            session.add(row)
    return home, connection_id


def listed(home: Path) -> list[str]:
    return [row["id"] for row in json.loads(run_cli(home, "connections", "list", "--json").stdout)]


def test_remove_refuses_unsettled_writes_and_force_records_how_many_were_discarded(tmp_path: Path) -> None:
    home, cid = connection_with_writes(
        tmp_path, OutboxStatus.PENDING, OutboxStatus.IN_DOUBT, OutboxStatus.DONE
    )

    refused = run_cli(home, "connections", "remove", cid)
    assert refused.returncode == 1
    error, fix = refused.stderr.strip().splitlines()
    assert error == "error: connection 'Main NetSuite' has 1 write(s) waiting to be sent and 1 in doubt; " \
        "removing it would discard them"  # fmt: skip
    assert f"atlas-desktop sync {cid}" in fix and f"connections remove {cid} --force" in fix
    assert listed(home) == [cid]

    forced = run_cli(home, "connections", "remove", cid, "--force")
    assert forced.returncode == 0, forced.stderr
    assert forced.stdout.strip() == f"removed {cid} (discarded 1 write(s) waiting to be sent and 1 in doubt)"
    assert listed(home) == []
    export = tmp_path / "audit.json"
    assert run_cli(home, "audit", "export", "--format", "json", "--out", str(export)).returncode == 0
    [removed] = [entry for entry in json.loads(export.read_text()) if entry["action"] == "connection_removed"]
    assert removed["details"] == {"discarded_writes": 2, "pending": 1, "in_doubt": 1}


def test_remove_waits_for_no_run_and_refuses_during_one(tmp_path: Path) -> None:
    home, cid = connection_with_writes(tmp_path)
    lock = ProcessLocks(home / "locks").run(cid)
    assert lock.acquire()  # a sync of it in another process
    try:
        busy = run_cli(home, "connections", "remove", cid, "--force")
    finally:
        lock.release()
    assert busy.returncode == 5
    assert f"a sync of Main NetSuite is already running in process {os.getpid()}" in busy.stderr
    assert listed(home) == [cid]
    assert run_cli(home, "connections", "remove", cid).returncode == 0  # no writes, no run: removed
