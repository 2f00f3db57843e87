"""The vault refuses what would hang it, lose the credentials, or leak the passphrase to children."""

from __future__ import annotations

import base64
import json
import os
import time
from pathlib import Path

import pytest

from atlas_desktop.app import commands
from atlas_desktop.app.paths import profile_paths
from atlas_desktop.app.services import open_services
from atlas_desktop.cli import build_parser
from atlas_desktop.domain.connection import parse_connection
from atlas_desktop.domain.secrets import Secret
from atlas_desktop.store.keys import take_env_passphrase
from atlas_desktop.store.vault import PASSPHRASE_ENV, PassphraseKeySource, VaultError, choose_key_source

NETSUITE = {
    "erp_type": "netsuite", "connection_name": "Main", "account_id": "1234567",
    "consumer_key": "a" * 64, "consumer_secret": "b" * 64, "token_id": "c" * 64, "token_secret": "d" * 64,
}  # fmt: skip


def _vault_record(tmp_path: Path) -> dict[str, object]:
    PassphraseKeySource(tmp_path, Secret("correct horse battery staple"), n=2**14).load_key()
    return json.loads((tmp_path / "vault.json").read_text())


@pytest.mark.parametrize(
    "change",
    [
        {"n": 2.0**14},  # a float
        {"n": True},
        {"n": 3 * 2**13},  # not a power of two: scrypt itself raises
        {"r": 0},
        {"p": 0},
        {"r": "8"},
        {"salt": base64.b64encode(b"x").decode()},
        {"check": base64.b64encode(b"short").decode()},
        {"n": 2**20, "r": 32, "p": 16},  # inside the old bounds, minutes of work
        {"n": 2**20, "r": 8, "p": 1},  # 1 GiB of memory
    ],
)
def test_bad_or_costly_key_settings_are_refused(tmp_path: Path, change: dict[str, object]) -> None:
    record = {**_vault_record(tmp_path), **change}
    (tmp_path / "vault.json").write_text(json.dumps(record))
    started = time.monotonic()
    with pytest.raises(VaultError) as refused:
        PassphraseKeySource(tmp_path, Secret("correct horse battery staple")).load_key()
    assert time.monotonic() - started < 2.0
    assert "vault.json" in refused.value.message and refused.value.fix


def test_a_missing_vault_file_is_reported_not_replaced_by_a_new_key(tmp_path: Path) -> None:
    env = {PASSPHRASE_ENV: "correct horse battery staple"}
    paths = profile_paths(tmp_path / "profile")
    with open_services(paths, env=env) as services:
        services.connections.add(parse_connection(NETSUITE))
    (paths.root / "vault.json").unlink()
    with pytest.raises(VaultError) as refused:
        with open_services(paths, env=env):
            pass
    assert str(paths.root) in refused.value.message and "backup" in refused.value.fix
    assert not (paths.root / "vault.json").exists()  # nothing was made up


def test_a_new_profile_needs_a_passphrase_of_eight_characters(tmp_path: Path) -> None:
    with pytest.raises(VaultError) as refused:
        choose_key_source(tmp_path, env={PASSPHRASE_ENV: "short"})
    assert "8 characters" in refused.value.message
    assert not (tmp_path / "vault.json").exists()
    choose_key_source(tmp_path, env={PASSPHRASE_ENV: "eight ch"})


def test_the_passphrase_leaves_the_process_environment_once_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    environ = {PASSPHRASE_ENV: "correct horse battery staple", "OTHER": "1"}
    assert take_env_passphrase(environ) == {PASSPHRASE_ENV: "correct horse battery staple"}
    assert environ == {"OTHER": "1"} and take_env_passphrase(environ) == {}

    monkeypatch.setenv(PASSPHRASE_ENV, "correct horse battery staple")
    args = build_parser().parse_args(["--home", str(tmp_path / "p"), "connections", "list"])
    assert commands.dispatch(args) == 0
    assert PASSPHRASE_ENV not in os.environ
