"""Emptying big containers piece by piece, so that no single deallocation holds the GIL for long.

Dropping the last reference to a 100k-entry dict or list frees every entry in one C call that holds the
GIL for tens of milliseconds, and the window's thread waits meanwhile. Emptied an entry (dict) or a slice
(list) at a time, the interpreter can hand the GIL to another thread between steps. Call it off the event
loop's thread (the DB thread or a worker) on a container nobody reads any more.
"""

from __future__ import annotations

from typing import Any

LIST_SLICE = 1000


def empty_gradually(container: dict[Any, Any] | list[Any]) -> None:
    if isinstance(container, dict):
        while container:
            container.popitem()
        return
    while container:
        del container[-LIST_SLICE:]
