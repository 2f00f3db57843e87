"""The CLI commands: each opens the profile's services, does one job, prints, returns an exit code."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
from typing import Any

from atlas_desktop.app.key_files import inline_private_key
from atlas_desktop.app.logging_setup import configure_logging
from atlas_desktop.app.paths import ProfilePaths, profile_paths
from atlas_desktop.app.services import Services, open_services
from atlas_desktop.app.tables import table
from atlas_desktop.domain.connection import check_url, parse_connection
from atlas_desktop.domain.errors import AtlasDesktopError, ConfigError
from atlas_desktop.domain.model import ConnectionReport, StepResult
from atlas_desktop.domain.proxy import masked_settings
from atlas_desktop.domain.secrets import Secret
from atlas_desktop.engine.factory import check_connector_settings
from atlas_desktop.store.db_errors import DATABASE_ERRORS, frames, sqlite_error_name, store_error
from atlas_desktop.store.keys import take_env_passphrase
from atlas_desktop.store.repositories import UnsettledWrites

log = logging.getLogger(__name__)

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def _paths(args: argparse.Namespace) -> ProfilePaths:
    paths = profile_paths(args.home.expanduser().resolve() if args.home else None).ensure()
    if paths.others_can_enter():
        print(
            f"warning: other users may open the folder {paths.root}; the files Atlas Desktop writes there "
            f"are private, but consider 'chmod 700 {paths.root}' or a folder of its own.",
            file=sys.stderr,
        )
    return paths


def _fail(error: AtlasDesktopError) -> int:
    print(f"error: {error.message}", file=sys.stderr)
    print(f"fix: {error.fix}", file=sys.stderr)
    return EXIT_FAILED


def dispatch(args: argparse.Namespace) -> int:
    if args.command == "selftest":  # never touches the user's profile
        from atlas_desktop.app.selftest import probe_platform, run_selftest

        if args.probe_platform:
            return probe_platform()
        return run_selftest(render=not args.no_render)
    if args.command == "sandbox":
        configure_logging(None, level=logging.DEBUG if args.verbose else logging.WARNING, stderr=True)
        return run_sandbox(args)
    if args.command is None:
        # Before PySide6 loads and before any folder is made: Qt aborts on a missing display or library
        # with a message naming neither, and a run that cannot open its window has nothing to write.
        from atlas_desktop.app.qt_preflight import check

        problem = check()
        if problem is not None:
            print(problem.line, file=sys.stderr)
            return EXIT_FAILED
    level = logging.DEBUG if args.verbose else logging.INFO
    if args.command is None and args.demo:
        # The demo's profile is a temporary one made later (app/demo.py), which gets the log: the real
        # profile is not even created, so a demo that crashes at start leaves nothing there.
        configure_logging(None, level=level, stderr=args.verbose)
        return run_gui(args, None, take_env_passphrase(os.environ))
    paths = _paths(args)
    configure_logging(paths.log_file, level=level, stderr=args.verbose)
    passphrase_env = take_env_passphrase(os.environ)
    if args.command is None:
        return run_gui(args, paths, passphrase_env)
    try:
        with open_services(paths, interactive=sys.stdin.isatty(), env=passphrase_env) as services:
            if args.command == "connections":
                return _connections(args, services)
            if args.command == "signin":
                return signin(args, services)
            if args.command == "webhooks":
                from atlas_desktop.app.webhook_commands import run_webhooks

                return run_webhooks(args, services)
            if args.command == "api-key":
                from atlas_desktop.app.webhook_commands import run_api_key

                return run_api_key(args, services)
            if args.command == "audit":
                from atlas_desktop.app.audit_commands import run_audit

                return run_audit(args, services)
            if args.command == "diagnose":
                from atlas_desktop.app.diagnostics import run_diagnose

                return run_diagnose(args, services)
            if args.command == "agent":
                from atlas_desktop.app.agent import run_agent

                return run_agent(services)
            from atlas_desktop.app.sync_commands import HANDLERS

            return HANDLERS[args.command](args, services)
    except AtlasDesktopError as error:
        return _fail(error)
    except DATABASE_ERRORS as error:
        # SQLAlchemy's text names the statement and its values (item data): the log gets where it
        # happened and SQLite's code, the terminal one typed error.
        log.error("database error %s at:\n%s", sqlite_error_name(error), frames(error))
        return _fail(store_error(error))


def run_gui(args: argparse.Namespace, paths: ProfilePaths | None, passphrase_env: dict[str, str]) -> int:
    """`paths` is None for the demo, which makes its own profile."""
    from atlas_desktop.app.gui import run_gui as start

    return start(paths, demo=args.demo, env=passphrase_env, verbose=args.verbose)


def _connections(args: argparse.Namespace, services: Services) -> int:
    if args.action == "import":
        return import_connection(args.file, services)
    if args.action == "list":
        return list_connections(services, as_json=args.json)
    if args.action == "remove":
        return remove_connection(args.id, services, force=args.force)
    if args.action == "test":
        return test_connection(args.id, services)
    if args.action == "new-certificate":
        from atlas_desktop.app.certificate_commands import new_certificate

        return new_certificate(args.account_id, services)
    if args.action == "renew-certificate":
        from atlas_desktop.app.certificate_commands import renew_certificate

        return renew_certificate(args.id, args.certificate_id, services)
    raise AssertionError(args.action)


def remove_connection(connection_id: str, services: Services, *, force: bool) -> int:
    """Never while a run of it is going on (its rows would vanish under it), never silently discarding
    writes decided but not confirmed: those need a sync, or `--force`."""
    from atlas_desktop.app.sync_commands import already_running
    from atlas_desktop.engine.api import RunInProgress
    from atlas_desktop.engine.run_lock import DEFAULT_WAIT_S

    name = services.connections.summary(connection_id).name  # an unknown id fails here, cleanly
    lock = services.locks.run(connection_id)
    if not lock.acquire(wait=DEFAULT_WAIT_S):
        return already_running(RunInProgress(connection_id, name, lock.holder_pid()), as_json=False)
    try:
        discarded = services.connections.remove(connection_id, force=force)
    except UnsettledWrites as refused:
        fix = (
            f"run `atlas-desktop sync {connection_id}` to settle them, or "
            f"`atlas-desktop connections remove {connection_id} --force` to discard them"
        )
        print(f"error: {refused.message}\nfix: {fix}", file=sys.stderr)
        return EXIT_FAILED
    finally:
        lock.release()
    print(f"removed {connection_id}" + (f" (discarded {discarded.describe()})" if discarded.total else ""))
    return EXIT_OK


MAX_CREDENTIALS_BYTES = 1_000_000  # a credentials file is a few kB; /dev/zero must not fill memory


def _read_json_file(file: str) -> object:
    try:
        if file == "-":
            data = sys.stdin.buffer.read(MAX_CREDENTIALS_BYTES + 1)
        else:
            with open(file, "rb") as handle:
                data = handle.read(MAX_CREDENTIALS_BYTES + 1)
    except OSError as exc:
        raise ConfigError("file", f"cannot read {file}: {exc.strerror}", fix="Check the path.") from None
    if len(data) > MAX_CREDENTIALS_BYTES:
        raise ConfigError(
            "file", "is larger than 1 MB: not a credentials file", fix="Give the JSON file Atlas sent you."
        )
    try:
        # utf-8-sig: Windows editors save UTF-8 with a byte-order mark, which json.loads refuses.
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ConfigError("file", "is not UTF-8 text", fix="Save the file as UTF-8 JSON.") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        # Say where, never what: the offending text could be a secret.
        raise ConfigError(
            "file",
            f"is not valid JSON (line {exc.lineno}, column {exc.colno})",
            fix="Check the file's syntax.",
        ) from None


def _check_files(settings: dict[str, Any]) -> None:
    for name in ("client_certificate", "client_key", "ca_bundle"):
        value = settings.get(name)
        if value and not os.access(value, os.R_OK):
            raise ConfigError(
                name, f"the file {value} cannot be read", fix="Check the path and its permissions."
            )


def import_connection(file: str, services: Services) -> int:
    from atlas_desktop.app.waiting_keys import waiting_keys, with_waiting_key

    keys = waiting_keys(services)
    data, made_here = with_waiting_key(_read_json_file(file), keys)
    spec = parse_connection(inline_private_key(data))
    check_connector_settings(spec)
    _check_files(dict(spec.settings))
    connection_id = services.connections.add(spec)
    if made_here is not None:  # the connection holds the key now
        keys.forget(made_here)
    for note in spec.notes:
        print(f"note: {note}", file=sys.stderr)
    print(f"imported {spec.erp_type.value} connection '{spec.name}'")
    print(connection_id)
    return EXIT_OK


def list_connections(services: Services, *, as_json: bool) -> int:
    from atlas_desktop.app.connection_states import connection_states

    summaries = services.connections.list()
    states = connection_states(services, summaries)
    rows = [
        {
            "id": summary.id,
            "erp_type": summary.erp_type,
            "name": summary.name,
            "status": summary.status,
            "base_url": masked_settings(summary.settings).get("base_url"),
            "account_id": summary.settings.get("account_id"),
            "credentials": "****",
            "last_sync_at": summary.last_sync_at.isoformat() if summary.last_sync_at else None,
            "state": states[summary.id].kind.value,
            "state_text": states[summary.id].words(),
        }
        for summary in summaries
    ]
    if as_json:
        print(json.dumps(rows, indent=2))
        return EXIT_OK
    if not rows:
        print("no connections yet: add one with `atlas-desktop connections import FILE`")
        return EXIT_OK
    cells = [
        [row["id"], row["erp_type"], row["status"], states[row["id"]].label, row["name"],
         row["account_id"] or row["base_url"] or ""]
        for row in rows
    ]  # fmt: skip
    for line in table(["ID", "ERP", "STATUS", "STATE", "NAME", "ACCOUNT / ADDRESS"], cells):
        print(line)
    return EXIT_OK


def format_step(step: StepResult) -> str:
    mark = "skipped" if step.skipped else ("ok" if step.ok else "FAILED")
    line = f"[{mark}] {step.name}"
    if step.detail:
        line += f": {step.detail}"
    if not step.ok and not step.skipped:
        if step.cause:
            line += f" | cause: {step.cause}"
        if step.fix:
            line += f" | fix: {step.fix}"
    return line


def test_connection(connection_id: str, services: Services) -> int:
    from atlas_desktop.engine.factory import build_erp_connector, with_network_defaults

    spec = with_network_defaults(
        services.connections.get(connection_id), services.settings.network_overrides()
    )
    try:
        connector = build_erp_connector(spec)
    except ConfigError as error:
        report = ConnectionReport(
            steps=(StepResult("Connector available", ok=False, cause=error.message, fix=error.fix),)
        )
    else:
        report = asyncio.run(_run_test(connector))
    services.test_reports.record(connection_id, report)
    for step in report.steps:
        print(format_step(step))
    return EXIT_OK if report.ok else EXIT_FAILED


async def _run_test(connector: Any) -> ConnectionReport:
    try:
        result: ConnectionReport = await connector.test_connection()
        return result
    finally:
        await connector.aclose()


def signin(args: argparse.Namespace, services: Services) -> int:
    base_url = check_url("base_url", args.base_url, what="Atlas API address")
    token_text = sys.stdin.readline().strip()
    if not token_text:
        raise ConfigError(
            "api_token", "nothing was read from stdin", fix="Pipe the token in: ... < token.txt"
        )
    if any(ch.isspace() for ch in token_text):
        raise ConfigError(
            "api_token", "contains spaces", fix="Copy the token again from Settings > API tokens."
        )
    services.atlas_accounts.save(
        base_url=base_url, auth_method="api_token", secrets={"api_token": Secret(token_text)}
    )
    services.audit.append("signin", actor="user", source="manual", details={"base_url": base_url})
    print(f"Atlas API token stored for {base_url}")
    return EXIT_OK


def run_sandbox(args: argparse.Namespace) -> int:
    if getattr(args, "sandbox_action", None):  # an action against a running sandbox, not a new one
        from atlas_desktop.app.sandbox_commands import run_sandbox_action

        return run_sandbox_action(args)
    from atlas_desktop.sandbox.server import main_sandbox

    if args.items < 1:
        print("error: --items must be at least 1", file=sys.stderr)
        return EXIT_USAGE
    zone = args.netsuite_timezone
    if zone is not None:
        from atlas_desktop.sandbox.netsuite.user_time import user_zone

        try:
            user_zone(zone)
        except ValueError as exc:
            print(f"error: --netsuite-timezone: {exc}", file=sys.stderr)
            return EXIT_USAGE
    return main_sandbox(
        items=args.items,
        latency_ms=args.latency_ms,
        write_config=args.write_config,
        seed=args.seed,
        concurrency_limit=args.concurrency,
        server_time=args.server_time,
        netsuite_timezone=zone,
    )
