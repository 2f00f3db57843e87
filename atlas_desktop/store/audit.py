"""The append-only, HMAC-chained audit trail: append, verify, export and DSCSA-safe pruning."""

from __future__ import annotations

import contextlib
import csv
import functools
import logging
import os
import re
import sys
import tempfile
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from pathlib import Path
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy import Connection

from atlas_desktop.domain.audit_events import AuditEvent, AuditSource
from atlas_desktop.domain.errors import ConfigError
from atlas_desktop.domain.secrets import Secret, redact
from atlas_desktop.store.audit_chain import (
    EXPORT_FIELDS,
    GENESIS_HASH,
    HEAD_FILE,
    HEAD_MISMATCH_ACTION,
    AuditProblem,
    AuditReport,
    Digest,
    Head,
    ProblemKind,
    Sealer,
    at_text,
    canonical_json,
    hash_record,
    head_problem,
    legacy_hash_record,
    mixed_digest,
    read_head,
    walk,
    write_head,
)
from atlas_desktop.store.audit_keys import (
    BROKEN,
    CREATE_NO_UPDATE,
    DROP_NO_UPDATE,
    KEYED,
    PENDING,
    AuditKeySource,
    Keying,
    read_keying,
    write_keying,
)
from atlas_desktop.store.db import Store
from atlas_desktop.store.models import AuditEntryRow
from atlas_desktop.store.types import utcnow

log = logging.getLogger(__name__)

__all__ = [  # the chain's parts are re-exported: callers need only this module
    "EXPORT_FIELDS", "GENESIS_HASH", "HEAD_FILE", "AuditLog", "AuditProblem", "AuditReport", "ProblemKind",
    "PruneResult", "at_text", "canonical_json", "hash_record", "legacy_hash_record", "retention_limit",
    "sanitize_details",
]  # fmt: skip

RETENTION_YEARS = 6  # DSCSA record keeping: transaction records kept at least six years
MAX_DETAILS_CHARS = 64 * 1024
_BATCH = 2000
# The actions only AuditLog itself writes; other lower-case names are the callers'.
PRUNED_ACTION = "audit_pruned"
KEYED_ACTION = "audit_keyed"  # the entries of an older version were re-sealed with the key (or could not be)
_RESERVED_ACTIONS = {PRUNED_ACTION, HEAD_MISMATCH_ACTION, KEYED_ACTION}
_ACTION_RE = re.compile(r"^[a-z][a-z0-9_.]{0,63}$")
_ACTOR_RE = re.compile(r"^(user|scheduler|agent|webhook|system|api:[A-Za-z0-9._-]{1,64})$")
# A key is refused when one of its words (snake, kebab or camel case) names a credential.
_CREDENTIAL_WORDS = {
    "password", "passwd", "passphrase", "secret", "token", "apikey", "authorization", "cookie",
    "credential", "credentials", "privatekey", "signature",
}
_CREDENTIAL_PAIRS = {"apikey", "privatekey", "consumerkey", "signingkey", "accesskey"}


@dataclass(frozen=True)
class PruneResult:
    pruned: int
    through_id: int | None
    anchor_id: int | None


@functools.lru_cache(maxsize=4096)  # a run's entries repeat a few keys; the check is costly
def _key_is_credential(key: str) -> bool:
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", key).lower()
    words = [w for w in re.split(r"[^a-z0-9]+", spaced) if w]
    if any(w in _CREDENTIAL_WORDS for w in words):
        return True
    return any(a + b in _CREDENTIAL_PAIRS for a, b in zip(words, words[1:], strict=False))


