"""A test's synchronous fake repository offered as the engine's async port (engine/ports.py)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any


class AsyncPort:
    """Each method of `fake` as a coroutine, as the app's adapters offer the repositories'."""

    def __init__(self, fake: object) -> None:
        self.fake = fake

    def __getattr__(self, name: str) -> Callable[..., Awaitable[Any]]:
        method = getattr(self.fake, name)

        async def call(*args: Any, **kwargs: Any) -> Any:
            return method(*args, **kwargs)

        return call
