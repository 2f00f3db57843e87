"""A keyed create with an unclear outcome is resolved by its key, never failed while it may have posted."""

from __future__ import annotations

from decimal import Decimal

import httpx
import pytest

from atlas_desktop.domain.errors import NetworkError, ValidationFailed
from atlas_desktop.domain.model import StockChange, StockKey

from .helpers import error_response
from .test_writes import FakeNetSuite, connector_for

REAL_DUPLICATE = "Error while accessing a resource. This record already exists."


def change() -> StockChange:
    return StockChange(StockKey("5", "1"), Decimal(3), "EA")


class LateLanding(FakeNetSuite):
    """The first POST times out on our side but lands in NetSuite only after our lookup (a slow server)."""

    def __init__(self, key: str) -> None:
        super().__init__()
        self.key = key
        self.landed_late = False

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/suiteql") and len(self.writes) == 2 and not self.landed_late:
            self.landed_late = True
            self.applied[self.key] = "555"  # the first attempt finally committed
        return super().__call__(request)


@pytest.mark.parametrize(
    "refusal",
    [
        error_response(401, "INVALID_LOGIN", "Invalid login attempt."),
        error_response(403, "INSUFFICIENT_PERMISSION", "Permission Violation."),
        error_response(404, "NONEXISTENT_ID", "The record instance does not exist."),
        error_response(400, "USER_ERROR", "The account is inactive."),
        httpx.Response(400, text="<html>proxy says no</html>", headers={"Content-Type": "text/html"}),
    ],
    ids=["401", "403", "404", "400", "html"],
)
async def test_any_refusal_after_an_in_doubt_send_is_resolved_by_the_key(refusal: httpx.Response) -> None:
    fake = LateLanding("key-a")
    fake.write_script = [httpx.ReadTimeout("no answer"), refusal]
    connector = connector_for(fake)
    result = await connector.adjust_stock(change(), "key-a")
    assert result.remote_id == "555" and len(fake.writes) == 2


@pytest.mark.parametrize(
    "refusal",
    [
        error_response(401, "INVALID_LOGIN", "Invalid login attempt."),
        error_response(403, "INSUFFICIENT_PERMISSION", "Permission Violation."),
        error_response(404, "NONEXISTENT_ID", "The record instance does not exist."),
        error_response(400, "USER_ERROR", "The account is inactive."),
    ],
    ids=["401", "403", "404", "400"],
)
async def test_a_refusal_after_an_in_doubt_send_stays_in_doubt_when_the_key_is_not_found(
    refusal: httpx.Response,
) -> None:
    # The first attempt may still be committing on NetSuite's side: never "failed" (the engine would
    # carry the change again under a new key and post it twice), but in doubt, looked up next run.
    fake = FakeNetSuite()
    fake.write_script = [httpx.ReadTimeout("no answer"), refusal]
    connector = connector_for(fake)
    with pytest.raises(NetworkError) as raised:
        await connector.adjust_stock(change(), "key-b")
    assert raised.value.in_doubt and raised.value.retryable
    assert "key" in raised.value.message and raised.value.status == refusal.status_code
    assert len(fake.writes) == 2


async def test_a_duplicate_refusal_whose_record_cannot_be_found_is_in_doubt_not_failed() -> None:
    # NetSuite says the key is taken: something posted it, even if the lookup cannot see it yet.
    fake = FakeNetSuite()
    fake.write_script = [error_response(400, "USER_ERROR", REAL_DUPLICATE)]
    connector = connector_for(fake)
    with pytest.raises(NetworkError) as raised:
        await connector.adjust_stock(change(), "key-c")
    assert raised.value.in_doubt and "already" in raised.value.message
    assert len(fake.writes) == 1, "never sent again: NetSuite holds it"


async def test_a_first_refusal_with_nothing_in_doubt_is_still_a_refusal() -> None:
    fake = FakeNetSuite()
    fake.write_script = [error_response(400, "USER_ERROR", "The account is inactive.")]
    connector = connector_for(fake)
    with pytest.raises(ValidationFailed, match="The account is inactive"):
        await connector.adjust_stock(change(), "key-d")
