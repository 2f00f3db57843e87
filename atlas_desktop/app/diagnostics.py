"""The diagnostics bundle: versions, settings, connection metadata, sync history and logs, secrets removed."""

from __future__ import annotations

import argparse
import base64
import dataclasses
import importlib.metadata
import json
import logging
import os
import platform
import re
import sys
import tempfile
import zipfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import Enum
from pathlib import Path
from typing import Any
from urllib.parse import quote, quote_plus, urlsplit, urlunsplit

import sqlalchemy as sa

from atlas_desktop import __version__
from atlas_desktop.app.output_paths import checked_output
from atlas_desktop.app.services import Services
from atlas_desktop.domain.digits import ascii_int
from atlas_desktop.domain.model import ConnectionReport
from atlas_desktop.domain.secrets import MASK, Secret, redact
from atlas_desktop.store.models import SecretRow, SyncItemErrorRow
from atlas_desktop.store.repositories import SECRET_NAMES, ConnectionSummary
from atlas_desktop.store.runs import RunRepository
from atlas_desktop.store.vault import VaultError
from atlas_desktop.ui.monitoring.wording import plural

log = logging.getLogger(__name__)

RUNS_PER_CONNECTION = 50
ITEM_ERRORS_PER_CONNECTION = 200
LOG_GLOB = "atlas-desktop.log*"
# Shorter vault values are still scanned for (a short password is still a password); derived
# encodings shorter than this would match ordinary text, and the raw value already covers them.
_MIN_VALUE_LENGTH = 4
_MIN_FORM_LENGTH = 6
# Setting names that look like credentials even when they are not in SECRET_NAMES (e.g. a path to a
# private key, a custom header): their values are masked, their names kept so support sees they exist.
_CREDENTIAL_LIKE = re.compile(
    r"(?i)secret|token|passw|passphrase|credential|api_?key|private|cookie|signature|(^|_)key$"
)
_PACKAGES = ("PySide6", "qasync", "httpx", "SQLAlchemy", "alembic", "cryptography", "keyring", "APScheduler")


@dataclass(frozen=True)
class BundleSummary:
    path: Path
    files: tuple[str, ...]
    bytes: int
    scrubbed: int
    # Stored credentials that could not be decrypted, so could not be searched for by value.
    unreadable: int = 0


# --- the final scrubber -------------------------------------------------------------------------


def _base64_forms(raw: bytes) -> set[str]:
    """The value's base64 text at each of the three alignments it can have inside a longer string.

    `Basic base64(user:password)` holds the password shifted by len("user:") bytes, so the plain
    base64 of the value alone would not be found; the full 4-character groups of each shift are.
    """
    forms: set[str] = set()
    for encode in (base64.b64encode, base64.urlsafe_b64encode):
        forms.add(encode(raw).decode().rstrip("="))
        for shift in (1, 2):
            text = encode(b"\0" * shift + raw).decode()
            whole_groups = (shift + len(raw)) // 3 * 4
            forms.add(text[4:whole_groups])
    return forms


def secret_forms(values: Iterable[str]) -> frozenset[str]:
    """Every text form a secret value may take in a bundle: raw, URL-encoded, base64, JSON-escaped."""
    forms: set[str] = set()
    for value in values:
        if len(value) < _MIN_VALUE_LENGTH:
            continue
        forms.add(value)
        derived = {quote(value, safe=""), quote_plus(value), json.dumps(value)[1:-1]}
        derived |= _base64_forms(value.encode())
        forms.update(form for form in derived if len(form) >= _MIN_FORM_LENGTH)
    return frozenset(forms)


