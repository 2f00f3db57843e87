"""`audit verify` against someone with SQL access to atlas.db but without the vault key (issue 26).

They drop the no-update trigger, edit an entry and re-seal the chain from there (and audit.head), first
with the plain SHA-256 an unkeyed chain would use, then with an HMAC under a key of their own. Each
forgery must make `audit verify` exit 1; so must deleting the key row from the vault.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SAP = {
    "erp_type": "sap",
    "environment": "cloud",
    "base_url": "https://my123456-api.s4hana.cloud.sap",
    "client_id": "SAP_COM_USER_CLIENT_77x",
    "client_secret": "Zq9!vT3#pL8@wR2$kN5^sapsecret",
}
FIELDS = ("id", "at", "actor", "source", "action", "connection_id", "subject", "details", "prev_hash")

Digest = Callable[[bytes], str]


def run_cli(home: Path, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "ATLAS_DESKTOP_HOME": str(home), "ATLAS_DESKTOP_PASSPHRASE": "forgery passphrase 1"}
    env["PYTHON_KEYRING_BACKEND"] = "keyring.backends.null.Keyring"
    env["PYTHONPATH"] = str(ROOT)
    return subprocess.run(
        [sys.executable, "-m", "atlas_desktop", *args],
        input=stdin, capture_output=True, text=True, env=env, cwd=ROOT, timeout=120,
    )  # fmt: skip


def sha256(payload: bytes) -> str:
    return hashlib.sha256(payload).hexdigest()


def hmac_with(key: bytes) -> Digest:
    return lambda payload: hmac.new(key, payload, hashlib.sha256).hexdigest()


def forge(home: Path, entry_id: int, digest: Digest) -> None:
    """Change entry `entry_id`'s actor, then recompute every digest and link from it on, and the head."""
    db = sqlite3.connect(home / "atlas.db")
    db.row_factory = sqlite3.Row
    try:
        db.execute("DROP TRIGGER IF EXISTS audit_log_no_update")
        db.execute("UPDATE audit_log SET actor = 'system' WHERE id = ?", (entry_id,))
        rows = db.execute("SELECT * FROM audit_log ORDER BY id").fetchall()
        prev = None
        for row in rows:
            record = {name: row[name] for name in FIELDS}
            record["details"] = json.loads(row["details"])
            if row["id"] >= entry_id:
                record["prev_hash"] = prev if prev is not None else row["prev_hash"]
                canonical = json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
                new_hash = digest(canonical.encode("utf-8"))
                db.execute(
                    "UPDATE audit_log SET prev_hash = ?, hash = ? WHERE id = ?",
                    (record["prev_hash"], new_hash, row["id"]),
                )
                prev = new_hash
            else:
                prev = row["hash"]
        db.commit()
        last_id = rows[-1]["id"]
    finally:
        db.close()
    (home / "audit.head").write_text(f"{last_id} {prev}\n", encoding="ascii")


@pytest.fixture
def home(tmp_path: Path) -> Path:
    home = tmp_path / "home"
    credentials = tmp_path / "sap.json"
    credentials.write_text(json.dumps(SAP))
    for _ in range(2):
        assert run_cli(home, "connections", "import", str(credentials)).returncode == 0
    signin = run_cli(
        home, "signin", "--base-url", "https://api.atlas.pharma", "--token-stdin",
        stdin="atl_live_4f9c2d7e1b8a6053c4d2e1f0a9b8c7d6",
    )  # fmt: skip
    assert signin.returncode == 0, signin.stderr
    verified = run_cli(home, "audit", "verify")
    assert verified.returncode == 0 and "intact: 3 entries" in verified.stdout, verified.stdout
    return home


@pytest.mark.parametrize(
    "digest", [sha256, hmac_with(b"k" * 32)], ids=["plain-sha256", "hmac-with-another-key"]
)
def test_an_edit_resealed_without_the_vault_key_fails_verify(home: Path, digest: Digest) -> None:
    forge(home, 2, digest)
    result = run_cli(home, "audit", "verify")
    assert result.returncode == 1, result.stdout
    assert "BROKEN: Entry 2" in result.stdout


def test_deleting_the_key_row_fails_verify(home: Path) -> None:
    db = sqlite3.connect(home / "atlas.db")
    try:
        deleted = db.execute("DELETE FROM secrets WHERE owner_id = 'profile'").rowcount
        db.commit()
    finally:
        db.close()
    assert deleted == 1
    result = run_cli(home, "audit", "verify")
    assert result.returncode == 1 and "key is missing" in result.stdout, result.stdout
    # The next append makes a new key; the entries sealed with the old one still fail.
    assert run_cli(home, "connections", "remove", "no-such-id").returncode == 1
    signin = run_cli(home, "signin", "--base-url", "https://api.atlas.pharma", "--token-stdin",
                     stdin="atl_live_4f9c2d7e1b8a6053c4d2e1f0a9b8c7d6")  # fmt: skip
    assert signin.returncode == 0, signin.stderr
    again = run_cli(home, "audit", "verify")
    assert again.returncode == 1 and "BROKEN: Entry 1" in again.stdout, again.stdout
