"""Command-line parsing only: each command hands over to atlas_desktop.app.

These forms are used by scripts at headless sites; keep them stable. Secrets are never taken as
arguments (process lists show them): only files, stdin or prompts.

Exit codes: 0 done, 1 failed, 2 usage error, 3 done with item errors, 4 stopped at a preview,
5 another process is running the same connection (nothing was done).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from atlas_desktop import __version__

# The store's mapping statuses, spelled out so --help needs no import of the store.
MAPPING_STATUSES = ["matched", "ambiguous", "unmatched_atlas", "unmatched_erp", "conflict", "ignored"]

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 <= value <= 3600:  # also refuses nan and inf
        raise argparse.ArgumentTypeError(f"'{text}' is not a number of seconds from 0 to 3600")
    return value


def add_engine_commands(commands: Any) -> None:
    """sync, mappings, conflicts, agent: the commands that drive the engine."""
    sync = commands.add_parser("sync", help="run one sync of a connection now and print its summary")
    sync.add_argument("id")
    sync.add_argument("--json", action="store_true", help="print one JSON object with the run's fields")
    sync.add_argument("--yes", action="store_true", help="approve the preview (first sync, large changes)")
    sync.add_argument("--full", action="store_true", help="read everything again, not only what changed")
    sync.add_argument(
        "--wait", type=_seconds, metavar="SECONDS",
        help="how long to wait for a run of the same connection in another process (default 5; 0: none)",
    )  # fmt: skip

    mappings = commands.add_parser("mappings", help="discover, list, map or unmap items")
    actions = mappings.add_subparsers(dest="action", metavar="ACTION", required=True)
    discover = actions.add_parser("discover", help="pair Atlas rows with ERP items by NDC, lot and location")
    discover.add_argument("id")
    listing = actions.add_parser("list", help="list mappings")
    listing.add_argument("id")
    listing.add_argument("--status", choices=MAPPING_STATUSES)
    listing.add_argument("--search", help="NDC in any format, name, SKU or lot")
    listing.add_argument("--limit", type=int, default=100)
    listing.add_argument("--json", action="store_true")
    mapping = actions.add_parser("map", help="map an Atlas row to an ERP item by hand")
    mapping.add_argument("id")
    mapping.add_argument("--atlas-id", required=True)
    mapping.add_argument("--erp-item", required=True)
    mapping.add_argument("--location", required=True)
    mapping.add_argument("--lot")
    unmap = actions.add_parser("unmap", help="undo a mapping")
    unmap.add_argument("id")
    unmap.add_argument("mapping_id", type=int)

    conflicts = commands.add_parser("conflicts", help="list or resolve conflicts")
    conflict_actions = conflicts.add_subparsers(dest="action", metavar="ACTION", required=True)
    listing = conflict_actions.add_parser("list", help="open conflicts of a connection")
    listing.add_argument("id")
    listing.add_argument("--json", action="store_true")
    resolve = conflict_actions.add_parser("resolve", help="resolve one conflict (written through the outbox)")
    resolve.add_argument("conflict_id", type=int)
    resolve.add_argument("--take", choices=["atlas", "erp", "value"], required=True)
    resolve.add_argument("--value", help="the value to set with --take value")

    reconcile = commands.add_parser("reconcile", help="compare both sides in full and report (and fix) drift")
    reconcile.add_argument("id")
    reconcile.add_argument("--no-fix", action="store_true", help="only report, do not merge what was found")
    reconcile.add_argument("--json", action="store_true")
    replay = commands.add_parser("replay", help="try the items that failed in earlier runs again")
    replay.add_argument("id")
    replay.add_argument("--json", action="store_true")

    commands.add_parser("agent", help="run every enabled connection on its schedule, without a window")

    webhooks = commands.add_parser(
        "webhooks", help="receive signed ERP events on this machine (off by default)"
    )
    webhook_actions = webhooks.add_subparsers(dest="action", metavar="ACTION", required=True)
    enable = webhook_actions.add_parser(
        "enable", help="turn the receiver on; prints its URL and the secret's file"
    )
    enable.add_argument("id")
    enable.add_argument("--host", help="interface to listen on (default 127.0.0.1)")
    enable.add_argument("--port", type=int, help="port to listen on")
    disable = webhook_actions.add_parser("disable", help="turn the receiver off for a connection")
    disable.add_argument("id")
    hooks = webhook_actions.add_parser("list", help="list webhook receivers")
    hooks.add_argument("--json", action="store_true")

    api_key = commands.add_parser("api-key", help="the local management API's key (written to a 0600 file)")
    api_key_actions = api_key.add_subparsers(dest="action", metavar="ACTION", required=True)
    api_key_actions.add_parser("show", help="write the key to a file readable only by you; print its path")
    api_key_actions.add_parser("rotate", help="replace the key; the old one stops working")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="atlas-desktop",
        description="Keep your ERP (NetSuite, SAP S/4HANA) and the Atlas marketplace in step.",
    )
    parser.add_argument("--version", action="version", version=f"atlas-desktop {__version__}")
    parser.add_argument(
        "--demo", action="store_true", help="start on the built-in sandbox (no accounts needed)"
    )
    parser.add_argument(
        "--home", type=Path, help="profile folder (default: the user data folder; env ATLAS_DESKTOP_HOME)"
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug details to stderr")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    connections = commands.add_parser("connections", help="add, list, test or remove ERP connections")
    conn_commands = connections.add_subparsers(dest="action", metavar="ACTION", required=True)
    imp = conn_commands.add_parser(
        "import", help="add a connection from a credentials JSON file ('-' = stdin)"
    )
    imp.add_argument("file", help="credentials file as provided to Atlas, or '-' for stdin")
    lst = conn_commands.add_parser("list", help="list connections (credentials masked)")
    lst.add_argument("--json", action="store_true", help="one JSON array on stdout")
    rem = conn_commands.add_parser("remove", help="remove a connection and its stored credentials")
    rem.add_argument("id")
    rem.add_argument(
        "--force", action="store_true", help="remove it even with writes waiting or in doubt (discards them)"
    )
    tst = conn_commands.add_parser("test", help="run the connection test, one line per step")
    tst.add_argument("id")
    made = conn_commands.add_parser(
        "new-certificate",
        help="NetSuite OAuth 2.0: a key pair and a certificate to upload; an import names the certificate",
    )
    made.add_argument("--account-id", default="", help="the NetSuite account ID, for the file's name")
    renew = conn_commands.add_parser(
        "renew-certificate",
        help="NetSuite OAuth 2.0: make a new certificate to upload, then switch to it by its Certificate ID",
    )
    renew.add_argument("id")
    renew.add_argument(
        "--certificate-id", help="the ID NetSuite showed for the uploaded certificate: switch once it works"
    )

    signin = commands.add_parser("signin", help="store the Atlas API token for this profile")
    signin.add_argument("--base-url", required=True, help="Atlas API address, e.g. https://api.atlas.pharma")
    signin.add_argument(
        "--token-stdin", action="store_true", required=True, help="read the API token from stdin"
    )

    add_engine_commands(commands)

    diagnose = commands.add_parser(
        "diagnose", help="write a diagnostics bundle (zip) for support, secrets removed"
    )
    diagnose.add_argument("id", nargs="?", help="only this connection (default: all)")
    diagnose.add_argument(
        "--out",
        type=Path,
        metavar="FILE.zip",
        help="where to write it (default: ./atlas-desktop-diagnostics-<time>.zip)",
    )

    selftest = commands.add_parser(
        "selftest", help="check this installation (store, vault, sandbox, platform, window) in a temp profile"
    )
    selftest.add_argument(
        "--no-render", action="store_true", help="skip the window: its platform and its rendering"
    )
    # The platform check's child process (see app/selftest.py): not for people.
    selftest.add_argument("--probe-platform", action="store_true", help=argparse.SUPPRESS)

    audit = commands.add_parser("audit", help="check or export the tamper-evident audit trail")
    audit_actions = audit.add_subparsers(dest="action", metavar="ACTION", required=True)
    audit_actions.add_parser("verify", help="check the hash chain; exit 0 intact, 1 broken")
    export = audit_actions.add_parser("export", help="write the audit trail to a CSV or JSON file")
    export.add_argument("--format", choices=["csv", "json"], default="csv")
    export.add_argument("--out", type=Path, required=True, help="file to write")
    export.add_argument("--since", help="first day to include, YYYY-MM-DD (UTC)")
    export.add_argument("--until", help="day to stop before, YYYY-MM-DD (UTC)")

    sandbox = commands.add_parser(
        "sandbox", help="run the NetSuite, SAP and Atlas emulators on loopback ports"
    )
    sandbox.add_argument("--items", type=int, default=1000, help="catalog size (default 1000)")
    sandbox.add_argument("--latency-ms", type=float, default=0.0, help="added latency per request")
    sandbox.add_argument("--concurrency", type=int, default=None, help="requests in flight per emulator")
    sandbox.add_argument("--seed", type=int, default=42, help="catalog seed (same seed, same catalog)")
    sandbox.add_argument(
        "--server-time", choices=("instant", "realistic"), default="instant",
        help="instant (default) or each system's production-like time per request and line",
    )  # fmt: skip
    sandbox.add_argument("--write-config", type=Path, help="write one credentials file per system into DIR")
    sandbox.add_argument(
        "--netsuite-timezone", metavar="ZONE", help="the NetSuite user's time zone (default America/New_York)"
    )
    from atlas_desktop.app.sandbox_commands import add_sandbox_actions  # argparse only

    add_sandbox_actions(sandbox)  # `sandbox sell|order|receive|issue|expiry|fault|items`: the demo's menu
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    # Imported here so `--help` and `--version` stay instant.
    from atlas_desktop.app import commands

    try:
        return commands.dispatch(args)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
