"""NetSuite OAuth 2.0 M2M in the connector: the client assertion, the Bearer auth, renewal, refusals."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from joserfc import jwt
from joserfc.jwk import ECKey, RSAKey

from atlas_desktop.connectors.netsuite import queries
from atlas_desktop.connectors.netsuite.m2m import (
    M2MAuth,
    M2MCredentials,
    client_assertion,
    load_signing_key,
)
from atlas_desktop.domain.errors import AuthFailed, ConfigError
from atlas_desktop.domain.secrets import Secret, redact

from .emulator_support import Clock, make_emulator
from .m2m_support import connect_m2m

TOKEN_URL = "https://1234567-sb1.suitetalk.api.netsuite.com/services/rest/auth/oauth2/v1/token"


def pem(key: object) -> Secret:
    return Secret(
        key.private_bytes(  # type: ignore[attr-defined]
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ).decode()
    )


@pytest.mark.parametrize(
    ("key", "alg"),
    [(rsa.generate_private_key(65537, 2048), "PS256"), (ec.generate_private_key(ec.SECP256R1()), "ES256")],
)
def test_the_assertion_is_what_netsuite_asks_for(key: object, alg: str) -> None:
    private = pem(key)
    signing_key, chosen = load_signing_key(private)
    assert chosen == alg
    credentials = M2MCredentials(Secret("client-id-123456"), "cert-id-123456", private, TOKEN_URL)
    now = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
    token = client_assertion(credentials, signing_key, chosen, now)
    # verified by joserfc, not by the library that made it
    public = (RSAKey if alg == "PS256" else ECKey).import_key(private.reveal())
    decoded = jwt.decode(token, public, algorithms=[alg])
    assert decoded.header == {"alg": alg, "kid": "cert-id-123456", "typ": "JWT"}
    claims = decoded.claims
    assert claims["iss"] == "client-id-123456" and claims["scope"] == "rest_webservices"
    assert claims["aud"] == TOKEN_URL and claims["iat"] == int(now.timestamp())
    assert 0 < claims["exp"] - claims["iat"] <= 3600


@pytest.mark.parametrize(
    "key", [rsa.generate_private_key(65537, 1024), ed25519.Ed25519PrivateKey.generate(),
            ec.generate_private_key(ec.SECP384R1())],
)  # fmt: skip
def test_keys_netsuite_cannot_use_are_refused_without_showing_them(key: object) -> None:
    private = pem(key)
    with pytest.raises(ConfigError) as caught:
        load_signing_key(private)
    assert private.reveal() not in str(caught.value) and caught.value.field == "private_key"


def test_a_pem_key_is_redacted_from_any_text() -> None:
    text = "oops " + pem(ec.generate_private_key(ec.SECP256R1())).reveal()[:80]
    assert "PRIVATE KEY-----****" in redact(text)
    assert text[40:70] not in redact(text)


async def test_the_connector_reads_with_one_token(tmp_path: Path) -> None:
    clock = Clock()
    emulator = make_emulator(30, clock)
    connector = connect_m2m(emulator, clock, tmp_path)
    assert isinstance(connector.auth, M2MAuth) and connector.auth.algorithm == "PS256"
    async with asyncio.timeout(30):
        pages = await asyncio.gather(
            *(connector.client.suiteql_page(queries.locations(), limit=1) for _ in range(4))
        )
        products = [p async for p in connector.products()]
    assert all(page.items for page in pages) and products  # the catalog holds non-NetSuite rows too
    assert connector.auth.token_requests == 1 and emulator.m2m.tokens_issued == 1
    await connector.aclose()


async def test_the_token_is_renewed_before_it_expires(tmp_path: Path) -> None:
    clock = Clock()
    emulator = make_emulator(5, clock)
    connector = connect_m2m(emulator, clock, tmp_path)
    await connector.client.suiteql_page(queries.locations(), limit=1)
    clock.advance(56 * 60)  # within 5 minutes of the 60-minute expiry
    await connector.client.suiteql_page(queries.locations(), limit=1)
    assert connector.auth.token_requests == 2  # type: ignore[attr-defined]
    assert not emulator.auth_failures  # never sent an expired token
    await connector.aclose()


async def test_a_401_gets_one_new_token_and_one_retry(tmp_path: Path) -> None:
    clock = Clock()
    emulator = make_emulator(5, clock)
    connector = connect_m2m(emulator, clock, tmp_path)
    await connector.client.suiteql_page(queries.locations(), limit=1)
    emulator.m2m._tokens.clear()  # NetSuite forgot the token early
    page = await connector.client.suiteql_page(queries.locations(), limit=1)
    assert page.items and connector.auth.token_requests == 2  # type: ignore[attr-defined]
    assert emulator.auth_failures == ["bearer token unknown"]
    await connector.aclose()


async def test_a_revoked_certificate_fails_the_read_with_cause_and_fix(tmp_path: Path) -> None:
    clock = Clock()
    emulator = make_emulator(5, clock)
    connector = connect_m2m(emulator, clock, tmp_path)
    await connector.client.suiteql_page(queries.locations(), limit=1)
    emulator.m2m.revoke(next(iter(emulator.m2m.certificates)))
    with pytest.raises(AuthFailed) as caught:
        await connector.client.suiteql_page(queries.locations(), limit=1)
    assert "revoked" in caught.value.message and "Certificate ID" in (caught.value.fix or "")
    assert caught.value.remote_code == "invalid_grant"
    await connector.aclose()


def test_the_spec_keeps_the_key_as_a_secret_and_the_certificate_id_as_a_setting(tmp_path: Path) -> None:
    from .m2m_support import m2m_spec

    spec = m2m_spec(make_emulator(1, Clock()), tmp_path)
    assert spec.settings["auth_mode"] == "oauth2_m2m" and spec.settings["certificate_id"]
    assert spec.secrets["private_key"].reveal().startswith("-----BEGIN PRIVATE KEY-----")
    assert str(tmp_path) not in repr(spec.settings) and "private_key" not in spec.settings


async def test_the_clock_offset_moves_assertions_too(tmp_path: Path) -> None:
    clock = Clock()
    emulator = make_emulator(1, clock)
    connector = connect_m2m(emulator, clock, tmp_path)
    emulator.clock = lambda: datetime.now(UTC) - timedelta(minutes=10)  # NetSuite 10 minutes behind us
    with pytest.raises(AuthFailed) as caught:
        await connector.client.suiteql_page(queries.locations(), limit=1)
    assert "clock" in caught.value.message
    await connector.aclose()
