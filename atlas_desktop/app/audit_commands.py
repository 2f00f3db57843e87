"""CLI commands for the audit trail: `audit verify` (exit 0 ok, 1 broken) and `audit export`."""

from __future__ import annotations

import argparse
from datetime import UTC, date, datetime
from pathlib import Path

from atlas_desktop.app.output_paths import checked_output
from atlas_desktop.app.services import Services
from atlas_desktop.domain.errors import ConfigError
from atlas_desktop.ui.monitoring.wording import plural

EXIT_OK, EXIT_BROKEN = 0, 1


def parse_when(field: str, text: str | None) -> datetime | None:
    """YYYY-MM-DD (midnight UTC) or an ISO date and time (no offset means UTC)."""
    if text is None:
        return None
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            return datetime(day.year, day.month, day.day, tzinfo=UTC)
        value = datetime.fromisoformat(text)
    except ValueError:
        raise ConfigError(
            field, f"{text!r} is not a date", fix="Write it as YYYY-MM-DD or YYYY-MM-DDTHH:MM:SS+00:00."
        ) from None
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def audit_verify(args: argparse.Namespace, services: Services) -> int:
    report = services.audit.verify()
    if report.ok:
        span = f" (entries {report.first_id} to {report.last_id})" if report.count else ""
        print(f"audit log intact: {plural(report.count, 'entry')} verified{span}")
        return EXIT_OK
    assert report.problem is not None
    print(f"audit log BROKEN: {report.problem.message}")
    print(
        f"{plural(report.count, 'entry')} before the problem verified. Keep a copy of the database as "
        "evidence and tell your compliance officer."
    )
    return EXIT_BROKEN


def audit_export(args: argparse.Namespace, services: Services) -> int:
    since = parse_when("--since", args.since)
    until = parse_when("--until", getattr(args, "until", None))
    out = checked_output(Path(args.out), services.paths.root, field="--out", example=f"audit.{args.format}")
    try:
        count = services.audit.export(out, fmt=args.format, since=since, until=until)
    except OSError as error:
        message = f"cannot write {out}: {error.strerror}"
        raise ConfigError("--out", message, fix="Pick a writable path.") from None
    print(f"exported {count} audit entries to {out}")
    return EXIT_OK


def run_audit(args: argparse.Namespace, services: Services) -> int:
    if args.action == "verify":
        return audit_verify(args, services)
    if args.action == "export":
        return audit_export(args, services)
    raise AssertionError(args.action)


HANDLERS = {"audit": run_audit}
