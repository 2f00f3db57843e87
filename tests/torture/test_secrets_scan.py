"""Secrets: after syncs with faults, no credential or issued token appears anywhere we write or print.

A profile with NetSuite (token-based auth), SAP S/4HANA Cloud (OAuth client credentials) and Atlas (API
token) runs discovery and several syncs with 5xx, 429, dropped connections, an expired OAuth token and a
failing item; then a diagnostics bundle is written and the CLI runs against the profile. Every file of the
profile folder, every member of the bundle, the CLI's stdout and stderr, and the captured log records are
scanned for each secret in its raw, URL-encoded and base64 forms, and so is the audit trail's HMAC key.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import subprocess
import sys
import zipfile
from datetime import date
from decimal import Decimal
from pathlib import Path
from urllib.parse import quote, quote_plus, urlsplit

import httpx
import pytest

from atlas_desktop.app.api.server import build_app
from atlas_desktop.app.api.webhooks import WebhookReceiver
from atlas_desktop.app.diagnostics import build_bundle
from atlas_desktop.app.engine_setup import build_engine
from atlas_desktop.app.paths import ProfilePaths
from atlas_desktop.app.services import open_services
from atlas_desktop.domain.connection import parse_connection
from atlas_desktop.domain.enums import MappingStatus
from atlas_desktop.domain.secrets import Secret
from atlas_desktop.sandbox.atlas import build as build_atlas
from atlas_desktop.sandbox.catalog import Catalog
from atlas_desktop.sandbox.netsuite import build as build_netsuite
from atlas_desktop.sandbox.registry import SandboxOptions
from atlas_desktop.sandbox.sap import make_emulator, standard_configs
from atlas_desktop.sandbox.server import running_sandbox
from atlas_desktop.store.audit_keys import VaultAuditKey
from atlas_desktop.store.keys import PassphraseKeySource
from atlas_desktop.store.webhooks import ApiKeyRepository, WebhookRepository
from tests.connectors.auth_proxy import auth_proxy
from tests.torture.world import no_sleep

NETSUITE_URL = "http://127.0.0.1:8141"
SAP_URL = "http://127.0.0.1:8142"
ATLAS_URL = "http://127.0.0.1:8143"
PASSPHRASE = "scan passphrase 1"
ROOT = Path(__file__).resolve().parents[2]


class ByPort(httpx.AsyncBaseTransport):
    """One transport for the ERP factory that sends each connection to its own emulator."""

    def __init__(self, routes: dict[int, httpx.AsyncBaseTransport]) -> None:
        self.routes = routes

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        return await self.routes[request.url.port or 80].handle_async_request(request)


def forms(value: str | bytes) -> set[bytes]:
    raw = value if isinstance(value, bytes) else value.encode()
    b64 = base64.b64encode(raw)
    return {
        raw,
        quote(raw, safe="").encode(),
        quote_plus(raw).encode(),
        b64.rstrip(b"="),
        base64.urlsafe_b64encode(raw).rstrip(b"="),
    }


def hits(blob: bytes, secrets: dict[str, str | bytes]) -> list[str]:
    return [name for name, value in secrets.items() if any(form in blob for form in forms(value))]


def run_cli(home: Path, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "ATLAS_DESKTOP_HOME": str(home), "ATLAS_DESKTOP_PASSPHRASE": PASSPHRASE}
    env["PYTHON_KEYRING_BACKEND"] = "keyring.backends.null.Keyring"
    env["PYTHONPATH"] = str(ROOT)
    return subprocess.run(
        [sys.executable, "-m", "atlas_desktop", *args],
        input=stdin, capture_output=True, text=True, env=env, cwd=ROOT, timeout=120,
    )  # fmt: skip


def scan_profile_and_bundles(
    home: Path, bundles: list[Path], secrets: dict[str, str | bytes]
) -> dict[str, list[str]]:
    """Which secrets each file of the profile folder and each bundle member holds (in any form)."""
    found: dict[str, list[str]] = {}
    for path in sorted(home.rglob("*")):
        if path.is_file():
            found[str(path.relative_to(home))] = hits(path.read_bytes(), secrets)
    for archive in bundles:
        with zipfile.ZipFile(archive) as zf:
            for member in zf.namelist():
                found[f"{archive.name}:{member}"] = hits(zf.read(member), secrets)
    return found


async def test_no_secret_in_profile_bundle_logs_or_output(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    seed = 11
    options = SandboxOptions(catalog=Catalog(seed=seed, size=16, today=date(2026, 11, 27)), seed=seed)
    atlas, netsuite = build_atlas(options), build_netsuite(options)
    sap = make_emulator(next(c for c in standard_configs(seed) if c.name == "sap-cloud"), options.catalog)
    ns_file = netsuite.credential_files(NETSUITE_URL)["netsuite.json"]
    sap_file = sap.credential_files(SAP_URL)["sap-cloud.json"]
    sap_credentials = sap_file.get("credentials", sap_file)
    ns_fields = ("consumer_key", "consumer_secret", "token_id", "token_secret")
    secrets: dict[str, str | bytes] = {name: ns_file[name] for name in ns_fields}
    secrets |= {f"sap_{name}": sap_credentials[name] for name in ("client_id", "client_secret")}
    secrets["atlas_api_token"] = atlas.api_token
    secrets["passphrase"] = PASSPHRASE

    paths = ProfilePaths(tmp_path / "profile")
    key_source = PassphraseKeySource(paths.root, Secret(PASSPHRASE), n=2**14)
    with open_services(paths, key_source=key_source) as services:
        ids = [services.connections.add(parse_connection(f)) for f in (ns_file, sap_file)]
        services.atlas_accounts.save(
            base_url=ATLAS_URL, auth_method="api_token", secrets={"api_token": Secret(atlas.api_token)}
        )
        transport = ByPort(
            {8141: httpx.ASGITransport(app=netsuite.app), 8142: httpx.ASGITransport(app=sap.app)}
        )
        engine = build_engine(
            services,
            transport=transport,
            sleep=no_sleep,
            atlas_options={"transport": httpx.ASGITransport(app=atlas.app), "sleep": no_sleep},
        )
        try:
            statuses = []
            for cid in ids:
                await engine.discover(cid)
                statuses.append((await engine.sync(cid, approve=True)).status.value)
            assert statuses == ["success", "success"]
            for _ in range(2):
                for cid in ids:
                    mapped = engine.repos.mappings.page(
                        cid, status=MappingStatus.MATCHED, search=None, offset=0, limit=5
                    )
                    for mapping in mapped[:3]:
                        if Decimal(atlas.row(mapping.atlas_inventory_id)["quantity"]) >= 1:
                            atlas.sell(mapping.atlas_inventory_id, Decimal(1))
                for emulator in (netsuite, sap, atlas):
                    emulator.faults.add("status", path=".", status=503, times=1)
                    emulator.faults.add("status", path=".", status=429, times=1)
                    emulator.faults.add("drop_after", path=".", times=1, probability=0.5)
                # Failing items: the ERPs refuse writes outright. Writes go many to a document, and a refused
                # document is split until the refused line is alone, so NetSuite refuses every try this round.
                refused = {"kind": "status", "method": "POST", "status": 400}
                netsuite.faults.add(path="inventoryAdjustment", times=100, **refused)
                sap.faults.add(path=r"A_MaterialDocumentHeader|\$batch", times=1, **refused)
                sap.expire_access_tokens()  # a new OAuth token is fetched mid-run
                for cid in ids:
                    statuses.append((await engine.sync(cid, approve=True)).status.value)
                for emulator in (netsuite, sap, atlas):
                    emulator.faults.rules.clear()
            fired = sum(sum(e.app.stats.faults_fired.values()) for e in (netsuite, sap, atlas))
            assert fired >= 6, "the faults never hit the runs"
            assert set(statuses) - {"success"}, f"every run was clean despite faults: {statuses}"
        finally:
            await engine.aclose()
        bundle = build_bundle(services, tmp_path / "bundle.zip")
        with services.store.engine.begin() as conn:
            audit_key = VaultAuditKey(services.vault).load(conn, create=False)
        assert audit_key is not None and services.audit.verify().ok
        # The audit trail's HMAC key: in no form in the database, audit.head, logs or bundles.
        secrets |= {"audit_key": audit_key, "audit_key_hex": audit_key.hex()}

    tokens = list(sap.tenant.auth._tokens)  # every access token the emulator issued
    assert len(tokens) >= 2, "the OAuth token was never renewed"
    secrets |= {f"sap_access_token_{i}": token for i, token in enumerate(tokens)}

    outputs = {
        "connections list --json": run_cli(paths.root, "connections", "list", "--json"),
        "-v connections list": run_cli(paths.root, "-v", "connections", "list"),
        "-v diagnose": run_cli(paths.root, "-v", "diagnose", "--out", str(tmp_path / "cli-bundle.zip")),
        "-v audit verify": run_cli(paths.root, "-v", "audit", "verify"),
    }
    for name, result in outputs.items():
        assert result.returncode == 0, f"{name}: {result.stderr[-2000:]}"
    assert len([line for line in outputs["connections list --json"].stdout.splitlines() if line]) >= 1

    found: dict[str, list[str]] = {}
    scanned = 0
    for path in sorted(paths.root.rglob("*")):
        if path.is_file():
            scanned += 1
            found[str(path.relative_to(paths.root))] = hits(path.read_bytes(), secrets)
    assert {"atlas.db", "vault.json"} <= {p.name for p in paths.root.rglob("*")}, "the profile is not there"
    for archive in (bundle.path, tmp_path / "cli-bundle.zip"):
        with zipfile.ZipFile(archive) as zf:
            for member in zf.namelist():
                scanned += 1
                found[f"{archive.name}:{member}"] = hits(zf.read(member), secrets)
    for name, result in outputs.items():
        found[f"{name} stdout"] = hits(result.stdout.encode(), secrets)
        found[f"{name} stderr"] = hits(result.stderr.encode(), secrets)
    records = "\n".join(f"{r.getMessage()} {r.args!r} {r.exc_text or ''}" for r in caplog.records)
    found["log records"] = hits(records.encode(), secrets)
    assert scanned >= 5 and caplog.records
    assert {where: names for where, names in found.items() if names} == {}


CONN_PROXY_PASSWORD = "conn-Proxy!pw#7"
APP_PROXY_PASSWORD = "app-Proxy@pw%8"
PATCHED_PROXY_PASSWORD = "patched-Proxy:pw9"


async def test_proxy_passwords_are_vaulted_masked_and_a_sync_through_the_proxy_authenticates(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Issue 26: a connection's proxy (credentials file, then PATCH) and the app-wide one (Settings)."""
    caplog.set_level(logging.DEBUG)
    options = SandboxOptions(catalog=Catalog(seed=3, size=12, today=date(2026, 11, 27)), seed=3)
    atlas, netsuite = build_atlas(options), build_netsuite(options)
    logins = {"conn-user": CONN_PROXY_PASSWORD, "app-user": APP_PROXY_PASSWORD}
    secrets: dict[str, str | bytes] = {
        "connection proxy": CONN_PROXY_PASSWORD, "app proxy": APP_PROXY_PASSWORD,
        "patched proxy": PATCHED_PROXY_PASSWORD,
    }  # fmt: skip
    home = tmp_path / "profile"
    outputs: dict[str, subprocess.CompletedProcess[str]] = {}
    bodies: list[str] = []
    with running_sandbox(options, emulators=[netsuite, atlas]) as urls, auth_proxy(logins) as proxy:
        ns_file = netsuite.credential_files(urls["netsuite"])["netsuite.json"]
        credentials = tmp_path / "netsuite.json"
        credentials.write_text(json.dumps({**ns_file, "proxy": proxy.url("conn-user", CONN_PROXY_PASSWORD)}))
        outputs["-v connections import"] = run_cli(home, "-v", "connections", "import", str(credentials))
        assert outputs["-v connections import"].returncode == 0, outputs["-v connections import"].stderr
        cid = outputs["-v connections import"].stdout.split()[-1]
        signin = run_cli(home, "signin", "--base-url", urls["atlas"], "--token-stdin", stdin=atlas.api_token)
        assert signin.returncode == 0, signin.stderr

        paths = ProfilePaths(home)
        with open_services(paths, key_source=PassphraseKeySource(paths.root, Secret(PASSPHRASE))) as services:
            services.settings.set("proxy", proxy.url("app-user", APP_PROXY_PASSWORD))  # the Atlas client's
            engine = build_engine(services, sleep=no_sleep, atlas_options={"sleep": no_sleep})
            receiver = WebhookReceiver(WebhookRepository(services.store, services.vault), engine)
            try:
                await engine.discover(cid)
                assert (await engine.sync(cid, approve=True)).status.value == "success"
                erp_host, atlas_host = (urlsplit(urls[name]).netloc for name in ("netsuite", "atlas"))
                assert proxy.log.accepted[("conn-user", erp_host)] > 0, proxy.log
                assert proxy.log.accepted[("app-user", atlas_host)] > 0, proxy.log
                assert proxy.log.refused == 0

                app = build_app(services, engine, receiver=receiver)
                key = ApiKeyRepository(services.store, services.vault).ensure().reveal()
                new_proxy = proxy.url("conn-user", PATCHED_PROXY_PASSWORD)
                async with httpx.AsyncClient(
                    transport=httpx.ASGITransport(app=app), base_url="http://127.0.0.1:8765",
                    headers={"X-API-Key": key},
                ) as client:  # fmt: skip
                    for method, path, body in (
                        ("GET", "/api/erp/connections", None),
                        ("GET", f"/api/erp/connections/{cid}", None),
                        ("PATCH", f"/api/erp/connections/{cid}", {"settings": {"proxy": new_proxy}}),
                        ("GET", f"/api/erp/connections/{cid}", None),
                    ):
                        response = await client.request(method, path, json=body)
                        assert response.status_code == 200, response.text
                        bodies.append(response.text)
                masked = f"http://conn-user:****@127.0.0.1:{proxy.port}"
                assert json.loads(bodies[1])["settings"]["proxy"] == masked
                assert json.loads(bodies[3])["secret_fields"] == [
                    "consumer_key", "consumer_secret", "proxy_password", "token_id", "token_secret"
                ]  # fmt: skip
                # The next run authenticates with the password given through the API, and only with it.
                logins["conn-user"] = PATCHED_PROXY_PASSWORD
                before = proxy.log.accepted[("conn-user", erp_host)]
                assert (await engine.sync(cid)).status.value == "success"
                assert proxy.log.accepted[("conn-user", erp_host)] > before and proxy.log.refused == 0
            finally:
                await receiver.aclose()
                await engine.aclose()
            bundle = build_bundle(services, tmp_path / "bundle.zip")

        for name, args in {
            "connections list --json": ("connections", "list", "--json"),
            "-v connections list": ("-v", "connections", "list"),
            "-v connections test": ("-v", "connections", "test", cid),
            "-v diagnose": ("-v", "diagnose", "--out", str(tmp_path / "cli-bundle.zip")),
        }.items():
            outputs[name] = run_cli(home, *args)
            assert outputs[name].returncode in (0, 1), f"{name}: {outputs[name].stderr[-2000:]}"
    assert "through the proxy" in outputs["-v connections test"].stdout

    settings = json.loads((home / "settings.json").read_text())
    assert settings["proxy"] == f"http://app-user:****@127.0.0.1:{proxy.port}"
    found = scan_profile_and_bundles(home, [bundle.path, tmp_path / "cli-bundle.zip"], secrets)
    assert {"atlas.db", "settings.json"} <= set(found), "the profile is not there"
    for name, result in outputs.items():
        found[f"{name} stdout"] = hits(result.stdout.encode(), secrets)
        found[f"{name} stderr"] = hits(result.stderr.encode(), secrets)
    found["API answers"] = hits("\n".join(bodies).encode(), secrets)
    records = "\n".join(f"{r.getMessage()} {r.args!r} {r.exc_text or ''}" for r in caplog.records)
    found["log records"] = hits(records.encode(), secrets)
    assert {where: names for where, names in found.items() if names} == {}


