"""The emulator's data in SQLite: inventory rows with versions and a change sequence, orders, idempotency."""

from __future__ import annotations

import asyncio
import base64
import json
import random
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal
from typing import Any

from atlas_desktop.sandbox.atlas.wire import ApiError, invalid, rfc3339

Clock = Callable[[], float]

IDEMPOTENCY_TTL_S = 24 * 3600
ROW_FIELDS = (
    "id",
    "sku",
    "ndc",
    "name",
    "lot_number",
    "expiry_date",
    "quantity",
    "unit",
    "location",
    "version",
    "updated_at",
    "deleted",
)
ORDER_STATUSES = ("pending", "confirmed", "shipped", "delivered", "cancelled")
_INSERT_ROW = (
    "INSERT INTO inventory (id, sku, ndc, name, lot_number, expiry_date, quantity, unit, location,"
    " version, updated_at, deleted, seq) VALUES (?,?,?,?,?,?,?,?,?,1,?,0,?)"
)
_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_TO_CROCKFORD = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", _CROCKFORD)

_SCHEMA = """
CREATE TABLE inventory (
    id TEXT PRIMARY KEY, sku TEXT, ndc TEXT NOT NULL, name TEXT NOT NULL, lot_number TEXT, expiry_date TEXT,
    quantity TEXT NOT NULL, unit TEXT NOT NULL, location TEXT, version INTEGER NOT NULL,
    updated_at TEXT NOT NULL, deleted INTEGER NOT NULL DEFAULT 0, seq INTEGER NOT NULL
);
CREATE INDEX inventory_seq ON inventory(seq);
CREATE TABLE orders (
    id TEXT PRIMARY KEY, number TEXT NOT NULL, status TEXT NOT NULL, body TEXT NOT NULL, seq INTEGER NOT NULL,
    link TEXT
);
CREATE INDEX orders_seq ON orders(seq);
CREATE TABLE idempotency (
    account TEXT NOT NULL, key TEXT NOT NULL, fingerprint TEXT NOT NULL, status INTEGER NOT NULL,
    headers TEXT NOT NULL, body BLOB NOT NULL, created_at REAL NOT NULL, PRIMARY KEY (account, key)
);
CREATE TABLE health (connection_id TEXT PRIMARY KEY, body TEXT NOT NULL, updated_at TEXT NOT NULL);
CREATE TABLE sync_logs (
    id TEXT PRIMARY KEY, connection_id TEXT NOT NULL, body TEXT NOT NULL, created_at TEXT
);
"""


def ulid(epoch_ms: int, randomness: int) -> str:
    """A 26-character sortable id (48-bit time, 80-bit randomness) in Crockford base32."""
    value = (epoch_ms << 80) | (randomness & ((1 << 80) - 1))
    # 128 bits shifted into 160 = 32 base32 characters; the first 26 are the id (2 leading zero bits).
    return base64.b32encode((value << 30).to_bytes(20, "big")).decode()[:26].translate(_TO_CROCKFORD)


def encode_cursor(kind: str, value: int | str) -> str:
    raw = json.dumps({"k": kind, "v": value}, separators=(",", ":")).encode()
    return "c1." + base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, kind: str, field: str) -> Any:
    """The value inside a cursor this server issued for `kind`; anything else is a 422."""
    try:
        if not cursor.startswith("c1."):
            raise ValueError
        payload = cursor[3:]
        data = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        if data["k"] != kind:
            raise ValueError
        return data["v"]
    except (ValueError, KeyError, TypeError):
        raise invalid(
            f"{field} is not a cursor this endpoint issued; start again without {field}", field=field
        ) from None


