"""Connection and Atlas account repositories, and no credential in plain text on disk."""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from atlas_desktop.domain.connection import parse_connection
from atlas_desktop.domain.enums import (
    ConflictPolicy,
    ConnectionStatus,
    MappingStatus,
    OutboxStatus,
    SyncLogStatus,
)
from atlas_desktop.domain.errors import ConfigError
from atlas_desktop.domain.model import ErpType
from atlas_desktop.domain.secrets import Secret
from atlas_desktop.store.db import Store
from atlas_desktop.store.models import InventoryMappingRow, OutboxRow, SecretRow, WebhookRow
from atlas_desktop.store.repositories import (
    AtlasAccountRepository,
    ConnectionNotFound,
    ConnectionRepository,
)
from atlas_desktop.store.secret_owners import webhook_owner
from atlas_desktop.store.vault import PASSPHRASE_ENV, MemoryKeySource, Vault, VaultError, choose_key_source

NETSUITE_FILE = {
    "account_id": "1234567_sb1",
    "consumer_key": "a1" * 32,
    "consumer_secret": "b2" * 32,
    "token_id": "c3" * 32,
    "token_secret": "d4" * 32,
    "connection_name": "NetSuite sandbox",
}
SAP_FILE = {
    "erp_type": "sap",
    "environment": "on_premise",
    "base_url": "https://s4.example.com:44300",
    "sap_client": "100",
    "username": "ATLAS_SYNC",
    "password": "Sap-P4ssw0rd!xyz",
}


@pytest.fixture
def repo(store: Store, vault: Vault) -> ConnectionRepository:
    return ConnectionRepository(store, vault)


def test_add_get_list_remove(repo: ConnectionRepository, store: Store) -> None:
    netsuite = parse_connection(NETSUITE_FILE)
    sap = parse_connection(SAP_FILE)
    ns_id = repo.add(netsuite)
    sap_id = repo.add(sap)
    assert ns_id != sap_id

    loaded = repo.get(ns_id)
    assert loaded.erp_type is ErpType.NETSUITE
    assert loaded.name == "NetSuite sandbox"
    assert loaded.settings["account_id"] == "1234567_SB1"
    assert {k: v.reveal() for k, v in loaded.secrets.items()} == {
        k: v.reveal() for k, v in netsuite.secrets.items()
    }
    assert repo.get(sap_id).secrets["password"] == Secret("Sap-P4ssw0rd!xyz")

    summaries = repo.list()
    assert [s.name for s in summaries] == ["NetSuite sandbox", "SAP s4.example.com"]
    ns = summaries[0]
    assert ns.status is ConnectionStatus.PENDING and ns.sync_enabled is False
    assert ns.sync_frequency_minutes == 15 and ns.conflict_policy is ConflictPolicy.MANUAL
    assert ns.secret_fields == ("consumer_key", "consumer_secret", "token_id", "token_secret")
    assert "b2" * 32 not in repr(summaries)

    # Dependent rows and webhook secrets go with the connection.
    with store.session() as session:
        mapping = InventoryMappingRow(connection_id=ns_id, status=MappingStatus.MATCHED)
        session.add(mapping)
        session.add(WebhookRow(id="hook-1", connection_id=ns_id, bind_port=8700))
        session.flush()
        session.add(
            OutboxRow(
                connection_id=ns_id,
                mapping_id=mapping.id,
                target="erp",
                operation="adjust_stock",
                payload={"delta": "-5"},
                idempotency_key="k-1",
                status=OutboxStatus.PENDING,
            )
        )
    with store.session() as session:
        session.add(SecretRow(owner_id=webhook_owner("hook-1"), field="webhook_secret", ciphertext=b"x" * 40))
    assert repo.remove(ns_id, force=True).pending == 1  # the pending write is discarded with it
    assert [s.id for s in repo.list()] == [sap_id]
    with store.session() as session:
        owners = set(session.scalars(sa.select(SecretRow.owner_id)))
        assert owners == {sap_id}
        assert session.scalars(sa.select(InventoryMappingRow)).all() == []
        assert session.scalars(sa.select(OutboxRow)).all() == []


def test_unknown_id_is_a_clear_config_error(repo: ConnectionRepository) -> None:
    for call in (repo.get, repo.remove, repo.summary, lambda i: repo.update_settings(i, proxy=None)):
        with pytest.raises(ConnectionNotFound) as caught:
            call("nope")
        assert isinstance(caught.value, ConfigError) and caught.value.field == "connection_id"


def test_update_settings_merges_removes_and_refuses_credentials(repo: ConnectionRepository) -> None:
    connection_id = repo.add(parse_connection(SAP_FILE))
    repo.update_settings(connection_id, adjustment_account="5000", sap_client=None)
    settings = repo.summary(connection_id).settings
    assert settings["adjustment_account"] == "5000" and "sap_client" not in settings
    assert settings["base_url"] == "https://s4.example.com:44300"
    for bad in ({"password": "plain"}, {"note": Secret("in-disguise-123")}, {"when": datetime.now(UTC)}):
        with pytest.raises(ConfigError):
            repo.update_settings(connection_id, **bad)
    assert "password" not in repo.summary(connection_id).settings


