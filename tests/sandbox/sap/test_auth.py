"""Each tenant's authentication: OAuth 2.0 client credentials, Basic + sap-client, X.509 over real TLS."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import ssl
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn

from atlas_desktop.connectors.sap import build_connector
from atlas_desktop.domain.connection import parse_connection
from atlas_desktop.domain.model import ErpType
from atlas_desktop.sandbox.catalog import Catalog
from atlas_desktop.sandbox.registry import SandboxOptions
from atlas_desktop.sandbox.sap import SapEmulator, build

from .conftest import JSON, PRODUCT, STOCK, TODAY

TOKEN = "/sap/bc/sec/oauth2/token"
PRODUCTS = f"{PRODUCT}/A_Product?$top=1"


@pytest.fixture(scope="module")
def tenants(tmp_path_factory: pytest.TempPathFactory) -> dict[str, SapEmulator]:
    options = SandboxOptions(
        catalog=Catalog(seed=3, size=20, today=TODAY), data_dir=tmp_path_factory.mktemp("sap")
    )
    return {e.name: e for e in build(options)}


def asgi(emulator: SapEmulator, **kw: object) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=emulator.app), base_url="http://sap.test", **kw
    )


async def _token(client: httpx.AsyncClient, emulator: SapEmulator) -> httpx.Response:
    return await client.post(
        TOKEN,
        data={"grant_type": "client_credentials", "scope": "API_PRODUCT_SRV_0001"},
        auth=(emulator.config.client_id, emulator.config.client_secret),
    )


async def test_oauth_client_credentials(tenants: dict[str, SapEmulator]) -> None:
    cloud = tenants["sap-cloud"]
    async with asgi(cloud) as client:
        response = await _token(client, cloud)
        assert response.status_code == 200
        data = response.json()
        assert data["token_type"] == "Bearer" and data["expires_in"] == cloud.config.token_lifetime_s
        bearer = {"Authorization": f"Bearer {data['access_token']}", **JSON}
        assert (await client.get(PRODUCTS, headers=bearer)).status_code == 200
        assert cloud.expire_access_tokens() >= 1
        expired = await client.get(PRODUCTS, headers=bearer)
        assert expired.status_code == 401 and "invalid_token" in expired.headers["www-authenticate"]
        unknown = await client.get(PRODUCTS, headers={"Authorization": "Bearer nope", **JSON})
        assert unknown.status_code == 401
        assert (await client.get(PRODUCTS, headers=JSON)).status_code == 401


async def test_token_endpoint_refusals(tenants: dict[str, SapEmulator]) -> None:
    cloud = tenants["sap-cloud"]
    async with asgi(cloud) as client:
        wrong = await client.post(
            TOKEN, data={"grant_type": "client_credentials"}, auth=(cloud.config.client_id, "x")
        )
        assert wrong.status_code == 401 and wrong.json()["error"] == "invalid_client"
        in_body = await client.post(
            TOKEN,
            data={
                "grant_type": "client_credentials",
                "client_id": cloud.config.client_id,
                "client_secret": cloud.config.client_secret,
            },
        )
        assert in_body.status_code == 401
        grant = await client.post(
            TOKEN, data={"grant_type": "password"}, auth=(cloud.config.client_id, cloud.config.client_secret)
        )
        assert grant.status_code == 400 and grant.json()["error"] == "unsupported_grant_type"


async def test_basic_with_sap_client(tenants: dict[str, SapEmulator]) -> None:
    onprem = tenants["sap-onprem"]
    good = (onprem.config.username, onprem.config.password)
    async with asgi(onprem, auth=good) as client:
        assert (await client.get(PRODUCTS, params={"sap-client": "100"}, headers=JSON)).status_code == 200
        missing = await client.get(PRODUCTS, headers=JSON)
        assert missing.status_code == 401 and "client" in missing.text
        wrong = await client.get(PRODUCTS, params={"sap-client": "999"}, headers=JSON)
        assert wrong.status_code == 401 and "999" in wrong.text
    async with asgi(onprem, auth=(onprem.config.username, "wrong")) as client:
        refused = await client.get(PRODUCTS, params={"sap-client": "100"}, headers=JSON)
        assert refused.status_code == 401 and refused.headers["www-authenticate"].startswith("Basic")


async def test_missing_scenario_answers_403(tenants: dict[str, SapEmulator]) -> None:
    onprem = tenants["sap-onprem"]
    onprem.set_missing_scenarios("SAP_COM_0164")
    try:
        async with asgi(onprem, auth=(onprem.config.username, onprem.config.password)) as client:
            stock = await client.get(
                f"{STOCK}/A_MatlStkInAcctMod", params={"sap-client": "100"}, headers=JSON
            )
            assert stock.status_code == 403
            assert "SAP_COM_0164" in stock.json()["error"]["message"]["value"]
            assert (await client.get(PRODUCTS, params={"sap-client": "100"}, headers=JSON)).status_code == 200
    finally:
        onprem.set_missing_scenarios()


def test_credential_files_parse_as_connections(tenants: dict[str, SapEmulator]) -> None:
    base = "http://127.0.0.1:8443"
    cloud = parse_connection(tenants["sap-cloud"].credential_files(base)["sap-cloud.json"])
    assert cloud.erp_type is ErpType.SAP_CLOUD and cloud.settings["auth_mode"] == "oauth2"
    assert cloud.settings["token_endpoint"] == f"{base}{TOKEN}"
    onprem = parse_connection(tenants["sap-onprem"].credential_files(base)["sap-onprem.json"])
    assert onprem.erp_type is ErpType.SAP_ONPREM and onprem.settings["sap_client"] == "100"
    x509 = parse_connection(tenants["sap-onprem-x509"].credential_files(base)["sap-onprem-x509.json"])
    assert x509.settings["auth_mode"] == "x509"
    assert Path(x509.settings["client_certificate"]).exists() and Path(x509.settings["ca_bundle"]).exists()


@contextlib.contextmanager
def serve_tls(emulator: SapEmulator) -> Iterator[str]:
    """uvicorn on a loopback port with the tenant's TLS settings and the cert-exposing protocol."""
    assert emulator.tls is not None
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        emulator.app,
        http=emulator.http_protocol,
        log_level="warning",
        lifespan="off",
        ssl_certfile=str(emulator.tls.certfile),
        ssl_keyfile=str(emulator.tls.keyfile),
        ssl_ca_certs=str(emulator.tls.ca_certs),
        ssl_cert_reqs=ssl.CERT_REQUIRED,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=lambda: asyncio.run(server.serve(sockets=[sock])), daemon=True)
    thread.start()
    while not server.started:
        threading.Event().wait(0.01)
    try:
        yield f"https://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


