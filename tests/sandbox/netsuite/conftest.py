"""Fixtures for the NetSuite emulator tests: a small seeded account, a movable clock, independent signers."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace

import httpx
import pytest
from authlib.integrations.httpx_client import OAuth1Auth
from authlib.oauth1.rfc5849.client_auth import ClientAuth
from authlib.oauth1.rfc5849.signature import generate_signature_base_string
from oauthlib.oauth1 import SIGNATURE_HMAC_SHA256, Client
from oauthlib.oauth1.rfc5849.signature import sign_hmac_sha256_with_client

from atlas_desktop.sandbox.catalog import Catalog
from atlas_desktop.sandbox.netsuite import NetSuiteEmulator

HOST = "https://1234567-sb1.suitetalk.api.netsuite.com"
REST = "/services/rest"


def _authlib_hmac_sha256(client, request):  # type: ignore[no-untyped-def]
    # reference §7: authlib has no HMAC-SHA256 for OAuth 1; jacobsvante/netsuite registers this one
    secrets = SimpleNamespace(client_secret=client.client_secret, resource_owner_secret=client.token_secret)
    return sign_hmac_sha256_with_client(generate_signature_base_string(request), secrets)


ClientAuth.register_signature_method("HMAC-SHA256", _authlib_hmac_sha256)


class Clock:
    """Real time plus an offset the test can move (authlib stamps requests with the real time)."""

    def __init__(self) -> None:
        self.offset = timedelta(0)

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += timedelta(seconds=seconds)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def emulator(clock: Clock) -> NetSuiteEmulator:
    return NetSuiteEmulator(
        seed=7, catalog=Catalog(seed=7, size=60, today=date(2026, 3, 1)), clock=clock, concurrency_limit=None
    )


def authlib_auth(emulator: NetSuiteEmulator, *, realm: str | None = None) -> OAuth1Auth:
    c = emulator.credentials
    return OAuth1Auth(
        client_id=c.consumer_key,
        client_secret=c.consumer_secret,
        token=c.token_id,
        token_secret=c.token_secret,
        realm=realm or emulator.account_id,
        signature_method="HMAC-SHA256",
        force_include_body=True,  # authlib then signs an oauth_body_hash (reference §0.5)
    )


@pytest.fixture
async def client(emulator: NetSuiteEmulator) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=emulator.app), base_url=HOST, auth=authlib_auth(emulator)
    ) as http:
        yield http


def oauthlib_client(emulator: NetSuiteEmulator, **overrides: object) -> Client:
    """oauthlib's signer (independent of our client code), with every input overridable."""
    c = emulator.credentials
    options: dict[str, object] = {
        "client_secret": c.consumer_secret,
        "resource_owner_key": c.token_id,
        "resource_owner_secret": c.token_secret,
        "signature_method": SIGNATURE_HMAC_SHA256,
        "realm": emulator.account_id,
        "timestamp": str(int(time.time())),
    }
    options.update(overrides)
    return Client(c.consumer_key, **options)  # type: ignore[arg-type]


def signed_headers(client: Client, method: str, url: str) -> dict[str, str]:
    _, headers, _ = client.sign(url, http_method=method)
    return dict(headers)


def ns_error(response: httpx.Response) -> tuple[str, str]:
    """(o:errorCode, detail) of a NetSuite error body."""
    detail = response.json()["o:errorDetails"][0]
    return detail["o:errorCode"], detail["detail"]


async def suiteql(client: httpx.AsyncClient, q: str, **params: object) -> httpx.Response:
    return await client.post(
        f"{REST}/query/v1/suiteql", params=params, headers={"Prefer": "transient"}, json={"q": q}
    )
