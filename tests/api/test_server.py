"""The API over real sockets: loopback over HTTP, another interface only over HTTPS; start and stop."""

from __future__ import annotations

import argparse
import os
import stat

import httpx

from atlas_desktop.app.api import start_api_server, start_configured_servers
from atlas_desktop.app.webhook_commands import run_api_key, run_webhooks
from tests.webhooks.world import World


async def test_loopback_server_starts_serves_and_stops(world: World, api_key: str) -> None:
    server = await start_api_server(world.services, world.engine, host="127.0.0.1", port=0)
    try:
        assert server.url.startswith("http://127.0.0.1:") and server.fingerprint is None
        async with httpx.AsyncClient(base_url=server.url) as client:
            assert (await client.get("/api/openapi.json")).status_code == 401
            ok = await client.get("/api/erp/connections", headers={"X-API-Key": api_key})
            assert ok.status_code == 200
    finally:
        await server.stop()
    async with httpx.AsyncClient(base_url=server.url) as client:
        try:
            await client.get("/api/openapi.json")
        except httpx.ConnectError:
            pass
        else:
            raise AssertionError("the server still answers after stop()")


async def test_other_interface_is_https_with_a_profile_certificate(world: World, api_key: str) -> None:
    server = await start_api_server(world.services, world.engine, host="0.0.0.0", port=0)
    try:
        assert server.url.startswith("https://") and server.fingerprint
        key_file = world.services.paths.root / "api" / "tls-key.pem"
        assert stat.S_IMODE(os.stat(key_file).st_mode) == 0o600
        async with httpx.AsyncClient(verify=False) as client:
            response = await client.get(
                f"https://127.0.0.1:{server.port}/api/erp/webhooks", headers={"X-API-Key": api_key}
            )
            assert response.status_code == 200
    finally:
        await server.stop()


async def test_configured_servers_follow_settings_and_webhooks(world: World) -> None:
    world.webhooks.enable(world.connection_id, host="127.0.0.1", port=18765)
    started = await start_configured_servers(world.services, world.engine)
    try:
        assert [s.port for s in started.servers] == [18765] and not started.problems
    finally:
        await started.stop()


def test_cli_handlers_never_print_secrets(world: World, capsys) -> None:  # type: ignore[no-untyped-def]
    args = argparse.Namespace(action="enable", id=world.connection_id, host=None, port=18766)
    assert run_webhooks(args, world.services) == 0
    out = capsys.readouterr()
    secret = world.webhooks.secret(world.connection_id).reveal()
    assert secret not in out.out + out.err
    assert f"http://127.0.0.1:18766/api/erp/webhooks/netsuite/{world.connection_id}" in out.out
    path = world.services.paths.root / "api" / f"webhook-{world.connection_id}.secret"
    assert str(path) in out.out and path.read_text().strip() == secret
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert run_webhooks(argparse.Namespace(action="list", json=False), world.services) == 0
    header, row = capsys.readouterr().out.splitlines()
    assert header.split() == ["CONNECTION", "STATUS", "LAST", "EVENT", "URL"]
    assert row.split()[:3] == [world.connection_id, "active", "-"] and row.endswith(f"/{world.connection_id}")
    assert run_webhooks(argparse.Namespace(action="disable", id=world.connection_id), world.services) == 0
    assert not path.exists()
    assert run_api_key(argparse.Namespace(action="show"), world.services) == 0
    out = capsys.readouterr()
    key_file = world.services.paths.root / "api" / "management-api.key"
    key = key_file.read_text().strip()
    assert key and key not in out.out + out.err and str(key_file) in out.out


async def test_a_webhook_answers_only_on_the_address_it_was_enabled_on(world: World) -> None:
    import json
    import time

    from atlas_desktop.app.api.signature import sign

    world.webhooks.enable(world.connection_id, host="127.0.0.1", port=18767)
    world.services.settings.set("management_api_enabled", True)
    world.services.settings.set("management_api_host", "0.0.0.0")
    world.services.settings.set("management_api_port", 18768)
    started = await start_configured_servers(world.services, world.engine)
    try:
        assert sorted(s.port for s in started.servers) == [18767, 18768], started.problems
        secret = world.webhooks.secret(world.connection_id).reveal()
        body = json.dumps({"type": "inventory.updated"}).encode()
        path = f"/api/erp/webhooks/netsuite/{world.connection_id}"
        async with httpx.AsyncClient(verify=False) as client:
            headers = {"X-Atlas-Signature": sign(secret, body, int(time.time()))}
            through_api = await client.post(f"https://127.0.0.1:18768{path}", content=body, headers=headers)
            assert through_api.status_code == 404  # the network-facing API server does not serve it
            headers = {"X-Atlas-Signature": sign(secret, body, int(time.time()) + 1)}
            own = await client.post(f"http://127.0.0.1:18767{path}", content=body, headers=headers)
            assert own.status_code == 202, own.text
    finally:
        await started.stop()
