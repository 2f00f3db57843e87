"""The store's one thread: every store call of the engine and the window runs there, in order."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import ParamSpec, TypeVar

from atlas_desktop.store.db_errors import translated

P = ParamSpec("P")
T = TypeVar("T")


class DbThread:
    """Runs store calls on one dedicated thread: writes serialised, the event loop never blocked."""

    def __init__(self) -> None:
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="atlas-db")

    async def __call__(self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
        loop = asyncio.get_running_loop()
        # SQLite's operational errors leave as StoreError: SQLAlchemy's own text carries the statement
        # and its values (item data), which must reach no log, terminal or report.
        return await loop.run_in_executor(self._executor, partial(translated, fn, *args, **kwargs))

    def close(self) -> None:
        self._executor.shutdown(wait=True)
