"""Connection test steps: per-service authorisation with the missing scenario, TLS issuer, OAuth endpoint."""

from __future__ import annotations

import asyncio
import datetime as dt
import ssl
from pathlib import Path

import httpx
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from atlas_desktop.connectors.http import HttpClient, HttpSettings
from atlas_desktop.connectors.sap.auth import SapAuth
from atlas_desktop.connectors.sap.config import SapConfig
from atlas_desktop.connectors.sap.connection_test import ConnectionTester
from atlas_desktop.connectors.sap.csrf import CsrfGuard

from .helpers import gateway_error, make, odata


def handler_missing_stock_scenario(request: httpx.Request) -> httpx.Response:
    if "API_MATERIAL_STOCK_SRV" in request.url.path:
        return gateway_error(403, "/IWFND/CM_CONSUMER/101", "User is not authorized")
    if request.headers.get("x-csrf-token") == "Fetch":
        return httpx.Response(200, json={"d": {}}, headers={"x-csrf-token": "tok"})
    return odata([])


async def test_missing_scenario_named_per_service() -> None:
    connector = make(handler_missing_stock_scenario)
    report = await connector.test_connection()
    by_name = {s.name: s for s in report.steps}
    assert not report.ok
    assert by_name["Products"].ok and by_name["Batches"].ok
    stock = by_name["Stock"]
    assert not stock.ok and "SAP_COM_0164" in stock.cause and "SAP_COM_0164" in stock.fix
    assert by_name["Server address"].skipped  # in-process: no DNS/TCP


async def test_all_good_includes_write_access() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.headers.get("x-csrf-token") == "Fetch":
            return httpx.Response(200, json={"d": {}}, headers={"x-csrf-token": "tok"})
        return odata([])

    report = await make(handler).test_connection()
    assert report.ok
    assert report.steps[-1].name == "Write access (CSRF token)" and report.steps[-1].ok


async def test_wrong_password_stops_after_first_service_and_mentions_client() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(401, text="Logon failed", headers={"www-authenticate": "Basic"})

    report = await make(handler, environment="on_premise", sap_client="100").test_connection()
    failure = report.first_failure
    assert failure is not None and failure.name == "Products" and "sap-client 100" in failure.fix
    assert all(s.skipped for s in report.steps[report.steps.index(failure) + 1 :])


async def test_oauth_token_step() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/token"):
            return httpx.Response(401, json={"error": "invalid_client"})
        return odata([])

    report = await make(handler, client_id="cid", client_secret="secret-value").test_connection()
    failure = report.first_failure
    assert failure is not None and failure.name == "Sign-in (OAuth token)" and "client ID" in failure.cause


def _self_signed(tmp: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Corp Inspection CA")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp / "c.pem", tmp / "k.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return cert_path, key_path


async def test_untrusted_certificate_shows_issuer_and_says_add_ca(tmp_path: Path) -> None:
    cert_path, key_path = _self_signed(tmp_path)
    server_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_ctx.load_cert_chain(cert_path, key_path)

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.close()

    server = await asyncio.start_server(serve, "localhost", 0, ssl=server_ctx)
    port = server.sockets[0].getsockname()[1]
    try:
        config = SapConfig(base_url=f"https://localhost:{port}")
        http = HttpClient(HttpSettings(base_url=config.base_url))
        tester = ConnectionTester(http, SapAuth(), CsrfGuard(http), config, network_checks=True)
        report = await tester.run()
        await http.aclose()
    finally:
        server.close()
        await server.wait_closed()
    tls = next(s for s in report.steps if s.name == "TLS certificate")
    assert report.steps[0].ok  # DNS and TCP fine
    assert not tls.ok and "Corp Inspection CA" in tls.cause and "CA bundle" in tls.fix
    assert all(s.skipped for s in report.steps[2:])
