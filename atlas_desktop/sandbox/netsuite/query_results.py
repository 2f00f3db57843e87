"""A paged SuiteQL query's count and rows, worked out once while the data stays as it is.

A client reads a large query as many pages of one text. Run as `... LIMIT ? OFFSET ?` per page, SQLite
sorts and formats every row of the query for each page (an ORDER BY over a join needs the whole result
before the first row), so a read of n pages costs n times the query. Here a query of more than one page
is run once, its rows kept and cut into pages; any write to the database, or another time zone for the
user (TO_CHAR shows datetimes in it), makes a new answer. What a page holds is what a fresh query of it
would return: the same rows, in the same order, with the same total.
"""

from __future__ import annotations

import sqlite3
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any

Key = tuple[str, tuple[Any, ...], str]

MAX_COUNTS = 256
# Queries whose rows are kept: the pages of one read arrive together (several in flight), and a read
# goes through few queries one after the other, so a handful is enough and bounds the memory.
MAX_RESULTS = 2


class QueryResults:
    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db
        self._counts: dict[Key, tuple[int, int]] = {}
        self._rows: OrderedDict[Key, tuple[int, list[Any]]] = OrderedDict()

    def total(self, sql: str, params: Sequence[Any], zone: str) -> int:
        """How many rows the query returns (the page's `totalResults`)."""
        key, version = (sql, tuple(params), zone), self.db.total_changes
        cached = self._counts.get(key)
        if cached is not None and cached[0] == version:
            return cached[1]
        total: int = self.db.execute(f"SELECT COUNT(*) FROM ({sql})", params).fetchone()[0]
        if len(self._counts) >= MAX_COUNTS:
            self._counts.clear()
        self._counts[key] = (version, total)
        return total

    def page(
        self, sql: str, params: Sequence[Any], zone: str, *, offset: int, size: int, reachable: int
    ) -> list[Any]:
        """The rows from `offset`, at most `size`; `reachable`: how many rows the query may hand out."""
        if reachable <= size:  # one page holds them all: nothing to keep
            return self.db.execute(f"{sql} LIMIT ? OFFSET ?", [*params, size, offset]).fetchall()
        key, version = (sql, (*params, reachable), zone), self.db.total_changes
        cached = self._rows.get(key)
        if cached is None or cached[0] != version:
            rows = self.db.execute(f"{sql} LIMIT ?", [*params, reachable]).fetchall()
            cached = (version, rows)
            self._rows[key] = cached
            while len(self._rows) > MAX_RESULTS:
                self._rows.popitem(last=False)
        self._rows.move_to_end(key)
        return cached[1][offset : offset + size]
