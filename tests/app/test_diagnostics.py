"""The diagnostics bundle: everything support needs, and not one stored secret in any form."""

from __future__ import annotations

import argparse
import base64
import json
import stat
import zipfile
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote, quote_plus

import pytest

from atlas_desktop.app import diagnostics
from atlas_desktop.app.diagnostics import Scrubber, build_bundle, run_diagnose
from atlas_desktop.app.paths import profile_paths
from atlas_desktop.app.services import Services, open_services
from atlas_desktop.domain.connection import parse_connection
from atlas_desktop.domain.enums import SyncDirection, SyncLogStatus, SyncType
from atlas_desktop.domain.errors import ConfigError
from atlas_desktop.domain.model import ConnectionReport, StepResult
from atlas_desktop.domain.secrets import Secret
from atlas_desktop.store.repositories import ConnectionNotFound
from atlas_desktop.store.runs import RunRepository
from atlas_desktop.store.vault import MemoryKeySource, Vault, VaultError

NETSUITE = {
    "erp_type": "netsuite",
    "connection_name": "Main NetSuite",
    "account_id": "1234567_sb1",
    "consumer_key": "ef40afdd8abaac111b13825dd5e5e2ddddb44f86d5a0dd6dcf38c20aae6b67e4",
    "consumer_secret": "d26ad321a4b2f23b0741c8d38392ce01c3e23e109df6c96eac6d099e9ab9e8b5",
    "token_id": "2b0ce516420110bcbd36b69e99196d1b7f6de3c6234c5afb799b73d87569f5cc",
    "token_secret": "c29a677df7d5439a458c063654187e3d678d73aca8e3c9d8bea1478a3eb0d295",
    # Not a field the store knows as a secret, but named like one: it must not reach the bundle.
    "settings": {"partner_api_key": "pk-live-7d1e0c55aa93"},
}
SAP = {
    "erp_type": "sap",
    "environment": "cloud",
    "connection_name": "SAP Cloud",
    "base_url": "https://my123456-api.s4hana.cloud.sap",
    "client_id": "SAP_COM_USER_CLIENT_77x",
    "client_secret": "Zq9!vT3#pL8@wR2$kN5^sapsecret",
    "scope": "API_MATERIAL_STOCK_SRV_0001",
}
ATLAS_TOKEN = "atl_live_4f9c2d7e1b8a6053c4d2e1f0a9b8c7d6"
PROXY_PASSWORD = "pr0xy-Pa55word"
SECRET_KEYS = {"consumer_key", "consumer_secret", "token_id", "token_secret", "client_id", "client_secret"}
SECRETS = [v for d in (NETSUITE, SAP) for k, v in d.items() if k in SECRET_KEYS] + [ATLAS_TOKEN]


def forms_of(value: str) -> list[bytes]:
    raw = value.encode()
    return [
        raw,
        quote(value, safe="").encode(),
        quote_plus(value).encode(),
        base64.b64encode(raw).rstrip(b"="),
        base64.urlsafe_b64encode(raw).rstrip(b"="),
    ]


def leaked_log() -> str:
    """Log lines as a broken handler might have written them: every secret, raw and encoded."""
    ns_key, ns_secret = NETSUITE["consumer_key"], NETSUITE["consumer_secret"]
    basic = base64.b64encode(f"{SAP['client_id']}:{SAP['client_secret']}".encode()).decode()
    token_b64 = base64.b64encode(ATLAS_TOKEN.encode()).decode()
    return "".join(
        f"2024-05-01 10:00:0{n},000 DEBUG   {line}\n"
        for n, line in enumerate(
            [
                f"atlas.netsuite: signing with {ns_key}&{ns_secret}",
                f"atlas.sap: POST /token body=grant&x={quote(SAP['client_secret'])}",
                f"atlas.sap: header {basic}",
                f"atlas.atlas: tok={ATLAS_TOKEN} b64={token_b64}",
                f"atlas.netsuite: token {NETSUITE['token_id']} / {NETSUITE['token_secret']}",
                "atlas.engine: run 1 finished: 3 synced, 1 failed",
            ]
        )
    )


