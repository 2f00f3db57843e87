"""The signed webhook receiver end to end: emulator -> signed event -> receiver -> real-time sync."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from decimal import Decimal

import httpx
import pytest

from atlas_desktop.app.api.signature import sign
from atlas_desktop.app.api.webhooks import WebhookReceiver
from atlas_desktop.domain.enums import MappingStatus, SyncType
from atlas_desktop.engine.api import RunInProgress
from tests.webhooks.world import World

PATH = "/api/erp/webhooks/netsuite/{}"


async def _synced(world: World) -> str:
    """Discover and approve the first sync, then enable the webhook; returns its secret."""
    await world.engine.discover(world.connection_id)
    first = await world.engine.sync(world.connection_id, approve=True)
    assert first.status.value == "success", first.error_message
    world.webhooks.enable(world.connection_id, port=8765)
    world.runs.clear()
    return world.webhooks.secret(world.connection_id).reveal()


def _event(n: int = 0) -> bytes:
    return json.dumps({"id": f"evt-{n}", "type": "inventory.updated", "data": {"id": n}}).encode()


async def _post(
    world: World, body: bytes, header: str | None, connection_id: str | None = None
) -> httpx.Response:
    headers = {"content-type": "application/json"}
    if header is not None:
        headers["X-Atlas-Signature"] = header
    async with world.client() as client:
        return await client.post(
            PATH.format(connection_id or world.connection_id), content=body, headers=headers
        )


async def test_emulator_event_triggers_a_real_time_sync_within_a_second(world: World) -> None:
    secret = await _synced(world)
    world.netsuite.webhooks.configure(
        APP := f"http://127.0.0.1:8765{PATH.format(world.connection_id)}",
        secret,
        transport=httpx.ASGITransport(app=world.app),
    )
    assert APP
    mapping = next(
        m
        for m in world.engine.repos.mappings.page(
            world.connection_id, status=MappingStatus.MATCHED, search=None, offset=0, limit=100
        )
    )
    before = Decimal(world.atlas.row(mapping.atlas_inventory_id)["quantity"])
    started = time.monotonic()
    world.netsuite.state.receive(
        int(mapping.erp_item_id), int(mapping.erp_location_id), Decimal(4), mapping.lot
    )
    await world.netsuite.webhooks.drain()
    assert world.netsuite.webhooks.sent == [(202, "inventory.updated")]
    while not world.runs and time.monotonic() - started < 1.0:
        await asyncio.sleep(0.01)
    assert world.runs and time.monotonic() - started < 1.0, "no sync started within a second"
    assert (
        world.runs[0].sync_type is SyncType.REAL_TIME and world.runs[0].connection_id == world.connection_id
    )
    await world.receiver.trigger.idle()
    assert Decimal(world.atlas.row(mapping.atlas_inventory_id)["quantity"]) == before + 4
    assert world.webhooks.for_connection(world.connection_id).last_received_at is not None


async def test_refused_requests_leave_no_trace(world: World) -> None:
    secret = await _synced(world)
    now = int(time.time())
    body = _event(1)
    before = world.snapshot()
    cases = [
        (None, body, None, 401),  # no signature
        ("t=1,v1=zz", body, None, 401),  # malformed
        (sign("not-the-secret", body, now), body, None, 401),  # wrong secret
        (sign(secret, body, now), body + b" ", None, 401),  # body changed after signing
        (sign(secret, body, now - 400), body, None, 401),  # stale
        (sign(secret, body, now + 400), body, None, 401),  # from the future
        (sign(secret, body, now), body, "00000000-0000-0000-0000-000000000000", 404),  # unknown connection
    ]
    for header, content, cid, status in cases:
        response = await _post(world, content, header, cid)
        assert response.status_code == status, (header, response.text)
        assert secret not in response.text
    big = b'{"type":"inventory.updated","pad":"' + b"x" * (1024 * 1024) + b'"}'
    response = await _post(world, big, sign(secret, big, now))
    assert response.status_code == 413
    # Content-Length is not trusted: a chunked body without it is counted as it streams.

    async def chunks():  # type: ignore[no-untyped-def]
        for _ in range(20):
            yield b"x" * 65536

    async with world.client() as client:
        response = await client.post(
            PATH.format(world.connection_id),
            content=chunks(),
            headers={"X-Atlas-Signature": sign(secret, b"", now)},
        )
    assert response.status_code == 413
    assert world.snapshot() == before
    await asyncio.sleep(0.3)
    assert world.runs == []


async def test_replay_is_refused_and_leaves_no_trace(world: World) -> None:
    secret = await _synced(world)
    body, header = _event(2), sign(secret, _event(2), int(time.time()))
    first = await _post(world, body, header)
    assert first.status_code == 202 and first.json()["status"] == "accepted"
    await world.receiver.trigger.idle()
    before = world.snapshot()
    again = await _post(world, body, header)
    assert again.status_code == 409
    assert world.snapshot() == before


async def test_disabled_webhook_and_wrong_erp_path_are_404(world: World) -> None:
    secret = await _synced(world)
    body = _event(3)
    async with world.client() as client:
        sap = await client.post(
            f"/api/erp/webhooks/sap/{world.connection_id}",
            content=body,
            headers={"X-Atlas-Signature": sign(secret, body, int(time.time()))},
        )
    assert sap.status_code == 404
    world.webhooks.disable(world.connection_id)
    world.receiver.forget(world.connection_id)
    response = await _post(world, body, sign(secret, body, int(time.time())))
    assert response.status_code == 404


async def test_unhandled_event_type_is_acknowledged_but_not_synced(world: World) -> None:
    secret = await _synced(world)
    body = json.dumps({"type": "customer.updated"}).encode()
    response = await _post(world, body, sign(secret, body, int(time.time())))
    assert response.status_code == 202 and response.json()["status"] == "ignored"
    bad = b"not json"
    assert (await _post(world, bad, sign(secret, bad, int(time.time())))).status_code == 400
    await asyncio.sleep(0.3)
    assert world.runs == []


async def test_a_thousand_concurrent_events_coalesce_into_few_runs(world: World) -> None:
    secret = await _synced(world)
    now = int(time.time())
    bodies = [_event(n) for n in range(1000)]
    async with world.client() as client:
        responses = await asyncio.gather(
            *(
                client.post(
                    PATH.format(world.connection_id),
                    content=b,
                    headers={"X-Atlas-Signature": sign(secret, b, now)},
                )
                for b in bodies
            )
        )
    assert [r.status_code for r in responses] == [202] * 1000
    await world.receiver.trigger.idle()
    assert 1 <= len(world.runs) <= 3, len(world.runs)
    assert all(run.sync_type is SyncType.REAL_TIME for run in world.runs)


async def test_the_design_plans_event_type_shape_is_accepted(world: World) -> None:
    secret = await _synced(world)
    body = json.dumps({"event_type": "inventory.updated", "data": {"id": 7}}).encode()
    response = await _post(world, body, sign(secret, body, int(time.time())))
    assert response.status_code == 202 and response.json()["status"] == "accepted"
    await world.receiver.trigger.idle()
    assert [run.sync_type for run in world.runs] == [SyncType.REAL_TIME]


async def test_a_connection_another_process_runs_is_skipped_at_info(caplog: pytest.LogCaptureFixture) -> None:
    class BusyEngine:
        async def sync(self, connection_id: str, *, sync_type: SyncType) -> None:
            raise RunInProgress(connection_id, "Main NetSuite", 4242)

    receiver = WebhookReceiver(None, BusyEngine())  # type: ignore[arg-type] - no webhook is looked up
    with caplog.at_level(logging.INFO, logger="atlas_desktop.app.api.webhooks"):
        await receiver._sync("c1")
    [record] = [r for r in caplog.records if "already running in process 4242" in r.getMessage()]
    assert record.levelno == logging.INFO and record.exc_info is None
