"""A bearer token's request flow, shared by the OAuth connectors: renewed before it expires (one request
for all concurrent callers) and once more on a 401, after which a second 401 is a real refusal."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Callable
from typing import TypeVar

import httpx

from atlas_desktop.domain.secrets import Secret

T = TypeVar("T")
TokenFlow = AsyncGenerator[httpx.Request, httpx.Response]


async def renewing_bearer_flow(
    request: httpx.Request,
    *,
    current: Callable[[], T | None],
    usable: Callable[[T], bool],
    secret: Callable[[T], Secret],
    renew: Callable[[T | None], TokenFlow],
) -> TokenFlow:
    """An httpx auth flow: `renew(stale)` is itself a flow that sends the token request (under the
    connector's lock, and only if `stale` is still the current token) and stores the new token."""
    used = current()
    must_renew = used is None or not usable(used)
    for attempt in range(2):
        if must_renew:
            flow = renew(used)
            try:
                try:
                    response = yield await flow.__anext__()
                    while True:
                        response = yield await flow.asend(response)
                except StopAsyncIteration:
                    pass
            finally:
                await flow.aclose()  # releases the lock even when the token call failed
        used = current()
        assert used is not None
        request.headers["Authorization"] = f"Bearer {secret(used).reveal()}"
        response = yield request
        if response.status_code != 401 or attempt:
            return
        # Expired early or revoked: one new token and one retry.
        await response.aread()
        must_renew = True


async def unchanged_flow(request: httpx.Request) -> TokenFlow:
    """The flow of a request that needs no token (its credentials are already on it)."""
    yield request
