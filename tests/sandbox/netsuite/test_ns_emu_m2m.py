"""OAuth 2.0 M2M in the emulator: an independent client (joserfc) gets a token and runs SuiteQL; refusals."""

from __future__ import annotations

import json
import stat
import time
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import RSAKey

from atlas_desktop.sandbox.catalog import Catalog
from atlas_desktop.sandbox.netsuite import NetSuiteEmulator, build
from atlas_desktop.sandbox.netsuite.m2m import ASSERTION_TYPE, TOKEN_PATH, SetupError
from atlas_desktop.sandbox.netsuite.m2m_keys import generate_key, self_signed
from atlas_desktop.sandbox.netsuite.m2m_routes import UPLOAD_PATH
from atlas_desktop.sandbox.registry import SandboxOptions
from atlas_desktop.sandbox.server import running_sandbox

from .conftest import HOST, REST, Clock
from .m2m_client import Customer, plain_client


async def token_of(customer: Customer, http: httpx.AsyncClient) -> str:
    response = await customer.ask(http, customer.assertion())
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["token_type"] == "bearer" and body["expires_in"] == "3600"
    assert response.headers["cache-control"] == "no-store"
    return str(body["access_token"])


async def suiteql_with(http: httpx.AsyncClient, token: str) -> httpx.Response:
    return await http.post(
        f"{REST}/query/v1/suiteql",
        params={"limit": 5},
        headers={"Prefer": "transient", "Authorization": f"Bearer {token}"},
        json={"q": "SELECT id, itemid FROM item"},
    )


@pytest.mark.parametrize("kind", ["rsa", "ec"])
async def test_an_independent_client_gets_a_token_and_runs_suiteql(
    emulator: NetSuiteEmulator, kind: str
) -> None:
    customer = Customer(emulator, kind)
    async with plain_client(emulator) as http:
        token = await token_of(customer, http)
        response = await suiteql_with(http, token)
        assert response.status_code == 200, response.text
        assert response.json()["count"] == 5
        record = await http.get(
            f"{REST}/record/v1/inventoryItem/{response.json()['items'][0]['id']}",
            headers={"Authorization": f"Bearer {token}"},
        )
        assert record.status_code in (200, 404)  # 404: a lot-numbered item; either way the login passed


async def refusal(customer: Customer, assertion: str) -> tuple[int, dict[str, str]]:
    async with plain_client(customer.emulator) as http:
        response = await customer.ask(http, assertion)
    return response.status_code, response.json()


async def test_rs256_is_refused(emulator: NetSuiteEmulator) -> None:
    customer = Customer(emulator)
    status, body = await refusal(customer, customer.assertion(header={"alg": "RS256"}))
    assert (status, body["error"]) == (400, "invalid_request")
    assert "algorithm" in body["error_description"]
    assert "RS256" in emulator.m2m.failures[-1]


async def test_a_wrong_kid_is_refused(emulator: NetSuiteEmulator) -> None:
    customer = Customer(emulator)
    status, body = await refusal(customer, customer.assertion(header={"kid": "not-a-certificate"}))
    assert (status, body["error"]) == (401, "invalid_client")
    assert "kid" in body["error_description"]


async def test_an_exp_over_60_minutes_is_refused(emulator: NetSuiteEmulator) -> None:
    customer = Customer(emulator)
    now = int(emulator.clock().timestamp())
    status, body = await refusal(customer, customer.assertion(iat=now, exp=now + 3601))
    assert (status, body["error"]) == (400, "invalid_grant")
    assert "lifetime" in body["error_description"]


async def test_a_revoked_certificate_is_refused_and_its_tokens_end(emulator: NetSuiteEmulator) -> None:
    customer = Customer(emulator)
    async with plain_client(emulator) as http:
        token = await token_of(customer, http)
        revoked = await http.post(f"{UPLOAD_PATH}/{customer.certificate_id}/revoke")
        assert revoked.status_code == 204
        response = await customer.ask(http, customer.assertion())
        assert (response.status_code, response.json()["error"]) == (400, "invalid_grant")
        assert "revoked" in response.json()["error_description"]
        refused = await suiteql_with(http, token)
    assert refused.status_code == 401
    assert refused.json()["o:errorDetails"][0]["o:errorCode"] == "INVALID_LOGIN"
    assert 'error="invalid_token"' in refused.headers["www-authenticate"]


@pytest.mark.parametrize(
    ("change", "status", "error"),
    [
        ({"iss": "someone-else"}, 401, "invalid_client"),
        ({"aud": "https://example.com/token"}, 400, "invalid_grant"),
        ({"aud": HOST + "/services/rest/auth/oauth2/v1/token/more"}, 400, "invalid_grant"),
        ({"scope": "restlets"}, 400, "invalid_scope"),
        ({"iat": "later"}, 400, "invalid_request"),
    ],
)
async def test_claims_are_checked(
    emulator: NetSuiteEmulator, change: dict[str, object], status: int, error: str
) -> None:
    customer = Customer(emulator)
    got = await refusal(customer, customer.assertion(**change))
    assert (got[0], got[1]["error"]) == (status, error)


async def test_a_signature_by_another_key_is_refused(emulator: NetSuiteEmulator) -> None:
    customer, other = Customer(emulator), Customer(emulator)
    forged = other.assertion(header={"kid": customer.certificate_id})
    status, body = await refusal(customer, forged)
    assert (status, body["error"]) == (401, "invalid_client")
    assert "signature" in body["error_description"]


