"""In-memory tables of one SAP tenant, with an undo journal so a $batch change set is all-or-nothing."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

Row = dict[str, Any]
Key = tuple[Any, ...]


class DuplicateKey(Exception):
    pass


class Table:
    """Rows by key tuple. `version` changes on every write (query result caches key on it)."""

    def __init__(self, name: str, key: tuple[str, ...]) -> None:
        self.name = name
        self.key_names = key
        self.rows: dict[Key, Row] = {}
        self.version = 0

    def key_of(self, row: Row) -> Key:
        return tuple(row[k] for k in self.key_names)

    def get(self, key: Key) -> Row | None:
        return self.rows.get(key)

    def __len__(self) -> int:
        return len(self.rows)


class State:
    """All tables of a tenant. Mutate only through insert/update/delete so a change set can roll back."""

    def __init__(self) -> None:
        self.tables: dict[str, Table] = {}
        self.counters: dict[str, int] = {}
        self._journal: list[tuple[str, str, Key, Row | None]] | None = None
        self._last_tick = datetime(1970, 1, 1, tzinfo=UTC)

    def define(self, name: str, key: tuple[str, ...]) -> Table:
        table = self.tables.get(name)
        if table is None:
            table = self.tables[name] = Table(name, key)
        return table

    def table(self, name: str) -> Table:
        return self.tables[name]

    def now(self) -> datetime:
        """Aware UTC, strictly increasing: two writes never share a LastChangeDateTime (ETags differ)."""
        moment = datetime.now(UTC)
        if moment <= self._last_tick:
            moment = self._last_tick + timedelta(microseconds=1)
        self._last_tick = moment
        return moment

    def next_number(self, counter: str, start: int) -> int:
        value = self.counters.get(counter, start - 1) + 1
        self._record("counter", counter, (), {"value": self.counters.get(counter)})
        self.counters[counter] = value
        return value

    # -- mutations -------------------------------------------------------------------------------------

    def insert(self, name: str, row: Row) -> Row:
        table = self.tables[name]
        key = table.key_of(row)
        if key in table.rows:
            raise DuplicateKey(f"{name}{key} already exists")
        self._record("insert", name, key, None)
        table.rows[key] = row
        table.version += 1
        return row

    def update(self, name: str, key: Key, changes: Row) -> Row:
        table = self.tables[name]
        row = table.rows[key]
        self._record("update", name, key, dict(row))
        row.update(changes)
        table.version += 1
        return row

    def delete(self, name: str, key: Key) -> None:
        table = self.tables[name]
        old = table.rows.pop(key)
        self._record("delete", name, key, old)
        table.version += 1

    def load(self, name: str, rows: list[Row]) -> None:
        """Bulk seeding: no journal, no duplicate check beyond the dict itself."""
        table = self.tables[name]
        key_names = table.key_names
        table.rows.update((tuple(r[k] for k in key_names), r) for r in rows)
        table.version += 1

    # -- atomicity -------------------------------------------------------------------------------------

    def _record(self, op: str, name: str, key: Key, before: Row | None) -> None:
        if self._journal is not None:
            self._journal.append((op, name, key, before))

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """All writes inside succeed together or are undone together; nested calls join the outer one."""
        if self._journal is not None:
            yield
            return
        self._journal = []
        try:
            yield
        except BaseException:
            self._undo(self._journal)
            raise
        finally:
            self._journal = None

    def _undo(self, journal: list[tuple[str, str, Key, Row | None]]) -> None:
        for op, name, key, before in reversed(journal):
            if op == "counter":
                if before is None or before["value"] is None:
                    self.counters.pop(name, None)
                else:
                    self.counters[name] = before["value"]
                continue
            table = self.tables[name]
            if op == "insert":
                table.rows.pop(key, None)
            elif op == "update" and before is not None:
                table.rows[key].clear()
                table.rows[key].update(before)
            elif op == "delete" and before is not None:
                table.rows[key] = before
            table.version += 1
