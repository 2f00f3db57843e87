"""Error shapes and timeouts the emulator cannot produce, through respx."""

from __future__ import annotations

from decimal import Decimal

import httpx
import pytest
import respx

from atlas_desktop.connectors.atlas import AtlasClient, CursorRejected, build_client
from atlas_desktop.connectors.atlas.client import assert_no_credentials
from atlas_desktop.domain.errors import (
    AuthFailed,
    InvalidResponse,
    NetworkError,
    NotFound,
    RateLimited,
    ServerError,
    ValidationFailed,
)
from atlas_desktop.domain.secrets import Secret

URL = "https://api.atlas.test"
ROW = {
    "id": "inv_1", "sku": None, "ndc": "00071-0155-23", "name": "Lipitor", "lot_number": None,
    "expiry_date": None, "quantity": "240", "unit": "EA", "location": None, "version": 3,
    "updated_at": "2026-11-27T21:04:05Z", "deleted": False,
}  # fmt: skip


async def _no_wait(seconds: float) -> None:
    return None


def make() -> AtlasClient:
    return build_client(URL, token=Secret("atl_pat_respx_token_value"), sleep=_no_wait, max_retries=2)


@respx.mock
async def test_html_502_from_a_proxy_is_a_server_error() -> None:
    respx.get(f"{URL}/api/v1/me").mock(return_value=httpx.Response(502, text="<html>Bad gateway</html>"))
    async with make() as atlas:
        with pytest.raises(ServerError) as caught:
            await atlas.me()
    assert caught.value.status == 502 and caught.value.remote_code is None


@respx.mock
async def test_a_non_atlas_answer_is_invalid_response() -> None:
    respx.get(f"{URL}/api/v1/me").mock(return_value=httpx.Response(200, text="<html>captive portal</html>"))
    async with make() as atlas:
        with pytest.raises(InvalidResponse, match="not a JSON object"):
            await atlas.me()


@respx.mock
async def test_a_400_without_an_error_body_says_it_may_not_be_atlas() -> None:
    respx.get(f"{URL}/api/v1/me").mock(return_value=httpx.Response(400, text="nope"))
    async with make() as atlas:
        with pytest.raises(InvalidResponse, match="Atlas server"):
            await atlas.me()


@respx.mock
async def test_bare_404_is_not_found() -> None:
    respx.get(f"{URL}/api/v1/inventory/inv_1").mock(return_value=httpx.Response(404))
    async with make() as atlas:
        with pytest.raises(NotFound):
            await atlas.get_row("inv_1")


@respx.mock
async def test_a_quantity_sent_as_a_json_number_is_refused() -> None:
    respx.get(f"{URL}/api/v1/inventory/inv_1").mock(
        return_value=httpx.Response(200, json={**ROW, "quantity": 0.1})
    )
    async with make() as atlas:
        with pytest.raises(InvalidResponse, match="decimal string"):
            await atlas.get_row("inv_1")


@respx.mock
async def test_offsets_in_times_are_normalised_to_utc() -> None:
    row = {**ROW, "updated_at": "2026-11-27T16:04:05-05:00"}
    respx.get(f"{URL}/api/v1/inventory/inv_1").mock(return_value=httpx.Response(200, json=row))
    async with make() as atlas:
        parsed = await atlas.get_row("inv_1")
    assert parsed.updated_at.isoformat() == "2026-11-27T21:04:05+00:00" and parsed.quantity == Decimal("240")


@respx.mock
async def test_read_timeout_on_a_read_is_retried_then_network_error_not_in_doubt() -> None:
    route = respx.get(f"{URL}/api/v1/me").mock(side_effect=httpx.ReadTimeout("slow"))
    async with make() as atlas:
        with pytest.raises(NetworkError) as caught:
            await atlas.me()
    assert route.call_count == 3 and not caught.value.in_doubt


