"""Auth: OAuth token cached, renewed ahead of expiry under a lock, one retry on 401; Basic; sap-client."""

from __future__ import annotations

import asyncio
import base64
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from atlas_desktop.connectors.sap import OAuthToken
from atlas_desktop.domain.errors import AuthFailed, ConfigError, InvalidResponse
from atlas_desktop.domain.secrets import Secret

from .helpers import make, odata

STOCK = "/sap/opu/odata/sap/API_MATERIAL_STOCK_SRV/A_MatlStkInAcctMod"


class FakeOAuthServer:
    def __init__(self, lifetime: int = 3600) -> None:
        self.issued: list[str] = []
        self.valid: set[str] = set()
        self.lifetime = lifetime
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if request.url.path == "/sap/bc/sec/oauth2/token":
            expected = "Basic " + base64.b64encode(b"my-client:my-secret-value").decode()
            if request.headers.get("authorization") != expected:
                return httpx.Response(401, json={"error": "invalid_client"})
            assert b"grant_type=client_credentials" in request.content
            token = f"tok-{len(self.issued)}-abcdef"
            self.issued.append(token)
            self.valid.add(token)
            return httpx.Response(
                200, json={"access_token": token, "expires_in": self.lifetime, "token_type": "bearer"}
            )
        auth = request.headers.get("authorization", "")
        if not auth.startswith("Bearer ") or auth[7:] not in self.valid:
            return httpx.Response(401, text="")
        return odata([], count=0)


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2025, 1, 1, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


def oauth_connector(server: FakeOAuthServer, clock: Clock | None = None, **kw: object):  # type: ignore[no-untyped-def]
    return make(
        server,
        client_id="my-client",
        client_secret="my-secret-value",
        options={"clock": clock or Clock(), **kw},
    )


async def read(connector) -> None:  # type: ignore[no-untyped-def]
    items = [level async for level in connector.stock()]
    assert items == []


async def test_concurrent_requests_share_one_token() -> None:
    server = FakeOAuthServer()
    connector = oauth_connector(server)
    response_codes = await asyncio.gather(
        *(connector.http.request("GET", STOCK, params={"$format": "json"}) for _ in range(10))
    )
    assert all(r.status_code == 200 for r in response_codes)
    assert len(server.issued) == 1
    assert connector.api_calls == 11  # the token call is counted too


async def test_token_renewed_ten_minutes_before_expiry() -> None:
    server = FakeOAuthServer(lifetime=3600)
    clock = Clock()
    connector = oauth_connector(server, clock)
    await connector.http.request("GET", STOCK)
    clock.now += timedelta(minutes=49)
    await connector.http.request("GET", STOCK)
    assert len(server.issued) == 1
    clock.now += timedelta(minutes=2)  # 51 min: inside the 10-minute window
    await connector.http.request("GET", STOCK)
    assert len(server.issued) == 2


async def test_token_revoked_mid_sync_refreshes_once_and_retries() -> None:
    server = FakeOAuthServer()
    connector = oauth_connector(server)
    await connector.http.request("GET", STOCK)
    server.valid.clear()  # the server forgets every token (expired early)
    response = await connector.http.request("GET", STOCK)
    assert response.status_code == 200
    assert len(server.issued) == 2


async def test_second_401_is_a_real_refusal() -> None:
    server = FakeOAuthServer()
    original = server.__call__

    def always_401(request: httpx.Request) -> httpx.Response:
        response = original(request)
        return response if request.url.path.endswith("token") else httpx.Response(401)

    connector = make(always_401, client_id="my-client", client_secret="my-secret-value")
    with pytest.raises(AuthFailed):
        await read(connector)
    assert len(server.issued) == 2  # first token, one renewal, no loop


async def test_wrong_client_secret_says_what_to_fix() -> None:
    server = FakeOAuthServer()
    connector = make(server, client_id="my-client", client_secret="wrong-secret-xyz")
    with pytest.raises(AuthFailed) as info:
        await read(connector)
    assert "client ID and secret" in info.value.message
    assert "wrong-secret-xyz" not in str(info.value)


async def test_cached_token_reused_and_new_tokens_handed_to_vault() -> None:
    server = FakeOAuthServer()
    server.valid.add("from-vault-123456")
    clock = Clock()
    stored: list[OAuthToken] = []
    cached = OAuthToken(Secret("from-vault-123456"), clock.now + timedelta(hours=1), clock.now)
    connector = make(
        server,
        client_id="my-client",
        client_secret="my-secret-value",
        options={"cached_token": cached, "token_cache": stored.append, "clock": clock},
    )
    await connector.http.request("GET", STOCK)
    assert server.issued == [] and stored == []
    server.valid.clear()
    await connector.http.request("GET", STOCK)
    assert len(stored) == 1 and stored[0].access_token.reveal() == server.issued[0]
    assert stored[0].expires_at == clock.now + timedelta(hours=1)


async def test_basic_and_sap_client_on_every_request() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.method == "GET" and request.url.path.endswith("/"):
            return httpx.Response(200, json={"d": {"EntitySets": []}}, headers={"x-csrf-token": "T1"})
        return odata([], count=0)

    connector = make(handler, environment="on_premise", sap_client="200")
    await read(connector)
    await connector.csrf.session("/sap/opu/odata/sap/API_MATERIAL_DOCUMENT_SRV")
    assert seen and all(r.url.params.get("sap-client") == "200" for r in seen)
    expected = "Basic " + base64.b64encode(b"ATLAS_USER:pass-word-123").decode()
    assert all(r.headers["authorization"] == expected for r in seen)
    assert all(r.headers["accept"] == "application/json" for r in seen)


def test_x509_needs_paths_not_pem_text() -> None:
    with pytest.raises(ConfigError, match="path"):
        make(
            lambda r: httpx.Response(200),
            environment="on_premise",
            sap_client="100",
            username=None,
            password=None,
            client_certificate="-----BEGIN CERTIFICATE-----\nMIIB",
            client_key="/tmp/key.pem",
        )


@pytest.mark.parametrize("lifetime", [1e300, "1e300", "inf", "nan", -5, 0, True, [3600]])
async def test_an_absurd_token_lifetime_is_a_clear_error_or_capped(lifetime: object) -> None:
    server = FakeOAuthServer()
    server.lifetime = lifetime  # type: ignore[assignment]
    issued: list[OAuthToken] = []
    connector = oauth_connector(server, Clock(), token_cache=issued.append)
    try:
        if lifetime in (1e300, "1e300"):
            await read(connector)  # capped at a day: the sync goes on
            assert [t.expires_at - t.issued_at for t in issued] == [timedelta(days=1)]
        else:
            with pytest.raises(InvalidResponse):
                await read(connector)
    finally:
        await connector.aclose()
