"""TBA verification: the published vector, every refusal (exact 401 body, reason recorded), real clients."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from urllib.parse import quote

import httpx
import pytest
from oauthlib.oauth1 import SIGNATURE_HMAC_SHA1, SIGNATURE_PLAINTEXT

from atlas_desktop.sandbox.catalog import Catalog
from atlas_desktop.sandbox.netsuite import NetSuiteEmulator
from atlas_desktop.sandbox.netsuite.tba import (
    AuthFailure,
    TbaVerifier,
    base_string_uri,
    hmac_sha256,
    signature_base_string,
)
from atlas_desktop.sandbox.registry import SandboxOptions
from atlas_desktop.sandbox.server import running_sandbox

from .conftest import HOST, REST, authlib_auth, oauthlib_client, signed_headers

# reference §1 "Verified test vector"
CK = "ef40afdd8abaac111b13825dd5e5e2ddddb44f86d5a0dd6dcf38c20aae6b67e4"
CS = "d26ad321a4b2f23b0741c8d38392ce01c3e23e109df6c96eac6d099e9ab9e8b5"
TOKEN = "2b0ce516420110bcbd36b69e99196d1b7f6de3c6234c5afb799b73d87569f5cc"
TS_SECRET = "c29a677df7d5439a458c063654187e3d678d73aca8e3c9d8bea1478a3eb0d295"
VECTOR_SIGNATURE = "i7MEtGwhCTIZbTsTrNGw9LdcERn4wsjt5C7TxmKWIfU="
QUERY = "script=6&deploy=1&customParam=someValue&testParam=someOtherValue"

INVALID_LOGIN = {
    "type": "https://www.rfc-editor.org/rfc/rfc9110.html#section-15.5.2",
    "title": "Unauthorized",
    "status": 401,
    "o:errorDetails": [
        {
            "detail": "Invalid login attempt. For more details, see the Login Audit Trail in the NetSuite UI "
            "at "
            "Setup > Users/Roles > User Management > View Login Audit Trail.",
            "o:errorCode": "INVALID_LOGIN",
        }
    ],
}


def vector_verifier() -> TbaVerifier:
    return TbaVerifier(
        account_id="1234567",
        consumers={CK: CS},
        tokens={TOKEN: (TS_SECRET, CK)},
        clock=lambda: datetime.fromtimestamp(1508242306, UTC),
    )


def vector_header(
    signature: str = VECTOR_SIGNATURE, realm: str = "1234567", nonce: str = "fjaLirsIcCGVZWzBX0pg"
) -> str:
    params = {
        "realm": realm,
        "oauth_consumer_key": CK,
        "oauth_token": TOKEN,
        "oauth_signature_method": "HMAC-SHA256",
        "oauth_timestamp": "1508242306",
        "oauth_nonce": nonce,
        "oauth_version": "1.0",
        "oauth_signature": signature,
    }
    return "OAuth " + ", ".join(f'{k}="{quote(v, safe="~-._")}"' for k, v in params.items())


def verify_vector(verifier: TbaVerifier, header: str, query: str = QUERY) -> str:
    return verifier.verify(
        "POST", "https", "1234567.restlets.api.netsuite.com", "/app/site/hosting/restlet.nl", query, header
    )


def test_signer_reproduces_the_published_vector() -> None:
    params = [
        ("oauth_consumer_key", CK),
        ("oauth_token", TOKEN),
        ("oauth_nonce", "fjaLirsIcCGVZWzBX0pg"),
        ("oauth_timestamp", "1508242306"),
        ("oauth_signature_method", "HMAC-SHA256"),
        ("oauth_version", "1.0"),
        ("script", "6"),
        ("deploy", "1"),
        ("customParam", "someValue"),
        ("testParam", "someOtherValue"),
    ]
    uri = base_string_uri("https", "1234567.restlets.api.netsuite.com:443", "/app/site/hosting/restlet.nl")
    assert uri == "https://1234567.restlets.api.netsuite.com/app/site/hosting/restlet.nl"
    assert hmac_sha256(signature_base_string("POST", uri, params), CS, TS_SECRET) == VECTOR_SIGNATURE


def test_verifier_accepts_the_published_vector_once() -> None:
    verifier = vector_verifier()
    assert verify_vector(verifier, vector_header()) == TOKEN
    with pytest.raises(AuthFailure, match="nonce already used"):
        verify_vector(verifier, vector_header())


@pytest.mark.parametrize(
    ("header_kwargs", "query", "reason"),
    [
        ({"signature": "i7MEtGwhCTIZbTsTrNGw9LdcERn4wsjt5C7TxmKWIfX="}, QUERY, "signature mismatch"),
        ({}, "script=6&deploy=1", "signature mismatch"),  # a signed query parameter missing from the URL
        ({"realm": "1234567_sb1"}, QUERY, "realm"),
        ({"nonce": "abc12"}, QUERY, "nonce shorter"),
    ],
)
def test_verifier_refuses_a_changed_vector(header_kwargs: dict[str, str], query: str, reason: str) -> None:
    verifier = vector_verifier()
    with pytest.raises(AuthFailure, match=reason):
        verify_vector(verifier, vector_header(**header_kwargs), query)
    assert reason in verifier.failures[-1]


async def test_authlib_client_is_accepted_in_process(
    client: httpx.AsyncClient, emulator: NetSuiteEmulator
) -> None:
    response = await client.get(f"{REST}/record/v1/inventoryItem", params={"limit": 2})
    assert response.status_code == 200, emulator.auth_failures
    # a POST: authlib adds a signed oauth_body_hash (force_include_body), which must be accepted too
    response = await client.post(
        f"{REST}/query/v1/suiteql",
        params={"limit": 1},
        headers={"Prefer": "transient"},
        json={"q": "SELECT id FROM item"},
    )
    assert response.status_code == 200, emulator.auth_failures
    assert "oauth_body_hash" in response.request.headers["authorization"]
    assert emulator.auth_failures == []


def test_authlib_client_is_accepted_over_a_real_socket(
    emulator: NetSuiteEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AUTHLIB_INSECURE_TRANSPORT", "1")  # authlib refuses http:// to 127.0.0.1 otherwise
    options = SandboxOptions(Catalog(7, 10))
    with running_sandbox(options, emulators=[emulator]) as urls:
        base = urls["netsuite"]
        with httpx.Client(base_url=base, auth=authlib_auth(emulator)) as http:
            listed = http.get(f"{REST}/record/v1/location", params={"limit": 10})
            queried = http.post(
                f"{REST}/query/v1/suiteql",
                params={"limit": 5, "offset": 0},
                headers={"Prefer": "transient"},
                json={"q": "SELECT id, name FROM location ORDER BY id"},
            )
    assert listed.status_code == 200, emulator.auth_failures
    assert listed.json()["items"][0]["links"][0]["href"].startswith(
        base
    )  # links use the address the client used
    assert queried.status_code == 200, emulator.auth_failures
    assert [row["name"] for row in queried.json()["items"]][0] == "Main warehouse"


async def _get(emulator: NetSuiteEmulator, url: str, headers: dict[str, str]) -> httpx.Response:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=emulator.app)) as http:
        return await http.get(url, headers=headers)


def _collection_url(query: str = "limit=5") -> str:
    return f"{HOST}{REST}/record/v1/inventoryItem?{query}"


async def test_oauthlib_client_is_accepted_with_query_parameters(emulator: NetSuiteEmulator) -> None:
    url = _collection_url("limit=5&q=" + quote('itemId START_WITH "SKU"'))
    response = await _get(emulator, url, signed_headers(oauthlib_client(emulator), "GET", url))
    assert response.status_code == 200, emulator.auth_failures
    assert response.json()["count"] == 5


async def _expect_refusal(emulator: NetSuiteEmulator, url: str, headers: dict[str, str], reason: str) -> None:
    before = len(emulator.auth_failures)
    response = await _get(emulator, url, headers)
    assert response.status_code == 401
    assert response.json() == INVALID_LOGIN
    assert "www-authenticate" not in response.headers
    assert len(emulator.auth_failures) == before + 1
    assert reason in emulator.auth_failures[-1]


async def test_wrong_consumer_secret_is_refused(emulator: NetSuiteEmulator) -> None:
    url = _collection_url()
    headers = signed_headers(oauthlib_client(emulator, client_secret="0" * 64), "GET", url)
    await _expect_refusal(emulator, url, headers, "signature mismatch")


async def test_wrong_token_secret_is_refused(emulator: NetSuiteEmulator) -> None:
    url = _collection_url()
    headers = signed_headers(oauthlib_client(emulator, resource_owner_secret="f" * 64), "GET", url)
    await _expect_refusal(emulator, url, headers, "signature mismatch")


async def test_lowercase_sandbox_realm_is_refused(emulator: NetSuiteEmulator) -> None:
    url = _collection_url()
    headers = signed_headers(oauthlib_client(emulator, realm="1234567_sb1"), "GET", url)
    await _expect_refusal(emulator, url, headers, "realm")


async def test_query_parameter_missing_from_the_signature_is_refused(emulator: NetSuiteEmulator) -> None:
    signed_url = _collection_url("limit=5")
    headers = signed_headers(oauthlib_client(emulator), "GET", signed_url)
    await _expect_refusal(emulator, _collection_url("limit=5&offset=5"), headers, "signature mismatch")


async def test_query_parameter_placed_in_the_header_is_refused(emulator: NetSuiteEmulator) -> None:
    url = _collection_url("limit=5")
    headers = signed_headers(oauthlib_client(emulator), "GET", url)
    headers["Authorization"] += ', limit="5"'
    await _expect_refusal(emulator, url, headers, "non-OAuth parameters")


async def test_reused_nonce_is_refused(emulator: NetSuiteEmulator) -> None:
    url = _collection_url()
    signer = oauthlib_client(emulator, nonce="same-nonce-1234567890")
    first = await _get(emulator, url, signed_headers(signer, "GET", url))
    assert first.status_code == 200
    await _expect_refusal(emulator, url, signed_headers(signer, "GET", url), "nonce already used")


async def test_stale_timestamp_is_refused(emulator: NetSuiteEmulator, clock) -> None:  # type: ignore[no-untyped-def]
    url = _collection_url()
    headers = signed_headers(oauthlib_client(emulator), "GET", url)
    clock.advance(301)
    await _expect_refusal(emulator, url, headers, "away from server time")


async def test_timestamp_within_five_minutes_is_accepted(emulator: NetSuiteEmulator, clock) -> None:  # type: ignore[no-untyped-def]
    url = _collection_url()
    headers = signed_headers(oauthlib_client(emulator), "GET", url)
    clock.advance(-290)
    assert (await _get(emulator, url, headers)).status_code == 200


@pytest.mark.parametrize(
    ("method", "reason"), [(SIGNATURE_HMAC_SHA1, "HMAC-SHA1"), (SIGNATURE_PLAINTEXT, "PLAINTEXT")]
)
async def test_other_signature_methods_are_refused(
    emulator: NetSuiteEmulator, method: str, reason: str
) -> None:
    url = _collection_url()
    headers = signed_headers(oauthlib_client(emulator, signature_method=method), "GET", url)
    await _expect_refusal(emulator, url, headers, reason)


async def test_short_nonce_unknown_token_and_bad_version_are_refused(emulator: NetSuiteEmulator) -> None:
    url = _collection_url()
    await _expect_refusal(
        emulator, url, signed_headers(oauthlib_client(emulator, nonce="abc"), "GET", url), "nonce shorter"
    )
    await _expect_refusal(
        emulator,
        url,
        signed_headers(oauthlib_client(emulator, resource_owner_key="a" * 64), "GET", url),
        "token unknown",
    )
    headers = signed_headers(oauthlib_client(emulator), "GET", url)
    headers["Authorization"] = headers["Authorization"].replace('oauth_version="1.0"', 'oauth_version="1.1"')
    await _expect_refusal(emulator, url, headers, "oauth_version")
    await _expect_refusal(emulator, url, {}, "no Authorization header")


async def test_the_host_as_addressed_is_signed(emulator: NetSuiteEmulator) -> None:
    # signed for one host, sent to another: the base string differs
    headers = signed_headers(
        oauthlib_client(emulator), "GET", "https://other.example.com/services/rest/record/v1/inventoryItem"
    )
    await _expect_refusal(emulator, _collection_url(""), headers, "signature mismatch")


async def test_refusal_reason_goes_to_the_emulator_log_without_secrets(
    emulator: NetSuiteEmulator, caplog: pytest.LogCaptureFixture
) -> None:
    url = _collection_url()
    headers = signed_headers(oauthlib_client(emulator, client_secret="0" * 64), "GET", url)
    with caplog.at_level(logging.WARNING, logger="atlas_desktop.sandbox.netsuite.auth"):
        await _get(emulator, url, headers)
    assert any("signature mismatch" in r.getMessage() for r in caplog.records)
    text = caplog.text
    for secret in (
        emulator.credentials.consumer_key,
        emulator.credentials.token_id,
        emulator.credentials.consumer_secret,
        emulator.credentials.token_secret,
    ):
        assert secret not in text