@pytest.fixture
def services(tmp_path: Path) -> Iterator[Services]:
    paths = profile_paths(tmp_path / "profile")
    with open_services(paths, key_source=MemoryKeySource()) as opened:
        yield opened


@pytest.fixture
def populated(services: Services) -> dict[str, str]:
    ns_id = services.connections.add(parse_connection(NETSUITE))
    sap_id = services.connections.add(parse_connection(SAP))
    services.atlas_accounts.save(
        base_url="https://api.atlas.pharma",
        auth_method="api_token",
        secrets={"api_token": Secret(ATLAS_TOKEN)},
    )
    services.settings.set("proxy", f"https://proxyuser:{PROXY_PASSWORD}@proxy.example.com:8080")
    runs = RunRepository(services.store)
    for _ in range(3):
        run_id = runs.start(ns_id, SyncType.INCREMENTAL, SyncDirection.BIDIRECTIONAL)
        runs.add_item_error(
            run_id,
            ns_id,
            None,
            "NDC 0002-1433-80",
            {"kind": "validation", "message": "Location 7 is inactive", "fix": "Activate it in NetSuite."},
        )
        runs.finish(
            run_id,
            status=SyncLogStatus.PARTIAL,
            items_synced=41,
            items_failed=1,
            items_skipped=0,
            api_calls_made=17,
            api_errors=1,
            conflicts_opened=0,
            in_doubt=0,
            error_message=f"1 item failed (request signed with {NETSUITE['token_secret']})",
        )
    # Written straight to the files, past the redacting record factory, so only the bundle's own
    # scrubber stands between these lines and the zip.
    services.paths.log_file.write_text(leaked_log(), encoding="utf-8")
    (services.paths.logs / "atlas-desktop.log.1").write_text(leaked_log(), encoding="utf-8")
    return {"netsuite": ns_id, "sap": sap_id}


