"""The NetSuite OAuth 2.0 (M2M) credentials file: parsing, the PEM path read at import, refusals."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from atlas_desktop.app.key_files import inline_private_key
from atlas_desktop.connectors.netsuite import check_settings
from atlas_desktop.domain.connection import parse_connection
from atlas_desktop.domain.errors import ConfigError

EC_PEM = (
    ec.generate_private_key(ec.SECP256R1())
    .private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    .decode()
)
BASE = {"erp_type": "netsuite", "auth": "oauth2_m2m", "account_id": "1234567_sb1",
        "client_id": "c" * 64, "certificate_id": "AbCdEf0123456789xyz"}  # fmt: skip


def test_the_pem_path_is_read_and_the_key_becomes_a_secret(tmp_path: Path) -> None:
    key = tmp_path / "key.pem"
    key.write_text(EC_PEM)
    original = {**BASE, "credentials": {"private_key": str(key)}}
    spec = parse_connection(inline_private_key(original))
    assert original["credentials"] == {"private_key": str(key)}  # the caller's object is left alone
    assert spec.secrets["private_key"].reveal().strip() == EC_PEM.strip()
    assert spec.settings["auth_mode"] == "oauth2_m2m" and spec.settings["account_id"] == "1234567_SB1"
    assert "consumer_key" not in spec.secrets and str(key) not in repr(spec)
    check_settings(spec)  # an EC P-256 key NetSuite accepts (ES256)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"certificate_id": None}, "certificate_id"),
        ({"certificate_id": "has spaces in it"}, "certificate_id"),
        ({"client_id": None}, "client_id"),
        ({"private_key": "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"}, "private_key"),
        ({"auth": "saml"}, "auth"),
    ],
)
def test_a_wrong_m2m_file_names_the_field(change: dict[str, object], field: str) -> None:
    data = {**BASE, "private_key": EC_PEM, **change}
    with pytest.raises(ConfigError) as caught:
        parse_connection(inline_private_key({k: v for k, v in data.items() if v is not None}))
    assert caught.value.field == field
    assert EC_PEM[40:80] not in str(caught.value)


def test_tba_files_are_unchanged() -> None:
    tba = {"erp_type": "netsuite", "account_id": "1234567", "consumer_key": "a" * 64,
           "consumer_secret": "b" * 64, "token_id": "c" * 64, "token_secret": "d" * 64}  # fmt: skip
    spec = parse_connection(tba)
    assert "auth_mode" not in spec.settings and set(spec.secrets) == {
        "consumer_key", "consumer_secret", "token_id", "token_secret"}  # fmt: skip
