"""The CLI as scripts at headless sites use it: import, list, remove, signin — and no secret on disk."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

import pytest

NETSUITE = {
    "erp_type": "netsuite",
    "connection_name": "Main NetSuite",
    "account_id": "1234567_sb1",
    "consumer_key": "ef40afdd8abaac111b13825dd5e5e2ddddb44f86d5a0dd6dcf38c20aae6b67e4",
    "consumer_secret": "d26ad321a4b2f23b0741c8d38392ce01c3e23e109df6c96eac6d099e9ab9e8b5",
    "token_id": "2b0ce516420110bcbd36b69e99196d1b7f6de3c6234c5afb799b73d87569f5cc",
    "token_secret": "c29a677df7d5439a458c063654187e3d678d73aca8e3c9d8bea1478a3eb0d295",
}
SAP = {
    "erp_type": "sap",
    "environment": "cloud",
    "base_url": "https://my123456-api.s4hana.cloud.sap",
    "client_id": "SAP_COM_USER_CLIENT_77x",
    "client_secret": "Zq9!vT3#pL8@wR2$kN5^sapsecret",
    "scope": "API_MATERIAL_STOCK_SRV_0001",
}
ONPREM = {
    "erp_type": "sap",
    "environment": "on_premise",
    "base_url": "https://s4.corp.example.com:44300",
    "sap_client": "100",
    "username": "ATLAS_SYNC",
    "password": "OnPrem-Passw0rd-xyz",
}
ATLAS_TOKEN = "atl_live_4f9c2d7e1b8a6053c4d2e1f0a9b8c7d6"


def run_cli(home: Path, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "ATLAS_DESKTOP_HOME": str(home), "ATLAS_DESKTOP_PASSPHRASE": "test passphrase 1"}
    env["PYTHON_KEYRING_BACKEND"] = "keyring.backends.null.Keyring"
    return subprocess.run(
        [sys.executable, "-m", "atlas_desktop", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )


def write(tmp_path: Path, name: str, data: object) -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(data))
    return path


def secret_forms(values: list[str]) -> list[bytes]:
    forms: list[bytes] = []
    for value in values:
        raw = value.encode()
        forms += [raw, quote(value, safe="").encode(), base64.b64encode(raw).rstrip(b"=")]
    return forms


def test_import_list_remove_and_no_secret_on_disk(tmp_path: Path) -> None:
    home = tmp_path / "home"
    ids = []
    for name, data in (("ns.json", NETSUITE), ("sap.json", SAP), ("onprem.json", ONPREM)):
        result = run_cli(home, "connections", "import", str(write(tmp_path, name, data)))
        assert result.returncode == 0, result.stderr
        ids.append(result.stdout.strip().splitlines()[-1])
    assert len(set(ids)) == 3
    signin = run_cli(
        home, "signin", "--base-url", "https://api.atlas.pharma", "--token-stdin", stdin=ATLAS_TOKEN
    )
    assert signin.returncode == 0, signin.stderr

    listed = run_cli(home, "-v", "connections", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    rows = json.loads(listed.stdout)
    assert {row["id"] for row in rows} == set(ids)
    netsuite = next(row for row in rows if row["erp_type"] == "netsuite")
    assert netsuite["account_id"] == "1234567_SB1"  # sandbox realm casing fixed

    secrets = [
        v
        for d in (NETSUITE, SAP, ONPREM)
        for k, v in d.items()
        if k
        in {
            "consumer_key",
            "consumer_secret",
            "token_id",
            "token_secret",
            "client_id",
            "client_secret",
            "username",
            "password",
        }
    ] + [ATLAS_TOKEN]
    outputs = (listed.stdout + listed.stderr).encode()
    files = [p for p in home.rglob("*") if p.is_file()]
    assert any(p.name == "atlas.db" for p in files)
    for form in secret_forms(secrets):
        assert form not in outputs
        for path in files:
            assert form not in path.read_bytes(), f"secret found in {path.name}"

    removed = run_cli(home, "connections", "remove", ids[0])
    assert removed.returncode == 0, removed.stderr
    again = json.loads(run_cli(home, "connections", "list", "--json").stdout)
    assert ids[0] not in {row["id"] for row in again}


@pytest.mark.parametrize(
    "data, field",
    [
        ({**NETSUITE, "token_secret": "short"}, "token_secret"),
        ({**NETSUITE, "account_id": "12 34"}, "account_id"),
        ({k: v for k, v in NETSUITE.items() if k != "consumer_key"}, "consumer_key"),
        ({**SAP, "base_url": "http://sap.example.com"}, "base_url"),
        ({**ONPREM, "sap_client": None}, "sap_client"),
        ({**ONPREM, "sap_client": "1000"}, "sap_client"),
        ({"erp_type": "oracle-ebs"}, "erp_type"),
        ({**NETSUITE, "connection_name": "Main\u0000NetSuite"}, "connection_name"),
        ({**NETSUITE, "connection_name": "Main \u202eetiuSteN"}, "connection_name"),
        # Top-level fields smuggled in "settings" would skip their checks (here: https only).
        ({**NETSUITE, "settings": {"base_url": "http://evil.example.com"}}, "settings.base_url"),
        ({**SAP, "settings": {"proxy": "http://user:pw@proxy.example.com"}}, "settings.proxy"),
        ({**NETSUITE, "settings": {"adjustment_account_id": "abc"}}, "adjustment_account_id"),
        ({**NETSUITE, "settings": {"a": {"b": {"c": {"d": {"e": {"f": 1}}}}}}}, "settings.a"),
    ],
)
def test_invalid_file_names_the_field_and_stores_nothing(tmp_path: Path, data: dict, field: str) -> None:
    home = tmp_path / "home"
    result = run_cli(home, "connections", "import", str(write(tmp_path, "bad.json", data)))
    assert result.returncode == 1
    assert field in result.stderr
    assert "fix:" in result.stderr
    for value in data.values():
        if isinstance(value, str) and len(value) > 20:
            assert value not in result.stderr
    assert json.loads(run_cli(home, "connections", "list", "--json").stdout) == []


def test_malformed_json_is_refused_without_echoing_it(tmp_path: Path) -> None:
    home = tmp_path / "home"
    path = tmp_path / "broken.json"
    path.write_text('{"account_id": "1234567", "token_secret": "c29a677df7d5439a458c0636541')
    result = run_cli(home, "connections", "import", str(path))
    assert result.returncode == 1
    assert "not valid JSON" in result.stderr
    assert "c29a677df7d5439a458c0636541" not in result.stderr


def test_a_file_saved_with_a_byte_order_mark_is_read(tmp_path: Path) -> None:
    path = tmp_path / "notepad.json"
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps(NETSUITE).encode())
    result = run_cli(tmp_path / "home", "connections", "import", str(path))
    assert result.returncode == 0, result.stderr


def test_endless_input_is_refused_without_reading_it_all(tmp_path: Path) -> None:
    result = run_cli(tmp_path / "home", "connections", "import", "/dev/zero")
    assert result.returncode == 1
    assert "larger than 1 MB" in result.stderr and "Traceback" not in result.stderr


def test_import_from_stdin(tmp_path: Path) -> None:
    result = run_cli(tmp_path / "home", "connections", "import", "-", stdin=json.dumps(NETSUITE))
    assert result.returncode == 0, result.stderr
    assert len(result.stdout.strip().splitlines()[-1]) >= 32


def test_version_and_usage_errors(tmp_path: Path) -> None:
    version = run_cli(tmp_path, "--version")
    assert version.returncode == 0 and "atlas-desktop" in version.stdout
    usage = run_cli(tmp_path, "connections", "frobnicate")
    assert usage.returncode == 2


def test_unknown_connection_id_is_a_clear_error(tmp_path: Path) -> None:
    result = run_cli(tmp_path / "home", "connections", "test", "no-such-id")
    assert result.returncode == 1
    assert "no-such-id" in result.stderr


def test_connection_changes_and_signin_are_in_the_audit_trail(tmp_path: Path) -> None:
    home = tmp_path / "home"
    cid = run_cli(home, "connections", "import", str(write(tmp_path, "ns.json", NETSUITE))).stdout.split()[-1]
    run_cli(home, "signin", "--base-url", "https://api.atlas.pharma", "--token-stdin", stdin=ATLAS_TOKEN)
    run_cli(home, "connections", "remove", cid)
    export = tmp_path / "audit.json"
    assert run_cli(home, "audit", "export", "--format", "json", "--out", str(export)).returncode == 0
    actions = [entry["action"] for entry in json.loads(export.read_text())]
    assert actions == ["connection_added", "signin", "connection_removed"]
    assert run_cli(home, "audit", "verify").returncode == 0
    assert ATLAS_TOKEN not in export.read_text()


def test_an_existing_home_folder_keeps_its_mode_and_the_user_is_warned(tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o755)
    (shared / "notes.txt").write_text("not ours")
    result = run_cli(tmp_path, "--home", str(shared), "connections", "list")
    assert result.returncode == 0, result.stderr
    assert oct(shared.stat().st_mode & 0o777) == "0o755"
    assert "other users may open the folder" in result.stderr
    assert oct((shared / "logs").stat().st_mode & 0o777) == "0o700"  # what we create is private
    private = tmp_path / "new-profile"
    assert run_cli(tmp_path, "--home", str(private), "connections", "list").stderr == ""
    assert oct(private.stat().st_mode & 0o777) == "0o700"


def test_a_netsuite_oauth2_m2m_file_is_imported_with_its_key_in_the_vault(tmp_path: Path) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(65537, 2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    key_path = tmp_path / "netsuite-key.pem"
    key_path.write_text(pem)
    client_id = "9d2f6a1c4b7e8f0a3c5d6e7f8a9b0c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f6a7b"
    data = {"erp_type": "netsuite", "auth": "oauth2_m2m", "account_id": "1234567_SB1",
            "client_id": client_id, "certificate_id": "Zx8kQ2mN5pR7sT9vW1yA3cE5gI7kM9oQ",
            "private_key": str(key_path)}  # fmt: skip
    home = tmp_path / "home"
    result = run_cli(home, "-v", "connections", "import", str(write(tmp_path, "m2m.json", data)))
    assert result.returncode == 0, result.stderr
    listed = run_cli(home, "connections", "list", "--json")
    assert json.loads(listed.stdout)[0]["account_id"] == "1234567_SB1"

    body = "".join(pem.strip().splitlines()[1:-1])  # the key's base64, unwrapped
    forms = secret_forms([pem, client_id, body, pem.splitlines()[5]])
    outputs = (result.stdout + result.stderr + listed.stdout + listed.stderr).encode()
    files = [p for p in home.rglob("*") if p.is_file()]
    for form in forms:
        assert form not in outputs
        for path in files:
            assert form not in path.read_bytes(), f"secret found in {path.name}"
    # the vault holds the key itself: moving the PEM file does not break the connection
    assert str(key_path).encode() not in b"".join(p.read_bytes() for p in files if p.name == "atlas.db")


@pytest.mark.parametrize(
    ("private_key", "message"),
    [("/nonexistent/key.pem", "cannot be read"), ("{tmp}/not-a-key.pem", "not a PEM private key")],
)
def test_an_m2m_file_with_an_unreadable_key_is_refused(
    tmp_path: Path, private_key: str, message: str
) -> None:
    (tmp_path / "not-a-key.pem").write_text("hello")
    data = {"erp_type": "netsuite", "auth": "oauth2_m2m", "account_id": "1234567",
            "client_id": "abcdef123456", "certificate_id": "Zx8kQ2mN5pR7sT9v",
            "private_key": private_key.format(tmp=tmp_path)}  # fmt: skip
    result = run_cli(tmp_path / "home", "connections", "import", str(write(tmp_path, "m2m.json", data)))
    assert result.returncode != 0 and "private_key" in result.stderr and message in result.stderr


def test_text_lists_have_headers_and_say_when_they_are_empty(tmp_path: Path) -> None:
    home = tmp_path / "home"
    empty = run_cli(home, "connections", "list")
    assert empty.stdout.startswith("no connections yet"), empty.stdout
    imported = run_cli(home, "connections", "import", str(write(tmp_path, "ns.json", NETSUITE)))
    connection_id = imported.stdout.strip().splitlines()[-1]
    header, row = run_cli(home, "connections", "list").stdout.splitlines()
    assert header.split() == ["ID", "ERP", "STATUS", "STATE", "NAME", "ACCOUNT", "/", "ADDRESS"]
    assert row.startswith(connection_id) and row.endswith("1234567_SB1") and "Main NetSuite" in row
    assert row.index("netsuite") == header.index("ERP")  # the columns line up under their names
    assert json.loads(run_cli(home, "connections", "list", "--json").stdout)[0]["id"] == connection_id

    conflicts = run_cli(home, "conflicts", "list", connection_id)
    assert conflicts.returncode == 0, conflicts.stderr
    assert conflicts.stdout == f"no conflicts: nothing in {connection_id} waits for a decision\n"
    assert run_cli(home, "conflicts", "list", connection_id, "--json").stdout.strip() == "[]"


def test_renew_certificate_makes_a_new_one_and_switches_only_when_it_yields_a_token(tmp_path: Path) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    from atlas_desktop.app.paths import ProfilePaths
    from atlas_desktop.app.services import open_services
    from atlas_desktop.domain.secrets import Secret
    from atlas_desktop.store.keys import PassphraseKeySource

    pem = rsa.generate_private_key(65537, 2048).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    # NetSuite here is a closed loopback port: no token can come back.
    data = {"erp_type": "netsuite", "auth": "oauth2_m2m", "account_id": "1234567_SB1", "client_id": "c" * 64,
            "certificate_id": "Zx8kQ2mN5pR7sT9vW1yA3cE5gI7kM9oQ", "private_key": pem,
            "base_url": "http://127.0.0.1:9"}  # fmt: skip
    home = tmp_path / "home"
    assert run_cli(home, "connections", "import", str(write(tmp_path, "m2m.json", data))).returncode == 0
    cid = json.loads(run_cli(home, "connections", "list", "--json").stdout)[0]["id"]
    started = run_cli(home, "connections", "renew-certificate", cid)
    assert started.returncode == 0, started.stderr
    assert "OAuth 2.0 Client Credentials (M2M) Setup" in started.stdout
    made = list((home / "certificates").glob("*.pem"))
    assert len(made) == 1 and str(made[0]) in started.stdout
    assert b"PRIVATE KEY" not in b"".join(p.read_bytes() for p in home.rglob("*") if p.is_file())
    again = run_cli(home, "connections", "renew-certificate", cid)
    assert str(made[0]) in again.stdout  # the waiting certificate, not another one

    refused = run_cli(home, "connections", "renew-certificate", cid, "--certificate-id", "New-cert-id-42")
    assert refused.returncode == 1 and "Nothing was switched" in refused.stdout
    key_source = PassphraseKeySource(home, Secret("test passphrase 1"))
    with open_services(ProfilePaths(home), key_source=key_source) as services:
        kept = services.connections.get(cid)
    assert kept.settings["certificate_id"] == data["certificate_id"]
    assert kept.secrets["private_key"].reveal().strip() == pem.strip()
    assert "pending_private_key" in kept.secrets  # still waiting for an ID that works


def test_an_m2m_file_naming_a_certificate_the_app_made_is_imported_with_its_key(tmp_path: Path) -> None:
    """A site without the window: `new-certificate` makes the pair, the user uploads the certificate, and
    the import names that certificate instead of a key; the connection test then gets a token with it."""
    from datetime import date

    import sqlalchemy as sa

    from atlas_desktop.app.paths import ProfilePaths
    from atlas_desktop.app.services import open_services
    from atlas_desktop.domain.m2m_certificate import CERTIFICATE_EXPIRES
    from atlas_desktop.domain.secrets import Secret
    from atlas_desktop.sandbox.catalog import Catalog
    from atlas_desktop.sandbox.netsuite import build as build_netsuite
    from atlas_desktop.sandbox.netsuite.m2m import DEFAULT_ROLE
    from atlas_desktop.sandbox.registry import SandboxOptions
    from atlas_desktop.sandbox.server import running_sandbox
    from atlas_desktop.store.keys import PassphraseKeySource

    home = tmp_path / "home"
    made = run_cli(home, "connections", "new-certificate", "--account-id", "1234567_SB1")
    assert made.returncode == 0, made.stderr
    certificates = list((home / "certificates").glob("*.pem"))
    assert len(certificates) == 1 and str(certificates[0]) in made.stdout
    assert "OAuth 2.0 Client Credentials (M2M) Setup" in made.stdout
    assert b"PRIVATE KEY" not in b"".join(p.read_bytes() for p in home.rglob("*") if p.is_file())

    options = SandboxOptions(catalog=Catalog(seed=5, size=12, today=date(2026, 11, 27)), seed=5)
    netsuite = build_netsuite(options)
    certificate_id = netsuite.m2m.upload_certificate(  # the user's upload on NetSuite's M2M Setup page
        netsuite.integration.client_id, "Atlas Integration User", DEFAULT_ROLE, certificates[0].read_bytes()
    )
    with running_sandbox(options, emulators=[netsuite]) as urls:
        data = {"erp_type": "netsuite", "auth": "oauth2_m2m", "account_id": netsuite.account_id,
                "client_id": netsuite.integration.client_id, "certificate_id": certificate_id,
                "certificate": str(certificates[0]), "base_url": urls["netsuite"]}  # fmt: skip
        imported = run_cli(home, "connections", "import", str(write(tmp_path, "m2m.json", data)))
        assert imported.returncode == 0, imported.stderr + imported.stdout
        cid = imported.stdout.split()[-1]
        tested = run_cli(home, "connections", "test", cid)
    assert "OAuth 2.0 access token" in tested.stdout and netsuite.m2m.tokens_issued >= 1, tested.stdout
    assert netsuite.m2m.failures == []
    key_source = PassphraseKeySource(home, Secret("test passphrase 1"))
    with open_services(ProfilePaths(home), key_source=key_source) as services:
        stored = services.connections.get(cid)
        with services.store.session() as session:
            left = sa.text("SELECT count(*) FROM secrets WHERE field LIKE 'm2m_waiting_key:%'")
            waiting = session.execute(left).scalar()
    assert stored.secrets["private_key"].reveal().startswith("-----BEGIN PRIVATE KEY-----")
    assert stored.settings["certificate_id"] == certificate_id and CERTIFICATE_EXPIRES in stored.settings
    assert waiting == 0  # the key moved to the connection: no second copy waits in the vault
    body = "".join(stored.secrets["private_key"].reveal().strip().splitlines()[1:-1]).encode()
    assert not [p.name for p in home.rglob("*") if p.is_file() and body in p.read_bytes()]
    assert body not in (made.stdout + imported.stdout + imported.stderr + tested.stdout).encode()
    again = run_cli(home, "connections", "import", str(write(tmp_path, "m2m.json", data)))
    assert again.returncode != 0 and "private_key" in again.stderr  # it was used up by the first import


def test_an_m2m_file_naming_a_certificate_made_elsewhere_without_a_key_is_refused(tmp_path: Path) -> None:
    certificate = tmp_path / "someone-elses.pem"
    certificate.write_text("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n")
    data = {"erp_type": "netsuite", "auth": "oauth2_m2m", "account_id": "1234567",
            "client_id": "abcdef123456", "certificate_id": "Zx8kQ2mN5pR7sT9v",
            "certificate": str(certificate)}  # fmt: skip
    result = run_cli(tmp_path / "home", "connections", "import", str(write(tmp_path, "m2m.json", data)))
    assert result.returncode != 0 and "private_key" in result.stderr and "new-certificate" in result.stderr


def test_renew_certificate_switches_once_the_uploaded_certificate_yields_a_token(tmp_path: Path) -> None:
    from datetime import date

    from atlas_desktop.app.paths import ProfilePaths
    from atlas_desktop.app.services import open_services
    from atlas_desktop.domain.secrets import Secret
    from atlas_desktop.sandbox.catalog import Catalog
    from atlas_desktop.sandbox.netsuite import build as build_netsuite
    from atlas_desktop.sandbox.netsuite.m2m import DEFAULT_ROLE
    from atlas_desktop.sandbox.registry import SandboxOptions
    from atlas_desktop.sandbox.server import running_sandbox
    from atlas_desktop.store.keys import PassphraseKeySource

    options = SandboxOptions(catalog=Catalog(seed=5, size=12, today=date(2026, 11, 27)), seed=5)
    netsuite = build_netsuite(options)
    netsuite.key_dir = tmp_path / "customer-keys"
    home = tmp_path / "home"
    with running_sandbox(options, emulators=[netsuite]) as urls:
        content = netsuite.write_config_files(urls["netsuite"])["netsuite-m2m.json"]
        imported = run_cli(home, "connections", "import", str(write(tmp_path, "m2m.json", content)))
        assert imported.returncode == 0, imported.stderr
        cid = imported.stdout.split()[-1]
        started = run_cli(home, "connections", "renew-certificate", cid)
        assert started.returncode == 0, started.stderr
        pem = next((home / "certificates").glob("*.pem")).read_bytes()
        new_id = netsuite.m2m.upload_certificate(
            netsuite.integration.client_id, "Atlas Integration User", DEFAULT_ROLE, pem
        )
        switched = run_cli(home, "connections", "renew-certificate", cid, "--certificate-id", new_id)
        assert switched.returncode == 0, switched.stdout + switched.stderr
        assert "Switched" in switched.stdout and "from its next run on" in switched.stdout
        netsuite.m2m.revoke(content["certificate_id"])
        tested = run_cli(home, "connections", "test", cid)  # a new process: the new key only
    assert tested.returncode == 0, tested.stdout
    key_source = PassphraseKeySource(home, Secret("test passphrase 1"))
    with open_services(ProfilePaths(home), key_source=key_source) as services:
        stored = services.connections.get(cid)
    assert stored.settings["certificate_id"] == new_id and "pending_private_key" not in stored.secrets