def test_x509_client_certificate_over_tls(tenants: dict[str, SapEmulator]) -> None:
    tenant = tenants["sap-onprem-x509"]
    certs = tenant.certs
    assert certs is not None
    with serve_tls(tenant) as url:
        context = ssl.create_default_context(cafile=str(certs.ca_cert))
        context.load_cert_chain(str(certs.client_cert), str(certs.client_key))
        with httpx.Client(base_url=url, verify=context) as client:
            ok = client.get(PRODUCTS, params={"sap-client": "100"}, headers=JSON)
            assert ok.status_code == 200, ok.text
            assert ok.json()["d"]["results"][0]["__metadata"]["uri"].startswith(url)
            fetch = client.get(f"{PRODUCT}/", params={"sap-client": "100"}, headers={"X-CSRF-Token": "Fetch"})
            assert fetch.headers["x-csrf-token"] and "secure" in fetch.headers["set-cookie"].lower()
        no_cert = ssl.create_default_context(cafile=str(certs.ca_cert))
        with httpx.Client(base_url=url, verify=no_cert) as client, pytest.raises(httpx.TransportError):
            client.get(PRODUCTS, params={"sap-client": "100"}, headers=JSON)


async def test_x509_tenant_refuses_requests_without_certificate(tenants: dict[str, SapEmulator]) -> None:
    tenant = tenants["sap-onprem-x509"]
    async with asgi(tenant, auth=("ATLAS_COMM_USER", tenant.config.password)) as client:
        response = await client.get(PRODUCTS, params={"sap-client": "100"}, headers=JSON)
        assert response.status_code == 401 and "certificate" in response.text


def test_credential_files_name_the_demo_locations(tenants: dict[str, SapEmulator]) -> None:
    """Issue 25: the demo's SAP connections show "Main warehouse", not "Plant 1010, storage location 0001"
    (no SAP API lists these names; the sandbox pre-fills the setting a user would fill in)."""
    content = tenants["sap-cloud"].credential_files("http://127.0.0.1:8443")["sap-cloud.json"]
    connector = build_connector(parse_connection(content))
    names = {loc.code: loc.name for loc in asyncio.run(connector.locations())}
    assert names == {
        "MAIN": "Main warehouse", "EAST": "East distribution center", "WEST": "West distribution center"
    }
