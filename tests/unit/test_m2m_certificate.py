"""The M2M key pair and certificate the app makes for NetSuite, and when its expiry is near."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509

from atlas_desktop.app.key_files import inline_private_key
from atlas_desktop.connectors.netsuite.m2m import load_signing_key
from atlas_desktop.domain.connection import parse_connection
from atlas_desktop.domain.errors import ConfigError
from atlas_desktop.domain.m2m_certificate import (
    CERTIFICATE_EXPIRES,
    expires_soon,
    generate_m2m_certificate,
    parse_not_after,
)
from atlas_desktop.domain.secrets import Secret

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


def test_a_new_pair_is_rsa_3072_for_ps256_valid_two_years() -> None:
    made = generate_m2m_certificate(NOW, "Atlas Desktop 1234567_SB1")
    certificate = x509.load_pem_x509_certificate(made.certificate_pem.encode())
    assert certificate.not_valid_after_utc == made.not_after == NOW + timedelta(days=730)
    assert certificate.not_valid_before_utc <= NOW
    assert certificate.issuer == certificate.subject  # self-signed
    key, alg = load_signing_key(made.private_key)
    assert alg == "PS256" and key.key_size == 3072
    assert key.public_key().public_numbers() == certificate.public_key().public_numbers()
    assert "PRIVATE KEY" not in made.certificate_pem and "PRIVATE" not in repr(made)


def test_a_naive_time_is_refused() -> None:
    with pytest.raises(ValueError):
        generate_m2m_certificate(datetime(2026, 12, 7))  # noqa: DTZ001 - the point of the test


def test_the_warning_starts_30_days_before_not_after() -> None:
    not_after = NOW + timedelta(days=730)
    assert not expires_soon(not_after, not_after - timedelta(days=31))
    assert expires_soon(not_after, not_after - timedelta(days=29))
    assert expires_soon(not_after, not_after + timedelta(days=1))
    assert not expires_soon(None, NOW)


def test_the_stored_not_after_reads_back_aware_or_not_at_all() -> None:
    assert parse_not_after(NOW.isoformat()) == NOW
    assert parse_not_after("2026-12-07T12:00:00") is None
    assert parse_not_after("soon") is None and parse_not_after(None) is None


def _pair(now: datetime) -> tuple[str, Secret]:
    made = generate_m2m_certificate(now)
    return made.certificate_pem, made.private_key


M2M_FILE = {"erp_type": "netsuite", "auth": "oauth2_m2m", "account_id": "1234567_SB1",
            "client_id": "c" * 64, "certificate_id": "Zx8kQ2mN5pR7sT9vW1yA3cE5gI7kM9oQ"}  # fmt: skip


def test_an_imported_connection_learns_its_expiry_from_the_uploaded_certificate(tmp_path: Path) -> None:
    now = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
    certificate, key = _pair(now)
    (tmp_path / "cert.pem").write_text(certificate)
    given = {**M2M_FILE, "private_key": key.reveal(), "certificate": str(tmp_path / "cert.pem")}
    data = inline_private_key(given)
    spec = parse_connection(data)
    not_after = parse_not_after(spec.settings[CERTIFICATE_EXPIRES])
    assert not_after is not None and not_after - now > timedelta(days=729)
    assert not expires_soon(not_after, now) and expires_soon(not_after, not_after - timedelta(days=29))


def test_a_certificate_of_another_key_or_no_certificate_is_refused(tmp_path: Path) -> None:
    now = datetime(2026, 12, 7, tzinfo=UTC)
    certificate, _ = _pair(now)
    _, other_key = _pair(now)
    with pytest.raises(ConfigError, match="not the certificate of this private key"):
        parse_connection({**M2M_FILE, "private_key": other_key.reveal(), "certificate": certificate})
    with pytest.raises(ConfigError, match="not a PEM certificate"):
        parse_connection({**M2M_FILE, "private_key": other_key.reveal(), "certificate": "-----BEGIN junk"})
    # Without a certificate the connection imports as before, with no expiry to warn about.
    plain = parse_connection({**M2M_FILE, "private_key": other_key.reveal()})
    assert CERTIFICATE_EXPIRES not in plain.settings