def read_zip(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def assert_no_secret(members: dict[str, bytes], values: list[str]) -> None:
    for name, data in members.items():
        for value in values:
            for form in forms_of(value):
                assert form not in data, f"a form of a stored secret is in {name}"


def test_bundle_has_no_secret_and_says_what_it_scrubbed(
    services: Services, populated: dict[str, str], tmp_path: Path
) -> None:
    reports = {
        populated["sap"]: ConnectionReport(
            steps=(
                StepResult("Address reachable", ok=True),
                StepResult(
                    "Sign in",
                    ok=False,
                    cause=f"client {SAP['client_id']} was refused",
                    fix="Check the communication arrangement.",
                ),
            )
        )
    }
    out = tmp_path / "bundle.zip"
    summary = build_bundle(services, out, test_reports=reports)

    members = read_zip(out)
    assert summary.path == out and summary.bytes == out.stat().st_size
    assert set(summary.files) == set(members)
    assert {
        "manifest.json",
        "settings.json",
        "connections.json",
        "sync_logs.json",
        "item_errors.json",
        "connection_test.json",
        "logs/atlas-desktop.log",
        "logs/atlas-desktop.log.1",
    } == set(members)
    assert_no_secret(members, [*SECRETS, PROXY_PASSWORD, "pk-live-7d1e0c55aa93"])

    manifest = json.loads(members["manifest.json"])
    assert manifest["scrubbed"] == summary.scrubbed > 0
    assert {entry["name"] for entry in manifest["files"]} == set(members) - {"manifest.json"}
    assert manifest["app_version"] and manifest["python"]["version"] and manifest["os"]["system"]
    assert manifest["created_at"].endswith("+00:00")
    assert manifest["secrets_unreadable"] == 0

    connections = {c["id"]: c for c in json.loads(members["connections.json"])}
    assert set(connections) == set(populated.values())
    netsuite = connections[populated["netsuite"]]
    assert netsuite["name"] == "Main NetSuite" and netsuite["erp_type"] == "netsuite"
    assert netsuite["settings"]["account_id"] == "1234567_SB1"
    assert netsuite["settings"]["partner_api_key"] == "****"
    assert netsuite["secret_fields"] == ["consumer_key", "consumer_secret", "token_id", "token_secret"]
    assert netsuite["consecutive_failures"] == 0 and netsuite["last_sync_status"] == "partial"
    assert connections[populated["sap"]]["settings"]["scope"] == "API_MATERIAL_STOCK_SRV_0001"

    runs = json.loads(members["sync_logs.json"])[populated["netsuite"]]
    assert len(runs) == 3 and runs[0]["items_synced"] == 41 and runs[0]["api_calls_made"] == 17
    assert "****" in runs[0]["error_message"]
    errors = json.loads(members["item_errors.json"])[populated["netsuite"]]
    assert [e["message"] for e in errors] == ["Location 7 is inactive"] * 3

    settings = json.loads(members["settings.json"])
    assert settings["proxy"] == "https://****@proxy.example.com:8080"
    test = json.loads(members["connection_test.json"])[populated["sap"]]
    assert test["ok"] is False and test["steps"][1]["fix"] == "Check the communication arrangement."

    log_text = members["logs/atlas-desktop.log"].decode()
    assert "run 1 finished: 3 synced, 1 failed" in log_text  # ordinary lines survive
    assert log_text.count("****") >= 6


def test_bundle_file_is_private_and_written_atomically(
    services: Services, populated: dict[str, str], tmp_path: Path
) -> None:
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    out = out_dir / "diag.zip"
    build_bundle(services, out)
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert [p.name for p in out_dir.iterdir()] == ["diag.zip"]  # no temp file left behind
    with zipfile.ZipFile(out) as archive:
        assert archive.testzip() is None


def test_vault_scan_alone_catches_every_stored_secret(
    services: Services, populated: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # With the pattern-based redaction switched off, the scan for the vault's own values must suffice.
    monkeypatch.setattr(diagnostics, "redact", lambda text: text)
    out = tmp_path / "bundle.zip"
    summary = build_bundle(services, out)
    assert_no_secret(read_zip(out), SECRETS)
    assert summary.scrubbed >= 2 * 10  # two log files, each with at least ten leaked forms


def test_one_connection_only(services: Services, populated: dict[str, str], tmp_path: Path) -> None:
    out = tmp_path / "one.zip"
    build_bundle(services, out, connection_id=populated["sap"])
    members = read_zip(out)
    assert [c["id"] for c in json.loads(members["connections.json"])] == [populated["sap"]]
    assert list(json.loads(members["sync_logs.json"])) == [populated["sap"]]
    assert "connection_test.json" not in members
    # Secrets of the other connections are still scanned for: the logs mention them.
    assert_no_secret(members, SECRETS)
    with pytest.raises(ConnectionNotFound):
        build_bundle(services, tmp_path / "none.zip", connection_id="no-such-id")
    assert not (tmp_path / "none.zip").exists()


def test_bad_output_path_says_what_to_do(services: Services, tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as missing:
        build_bundle(services, tmp_path / "missing" / "b.zip")
    assert "does not exist" in missing.value.message and missing.value.fix
    with pytest.raises(ConfigError):
        build_bundle(services, tmp_path)


def test_cli_handler_prints_path_and_size(
    services: Services, populated: dict[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "cli.zip"
    code = run_diagnose(argparse.Namespace(id=populated["netsuite"], out=str(out)), services)
    assert code == 0
    printed = capsys.readouterr()
    assert str(out) in printed.out and f"{out.stat().st_size:,} bytes" in printed.out
    assert "(s)" not in printed.err  # "1 secret value was found", "3 secret values were found"
    assert_no_secret({"stdout": printed.out.encode(), "stderr": printed.err.encode()}, SECRETS)


@pytest.mark.parametrize("prefix", ["", "u:", "us:", "use:"])
def test_scrubber_finds_base64_at_any_alignment(prefix: str) -> None:
    value = 's3cr3t-Value"with\\quote'
    scrub = Scrubber([value])
    encoded = base64.b64encode((prefix + value).encode()).decode()
    as_json = json.dumps({"v": value})
    text = scrub(f"Authorization header was {encoded}\n{as_json}\n")
    assert encoded not in text and value not in text
    assert json.dumps(value)[1:-1] not in text
    assert scrub.count >= 2


def test_short_values_are_not_scanned_in_encoded_forms() -> None:
    # A 4-character password is masked as itself, but its 4-character encodings would eat ordinary words.
    scrub = Scrubber(["abcd"])
    assert scrub("xx abcd yy YWJj") == "xx **** yy YWJj"


class LockedKey:
    """A key source whose key cannot be had (keyring gone, passphrase refused): loaded at most once."""

    description = "locked"

    def __init__(self) -> None:
        self.calls = 0

    def load_key(self) -> bytes:
        self.calls += 1
        raise VaultError("The keyring is not available.")


def test_locked_vault_still_gives_a_bundle_and_says_so(
    services: Services, populated: dict[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    locked = LockedKey()
    services.vault = Vault(locked)  # type: ignore[arg-type]
    out = tmp_path / "locked.zip"
    assert run_diagnose(argparse.Namespace(id=None, out=str(out)), services) == 0
    manifest = json.loads(read_zip(out)["manifest.json"])
    assert manifest["secrets_unreadable"] == 9  # 4 NetSuite, 2 SAP, Atlas token, audit key, proxy password
    assert locked.calls == 1  # one prompt/attempt, not one per stored value
    err = capsys.readouterr().err
    assert "warning: 9 stored credentials could not be decrypted" in err and "(s)" not in err


def test_cli_bundle_carries_the_latest_connection_test_of_each_connection(
    services: Services, populated: dict[str, str], tmp_path: Path
) -> None:
    # Recorded where any test is run (the CLI's `connections test`, the engine for the window and API).
    failed = ConnectionReport(
        steps=(
            StepResult("Reach the server", ok=True, detail="200 in 80 ms"),
            StepResult(
                "Sign in",
                ok=False,
                cause=f"token {NETSUITE['token_secret']} refused",
                fix="Create a new token.",
            ),
        )
    )
    services.test_reports.record(populated["netsuite"], failed)
    services.test_reports.record(populated["sap"], ConnectionReport(steps=(StepResult("Sign in", ok=True),)))
    out = tmp_path / "cli.zip"
    assert run_diagnose(argparse.Namespace(id=None, out=str(out)), services) == 0
    members = read_zip(out)
    tests = json.loads(members["connection_test.json"])
    assert tests[populated["netsuite"]]["ok"] is False
    assert [step["name"] for step in tests[populated["netsuite"]]["steps"]] == ["Reach the server", "Sign in"]
    assert tests[populated["sap"]]["ok"] is True and "tested_at" in tests[populated["sap"]]
    assert_no_secret(members, SECRETS)
    # Nor does the kept file itself hold the secret a remote error echoed.
    assert NETSUITE["token_secret"] not in services.test_reports.path.read_text(encoding="utf-8")


def test_engine_keeps_the_latest_test_for_the_bundle(services: Services, tmp_path: Path) -> None:
    import asyncio

    from atlas_desktop.app.engine_setup import build_engine

    ns_id = services.connections.add(parse_connection(NETSUITE))
    engine = build_engine(services)
    report = ConnectionReport(
        steps=(StepResult("Sign in", ok=False, cause="refused", fix="Check the role."),)
    )

    class Tested:
        async def test_connection(self) -> ConnectionReport:
            return report

        async def aclose(self) -> None:
            return None

    async def run() -> None:
        engine._erp[ns_id] = Tested()  # type: ignore[assignment]
        try:
            await engine.test_connection(ns_id)
        finally:
            await engine.aclose()

    asyncio.run(run())
    assert services.test_reports.all()[ns_id]["steps"][0]["fix"] == "Check the role."
