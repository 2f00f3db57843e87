"""CSRF as SAP Gateway enforces it: token + session cookies on every write, 403 Required otherwise."""

from __future__ import annotations

import httpx

from atlas_desktop.sandbox.sap import SapEmulator

from .conftest import BATCH, JSON, MATDOC, client_for, csrf

HEADER = f"{MATDOC}/A_MaterialDocumentHeader"


def assert_required(response: httpx.Response) -> None:
    assert response.status_code == 403
    assert response.headers["x-csrf-token"] == "Required"
    assert response.text == "CSRF token validation failed"


async def test_fetch_returns_token_and_session_cookies(client: httpx.AsyncClient) -> None:
    response = await client.head(f"{MATDOC}/", headers={"X-CSRF-Token": "Fetch"})
    assert response.status_code == 200 and response.headers["x-csrf-token"]
    assert {"sap-XSRF_S4H_100", "SAP_SESSIONID_S4H_100"} <= set(client.cookies.keys())


async def test_write_without_token_or_cookies_is_refused(sap: SapEmulator, client: httpx.AsyncClient) -> None:
    assert_required(await client.post(HEADER, json={}, headers=JSON))
    headers = await csrf(client)
    async with client_for(sap) as stranger:  # right token, but no cookies
        assert_required(await stranger.post(HEADER, json={}, headers=headers))
    assert_required(await client.post(HEADER, json={}, headers={**headers, "X-CSRF-Token": "forged"}))
    # With both, the request reaches the service (and fails there on the empty body instead).
    assert (await client.post(HEADER, json={}, headers=headers)).status_code == 400


async def test_expired_tokens_are_refused_until_fetched_again(
    sap: SapEmulator, client: httpx.AsyncClient
) -> None:
    headers = await csrf(client)
    assert sap.expire_csrf_tokens() >= 1
    assert_required(await client.post(HEADER, json={}, headers=headers))
    fresh = await csrf(client)
    assert fresh["X-CSRF-Token"] != headers["X-CSRF-Token"]
    assert (await client.post(HEADER, json={}, headers=fresh)).status_code == 400


async def test_token_lifetime_is_configurable(make_sap: object) -> None:
    sap = make_sap(csrf_lifetime_s=0)  # type: ignore[operator]
    async with client_for(sap) as client:
        headers = await csrf(client)
        assert_required(await client.post(HEADER, json={}, headers=headers))


async def test_control_route_expires_tokens(client: httpx.AsyncClient) -> None:
    headers = await csrf(client)
    assert (await client.post("/_sandbox/sap/expire-csrf")).status_code == 200
    assert_required(
        await client.patch(
            f"{BATCH}/Batch(Material='X',BatchIdentifyingPlant='',Batch='Y')", json={}, headers=headers
        )
    )