def sanitize_details(value: Any, path: str = "details") -> Any:
    """A JSON-native copy of `value` with every string redacted; credentials are refused."""
    if isinstance(value, Secret):
        raise ConfigError(
            f"audit.{path}", "is a secret; audit entries never hold credentials",
            fix="Leave the value out, or record only that it changed (e.g. {'changed': ['password']}).",
        )
    if value is None or isinstance(value, bool | int):
        return value
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise ConfigError(f"audit.{path}", "is not a finite number", fix="Record it as text.")
        return value
    if isinstance(value, Enum):
        return sanitize_details(value.value, path)
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, Decimal):
        return str(value)  # quantities stay exact: never through float
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ConfigError(f"audit.{path}", "is a naive datetime", fix="Pass an aware UTC datetime.")
        return at_text(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Mapping):
        clean: dict[str, Any] = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise ConfigError(f"audit.{path}", "has a key that is not text", fix="Use text keys.")
            if _key_is_credential(key):
                raise ConfigError(
                    f"audit.{path}.{key}", "looks like a credential; audit entries never hold credentials",
                    fix="Leave it out, or record only that it changed.",
                )
            clean[redact(key)] = sanitize_details(item, f"{path}.{key}")
        return clean
    if isinstance(value, list | tuple):
        return [sanitize_details(item, f"{path}[{i}]") for i, item in enumerate(value)]
    raise ConfigError(
        f"audit.{path}", f"holds a {type(value).__name__}, which an audit entry cannot store",
        fix="Pass text, numbers, Decimal, dates, lists or dicts.",
    )


def _clean_text(field: str, value: str | None, limit: int) -> str | None:
    if value is None:
        return None
    if isinstance(value, Secret) or not isinstance(value, str):
        raise ConfigError(f"audit.{field}", "must be plain text", fix="Pass an id or name, never a secret.")
    text = redact(value)
    if len(text) > limit:
        raise ConfigError(f"audit.{field}", f"is longer than {limit} characters", fix="Shorten it.")
    return text


def retention_limit(now: datetime) -> datetime:
    """The newest time an entry may have and still be pruned: `now` minus six years."""
    try:
        return now.replace(year=now.year - RETENTION_YEARS)
    except ValueError:  # 29 February: the earlier day keeps the whole six years
        return now.replace(year=now.year - RETENTION_YEARS, day=28)


# -- the log --------------------------------------------------------------------------------------

_TABLE = AuditEntryRow.__table__
_COLS = _TABLE.c


def _record(row: Any) -> dict[str, Any]:
    return {
        "id": row.id,
        "at": at_text(row.at),
        "actor": row.actor,
        "source": row.source,
        "action": row.action,
        "connection_id": row.connection_id,
        "subject": row.subject,
        "details": row.details,
        "prev_hash": row.prev_hash,
        "hash": row.hash,
    }


# Built once: append runs per write, and SQLAlchemy then reuses the compiled statements.
_INSERT = sa.insert(_TABLE)
_SEAL = sa.update(_TABLE).where(_COLS.id == sa.bindparam("entry_id"))
_RESEAL = (
    sa.update(_TABLE)
    .where(_COLS.id == sa.bindparam("entry_id"))
    .values(prev_hash=sa.bindparam("new_prev"), hash=sa.bindparam("new_hash"))
)
_NEWEST_BEFORE = (
    sa.select(_COLS.id, _COLS.hash)
    .where(_COLS.id < sa.bindparam("before_id"))
    .order_by(_COLS.id.desc())
    .limit(1)
)
_PLACEHOLDER: dict[str, Any] = {
    "actor": "system", "source": "system", "action": "pending", "connection_id": None, "subject": None,
    "details": {}, "prev_hash": "", "hash": "",
}


def _prepare(event: AuditEvent) -> dict[str, Any]:
    """Validate an event and turn it into column values: redacted, credential-free, JSON-native."""
    action, actor, source = event.action, event.actor, event.source
    if not isinstance(action, str) or not _ACTION_RE.match(action) or action in _RESERVED_ACTIONS:
        raise ConfigError(
            "audit.action", f"{action!r} is not a valid action",
            fix="Use a lower-case name such as 'sync_run' (names starting 'audit_' are reserved).",
        )
    if not isinstance(actor, str) or not _ACTOR_RE.match(actor):
        raise ConfigError(
            "audit.actor", "is not a known actor",
            fix="Use user, scheduler, agent, webhook, system or api:<key id>.",
        )
    try:
        source_value = AuditSource(source).value
    except ValueError:
        raise ConfigError(
            "audit.source", f"{source!r} is not a known source",
            fix=f"Use one of: {', '.join(s.value for s in AuditSource)}.",
        ) from None
    details = sanitize_details(dict(event.details or {}))
    if len(canonical_json(details)) > MAX_DETAILS_CHARS:
        raise ConfigError(
            "audit.details", f"is larger than {MAX_DETAILS_CHARS} characters",
            fix="Record a summary and keep bulk data in the sync log.",
        )
    return {
        "actor": actor,
        "source": source_value,
        "action": action,
        "connection_id": _clean_text("connection_id", event.connection_id, 36),
        "subject": _clean_text("subject", event.subject, 300),
        "details": details,
    }