async def test_clock_skew_and_expired_certificates_are_invalid_grant(
    emulator: NetSuiteEmulator, clock: Clock
) -> None:
    customer = Customer(emulator)
    now = int(emulator.clock().timestamp())
    status, body = await refusal(customer, customer.assertion(iat=now + 600, exp=now + 1200))
    assert (status, body["error"], "not yet valid" in body["error_description"]) == (
        400,
        "invalid_grant",
        True,
    )
    clock.advance(731 * 86400)
    status, body = await refusal(customer, customer.assertion())
    assert (status, body["error"], "expired" in body["error_description"]) == (400, "invalid_grant", True)


async def test_feature_and_role_refusals_are_unauthorized_client(emulator: NetSuiteEmulator) -> None:
    customer = Customer(emulator)
    emulator.m2m.roles["Atlas Integration"] = False
    status, body = await refusal(customer, customer.assertion())
    assert (status, body["error"], "role" in body["error_description"]) == (400, "unauthorized_client", True)
    emulator.m2m.feature_enabled = False
    status, body = await refusal(customer, customer.assertion())
    assert (status, body["error"], "not enabled" in body["error_description"]) == (
        400,
        "unauthorized_client",
        True,
    )


async def test_bearer_tokens_expire_after_the_configured_lifetime(clock: Clock) -> None:
    emulator = NetSuiteEmulator(
        seed=7, clock=clock, concurrency_limit=None, token_lifetime=timedelta(seconds=30)
    )
    customer = Customer(emulator)
    async with plain_client(emulator) as http:
        response = await customer.ask(http, customer.assertion())
        assert response.json()["expires_in"] == "30"
        token = response.json()["access_token"]
        assert (await suiteql_with(http, token)).status_code == 200
        clock.advance(31)
        assert (await suiteql_with(http, token)).status_code == 401
    assert emulator.auth_failures[-1] == "bearer token expired"


async def test_the_upload_route_answers_a_certificate_id(emulator: NetSuiteEmulator) -> None:
    pem = self_signed(generate_key("ec"), emulator.clock()).decode()
    async with plain_client(emulator) as http:
        response = await http.post(
            UPLOAD_PATH, json={"client_id": emulator.integration.client_id, "certificate": pem}
        )
        bad = await http.post(
            UPLOAD_PATH, json={"client_id": emulator.integration.client_id, "certificate": "x"}
        )
    assert response.status_code == 201 and response.json()["certificate_id"] in emulator.m2m.certificates
    assert bad.status_code == 400


def test_certificates_longer_than_two_years_are_refused(emulator: NetSuiteEmulator) -> None:
    long_lived = self_signed(generate_key("ec"), emulator.clock(), timedelta(days=3 * 365))
    with pytest.raises(SetupError, match="2 years"):
        emulator.m2m.upload_certificate(emulator.integration.client_id, "u", "Atlas Integration", long_lived)


def test_write_config_files_hold_an_m2m_connection(emulator: NetSuiteEmulator, tmp_path) -> None:  # type: ignore[no-untyped-def]
    emulator.key_dir = tmp_path
    content = emulator.write_config_files("http://127.0.0.1:9")["netsuite-m2m.json"]
    assert content["auth"] == "oauth2_m2m" and content["certificate_id"] in emulator.m2m.certificates
    key_path = tmp_path / "netsuite-m2m-key.pem"
    assert content["private_key"] == str(key_path)
    assert key_path.read_bytes().startswith(b"-----BEGIN PRIVATE KEY-----")
    assert key_path.stat().st_mode & 0o077 == 0


def test_write_config_writes_an_m2m_file_an_independent_client_can_use(tmp_path: Path) -> None:
    options = SandboxOptions(catalog=Catalog(seed=3, size=10), seed=3, data_dir=tmp_path / "data")
    emulator = build(options)
    with running_sandbox(options, emulators=[emulator], write_config=tmp_path / "config") as urls:
        path = tmp_path / "config" / "netsuite-m2m.json"
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        content = json.loads(path.read_text())
        assert (tmp_path / "config" / "netsuite.json").exists()
        key = RSAKey.import_key(Path(content["private_key"]).read_text())
        now = int(time.time())
        token_url = urls["netsuite"] + TOKEN_PATH
        assertion = jwt.encode(
            {"alg": "PS256", "typ": "JWT", "kid": content["certificate_id"]},
            {"iss": content["client_id"], "scope": "rest_webservices", "aud": token_url, "iat": now,
             "exp": now + 600},
            key, algorithms=["PS256"],
        )  # fmt: skip
        answer = httpx.post(token_url, data={"grant_type": "client_credentials",
                                             "client_assertion_type": ASSERTION_TYPE,
                                             "client_assertion": assertion})  # fmt: skip
        assert answer.status_code == 200, answer.text
        rows = httpx.post(
            urls["netsuite"] + "/services/rest/query/v1/suiteql",
            headers={"Prefer": "transient", "Authorization": f"Bearer {answer.json()['access_token']}"},
            json={"q": "SELECT id FROM location"},
        )
        assert rows.status_code == 200 and rows.json()["items"], rows.text
