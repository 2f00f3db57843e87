"""Every management endpoint, the API key on every route, and no secret in any response."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from atlas_desktop.app.api.openapi import build_openapi
from atlas_desktop.domain.connection import ALL_SECRET_FIELDS, parse_connection
from atlas_desktop.domain.drafts import MappingDraft
from atlas_desktop.domain.enums import MappingStatus
from tests.webhooks.world import NS_URL, World

C = "/api/erp/connections"


class Recorder:
    """Calls the API with the key and keeps every response body for the secret scan."""

    def __init__(self, world: World, key: str) -> None:
        self.world, self.key, self.bodies = world, key, []

    async def __call__(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        async with self.world.client(**{"X-API-Key": self.key}) as client:
            response = await client.request(method, path, **kwargs)
        self.bodies.append(response.text)
        return response


def _stored_secrets(world: World, key: str) -> set[str]:
    values = {key, world.atlas.api_token}
    for summary in world.services.connections.list():
        spec = world.services.connections.get(summary.id)
        values |= {secret.reveal() for secret in spec.secrets.values()}
        hook = world.webhooks.for_connection(summary.id)
        if hook is not None:
            values.add(world.webhooks.secret(summary.id).reveal())
    return values


async def test_every_route_refuses_requests_without_the_right_key(world: World, api_key: str) -> None:
    document = build_openapi()
    calls = 0
    for template, item in document["paths"].items():
        path = re.sub(r"\{[^}]+\}", "1", template)
        for method, operation in item.items():
            if method == "parameters" or operation.get("security") == []:
                continue
            for headers in ({}, {"X-API-Key": "wrong"}, {"X-API-Key": api_key[:-1]}, {"x-api-key": ""}):
                async with world.client(**headers) as client:
                    response = await client.request(method.upper(), path, json={})
                assert response.status_code == 401, (method, path, headers)
                assert api_key not in response.text
                calls += 1
    assert calls >= 4 * 15
    async with world.client() as client:  # unknown paths too: fail closed
        assert (await client.get("/api/erp/nothing-here")).status_code == 401


async def test_connections_crud_and_test(world: World, api_key: str) -> None:
    call = Recorder(world, api_key)
    listing = await call("GET", C)
    assert listing.status_code == 200 and [c["id"] for c in listing.json()["items"]] == [world.connection_id]
    one = (await call("GET", f"{C}/{world.connection_id}")).json()
    assert set(one["secret_fields"]) == {"consumer_key", "consumer_secret", "token_id", "token_secret"}

    created = await call(
        "POST",
        C,
        json={"erp_type": "netsuite", "account_id": "7654321_SB1", "consumer_key": "a" * 64,
              "consumer_secret": "b" * 64, "token_id": "c" * 64, "token_secret": "d" * 64,
              "connection_name": "Second"},
    )  # fmt: skip
    assert created.status_code == 201, created.text
    cid = created.json()["id"]
    bad = await call("POST", C, json={"erp_type": "netsuite"})
    assert bad.status_code == 400 and bad.json()["fix"]

    patched = await call(
        "PATCH",
        f"{C}/{cid}",
        json={"name": "Renamed", "sync_frequency_minutes": 30, "sync_direction": "erp_to_atlas",
              "settings": {"subsidiary_id": "2"}, "secrets": {"token_secret": "e" * 64}},
    )  # fmt: skip
    assert patched.status_code == 200, patched.text
    body = patched.json()
    assert (body["name"], body["sync_frequency_minutes"], body["settings"]["subsidiary_id"]) == (
        "Renamed",
        30,
        "2",
    )
    assert world.services.connections.get_secret(cid, "token_secret").reveal() == "e" * 64
    assert (await call("PATCH", f"{C}/{cid}", json={"settings": {"password": "x"}})).status_code == 400
    assert (await call("PATCH", f"{C}/{cid}", json={"secrets": {"nope": "x"}})).status_code == 400
    # a NetSuite OAuth 2.0 key is given as its PEM text: the API reads no file on this computer
    key_path = {"secrets": {"private_key": "/home/someone/netsuite-key.pem"}}
    assert (await call("PATCH", f"{C}/{cid}", json=key_path)).status_code == 400
    assert (await call("PATCH", f"{C}/{cid}", json={"sync_enabled": "yes"})).status_code == 400
    assert (await call("PATCH", f"{C}/{cid}", json={"bogus": 1})).status_code == 400

    report = await call("POST", f"{C}/{world.connection_id}/test")
    assert report.status_code == 200 and report.json()["ok"] is True, report.text
    assert all(step["ok"] or step["skipped"] for step in report.json()["steps"])

    assert (await call("DELETE", f"{C}/{cid}")).status_code == 204
    assert (await call("GET", f"{C}/{cid}")).status_code == 404
    assert (await call("DELETE", f"{C}/{cid}")).status_code == 404
    secrets = _stored_secrets(world, api_key) | {"a" * 64, "b" * 64, "c" * 64, "d" * 64, "e" * 64}
    for text in call.bodies:
        assert not any(value in text for value in secrets)
        assert not any(f'"{name}"' in text for name in ("consumer_secret_value",))


async def test_sync_mappings_logs_and_webhooks(world: World, api_key: str) -> None:
    call = Recorder(world, api_key)
    cid = world.connection_id
    discovered = await call("POST", f"{C}/{cid}/mappings/discover")
    assert discovered.status_code == 200 and discovered.json()["matched"] > 5
    preview = await call("POST", f"{C}/{cid}/sync")
    assert preview.status_code == 200 and preview.json()["status"] == "preview"
    assert preview.json()["plan"]["reason"]
    kinds = preview.json()["plan"]["kinds"]  # every kind the approved run will carry out, counted
    assert kinds["already_same"] == preview.json()["plan"]["unchanged"] and "purchase_order" in kinds
    done = await call("POST", f"{C}/{cid}/sync", json={"approve": True})
    assert done.status_code == 200 and done.json()["status"] == "success", done.text
    assert (await call("POST", f"{C}/{cid}/sync", json={"approve": "yes"})).status_code == 400

    logs = (await call("GET", f"{C}/{cid}/sync-logs?limit=5")).json()["items"]
    assert [log["status"] for log in logs][:2] == ["success", "preview"]
    assert (await call("GET", f"{C}/{cid}/sync-logs?limit=0")).status_code == 400

    page = (await call("GET", f"{C}/{cid}/mappings?status=matched&limit=2")).json()
    assert page["total"] > 5 and len(page["items"]) == 2
    assert page["items"][0]["atlas_quantity"] == page["items"][0]["erp_quantity"]  # Decimal text, in step
    assert (await call("GET", f"{C}/{cid}/mappings?status=bogus")).status_code == 400

    pair = page["items"][0]
    assert (await call("DELETE", f"{C}/{cid}/mappings/{pair['id']}")).status_code == 204
    assert (await call("DELETE", f"{C}/{cid}/mappings/{pair['id']}")).status_code == 404
    remapped = await call(
        "POST",
        f"{C}/{cid}/mappings",
        json={k: pair[k] for k in ("atlas_inventory_id", "erp_item_id", "erp_location_id", "lot")},
    )
    assert remapped.status_code == 201 and remapped.json()["match_method"] == "manual", remapped.text
    assert (await call("POST", f"{C}/{cid}/mappings", json={"erp_item_id": "1"})).status_code == 400
    counts = world.engine.repos.mappings.count(cid, status=MappingStatus.MATCHED)
    assert counts == page["total"]

    assert (await call("GET", f"{C}/{cid}/webhook")).status_code == 404
    enabled = await call("PUT", f"{C}/{cid}/webhook", json={"port": 9001})
    assert enabled.status_code == 200, enabled.text
    hook = enabled.json()
    assert hook["url"] == f"http://127.0.0.1:9001/api/erp/webhooks/netsuite/{cid}"
    secret_file = hook["secret_file"]
    import os
    import stat

    assert stat.S_IMODE(os.stat(secret_file).st_mode) == 0o600
    assert open(secret_file).read().strip() == world.webhooks.secret(cid).reveal()
    assert (await call("GET", "/api/erp/webhooks")).json()["items"][0]["status"] == "active"
    disabled = await call("DELETE", f"{C}/{cid}/webhook")
    assert disabled.status_code == 200 and disabled.json()["status"] == "disabled"
    assert not os.path.exists(secret_file)

    document = await call("GET", "/api/openapi.json")
    assert document.status_code == 200 and document.json()["openapi"].startswith("3.")
    secrets = _stored_secrets(world, api_key)
    for text in call.bodies:
        assert not any(value in text for value in secrets)


async def test_mapping_a_row_another_connection_maps_is_a_409_naming_it(world: World, api_key: str) -> None:
    call = Recorder(world, api_key)
    cid = world.connection_id
    spec = parse_connection(world.netsuite.credential_files(NS_URL)["netsuite.json"])
    other = world.services.connections.add(spec)
    world.services.connections.update(other, name="Second warehouse")
    draft = MappingDraft("A-1", "77", "1", None, None, None, None, "Drug", MappingStatus.MATCHED, None)
    world.engine.repos.mappings.apply_discovery(other, [draft])
    body = {"atlas_inventory_id": "A-1", "erp_item_id": "12", "erp_location_id": "1"}
    refused = await call("POST", f"{C}/{cid}/mappings", json=body)
    assert refused.status_code == 409, refused.text
    assert "already mapped by connection 'Second warehouse'" in refused.json()["error"]
    assert "unmap it in 'Second warehouse' first" in refused.json()["fix"]
    assert world.engine.repos.mappings.count(cid) == 0


@pytest.mark.parametrize("name", sorted(ALL_SECRET_FIELDS))
def test_secret_field_names_are_never_response_properties(name: str) -> None:
    schemas = build_openapi()["components"]["schemas"]
    for schema_name, schema in schemas.items():
        if schema_name in ("ConnectionUpdate", "ConnectionCreate"):
            continue
        assert name not in schema.get("properties", {}), schema_name


async def test_a_bad_name_is_refused_before_anything_is_committed(world: World, api_key: str) -> None:
    call = Recorder(world, api_key)
    cid = world.connection_id
    before = world.services.connections.get(cid).name
    audit_before = world.services.audit.verify().count
    for name in ("x" * 200_000, "Main\x00NetSuite", "Main \u202eetiuSteN", "   "):
        answer = await call("PATCH", f"{C}/{cid}", json={"name": name})
        assert answer.status_code == 400 and answer.json()["fix"], name
    assert world.services.connections.get(cid).name == before
    assert world.services.audit.verify().count == audit_before


async def test_api_changes_are_audited_as_the_api_key_and_a_refusal_changes_nothing(
    world: World, api_key: str, tmp_path: Any
) -> None:
    import json as json_module

    from atlas_desktop.app.api.auth import api_key_id
    from atlas_desktop.domain.secrets import Secret

    call = Recorder(world, api_key)
    cid = world.connection_id
    assert (await call("PATCH", f"{C}/{cid}", json={"name": "Renamed by API"})).status_code == 200
    refused = await call(
        "PATCH", f"{C}/{cid}", json={"name": "Again", "settings": {"token_secret": "x" * 64}}
    )
    assert refused.status_code == 400
    assert world.services.connections.get(cid).name == "Renamed by API"  # "Again" was not committed
    out = tmp_path / "audit.json"
    world.services.audit.export(out, fmt="json")
    changes = [e for e in json_module.loads(out.read_text()) if e["action"] == "settings_changed"]
    assert [(e["actor"], e["source"]) for e in changes] == [(f"api:{api_key_id(Secret(api_key))}", "api")]
