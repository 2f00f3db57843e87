"""The audit chain's pure parts: canonical form, keyed digests, the audit.head file and the walk."""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import os
import re
import tempfile
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any, Literal

GENESIS_HASH = "0" * 64
HEAD_FILE = "audit.head"
EXPORT_FIELDS = (
    "id", "at", "actor", "source", "action", "connection_id", "subject", "details", "prev_hash", "hash"
)
# Entry names that only AuditLog writes (the walk reads them as evidence).
HEAD_MISMATCH_ACTION = "audit_head_mismatch"

Head = tuple[int, str] | None | Literal["damaged"]


class ProblemKind(StrEnum):
    EDITED = "edited"  # an entry's content no longer matches its hash
    DELETED = "deleted"  # entries missing inside the chain or at its start
    REORDERED = "reordered"  # an entry does not follow the one before it (inserted, replaced, moved)
    NEWEST_DELETED = "newest_deleted"  # audit.head names an entry that is gone
    HEAD_UNREADABLE = "head_unreadable"  # audit.head missing or damaged while entries exist
    KEY_MISSING = "key_missing"  # entries exist but the vault holds no audit key (its row was deleted)
    UNKEYED = "unkeyed"  # entries are not sealed with the key (marker set back, or broken before keying)


@dataclass(frozen=True)
class AuditProblem:
    kind: ProblemKind
    entry_id: int | None
    message: str


@dataclass(frozen=True)
class AuditReport:
    ok: bool
    count: int  # entries checked before the first problem (all of them when ok)
    first_id: int | None
    last_id: int | None
    problem: AuditProblem | None = None


# -- canonical form -------------------------------------------------------------------------------


def at_text(value: datetime) -> str:
    """The stored form of a time (same as store.types.UtcDateTime): what the hash covers."""
    return value.astimezone(UTC).isoformat(timespec="microseconds")


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def _payload(record: Mapping[str, Any]) -> bytes:
    return canonical_json({name: record[name] for name in EXPORT_FIELDS if name != "hash"}).encode("utf-8")


def hash_record(record: Mapping[str, Any], key: bytes) -> str:
    """HMAC-SHA256 under `key` of the canonical JSON of an entry's fields (all but `hash`; `at` as text)."""
    return hmac.new(key, _payload(record), hashlib.sha256).hexdigest()


def legacy_hash_record(record: Mapping[str, Any]) -> str:
    """The unkeyed SHA-256 that versions before migration 0009 wrote: read only, to re-seal them once."""
    return hashlib.sha256(_payload(record)).hexdigest()


Digest = Callable[[Mapping[str, Any]], str]


class Sealer:
    """hash_record with the key's HMAC state prepared once (copying it is cheaper than a new HMAC)."""

    def __init__(self, key: bytes) -> None:
        self._mac = hmac.new(key, digestmod=hashlib.sha256)

    def __call__(self, record: Mapping[str, Any]) -> str:
        mac = self._mac.copy()
        mac.update(_payload(record))
        return mac.hexdigest()


def mixed_digest(sealer: Digest, legacy_through: int | None) -> Digest:
    """Entries up to `legacy_through` keep their unkeyed SHA-256 (a chain broken before keying)."""
    through = legacy_through or 0
    return lambda record: legacy_hash_record(record) if record["id"] <= through else sealer(record)


# -- the head file --------------------------------------------------------------------------------


def read_head(path: Path) -> Head:
    try:
        text = path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError):
        return "damaged"
    match = re.fullmatch(r"(\d+) ([0-9a-f]{64})", text)
    if match is None:
        return "damaged"
    return int(match.group(1)), match.group(2)


def write_head(path: Path, text: str) -> None:
    # Atomic: a reader sees the old head or the new one, never half a line.
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".audit-head-", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="ascii") as handle:
            handle.write(text)
        with contextlib.suppress(OSError):
            os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


# -- the walk -------------------------------------------------------------------------------------


def walk(
    records: Iterator[dict[str, Any]],
    first_id: int,
    expected_prev: str,
    head: Head,
    digest: Digest,
) -> tuple[int, AuditProblem | None, bool]:
    """Check each record's own digest and its link to the one before. Returns (count, problem, head seen)."""
    head_hash = head[1] if isinstance(head, tuple) else None
    head_seen = False
    count = 0
    prev_id = first_id - 1
    for record in records:
        entry_id = record["id"]
        if not hmac.compare_digest(digest(record), str(record["hash"])):
            return count, AuditProblem(
                ProblemKind.EDITED, entry_id,
                f"Entry {entry_id} ({record['action']}, {record['at']}) was changed after it was written, "
                "moved to another position, or sealed without the audit key.",
            ), head_seen
        if record["prev_hash"] != expected_prev:
            if entry_id != prev_id + 1:
                missing = (
                    f"entry {prev_id + 1} was" if entry_id == prev_id + 2
                    else f"entries {prev_id + 1} to {entry_id - 1} were"
                )
                return count, AuditProblem(
                    ProblemKind.DELETED, entry_id,
                    f"The chain breaks before entry {entry_id}: {missing} deleted.",
                ), head_seen
            return count, AuditProblem(
                ProblemKind.REORDERED, entry_id,
                f"Entry {entry_id} does not follow entry {prev_id}: entries were inserted, replaced "
                "or reordered.",
            ), head_seen
        if record["action"] == HEAD_MISMATCH_ACTION:
            details = record["details"] if isinstance(record["details"], dict) else {}
            return count, AuditProblem(
                ProblemKind.NEWEST_DELETED, entry_id,
                f"When entry {entry_id} was written ({record['at']}), the newest entries after entry "
                f"{details.get('last_id')} were missing (audit.head was {details.get('head_state')}): "
                "entries were deleted.",
            ), head_seen
        head_seen = head_seen or record["hash"] == head_hash
        expected_prev = record["hash"]
        prev_id = entry_id
        count += 1
    return count, None, head_seen


def head_problem(head: Head, head_seen: bool) -> AuditProblem | None:
    if head is None or head == "damaged":
        state = "missing" if head is None else "damaged"
        return AuditProblem(
            ProblemKind.HEAD_UNREADABLE, None,
            f"The file {HEAD_FILE} next to the database is {state}, so deleting the newest entries "
            "cannot be ruled out.",
        )
    if not head_seen:
        return AuditProblem(
            ProblemKind.NEWEST_DELETED, head[0],
            f"{HEAD_FILE} says entry {head[0]} was written, but no such entry is in the log: "
            "the newest entries were deleted.",
        )
    return None