def test_update_columns_record_sync_and_secrets(repo: ConnectionRepository) -> None:
    connection_id = repo.add(parse_connection(NETSUITE_FILE))
    repo.update(connection_id, status=ConnectionStatus.ACTIVE, sync_enabled=True, sync_frequency_minutes=5)
    with pytest.raises(ConfigError):
        repo.update(connection_id, sync_frequency_minutes=0)
    at = datetime(2024, 5, 1, 12, tzinfo=UTC)
    repo.record_sync(connection_id, status=SyncLogStatus.FAILED, at=at)
    repo.record_sync(connection_id, status=SyncLogStatus.FAILED, at=at)
    summary = repo.summary(connection_id)
    assert (summary.status, summary.sync_enabled, summary.sync_frequency_minutes) == (
        ConnectionStatus.ACTIVE,
        True,
        5,
    )
    assert summary.consecutive_failures == 2 and summary.last_sync_at == at
    repo.record_sync(connection_id, status=SyncLogStatus.SUCCESS, at=at)
    assert repo.summary(connection_id).consecutive_failures == 0

    repo.set_secret(connection_id, "token_secret", Secret("e5" * 32))
    assert repo.get_secret(connection_id, "token_secret") == Secret("e5" * 32)
    assert repo.get_secret(connection_id, "missing") is None


def test_secrets_need_the_same_key(store: Store, vault: Vault) -> None:
    connection_id = ConnectionRepository(store, vault).add(parse_connection(NETSUITE_FILE))
    with pytest.raises(VaultError):
        ConnectionRepository(store, Vault(MemoryKeySource())).get(connection_id)


def test_atlas_account_save_load_clear(store: Store, vault: Vault) -> None:
    accounts = AtlasAccountRepository(store, vault)
    assert accounts.load() is None
    accounts.save(
        "https://api.atlas.example/",
        "device",
        {"access_token": Secret("at-111111"), "refresh_token": Secret("rt-222222")},
        account_id="acc-9",
        company_name="Acme Pharma",
    )
    account = accounts.load()
    assert account is not None
    assert (account.base_url, account.auth_method, account.company_name) == (
        "https://api.atlas.example",
        "device",
        "Acme Pharma",
    )
    assert account.secrets["refresh_token"] == Secret("rt-222222")
    assert "rt-222222" not in repr(account)

    accounts.set_secret("access_token", Secret("at-333333"))
    assert accounts.get_secret("access_token") == Secret("at-333333")
    accounts.save("https://api.atlas.example", "api_token", {"api_token": Secret("tok-444444")})
    account = accounts.load()
    assert account is not None and set(account.secrets) == {"api_token"}  # save replaces all tokens

    with pytest.raises(ConfigError):
        accounts.save("http://atlas.example.com", "api_token", {})  # plain http off-machine
    accounts.clear()
    assert accounts.load() is None and accounts.get_secret("api_token") is None


def _encodings(value: str) -> list[bytes]:
    raw = value.encode()
    return [
        raw,
        base64.b64encode(raw).rstrip(b"="),
        base64.urlsafe_b64encode(raw).rstrip(b"="),
        value.encode("utf-16-le"),
    ]


def test_no_credential_reaches_any_file_in_plain_text(tmp_path: Path) -> None:
    data_dir = tmp_path / "profile"
    passphrase = "headless-passphrase-42"
    vault = Vault(choose_key_source(data_dir, env={PASSPHRASE_ENV: passphrase}))
    store = Store.open(data_dir / "atlas.db")
    netsuite, sap = parse_connection(NETSUITE_FILE), parse_connection(SAP_FILE)
    repo = ConnectionRepository(store, vault)
    repo.add(netsuite)
    repo.add(sap)
    AtlasAccountRepository(store, vault).save(
        "https://api.atlas.example", "api_token", {"api_token": Secret("atlas-token-5555")}
    )
    values = [s.reveal() for s in (*netsuite.secrets.values(), *sap.secrets.values())]
    values += ["atlas-token-5555", passphrase]
    key = vault.key_source.load_key()
    needles = [n for v in values for n in _encodings(v)] + [key, base64.b64encode(key)]

    def scan() -> list[str]:
        files = [p for p in data_dir.iterdir() if p.is_file()]
        assert {p.name for p in files} >= {"atlas.db", "vault.json"}
        return [p.name for p in files for needle in needles if needle in p.read_bytes()]

    with store.engine.connect():  # keep a connection open so the -wal file holds the writes
        assert (data_dir / "atlas.db-wal").exists()
        assert scan() == []
    store.close()
    assert scan() == []
