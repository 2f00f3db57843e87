"""Proxy passwords are credentials: vaulted, masked in every output, write-only, moved out of old profiles."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import pytest

from atlas_desktop.app.api.management import connection_json
from atlas_desktop.app.paths import ProfilePaths
from atlas_desktop.app.services import open_services
from atlas_desktop.app.settings import AppSettings
from atlas_desktop.connectors.http import HttpSettings, proxy_for
from atlas_desktop.domain.connection import parse_connection
from atlas_desktop.domain.errors import ConfigError
from atlas_desktop.domain.secrets import MASK, Secret, redact
from atlas_desktop.engine.factory import with_network_defaults
from atlas_desktop.store.keys import MemoryKeySource

PASSWORD = "Pr0xy-pass!word#1"
PROXY = "https://proxyuser:Pr0xy-pass%21word%231@proxy.example.com:3128"
MASKED = "https://proxyuser:****@proxy.example.com:3128"
NETSUITE = {
    "erp_type": "netsuite",
    "account_id": "1234567",
    "consumer_key": "a" * 64,
    "consumer_secret": "b" * 64,
    "token_id": "c" * 64,
    "token_secret": "d" * 64,
}


class CountingKey(MemoryKeySource):
    """A memory key that counts how often the vault asked for it."""

    def __init__(self) -> None:
        super().__init__()
        self.loads = 0

    def load_key(self) -> bytes:
        self.loads += 1
        return super().load_key()


@pytest.fixture
def paths(tmp_path: Path) -> ProfilePaths:
    return ProfilePaths(tmp_path / "profile")


def raw_profile(paths: ProfilePaths) -> bytes:
    files = [paths.database, paths.database.with_name(paths.database.name + "-wal"), paths.settings]
    return b"".join(path.read_bytes() for path in files if path.exists())


@pytest.mark.parametrize("where", ["top", "settings"])
def test_a_credentials_file_proxy_password_becomes_a_secret(where: str) -> None:
    data: dict[str, Any] = {**NETSUITE, "proxy": PROXY}
    if where == "settings":
        data = {**NETSUITE, "settings": {"proxy": PROXY}}  # the file's settings object is checked too
    spec = parse_connection(data)
    assert spec.settings["proxy"] == MASKED
    assert spec.secrets["proxy_password"].reveal() == PASSWORD
    assert PASSWORD not in repr(spec)
    without = parse_connection({**NETSUITE, "proxy": "https://proxy.example.com:3128"})
    assert without.settings["proxy"] == "https://proxy.example.com:3128"
    assert "proxy_password" not in without.secrets
    with pytest.raises(ConfigError, match=r"\*\*\*\*"):
        parse_connection({**NETSUITE, "proxy": MASKED})  # a new connection has no stored password


def test_connection_proxy_is_write_only_through_the_repository(paths: ProfilePaths) -> None:
    with open_services(paths, key_source=MemoryKeySource()) as services:
        cid = services.connections.add(parse_connection({**NETSUITE, "proxy": PROXY}))
        summary = services.connections.summary(cid)
        assert summary.settings["proxy"] == MASKED and "proxy_password" in summary.secret_fields
        assert json.dumps(connection_json(summary)).count(PASSWORD) == 0
        # The masked address as shown keeps the stored password ...
        services.connections.update_settings(cid, proxy=MASKED)
        assert services.connections.get(cid).secrets["proxy_password"].reveal() == PASSWORD
        # ... but not for another address: that would send it to a host it was not given for.
        with pytest.raises(ConfigError, match="not stored"):
            services.connections.update_settings(cid, proxy="https://proxyuser:****@evil.example.com:3128")
        services.connections.update_settings(cid, proxy="https://other:New-pass-2@proxy.example.com:3128")
        spec = services.connections.get(cid)
        assert spec.settings["proxy"] == "https://other:****@proxy.example.com:3128"
        assert spec.secrets["proxy_password"].reveal() == "New-pass-2"
        services.connections.update_settings(cid, proxy=None)
        assert "proxy" not in services.connections.summary(cid).settings
        assert "proxy_password" not in services.connections.get(cid).secrets
        # A spec built by hand (not through parse_connection) is split all the same.
        hand = parse_connection(NETSUITE)
        other = services.connections.add(replace(hand, settings={**hand.settings, "proxy": PROXY}))
        assert services.connections.summary(other).settings["proxy"] == MASKED
    assert PASSWORD.encode() not in raw_profile(paths)


def test_app_proxy_password_is_vaulted_and_follows_the_app_proxy_only(paths: ProfilePaths) -> None:
    with open_services(paths, key_source=MemoryKeySource()) as services:
        services.settings.set("proxy", PROXY)
        assert json.loads(paths.settings.read_text())["proxy"] == MASKED
        network = services.settings.network_overrides()
        assert network["proxy"] == MASKED and network["proxy_password"].reveal() == PASSWORD
        services.settings.set("proxy", MASKED)  # the Settings dialog saves what it shows: kept
        assert services.settings.network_overrides()["proxy_password"].reveal() == PASSWORD
        with pytest.raises(ConfigError, match="not stored"):
            services.settings.set("proxy", "https://proxyuser:****@other.example.com:3128")

        own = parse_connection({**NETSUITE, "proxy": "https://conn:Conn-pass-3@conn-proxy.example.com:8080"})
        spec = with_network_defaults(own, network)
        assert spec.secrets["proxy_password"].reveal() == "Conn-pass-3"  # its own proxy, its own password
        plain = with_network_defaults(parse_connection(NETSUITE), network)
        assert plain.settings["proxy"] == MASKED and plain.secrets["proxy_password"].reveal() == PASSWORD
        assert "proxy_password" not in plain.settings

        audit_export = paths.root / "audit.json"
        services.audit.export(audit_export, fmt="json")
        services.settings.set("proxy", "")
        assert "proxy_password" not in services.settings.network_overrides()
    assert PASSWORD not in audit_export.read_text()
    assert PASSWORD.encode() not in raw_profile(paths)


def test_app_settings_without_a_vault_refuse_a_proxy_password(tmp_path: Path) -> None:
    settings = AppSettings(tmp_path / "settings.json")
    with pytest.raises(ConfigError, match="no vault"):
        settings.set("proxy", PROXY)
    assert not (tmp_path / "settings.json").exists()


def test_the_http_client_sends_the_vaulted_password_to_the_proxy_only() -> None:
    settings = HttpSettings(base_url="https://h.example.com", proxy=MASKED, proxy_password=Secret(PASSWORD))
    proxy = proxy_for(settings)
    assert proxy is not None and str(proxy.url) == "https://proxy.example.com:3128"
    assert proxy.raw_auth == (b"proxyuser", PASSWORD.encode())
    assert PASSWORD not in repr(settings) and PASSWORD not in repr(proxy)
    with pytest.raises(ConfigError, match="not stored"):
        proxy_for(HttpSettings(base_url="https://h.example.com", proxy=MASKED))
    bare = HttpSettings(base_url="https://h.example.com", proxy="https://p.example.com:1")
    assert proxy_for(bare) is not None
    assert isinstance(proxy, httpx.Proxy)


def test_redaction_masks_a_url_password() -> None:
    assert redact(f"connecting through {PROXY} now") == f"connecting through {MASKED} now".replace(
        "****", MASK
    )


def test_plain_proxy_passwords_of_an_older_version_move_to_the_vault_at_open(paths: ProfilePaths) -> None:
    key = CountingKey()
    with open_services(paths, key_source=key) as services:
        cid = services.connections.add(parse_connection(NETSUITE))
        services.connections.list()
    assert key.loads == 1  # storing the credentials; opening with nothing to move needs no vault
    # What an older version wrote: the whole address in the plain settings and in settings.json.
    db = sqlite3.connect(paths.database)
    db.execute(
        "UPDATE erp_connections SET settings = json_set(settings, '$.proxy', ?) WHERE id = ?", (PROXY, cid)
    )
    db.commit()
    db.close()
    paths.settings.write_text(json.dumps({"proxy": PROXY}))
    assert PASSWORD.encode() in raw_profile(paths) or PROXY.encode() in raw_profile(paths)

    with open_services(paths, key_source=key) as services:
        spec = services.connections.get(cid)
        assert spec.settings["proxy"] == MASKED and spec.secrets["proxy_password"].reveal() == PASSWORD
        assert services.settings.network_overrides()["proxy_password"].reveal() == PASSWORD
        assert json.loads(paths.settings.read_text())["proxy"] == MASKED
    raw = raw_profile(paths)
    assert PROXY.encode() not in raw and PASSWORD.encode() not in raw
    loads = key.loads
    with open_services(paths, key_source=key) as services:  # moved once: the next open is a read
        services.connections.list()
    assert key.loads == loads