def pem_forms(pem: str) -> dict[str, str | bytes]:
    """A PEM key as text, its base64 body unwrapped, two of its lines and its DER bytes."""
    lines = pem.strip().splitlines()[1:-1]
    body = "".join(lines)
    return {"pem": pem, "pem_body": body, "pem_line_3": lines[3], "pem_line_last_full": lines[-2],
            "der": base64.b64decode(body)}  # fmt: skip


async def test_no_netsuite_m2m_private_key_or_access_token_in_profile_bundle_logs_or_output(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Issue 23: a NetSuite OAuth 2.0 (M2M) connection imported from a file naming its PEM key, synced with
    faults and a token NetSuite forgot (401, a new one), then tested, bundled and listed by the CLI."""
    caplog.set_level(logging.DEBUG)
    options = SandboxOptions(catalog=Catalog(seed=5, size=12, today=date(2026, 11, 27)), seed=5)
    atlas, netsuite = build_atlas(options), build_netsuite(options)
    netsuite.key_dir = tmp_path / "customer-keys"
    issued: list[str] = []
    grant = netsuite.m2m.grant

    def recording(form, token_url):  # type: ignore[no-untyped-def]
        answer = grant(form, token_url)
        issued.append(answer["access_token"])
        return answer

    netsuite.m2m.grant = recording  # type: ignore[method-assign]
    home = tmp_path / "profile"
    outputs: dict[str, subprocess.CompletedProcess[str]] = {}
    with running_sandbox(options, emulators=[netsuite, atlas]) as urls:
        m2m_file = netsuite.write_config_files(urls["netsuite"])["netsuite-m2m.json"]
        pem = Path(m2m_file["private_key"]).read_text()
        secrets: dict[str, str | bytes] = {**pem_forms(pem), "client_id": m2m_file["client_id"]}
        credentials = tmp_path / "netsuite-m2m.json"
        credentials.write_text(json.dumps(m2m_file))
        outputs["-v connections import"] = run_cli(home, "-v", "connections", "import", str(credentials))
        assert outputs["-v connections import"].returncode == 0, outputs["-v connections import"].stderr
        cid = outputs["-v connections import"].stdout.split()[-1]
        signin = run_cli(home, "signin", "--base-url", urls["atlas"], "--token-stdin", stdin=atlas.api_token)
        assert signin.returncode == 0, signin.stderr

        paths = ProfilePaths(home)
        with open_services(paths, key_source=PassphraseKeySource(paths.root, Secret(PASSPHRASE))) as services:
            engine = build_engine(services, sleep=no_sleep, atlas_options={"sleep": no_sleep})
            try:
                await engine.discover(cid)
                assert (await engine.sync(cid, approve=True)).status.value == "success"
                netsuite.m2m._tokens.clear()  # NetSuite forgets the token: a 401, then a new one
                netsuite.faults.add("status", path=".", status=503, times=1)
                netsuite.faults.add("status", path="inventoryAdjustment", method="POST", status=400, times=1)
                mapped = engine.repos.mappings.page(cid, status=MappingStatus.MATCHED, search=None, offset=0,
                                                    limit=3)  # fmt: skip
                for mapping in mapped:
                    if Decimal(atlas.row(mapping.atlas_inventory_id)["quantity"]) >= 1:
                        atlas.sell(mapping.atlas_inventory_id, Decimal(1))
                await engine.sync(cid, approve=True)
                netsuite.faults.rules.clear()
                netsuite.m2m.revoke(m2m_file["certificate_id"])  # a failing token step, logged and bundled
                report = await engine.test_connection(cid)
                assert not report.ok and any("revoked" in (step.cause or "") for step in report.steps)
            finally:
                await engine.aclose()
            bundle = build_bundle(services, tmp_path / "bundle.zip")

        for name, args in {
            "connections list --json": ("connections", "list", "--json"),
            "-v connections test": ("-v", "connections", "test", cid),
            # the renewal's new key waits in the vault; a wrong Certificate ID is refused and logged
            "-v connections renew-certificate": ("-v", "connections", "renew-certificate", cid),
            "-v connections renew-certificate --certificate-id": (
                "-v", "connections", "renew-certificate", cid, "--certificate-id", "Not-uploaded-id-0123"
            ),
            "-v diagnose": ("-v", "diagnose", "--out", str(tmp_path / "cli-bundle.zip")),
        }.items():  # fmt: skip
            outputs[name] = run_cli(home, *args)
            assert outputs[name].returncode in (0, 1), f"{name}: {outputs[name].stderr[-2000:]}"
        with open_services(paths, key_source=PassphraseKeySource(paths.root, Secret(PASSPHRASE))) as services:
            pending = services.connections.get_secret(cid, "pending_private_key")
    assert pending is not None and "Nothing was switched" in outputs[
        "-v connections renew-certificate --certificate-id"
    ].stdout
    secrets |= {f"pending_{k}": v for k, v in pem_forms(pending.reveal()).items()}
    assert len(issued) >= 2, "the token was never renewed"
    secrets |= {f"access_token_{i}": token for i, token in enumerate(issued)}
    assert "revoked" in outputs["-v connections test"].stdout

    found = scan_profile_and_bundles(home, [bundle.path, tmp_path / "cli-bundle.zip"], secrets)
    assert "atlas.db" in {Path(name).name for name in found}, "the profile is not there"
    for name, result in outputs.items():
        found[f"{name} stdout"] = hits(result.stdout.encode(), secrets)
        found[f"{name} stderr"] = hits(result.stderr.encode(), secrets)
    records = "\n".join(f"{r.getMessage()} {r.args!r} {r.exc_text or ''}" for r in caplog.records)
    found["log records"] = hits(records.encode(), secrets)
    assert {where: names for where, names in found.items() if names} == {}
