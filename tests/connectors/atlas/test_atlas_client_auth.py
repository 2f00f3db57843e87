"""Device sign-in (RFC 8628) on a fake clock: approval, slow_down, expiry, denial, refresh."""

from __future__ import annotations

import asyncio
import dataclasses

import httpx
import pytest

from atlas_desktop.connectors.atlas import (
    DeviceSignIn,
    DeviceSignInDenied,
    DeviceSignInExpired,
    TokenSet,
    build_client,
    device_sign_in,
)
from atlas_desktop.domain.errors import AuthFailed, ConfigError
from atlas_desktop.sandbox.atlas import AtlasEmulator
from tests.connectors.atlas.atlas_helpers import BASE_URL, FakeClock


def flow_for(emulator: AtlasEmulator, clock: FakeClock, stored: list[TokenSet] | None = None) -> DeviceSignIn:
    return device_sign_in(
        BASE_URL,
        transport=httpx.ASGITransport(app=emulator.app),
        token_store=stored.append if stored is not None else None,
        sleep=clock.sleep,
        monotonic=clock,
        now=clock.now,
    )


async def _approve_after(emulator: AtlasEmulator, clock: FakeClock, user_code: str, seconds: float) -> None:
    start = clock.t
    while clock.t - start < seconds:
        await asyncio.sleep(0)
    emulator.approve_device(user_code)


async def test_device_sign_in_end_to_end_then_api_calls(emulator: AtlasEmulator, clock: FakeClock) -> None:
    stored: list[TokenSet] = []
    flow = flow_for(emulator, clock, stored)
    auth = await flow.start()
    assert auth.verification_uri_complete.endswith(f"user_code={auth.user_code}")
    assert auth.interval == 5
    approver = asyncio.create_task(_approve_after(emulator, clock, auth.user_code, 12))
    tokens = await flow.wait(auth)
    await approver
    assert stored == [tokens] and tokens.refresh_token is not None
    assert clock.sleeps and all(s == 5 for s in clock.sleeps)  # polled at the interval, never faster
    code = emulator.auth.find_user_code(auth.user_code)
    assert code is not None and code.interval == 5  # no slow_down was ever needed
    async with build_client(
        BASE_URL, token=None, tokens=tokens, transport=httpx.ASGITransport(app=emulator.app)
    ) as atlas:
        assert (await atlas.me()).scopes == {"inventory", "erp"}


async def test_slow_down_makes_the_client_poll_slower(emulator: AtlasEmulator, clock: FakeClock) -> None:
    flow = flow_for(emulator, clock)
    auth = dataclasses.replace(await flow.start(), interval=1)  # a client polling too fast
    approver = asyncio.create_task(_approve_after(emulator, clock, auth.user_code, 30))
    await flow.wait(auth)
    await approver
    assert clock.sleeps[:2] == [1, 1]
    assert clock.sleeps[2] >= 10  # the server's new interval (5 + 5), not just 1 + 5
    assert all(s >= 10 for s in clock.sleeps[2:])


async def test_code_expiring_on_the_server_is_a_clear_error(
    emulator: AtlasEmulator, clock: FakeClock
) -> None:
    flow = flow_for(emulator, clock)
    auth = dataclasses.replace(await flow.start(), expires_in=100_000)  # the client would wait on
    with pytest.raises(DeviceSignInExpired) as caught:
        await flow.wait(auth)
    assert caught.value.remote_code == "expired_token" and "again" in caught.value.fix


async def test_client_stops_at_its_own_deadline(emulator: AtlasEmulator, clock: FakeClock) -> None:
    flow = flow_for(emulator, clock)
    auth = await flow.start()
    with pytest.raises(DeviceSignInExpired):
        await flow.wait(auth)
    assert sum(clock.sleeps) <= auth.expires_in


async def test_denied_sign_in_is_a_clear_error(emulator: AtlasEmulator, clock: FakeClock) -> None:
    flow = flow_for(emulator, clock)
    auth = await flow.start()
    emulator.deny_device(auth.user_code)
    with pytest.raises(DeviceSignInDenied) as caught:
        await flow.wait(auth)
    assert caught.value.remote_code == "access_denied"


async def test_sandbox_approval_route(emulator: AtlasEmulator, clock: FakeClock) -> None:
    flow = flow_for(emulator, clock)
    auth = await flow.start()
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=emulator.app), base_url=BASE_URL) as raw:
        response = await raw.post("/sandbox/device/approve", json={"user_code": auth.user_code.lower()})
        assert response.status_code == 200
        again = await raw.post("/sandbox/device/approve", json={"user_code": auth.user_code})
        assert again.status_code == 404 and again.json()["error"]["code"] == "not_found"
    assert (await flow.wait(auth)).access_token


async def test_expired_access_token_is_refreshed_and_stored(
    emulator: AtlasEmulator, clock: FakeClock
) -> None:
    flow = flow_for(emulator, clock)
    auth = await flow.start()
    emulator.approve_device(auth.user_code)
    tokens = await flow.wait(auth)
    stored: list[TokenSet] = []
    atlas = build_client(
        BASE_URL, token=None, tokens=tokens, token_store=stored.append,
        transport=httpx.ASGITransport(app=emulator.app),
    )  # fmt: skip
    await atlas.me()
    assert stored == []
    clock.t += 3600  # the access token has expired
    await atlas.me()
    assert len(stored) == 1 and stored[0].access_token != tokens.access_token
    # Refresh tokens rotate: the first one no longer works.
    with pytest.raises(AuthFailed, match="no longer valid"):
        await flow.refresh(tokens.refresh_token)  # type: ignore[arg-type]
    await atlas.aclose()


async def test_a_401_with_a_fresh_looking_token_refreshes_once(
    emulator: AtlasEmulator, clock: FakeClock
) -> None:
    flow = flow_for(emulator, clock)
    auth = await flow.start()
    emulator.approve_device(auth.user_code)
    tokens = await flow.wait(auth)
    emulator.revoke_token(tokens.access_token.reveal())  # revoked on the server, locally still valid
    stored: list[TokenSet] = []
    async with build_client(
        BASE_URL, token=None, tokens=tokens, token_store=stored.append,
        transport=httpx.ASGITransport(app=emulator.app),
    ) as atlas:  # fmt: skip
        assert (await atlas.me()).account_id == "acct_sandbox"
    assert len(stored) == 1


async def test_wrong_client_id_and_scope_are_refused(emulator: AtlasEmulator, clock: FakeClock) -> None:
    transport = httpx.ASGITransport(app=emulator.app)
    wrong_client = device_sign_in(BASE_URL, transport=transport, client_id="someone-else")
    with pytest.raises(AuthFailed, match="not registered"):
        await wrong_client.start()
    async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as raw:
        response = await raw.post("/oauth/device/code", data={"client_id": "atlas-desktop", "scope": "admin"})
        assert response.status_code == 400 and response.json()["error"] == "invalid_scope"
        response = await raw.post(
            "/oauth/token", data={"grant_type": "password", "client_id": "atlas-desktop"}
        )
        assert response.json()["error"] == "unsupported_grant_type"


def test_build_client_needs_a_credential() -> None:
    with pytest.raises(ConfigError):
        build_client(BASE_URL, token=None)