@respx.mock
async def test_keyed_adjustment_is_retried_after_a_timeout_with_the_same_key() -> None:
    route = respx.post(f"{URL}/api/v1/inventory/inv_1/adjustments").mock(
        side_effect=[httpx.ReadTimeout("slow"), httpx.Response(200, json={**ROW, "quantity": "235"})]
    )
    async with make() as atlas:
        row = await atlas.adjust("inv_1", Decimal("-5"), key="adj-key-1")
    assert row.quantity == Decimal("235") and route.call_count == 2
    keys = {call.request.headers["Idempotency-Key"] for call in route.calls}
    assert keys == {"adj-key-1"}
    assert route.calls[0].request.content == route.calls[1].request.content


@respx.mock
async def test_unkeyed_patch_that_times_out_is_in_doubt() -> None:
    route = respx.patch(f"{URL}/api/v1/inventory/inv_1").mock(side_effect=httpx.ReadTimeout("slow"))
    async with make() as atlas:
        with pytest.raises(NetworkError) as caught:
            await atlas.update_row("inv_1", {"name": "x"}, version=3)
    assert caught.value.in_doubt and route.call_count == 1
    assert route.calls[0].request.headers["If-Match"] == '"3"'


@respx.mock
async def test_401_message_never_shows_the_token() -> None:
    body = {
        "error": {"code": "unauthorized", "message": "token atl_pat_respx_token_value revoked", "details": {}}
    }
    respx.get(f"{URL}/api/v1/me").mock(return_value=httpx.Response(401, json=body))
    async with make() as atlas:
        with pytest.raises(AuthFailed) as caught:
            await atlas.me()
    assert "atl_pat_respx_token_value" not in str(caught.value)
    assert "atl_pat_respx_token_value" not in str(caught.value.as_dict())


@respx.mock
async def test_long_retry_after_is_not_waited_out() -> None:
    body = {"error": {"code": "rate_limited", "message": "slow down", "details": {}}}
    respx.get(f"{URL}/api/v1/me").mock(
        return_value=httpx.Response(429, json=body, headers={"Retry-After": "3600"})
    )
    async with make() as atlas:
        with pytest.raises(RateLimited) as caught:
            await atlas.me()
    assert caught.value.retry_after == 3600


@respx.mock
async def test_rejected_cursor_tells_the_engine_to_resync() -> None:
    body = {"error": {"code": "validation_failed", "message": "bad cursor", "details": {"field": "since"}}}
    respx.get(f"{URL}/api/v1/inventory/changes").mock(return_value=httpx.Response(422, json=body))
    async with make() as atlas:
        with pytest.raises(CursorRejected) as caught:
            await atlas.changes_page(since="c1.old")
    assert isinstance(caught.value, ValidationFailed) and "full sync" in caught.value.fix


@respx.mock
async def test_413_is_validation_failed_with_the_code() -> None:
    body = {"error": {"code": "payload_too_large", "message": "too big", "details": {}}}
    respx.post(f"{URL}/api/v1/inventory/inv_1/adjustments").mock(return_value=httpx.Response(413, json=body))
    async with make() as atlas:
        with pytest.raises(ValidationFailed) as caught:
            await atlas.adjust("inv_1", Decimal("1"), key="k")
    assert caught.value.status == 413 and caught.value.remote_code == "payload_too_large"


@respx.mock
async def test_long_poll_timeout_covers_the_wait() -> None:
    route = respx.get(f"{URL}/api/v1/inventory/changes").mock(
        return_value=httpx.Response(200, json={"changes": [], "cursor": "c1.x", "has_more": False})
    )
    async with make() as atlas:
        await atlas.changes_page(since="c1.x", wait=55)
    request = route.calls[0].request
    assert request.url.params["wait"] == "55"
    assert request.extensions["timeout"]["read"] >= 55 + 10


def test_reports_never_carry_credentials() -> None:
    with pytest.raises(ValueError, match="client_secret"):
        assert_no_credentials({"client_secret": "x"})
    secret = Secret("a-registered-secret-value")
    with pytest.raises(ValueError, match="credential"):
        assert_no_credentials({"error_message": f"failed with {secret.reveal()}"})
    assert_no_credentials({"items_mapped": 3, "status": "healthy"})