class AuditLog:
    """The profile's audit trail. Appends are serialised by SQLite's write lock (and a thread lock).

    Each entry's `hash` is HMAC-SHA256, under a 32-byte key kept encrypted in the vault (`keys`, see
    store/audit_keys.py), of the canonical JSON of its fields and of the previous entry's hash. Someone
    with SQL access but not the vault's data key can drop the triggers and change rows, but cannot
    re-seal them: `verify` reports the first entry whose digest no longer matches, and `audit.head`
    (next to the database, holding the newest id and digest) catches deleted newest entries.
    The key is asked for at the first append, verify or prune (commands that never touch the trail
    never unlock the vault), then kept for the life of this object.

    Residual risks: whoever holds the vault key (the keyring entry or the passphrase) and the database
    can rewrite the whole trail. Deleting the key row is detected, not prevented (the next append makes
    a new key and every older entry then fails). The one-off re-seal of older versions' entries
    (`finish_keying`) trusts migration 0009's "pending" marker: someone who can forge that marker *and*
    delete the key row (and any `audit_keyed` entry) can have forged unkeyed entries re-sealed. A marker
    set back while the key or an `audit_keyed` entry exists is refused and reported instead.
    """

    def __init__(
        self,
        store: Store,
        keys: AuditKeySource,
        *,
        head_path: Path | None | Literal["default"] = "default",
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._store = store
        self._keys = keys
        self._sealer: Sealer | None = None
        # The head file lives next to the database, in the profile folder; None turns it off.
        self._head_path = store.path.with_name(HEAD_FILE) if head_path == "default" else head_path
        self._clock = clock
        self._lock = threading.RLock()  # re-entrant: the first append may run finish_keying under it

    @property
    def head_path(self) -> Path | None:
        return self._head_path

    # -- append -----------------------------------------------------------------------------------

    def append(
        self,
        action: str,
        *,
        actor: str,
        source: AuditSource | str,
        connection_id: str | None = None,
        subject: str | None = None,
        details: Mapping[str, Any] | None = None,
    ) -> int:
        """Record one entry and return its id. Credentials in `details` are refused, text redacted."""
        event = AuditEvent(action, actor, source, connection_id, subject, details)
        return self.append_many([event])[0]

    def append_many(self, events: Iterable[AuditEvent]) -> list[int]:
        """Record several entries in one transaction (a sync run's writes): all or none."""
        prepared = [_prepare(event) for event in events]
        if not prepared:
            return []
        with self._lock:
            return self._append_locked(prepared, self._writing_sealer())

    def _writing_sealer(self) -> Sealer:
        """The key for new entries, made on first use, after a pending re-seal of older entries."""
        if self._sealer is None:
            self.finish_keying()
            with self._store.engine.begin() as conn:
                key = self._keys.load(conn, create=False)
            if key is None:  # a new profile, or the key row was deleted (verify reports the latter)
                with self._store.engine.begin() as conn:
                    key = self._keys.load(conn, create=True)
            assert key is not None
            self._sealer = Sealer(key)
        return self._sealer

    def _append_locked(self, entries: list[dict[str, Any]], sealer: Sealer) -> list[int]:
        head_before: str | None = None
        ids: list[int] = []
        try:
            with self._store.engine.begin() as conn:
                # Inserting first takes SQLite's write lock before the last hash is read, so two
                # writers (the window and the agent) cannot both chain onto the same entry.
                entry_id, at = self._insert_placeholder(conn)
                last = _newest(conn, entry_id)
                prev_hash = last.hash if last is not None else GENESIS_HASH
                if self._head_path is not None:
                    head = read_head(self._head_path)
                    if _head_disagrees(head, last):
                        # Evidence first: the newest entries vanished since the head was written.
                        fields = _mismatch_fields(head, last)
                        prev_hash = self._seal(conn, sealer, entry_id, at, fields, prev_hash)
                        entry_id, at = self._insert_placeholder(conn)
                entry_id, prev_hash = self._insert_sealed(conn, sealer, entry_id, at, entries, prev_hash, ids)
                # Written while the write lock is held, so the heads of two writers cannot cross.
                head_before = self._replace_head(entry_id, prev_hash)
            return ids
        except BaseException:
            self._restore_head(head_before)
            raise

    def _insert_sealed(
        self, conn: Connection, sealer: Sealer, entry_id: int, at: datetime,
        entries: list[dict[str, Any]], prev_hash: str, ids: list[int],
    ) -> tuple[int, str]:  # fmt: skip
        """Seal the placeholder `entry_id` with the first entry, insert the rest; (last id, last hash)."""
        prev_hash = self._seal(conn, sealer, entry_id, at, entries[0], prev_hash)
        ids.append(entry_id)
        # The rest in one executemany: under the write lock the placeholder holds the highest
        # id ever used (AUTOINCREMENT), so the ids after it are free and known in advance.
        rows: list[dict[str, Any]] = []
        for fields in entries[1:]:
            entry_id, at = entry_id + 1, self._clock()
            record = {"id": entry_id, "at": at_text(at), **fields, "prev_hash": prev_hash}
            prev_hash = sealer(record)
            rows.append({**record, "at": at, "hash": prev_hash})
            ids.append(entry_id)
        if rows:
            conn.execute(_INSERT, rows)
        return entry_id, prev_hash

    def _replace_head(self, entry_id: int, digest: str) -> str | None:
        """Point audit.head at the new entry; returns what it held (None: nothing to restore)."""
        if self._head_path is None:
            return None
        try:
            before = self._head_path.read_text("ascii")
        except (OSError, UnicodeDecodeError):
            before = ""
        write_head(self._head_path, f"{entry_id} {digest}\n")
        return before

    def _restore_head(self, before: str | None) -> None:
        # The transaction failed after the head moved on: put it back, or it names a missing entry.
        if before is None or self._head_path is None:
            return
        with contextlib.suppress(OSError):
            if before:
                write_head(self._head_path, before)
            else:
                self._head_path.unlink(missing_ok=True)

    def _insert_placeholder(self, conn: Connection) -> tuple[int, datetime]:
        # The hash stays '' until _seal: the no-update trigger allows exactly that one update.
        at = self._clock()
        result = conn.execute(_INSERT, {**_PLACEHOLDER, "at": at})
        key = result.inserted_primary_key
        assert key is not None
        return int(key[0]), at

    @staticmethod
    def _seal(
        conn: Connection, sealer: Sealer, entry_id: int, at: datetime, fields: Mapping[str, Any],
        prev_hash: str,
    ) -> str:  # fmt: skip
        record = {"id": entry_id, "at": at_text(at), **fields, "prev_hash": prev_hash}
        digest = sealer(record)
        conn.execute(_SEAL, {**fields, "prev_hash": prev_hash, "hash": digest, "entry_id": entry_id})
        return digest

    # -- verify -----------------------------------------------------------------------------------

    def verify(self) -> AuditReport:
        """Walk the chain in id order (streamed) and report the first broken link, if any."""
        self.finish_keying()  # the first use after upgrading re-seals the older entries (once)
        report = self._verify_once()
        if report.problem is not None and report.problem.kind is ProblemKind.NEWEST_DELETED:
            # An append moves the head just before it commits: a walk in between sees a head that is
            # not in the log yet. A second walk tells that race from a deletion.
            report = self._verify_once()
        return report

    def _verify_once(self) -> AuditReport:
        head = read_head(self._head_path) if self._head_path is not None else None
        with self._store.engine.connect() as conn, conn.begin():
            keying = read_keying(conn)
            first_id = conn.execute(sa.select(sa.func.min(_COLS.id))).scalar()
            if first_id is not None and keying.state == PENDING:
                # finish_keying refused: the marker was set back after the log had been keyed.
                return AuditReport(False, 0, first_id, None, AuditProblem(
                    ProblemKind.UNKEYED, first_id,
                    "The audit log is marked as written before it was keyed, but it was keyed already: "
                    "the database was changed outside Atlas Desktop.",
                ))
            sealer = self._reading_sealer(conn)
            if first_id is not None and sealer is None:
                return AuditReport(False, 0, first_id, None, AuditProblem(
                    ProblemKind.KEY_MISSING, first_id,
                    "The audit log's key is missing from the vault (it was deleted), so no entry can be "
                    "checked.",
                ))
            digest: Digest = legacy_hash_record if sealer is None else sealer
            if keying.state == BROKEN and sealer is not None:
                digest = mixed_digest(sealer, keying.legacy_through)
            report = self._check_chain(conn, head, digest)
            if report.ok and report.count and keying.state == BROKEN:
                return replace(report, ok=False, problem=_broken_before_keying(conn, keying))
            return report

    def _reading_sealer(self, conn: Connection) -> Sealer | None:
        """The key if the vault holds one (verify never makes one: a missing key is a finding)."""
        if self._sealer is None:
            key = self._keys.load(conn, create=False)
            if key is not None:
                self._sealer = Sealer(key)
        return self._sealer

    def _check_chain(
        self, conn: Connection, head: Head, digest: Digest
    ) -> AuditReport:
        bounds = conn.execute(sa.select(sa.func.min(_COLS.id), sa.func.max(_COLS.id))).one()
        first_id, last_id = bounds[0], bounds[1]
        if first_id is None:
            if isinstance(head, tuple):
                return AuditReport(False, 0, None, None, AuditProblem(
                    ProblemKind.NEWEST_DELETED, head[0],
                    f"The audit log is empty, but audit.head says entry {head[0]} was written: "
                    "entries were deleted.",
                ))
            return AuditReport(True, 0, None, None)
        expected_prev = GENESIS_HASH if first_id == 1 else self._anchor_hash(conn, first_id)
        if expected_prev is None:
            return AuditReport(False, 0, first_id, last_id, AuditProblem(
                ProblemKind.DELETED, first_id,
                f"Entries 1 to {first_id - 1} are missing and no prune record explains it: "
                "they were deleted.",
            ))
        rows = conn.execution_options(yield_per=_BATCH).execute(sa.select(_TABLE).order_by(_COLS.id))
        count, problem, head_seen = walk((_record(r) for r in rows), first_id, expected_prev, head, digest)
        if problem is None and self._head_path is not None:
            problem = head_problem(head, head_seen)
        return AuditReport(problem is None, count, first_id, last_id, problem)

    # -- keying the entries of older versions -----------------------------------------------------

    def finish_keying(self) -> bool:
        """Re-seal, once, the entries an older version wrote with plain SHA-256. True when it did.

        Runs only while the marker of migration 0009 says "pending" (a cheap read otherwise, with no
        vault). In one transaction: the unkeyed chain (and audit.head) is verified first; if it holds,
        the no-update trigger is dropped, every entry's digest is recomputed with the key, the trigger
        is re-created and an `audit_keyed` entry records the old head digest and the count. If it was
        already broken, nothing is re-sealed (the entries keep their SHA-256, so verify goes on
        reporting the break) and `audit_keyed` records the problem. A "pending" marker while a key or
        an `audit_keyed` entry exists was set back by someone else: it is refused, and verify says so.
        """
        with self._store.engine.connect() as conn, conn.begin():
            if read_keying(conn).state != PENDING:
                return False
        with self._lock:
            head_before: str | None = None
            try:
                with self._store.engine.begin() as conn:
                    if read_keying(conn, for_update=True).state != PENDING:
                        return False  # another process got there first
                    keyed_entry = conn.execute(
                        sa.select(_COLS.id).where(_COLS.action == KEYED_ACTION).limit(1)
                    ).first()
                    if keyed_entry is not None or self._keys.load(conn, create=False) is not None:
                        log.warning("audit log: the keying marker was set back after keying; not re-sealing")
                        return False
                    key = self._keys.load(conn, create=True)
                    assert key is not None
                    sealer = Sealer(key)
                    head = read_head(self._head_path) if self._head_path is not None else None
                    legacy = self._check_chain(conn, head, legacy_hash_record)
                    head_before = self._seal_keying(conn, sealer, legacy)
            except BaseException:
                self._restore_head(head_before)
                raise
            self._sealer = sealer
        return legacy.ok

    def _seal_keying(self, conn: Connection, sealer: Sealer, legacy: AuditReport) -> str | None:
        """Re-seal the unkeyed chain when it verified, append `audit_keyed`, set the marker; old head."""
        last = _newest(conn, sys.maxsize)
        details: dict[str, Any] = {"legacy_head": last.hash if last else None, "entries": legacy.count}
        if legacy.ok and last is None:
            prev_hash = GENESIS_HASH
            write_keying(conn, KEYED)
            details["resealed"] = True
        elif legacy.ok:
            conn.exec_driver_sql(DROP_NO_UPDATE)
            prev_hash = self._reseal(conn, sealer)
            conn.exec_driver_sql(CREATE_NO_UPDATE)
            write_keying(conn, KEYED)
            details["resealed"] = True
        else:
            assert legacy.problem is not None
            prev_hash = last.hash if last else GENESIS_HASH
            through = last.id if last else 0
            write_keying(conn, BROKEN, through)
            details |= {
                "resealed": False, "legacy_through": through, "problem": legacy.problem.kind.value,
                "problem_entry": legacy.problem.entry_id, "problem_message": legacy.problem.message,
            }
        entry_id, at = self._insert_placeholder(conn)
        fields = {
            "actor": "system", "source": AuditSource.SYSTEM.value, "action": KEYED_ACTION,
            "connection_id": None, "subject": None, "details": sanitize_details(details),
        }
        digest = self._seal(conn, sealer, entry_id, at, fields, prev_hash)
        log.info("audit log: %d older entries %s with the key", legacy.count,
                 "re-sealed" if legacy.ok else "left unkeyed (their chain was broken)")  # fmt: skip
        return self._replace_head(entry_id, digest)

    @staticmethod
    def _reseal(conn: Connection, sealer: Sealer) -> str:
        """New digests for every entry, in id order and keyset pages; returns the newest one."""
        prev_hash: str | None = None
        after = 0
        while True:
            rows = conn.execute(
                sa.select(_TABLE).where(_COLS.id > after).order_by(_COLS.id).limit(_BATCH)
            ).all()
            if not rows:
                break
            updates = []
            for row in rows:
                record = _record(row)
                if prev_hash is not None:  # the first entry keeps its link (genesis or prune anchor)
                    record["prev_hash"] = prev_hash
                prev_hash = sealer(record)
                updates.append({"entry_id": row.id, "new_prev": record["prev_hash"], "new_hash": prev_hash})
            conn.execute(_RESEAL, updates)
            after = rows[-1].id
        assert prev_hash is not None
        return prev_hash

    @staticmethod
    def _anchor_hash(conn: Connection, first_id: int) -> str | None:
        anchors = conn.execute(
            sa.select(_COLS.details).where(_COLS.action == PRUNED_ACTION).order_by(_COLS.id.desc())
        )
        for (details,) in anchors:
            if isinstance(details, dict) and details.get("through_id") == first_id - 1:
                value = details.get("last_hash")
                return value if isinstance(value, str) else None
        return None

    # -- export -----------------------------------------------------------------------------------

    def export(
        self,
        path: Path,
        fmt: Literal["csv", "json"] = "csv",
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> int:
        """Write entries with since <= at < until to `path` (streamed, atomic). Returns how many."""
        if fmt not in ("csv", "json"):
            raise ConfigError("format", f"{fmt!r} is not an export format", fix="Use csv or json.")
        query = sa.select(_TABLE).order_by(_COLS.id)
        if since is not None:
            query = query.where(_COLS.at >= since)
        if until is not None:
            query = query.where(_COLS.at < until)
        path = Path(path)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}-", suffix=".partial")
        count = 0
        try:
            with (
                os.fdopen(fd, "w", encoding="utf-8", newline="") as handle,
                self._store.engine.connect() as conn,
            ):
                rows = conn.execution_options(yield_per=_BATCH).execute(query)
                if fmt == "csv":
                    writer = csv.DictWriter(handle, fieldnames=EXPORT_FIELDS)
                    writer.writeheader()
                    for row in rows:
                        record = _record(row)
                        record["details"] = canonical_json(record["details"])
                        writer.writerow(record)
                        count += 1
                else:
                    handle.write("[")
                    for row in rows:
                        handle.write(",\n" if count else "\n")
                        handle.write(canonical_json(_record(row)))
                        count += 1
                    handle.write("\n]\n")
            with contextlib.suppress(OSError):
                os.chmod(tmp, 0o600)  # business records: owner only, like the database
            os.replace(tmp, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
        return count

    # -- prune ------------------------------------------------------------------------------------

    def prune_before(self, cutoff: datetime) -> PruneResult:
        """Delete the oldest entries written before `cutoff`, which must be at least six years ago.

        Only an unbroken run from the start of the chain is deleted, and only when the chain verifies
        (pruning must not destroy evidence). An anchor entry records the last pruned hash, so the chain
        still verifies from there.
        """
        if cutoff.tzinfo is None:
            raise ConfigError("cutoff", "is a naive datetime", fix="Pass an aware UTC datetime.")
        limit = retention_limit(self._clock())
        if cutoff > limit:
            raise ConfigError(
                "cutoff", f"{cutoff.date().isoformat()} would delete entries younger than "
                f"{RETENTION_YEARS} years; DSCSA requires keeping them",
                fix=f"Choose a date on or before {limit.date().isoformat()}.",
            )
        report = self.verify()
        if report.problem is not None:
            raise ConfigError(
                "audit_log", f"cannot be pruned while its chain is broken: {report.problem.message}",
                fix="Keep the database as evidence and contact Atlas support.",
            )
        with self._lock:
            return self._prune_locked(cutoff)

    def _prune_locked(self, cutoff: datetime) -> PruneResult:
        sealer = self._writing_sealer()
        head_before: str | None = None
        try:
            with self._store.engine.begin() as conn:
                anchor_id, at = self._insert_placeholder(conn)
                first_young = conn.execute(
                    sa.select(sa.func.min(_COLS.id)).where(_COLS.at >= cutoff, _COLS.id < anchor_id)
                ).scalar()
                through = (first_young if first_young is not None else anchor_id) - 1
                last_pruned = _newest(conn, through + 1)
                if last_pruned is None:
                    raise _NothingToPrune
                pruned = conn.execute(sa.delete(_TABLE).where(_COLS.id <= through)).rowcount
                newest = _newest(conn, anchor_id)
                fields = {
                    "actor": "system", "source": AuditSource.SYSTEM.value, "action": PRUNED_ACTION,
                    "connection_id": None, "subject": None,
                    "details": {
                        "through_id": through, "last_hash": last_pruned.hash, "pruned": pruned,
                        "cutoff": at_text(cutoff),
                    },
                }
                new_hash = self._seal(conn, sealer, anchor_id, at, fields, (newest or last_pruned).hash)
                head_before = self._replace_head(anchor_id, new_hash)
        except _NothingToPrune:
            return PruneResult(0, None, None)
        except BaseException:
            self._restore_head(head_before)
            raise
        log.info("audit log: pruned %d entries through id %d (cutoff %s)", pruned, through, at_text(cutoff))
        return PruneResult(pruned, through, anchor_id)


def _newest(conn: Connection, before_id: int) -> Any:
    """The (id, hash) of the newest entry with an id below `before_id`, or None."""
    return conn.execute(_NEWEST_BEFORE, {"before_id": before_id}).first()


class _NothingToPrune(Exception):
    """Rolls the anchor's placeholder back when no entry is old enough."""


def _head_disagrees(head: Head, last: Any) -> bool:
    if last is None:
        return isinstance(head, tuple)  # no entries, yet a head: every entry was deleted
    if not isinstance(head, tuple):
        return True
    return bool(head[1] != last.hash)


def _mismatch_fields(head: Head, last: Any) -> dict[str, Any]:
    return {
        "actor": "system", "source": AuditSource.SYSTEM.value, "action": HEAD_MISMATCH_ACTION,
        "connection_id": None, "subject": None,
        "details": {
            "head": {"id": head[0], "hash": head[1]} if isinstance(head, tuple) else None,
            "head_state": "ok" if isinstance(head, tuple) else head or "missing",
            "last_id": last.id if last is not None else None,
        },
    }


def _broken_before_keying(conn: Connection, keying: Keying) -> AuditProblem:
    """What the `audit_keyed` entry recorded about the unkeyed chain it found broken (it is sealed)."""
    details = conn.execute(
        sa.select(_COLS.details).where(_COLS.action == KEYED_ACTION).order_by(_COLS.id).limit(1)
    ).scalar()
    details = details if isinstance(details, dict) else {}
    try:
        kind = ProblemKind(details.get("problem", ""))
    except ValueError:
        kind = ProblemKind.UNKEYED
    entry_id = details.get("problem_entry")
    message = details.get("problem_message") or "no record of the problem was found"
    return AuditProblem(
        kind, entry_id if isinstance(entry_id, int) else keying.legacy_through,
        f"The entries written before the audit log was keyed (up to entry {keying.legacy_through}) were "
        f"already broken when Atlas Desktop was upgraded, so they were not sealed with the key: {message}",
    )