class Scrubber:
    """Masks the profile's secret values (all forms) and anything `redact` recognises; counts the masks."""

    def __init__(self, values: Iterable[str]) -> None:
        forms = sorted(secret_forms(values), key=len, reverse=True)  # longest first: whole before parts
        self._pattern = re.compile("|".join(re.escape(form) for form in forms)) if forms else None
        self.count = 0

    def _vault_values(self, text: str) -> tuple[str, int]:
        if self._pattern is None:
            return text, 0
        return self._pattern.subn(MASK, text)

    def __call__(self, text: str) -> str:
        text, hits = self._vault_values(text)
        before = text.count(MASK)
        text = "".join(redact(line) for line in text.splitlines(keepends=True))
        hits += max(text.count(MASK) - before, 0)
        # A mask can join two fragments into a secret again only in contrived text; check, never assume.
        for _ in range(3):
            text, again = self._vault_values(text)
            if not again:
                break
            hits += again
        else:  # pragma: no cover - would need a value that rebuilds itself from masks
            raise RuntimeError("diagnostics: a secret value could not be removed from the bundle")
        self.count += hits
        return text


def _profile_secret_values(services: Services) -> tuple[list[str], int]:
    """Every credential the vault holds for this profile, decrypted in memory only, and how many failed."""
    values: list[str] = []
    unreadable = 0
    with services.store.session() as session:
        rows = [(row.owner_id, row.field, row.ciphertext) for row in session.scalars(sa.select(SecretRow))]
    if not rows:
        return values, 0
    try:
        # Load the key once (a passphrase source prompts here); without it, do not ask again per value.
        services.vault.encrypt("diagnostics", "probe", Secret("diagnostics-key-probe"))
    except VaultError as exc:
        log.warning("diagnostics: credentials cannot be unlocked (%s); masking by pattern only", exc.message)
        return values, len(rows)
    for owner_id, field, ciphertext in rows:
        try:
            values.append(services.vault.decrypt(owner_id, field, ciphertext).reveal())
        except VaultError:
            # Undecryptable values cannot be searched for; `redact` still runs, and the manifest says so.
            unreadable += 1
    return values, unreadable


