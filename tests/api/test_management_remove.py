"""DELETE of a connection through the management API: 409 with the counts while writes are unsettled
(unless ?force=true), 409 while another process runs it, and the audit trail says what was discarded."""

from __future__ import annotations

import json
import os
from pathlib import Path

from atlas_desktop.domain.enums import OutboxStatus
from atlas_desktop.domain.model import Side
from atlas_desktop.store.models import OutboxRow
from atlas_desktop.store.process_locks import ProcessLocks
from tests.webhooks.world import World

C = "/api/erp/connections"


def add_writes(world: World, *statuses: OutboxStatus) -> None:
    with world.services.store.session() as session:
        for n, status in enumerate(statuses):
            row = OutboxRow(connection_id=world.connection_id, target=Side.ERP, operation="adjust_stock",
                            payload={"delta": "3"}, idempotency_key=f"api-{n}", status=status)  # fmt: skip
            session.add(row)


async def test_delete_refuses_unsettled_writes_with_their_counts_unless_forced(
    world: World, api_key: str, tmp_path: Path
) -> None:
    add_writes(world, OutboxStatus.PENDING, OutboxStatus.PENDING, OutboxStatus.SENDING)
    path = f"{C}/{world.connection_id}"
    async with world.client(**{"X-API-Key": api_key}) as client:
        refused = await client.delete(path)
        assert refused.status_code == 409, refused.text
        body = refused.json()
        assert (body["pending"], body["in_doubt"]) == (2, 1)
        assert "2 write(s) waiting to be sent and 1 in doubt" in body["error"] and "force=true" in body["fix"]
        assert (await client.get(path)).status_code == 200
        assert (await client.delete(path, params={"force": "maybe"})).status_code == 400
        assert (await client.delete(path, params={"force": "true"})).status_code == 204
        assert (await client.get(path)).status_code == 404
    out = tmp_path / "audit.json"
    world.services.audit.export(out, fmt="json")
    [removed] = [e for e in json.loads(out.read_text()) if e["action"] == "connection_removed"]
    assert removed["details"] == {"discarded_writes": 3, "pending": 2, "in_doubt": 1}
    assert removed["source"] == "api"


async def test_delete_and_sync_are_refused_while_another_process_runs_the_connection(
    world: World, api_key: str
) -> None:
    world.engine._gate.wait = 0.1  # the test need not wait the default 5 s for the refusal
    lock = ProcessLocks(world.services.paths.locks).run(world.connection_id)  # another process's handle
    assert lock.acquire()
    try:
        async with world.client(**{"X-API-Key": api_key}) as client:
            for method, path in (("DELETE", ""), ("POST", "/sync"), ("POST", "/mappings/discover")):
                response = await client.request(method, f"{C}/{world.connection_id}{path}")
                assert response.status_code == 409, (method, path, response.text)
                assert f"already running in process {os.getpid()}" in response.json()["error"]
    finally:
        lock.release()
    assert [c.id for c in world.services.connections.list()] == [world.connection_id]