class ChangeSignal:
    """Wakes long-polls when a change lands, from any thread, with no polling."""

    def __init__(self) -> None:
        self._waiters: set[tuple[asyncio.AbstractEventLoop, asyncio.Future[None]]] = set()
        self._lock = threading.Lock()

    async def wait(self, timeout: float, ready: Callable[[], bool]) -> None:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()
        entry = (loop, future)
        with self._lock:
            self._waiters.add(entry)
        try:
            # Check after registering, so a change between the caller's read and here is not missed.
            if not ready():
                await asyncio.wait_for(asyncio.shield(future), timeout)
        except TimeoutError:
            pass
        finally:
            with self._lock:
                self._waiters.discard(entry)

    def notify(self) -> None:
        with self._lock:
            waiters = list(self._waiters)
        for loop, future in waiters:
            if loop.is_closed():
                continue
            loop.call_soon_threadsafe(_resolve, future)


def _resolve(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


class AtlasState:
    """All of the emulator's data. Every public method is atomic (one lock, one SQLite transaction)."""

    def __init__(self, *, clock: Clock = time.time, path: str = ":memory:", seed: int = 0) -> None:
        self.clock = clock
        self.changed = ChangeSignal()
        self._lock = threading.RLock()
        self._rng = random.Random(seed)
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.row_factory = sqlite3.Row
        # A test double: an fsync per request would make the emulator, not the app, the bottleneck of
        # every benchmark. State still survives a crash of the app (it lives in this process).
        self._db.execute("PRAGMA synchronous = OFF")
        self._db.execute("PRAGMA journal_mode = MEMORY")
        self._db.executescript(_SCHEMA)
        self._seq = 0
        self._order_seq = 0
        self._ids = 0

    # ---- ids and time -------------------------------------------------------------------------------
    def now(self) -> str:
        return rfc3339(self.clock())

    def new_id(self, prefix: str) -> str:
        self._ids += 1
        return f"{prefix}_{ulid(int(self.clock() * 1000), self._rng.getrandbits(64) << 16 | self._ids)}"

    # ---- inventory ----------------------------------------------------------------------------------
    @staticmethod
    def _row(record: sqlite3.Row) -> dict[str, Any]:
        row = {name: record[name] for name in ROW_FIELDS}
        row["deleted"] = bool(row["deleted"])
        return row

    def seed_rows(self, rows: Iterable[Mapping[str, Any]]) -> int:
        """Bulk insert at version 1 (ids given or made in order so listing order is insertion order)."""
        now = self.now()
        base_ms = int(self.clock() * 1000)
        with self._lock:
            records = []
            for index, row in enumerate(rows):
                self._seq += 1
                row_id = row.get("id") or f"inv_{ulid(base_ms, index)}"
                records.append(
                    (
                        row_id,
                        row.get("sku"),
                        row["ndc"],
                        row["name"],
                        row.get("lot_number"),
                        row.get("expiry_date"),
                        str(row["quantity"]),
                        row.get("unit", "EA"),
                        row.get("location"),
                        now,
                        self._seq,
                    )
                )
            self._db.execute("BEGIN")
            self._db.executemany(
                _INSERT_ROW,
                records,
            )
            self._db.execute("COMMIT")
        self.changed.notify()
        return len(records)

    def get_row(self, row_id: str, *, include_deleted: bool = False) -> dict[str, Any] | None:
        with self._lock:
            record = self._db.execute("SELECT * FROM inventory WHERE id = ?", (row_id,)).fetchone()
        if record is None or (record["deleted"] and not include_deleted):
            return None
        return self._row(record)

    def require_row(self, row_id: str) -> dict[str, Any]:
        row = self.get_row(row_id)
        if row is None:
            raise ApiError(404, "not_found", f"no inventory row {row_id}", {"id": row_id})
        return row

    def list_rows(self, after_id: str | None, limit: int) -> tuple[list[dict[str, Any]], str | None]:
        with self._lock:
            records = self._db.execute(
                "SELECT * FROM inventory WHERE deleted = 0 AND id > ? ORDER BY id LIMIT ?",
                (after_id or "", limit + 1),
            ).fetchall()
        rows = [self._row(r) for r in records[:limit]]
        return rows, (rows[-1]["id"] if len(records) > limit else None)

    def changes(self, since: int, limit: int) -> tuple[list[dict[str, Any]], int, bool]:
        """Rows whose latest change is after sequence `since`, oldest first; (rows, last seq, has_more)."""
        with self._lock:
            records = self._db.execute(
                "SELECT * FROM inventory WHERE seq > ? ORDER BY seq LIMIT ?", (since, limit + 1)
            ).fetchall()
        page = records[:limit]
        last = page[-1]["seq"] if page else since
        return [self._row(r) for r in page], last, len(records) > limit

    @property
    def head(self) -> int:
        return self._seq

    def insert_row(self, fields: Mapping[str, Any]) -> dict[str, Any]:
        with self._lock:
            self._seq += 1
            row_id = self.new_id("inv")
            self._db.execute(
                _INSERT_ROW,
                (
                    row_id,
                    fields.get("sku"),
                    fields["ndc"],
                    fields["name"],
                    fields.get("lot_number"),
                    fields.get("expiry_date"),
                    fields["quantity"],
                    fields["unit"],
                    fields.get("location"),
                    self.now(),
                    self._seq,
                ),
            )
            row = self.require_row(row_id)
        self.changed.notify()
        return row

    def update_row(
        self, row_id: str, fields: Mapping[str, Any], *, if_version: int | None = None
    ) -> dict[str, Any]:
        """Set fields, bump the version. `if_version` given and not current -> 412 with the current row."""
        with self._lock:
            current = self.require_row(row_id)
            if if_version is not None and if_version != current["version"]:
                raise ApiError(
                    412,
                    "version_conflict",
                    f"the row is at version {current['version']}, not {if_version}; read it again",
                    {"current": current},
                )
            self._write(row_id, dict(fields))
            row = self.require_row(row_id)
        self.changed.notify()
        return row

    def adjust_row(self, row_id: str, delta: Decimal) -> dict[str, Any]:
        with self._lock:
            current = self.require_row(row_id)
            result = Decimal(current["quantity"]) + delta
            if result < 0:
                raise invalid(
                    f"the adjustment would leave {result} {current['unit']}; quantities cannot go below zero",
                    quantity=current["quantity"],
                    delta=str(delta),
                    current=current,
                )
            self._write(row_id, {"quantity": str(result)})
            row = self.require_row(row_id)
        self.changed.notify()
        return row

    def delete_row(self, row_id: str) -> dict[str, Any]:
        with self._lock:
            self.require_row(row_id)
            self._write(row_id, {"deleted": 1})
            row = self.get_row(row_id, include_deleted=True)
        assert row is not None
        self.changed.notify()
        return row

    def _write(self, row_id: str, fields: dict[str, Any]) -> None:
        self._seq += 1
        fields.update(updated_at=self.now(), seq=self._seq)
        assignments = ", ".join(f"{name} = ?" for name in fields)
        self._db.execute(
            f"UPDATE inventory SET {assignments}, version = version + 1 WHERE id = ?",  # names are ours
            (*fields.values(), row_id),
        )

    def row_count(self) -> int:
        with self._lock:
            return int(self._db.execute("SELECT count(*) FROM inventory WHERE deleted = 0").fetchone()[0])

    # ---- orders -------------------------------------------------------------------------------------
    def insert_order(self, order: Mapping[str, Any], status: str) -> dict[str, Any]:
        with self._lock:
            self._order_seq += 1
            body = {
                "id": order.get("id") or self.new_id("ord"),
                "number": order.get("number") or f"ATL-PO-{self._order_seq:06d}",
                "supplier": order["supplier"],
                "lines": order["lines"],
                "created_at": order.get("created_at") or self.now(),
            }
            self._db.execute(
                "INSERT INTO orders (id, number, status, body, seq) VALUES (?,?,?,?,?)",
                (body["id"], body["number"], status, json.dumps(body), self._order_seq),
            )
        return body

    def set_order_status(self, order_id: str, status: str) -> None:
        with self._lock:
            self.require_order(order_id)
            self._order_seq += 1
            self._db.execute(
                "UPDATE orders SET status = ?, seq = ? WHERE id = ?", (status, self._order_seq, order_id)
            )

    def require_order(self, order_id: str) -> sqlite3.Row:
        with self._lock:
            record = self._db.execute("SELECT * FROM orders WHERE id = ?", (order_id,)).fetchone()
        if record is None:
            raise ApiError(404, "not_found", f"no order {order_id}", {"id": order_id})
        return record

    def orders(self, status: str | None, since: int, limit: int) -> tuple[list[dict[str, Any]], int, bool]:
        query = "SELECT * FROM orders WHERE seq > ?"
        params: list[object] = [since]
        if status:
            query += " AND status = ?"
            params.append(status)
        with self._lock:
            records = self._db.execute(query + " ORDER BY seq LIMIT ?", (*params, limit + 1)).fetchall()
        page = records[:limit]
        last = page[-1]["seq"] if page else since
        return [json.loads(r["body"]) for r in page], last, len(records) > limit

    def link_order(self, order_id: str, link: Mapping[str, Any]) -> dict[str, Any]:
        """Idempotent on the document id; another document for a linked order -> 409 conflict."""
        with self._lock:
            record = self.require_order(order_id)
            if record["link"]:
                existing: dict[str, Any] = json.loads(record["link"])
                if (existing["erp_type"], existing["erp_document_id"]) == (
                    link["erp_type"],
                    link["erp_document_id"],
                ):
                    return existing
                raise ApiError(
                    409,
                    "conflict",
                    "this order is already linked to another ERP document",
                    {"current": existing},
                )
            stored = {"order_id": order_id, **link, "linked_at": self.now()}
            self._db.execute("UPDATE orders SET link = ? WHERE id = ?", (json.dumps(stored), order_id))
            return stored

    def order_link(self, order_id: str) -> dict[str, Any] | None:
        record = self.require_order(order_id)
        return json.loads(record["link"]) if record["link"] else None

    # ---- ERP connection reports ---------------------------------------------------------------------
    def put_health(self, connection_id: str, body: Mapping[str, Any]) -> None:
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO health (connection_id, body, updated_at) VALUES (?,?,?)",
                (connection_id, json.dumps(body), self.now()),
            )

    def health(self, connection_id: str) -> dict[str, Any] | None:
        with self._lock:
            record = self._db.execute(
                "SELECT body FROM health WHERE connection_id = ?", (connection_id,)
            ).fetchone()
        return json.loads(record["body"]) if record else None

    def add_sync_log(self, connection_id: str, body: Mapping[str, Any]) -> dict[str, Any]:
        with self._lock:
            log_id = self.new_id("log")
            stored = {"id": log_id, "connection_id": connection_id, **body, "received_at": self.now()}
            self._db.execute(
                "INSERT INTO sync_logs (id, connection_id, body, created_at) VALUES (?,?,?,?)",
                (log_id, connection_id, json.dumps(stored), stored["received_at"]),
            )
        return stored

    def sync_logs(self, connection_id: str) -> list[dict[str, Any]]:
        with self._lock:
            records = self._db.execute(
                "SELECT body FROM sync_logs WHERE connection_id = ? ORDER BY rowid", (connection_id,)
            ).fetchall()
        return [json.loads(r["body"]) for r in records]

    # ---- idempotency --------------------------------------------------------------------------------
    def recall(self, account: str, key: str) -> tuple[str, int, dict[str, str], bytes] | None:
        """The first response stored under `key` within 24 h: (fingerprint, status, headers, body)."""
        with self._lock:
            self._db.execute(
                "DELETE FROM idempotency WHERE created_at < ?", (self.clock() - IDEMPOTENCY_TTL_S,)
            )
            record = self._db.execute(
                "SELECT * FROM idempotency WHERE account = ? AND key = ?", (account, key)
            ).fetchone()
        if record is None:
            return None
        return record["fingerprint"], record["status"], json.loads(record["headers"]), bytes(record["body"])

    def remember(
        self, account: str, key: str, fingerprint: str, status: int, headers: dict[str, str], body: bytes
    ) -> None:
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO idempotency VALUES (?,?,?,?,?,?,?)",
                (account, key, fingerprint, status, json.dumps(headers), body, self.clock()),
            )

    @property
    def lock(self) -> threading.RLock:
        return self._lock