# --- the contents ---------------------------------------------------------------------------------


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Mapping):
        return dict(value)
    if isinstance(value, tuple | set | frozenset):
        return list(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    return str(value)


def _dumps(data: Any) -> str:
    return json.dumps(data, indent=2, sort_keys=True, default=_json_default, ensure_ascii=False) + "\n"


def _without_userinfo(text: str) -> str:
    """`https://user:pass@host/...` -> `https://****@host/...` (proxies and URLs carry credentials)."""
    if "@" not in text or "://" not in text:
        return text
    try:
        parts = urlsplit(text)
    except ValueError:
        return text
    if parts.username is None and parts.password is None:
        return text
    host = parts.netloc.rsplit("@", 1)[1]
    return urlunsplit(parts._replace(netloc=f"{MASK}@{host}"))


def clean_settings(value: Any) -> Any:
    """Non-secret settings as support may see them: credential-like entries masked, URL logins removed."""
    if isinstance(value, Mapping):
        cleaned: dict[str, Any] = {}
        for name, item in value.items():
            key = str(name)
            if key in SECRET_NAMES or _CREDENTIAL_LIKE.search(key):
                cleaned[key] = MASK if item not in (None, "") else item
            else:
                cleaned[key] = clean_settings(item)
        return cleaned
    if isinstance(value, list | tuple):
        return [clean_settings(item) for item in value]
    if isinstance(value, str):
        return _without_userinfo(value)
    return value


def _home_relative(path: Path) -> str:
    home = Path.home()
    try:
        return str(Path("~") / path.resolve().relative_to(home.resolve()))
    except ValueError:
        return str(path)


def _versions() -> dict[str, str | None]:
    found: dict[str, str | None] = {}
    for package in _PACKAGES:
        try:
            found[package] = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            found[package] = None
    return found


def _connection_entry(summary: ConnectionSummary) -> dict[str, Any]:
    return {
        "id": summary.id,
        "erp_type": summary.erp_type,
        "name": summary.name,
        "status": summary.status,
        "settings": clean_settings(summary.settings),
        "sync_enabled": summary.sync_enabled,
        "sync_frequency_minutes": summary.sync_frequency_minutes,
        "sync_direction": summary.sync_direction,
        "conflict_policy": summary.conflict_policy,
        "sync_scopes": dict(summary.sync_scopes),
        "field_mappings": clean_settings(summary.field_mappings),
        "last_sync_at": summary.last_sync_at,
        "last_sync_status": summary.last_sync_status,
        "consecutive_failures": summary.consecutive_failures,
        "created_at": summary.created_at,
        "updated_at": summary.updated_at,
        # Which credentials are stored, so support can tell a missing one; never their values.
        "secret_fields": list(summary.secret_fields),
    }


def _recent_item_errors(services: Services, connection_id: str, limit: int) -> list[dict[str, Any]]:
    # RunRepository lists only unreplayed errors, oldest first; support wants the latest, replayed too.
    with services.store.session() as session:
        rows = session.scalars(
            sa.select(SyncItemErrorRow)
            .where(SyncItemErrorRow.connection_id == connection_id)
            .order_by(SyncItemErrorRow.id.desc())
            .limit(limit)
        )
        return [
            {
                "id": row.id,
                "sync_log_id": row.sync_log_id,
                "mapping_id": row.mapping_id,
                "item_ref": row.item_ref,
                "error_kind": row.error_kind,
                "message": row.message,
                "fix": row.fix,
                "remote_code": row.remote_code,
                "remote_message": row.remote_message,
                "created_at": row.created_at,
                "replayed_at": row.replayed_at,
            }
            for row in rows
        ]


def _report_entry(report: ConnectionReport) -> dict[str, Any]:
    return {"ok": report.ok, "steps": [dataclasses.asdict(step) for step in report.steps]}


def _log_files(services: Services) -> list[Path]:
    folder = services.paths.logs
    if not folder.is_dir():
        return []
    # atlas-desktop.log, .log.1, ... .log.5: the current file first, the oldest last.
    return sorted((p for p in folder.glob(LOG_GLOB) if p.is_file()), key=_rotation_index)


def _rotation_index(path: Path) -> int:
    suffix = path.name.rsplit(".", 1)[-1]
    return ascii_int(suffix, max_digits=6) or 0


def _collect(
    services: Services, connection_id: str | None, test_reports: Mapping[str, ConnectionReport] | None
) -> dict[str, str]:
    """The members of the bundle (name -> text) before scrubbing, the manifest excepted."""
    if connection_id is not None:
        summaries = [services.connections.summary(connection_id)]  # ConnectionNotFound if unknown
    else:
        summaries = services.connections.list()
    runs = RunRepository(services.store)
    members: dict[str, str] = {
        "settings.json": _dumps(clean_settings(services.settings.as_dict())),
        "connections.json": _dumps([_connection_entry(summary) for summary in summaries]),
        "sync_logs.json": _dumps(
            {
                summary.id: [dataclasses.asdict(run) for run in runs.recent(summary.id, RUNS_PER_CONNECTION)]
                for summary in summaries
            }
        ),
        "item_errors.json": _dumps(
            {s.id: _recent_item_errors(services, s.id, ITEM_ERRORS_PER_CONNECTION) for s in summaries}
        ),
    }
    # The latest test of each connection, whoever ran it (window, CLI, agent API), unless given fresh.
    kept = services.test_reports.all()
    tests = {s.id: kept[s.id] for s in summaries if s.id in kept}
    tests.update({cid: _report_entry(report) for cid, report in (test_reports or {}).items()})
    if tests:
        members["connection_test.json"] = _dumps(tests)
    for path in _log_files(services):
        try:
            members[f"logs/{path.name}"] = path.read_text(encoding="utf-8", errors="replace")
        except OSError as exc:
            members[f"logs/{path.name}"] = f"(could not be read: {exc.strerror})\n"
    return members


def _manifest(
    services: Services,
    connection_id: str | None,
    created_at: datetime,
    files: Mapping[str, int],
    scrubbed: int,
    unreadable: int,
) -> dict[str, Any]:
    return {
        "bundle_format": 1,
        "app": "atlas-desktop",
        "app_version": __version__,
        "created_at": created_at.isoformat(),
        "python": {"version": platform.python_version(), "implementation": platform.python_implementation()},
        "packages": _versions(),
        "os": {
            "system": platform.system(),
            "release": platform.release(),
            "version": platform.version(),
            "machine": platform.machine(),
            "platform": platform.platform(),
        },
        "frozen": bool(getattr(sys, "frozen", False)),
        "profile": _home_relative(services.paths.root),
        "vault": services.vault.description,
        "connection_id": connection_id,
        "files": [{"name": name, "bytes": size} for name, size in files.items()],
        "scrubbed": scrubbed,
        "secrets_unreadable": unreadable,
    }


def _write_zip(out: Path, members: Mapping[str, bytes], created_at: datetime) -> None:
    # Temp file in the target folder, then rename: a crash leaves no half bundle under the real name.
    fd, tmp_name = tempfile.mkstemp(dir=out.parent, prefix=".atlas-diagnostics-", suffix=".zip.tmp")
    tmp = Path(tmp_name)
    try:
        os.chmod(tmp, 0o600)  # mkstemp already does; say it for filesystems that differ
        with os.fdopen(fd, "wb") as handle:
            with zipfile.ZipFile(handle, "w", compression=zipfile.ZIP_DEFLATED) as archive:
                stamp = created_at.timetuple()[:6]
                for name, data in members.items():
                    info = zipfile.ZipInfo(name, date_time=stamp)
                    info.compress_type = zipfile.ZIP_DEFLATED
                    info.external_attr = 0o600 << 16
                    archive.writestr(info, data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, out)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    try:
        out.chmod(0o600)
    except OSError:  # pragma: no cover - filesystems without modes
        pass


def build_bundle(
    services: Services,
    out: Path,
    *,
    connection_id: str | None = None,
    test_reports: dict[str, ConnectionReport] | None = None,
) -> BundleSummary:
    """Write the redacted diagnostics zip to `out` (atomically, owner-only) and describe what it holds."""
    out = checked_output(Path(out), services.paths.root, field="out", example="atlas-diagnostics.zip")
    created_at = datetime.now(UTC)
    values, unreadable = _profile_secret_values(services)
    scrub = Scrubber(values)
    members = {
        name: scrub(text).encode("utf-8")
        for name, text in _collect(services, connection_id, test_reports).items()
    }
    sizes = {name: len(data) for name, data in members.items()}
    # The manifest goes through the scrubber too: a probe pass finds its own hits, so the count it
    # states includes them; the final pass masks the same places again.
    before = scrub.count
    scrub(_dumps(_manifest(services, connection_id, created_at, sizes, before, unreadable)))
    total, scrub.count = scrub.count, before
    manifest = scrub(_dumps(_manifest(services, connection_id, created_at, sizes, total, unreadable)))
    ordered = {"manifest.json": manifest.encode("utf-8"), **members}
    _write_zip(out, ordered, created_at)
    size = out.stat().st_size
    log.info("diagnostics bundle written: %s (%d bytes, %d values scrubbed)", out, size, scrub.count)
    return BundleSummary(
        path=out, files=tuple(ordered), bytes=size, scrubbed=scrub.count, unreadable=unreadable
    )


def default_bundle_name(now: datetime | None = None) -> str:
    moment = now or datetime.now(UTC)
    return f"atlas-desktop-diagnostics-{moment:%Y%m%d-%H%M%S}.zip"


def run_diagnose(args: argparse.Namespace, services: Services) -> int:
    """`atlas-desktop diagnose [ID] --out FILE.zip`: write the bundle, print where and how big."""
    out = Path(args.out) if getattr(args, "out", None) else Path.cwd() / default_bundle_name()
    summary = build_bundle(services, out, connection_id=getattr(args, "id", None))
    print(f"{summary.path}  ({summary.bytes:,} bytes, {len(summary.files)} files)")
    if summary.scrubbed:
        were = "was" if summary.scrubbed == 1 else "were"
        print(f"{plural(summary.scrubbed, 'secret value')} {were} found and masked", file=sys.stderr)
    if summary.unreadable:
        print(
            f"warning: {plural(summary.unreadable, 'stored credential')} could not be decrypted, so only "
            "credential-looking text was masked; look through the bundle before sending it",
            file=sys.stderr,
        )
    return 0
