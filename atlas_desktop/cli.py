"""Command-line parsing only: each command hands over to atlas_desktop.app.

These forms are used by scripts at headless sites; keep them stable. Secrets are never taken as
arguments (process lists show them): only files, stdin or prompts.

Exit codes: 0 done, 1 failed, 2 usage error, 3 done with item errors, 4 stopped at a preview.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from atlas_desktop import __version__

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2


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
    tst = conn_commands.add_parser("test", help="run the connection test, one line per step")
    tst.add_argument("id")

    signin = commands.add_parser("signin", help="store the Atlas API token for this profile")
    signin.add_argument("--base-url", required=True, help="Atlas API address, e.g. https://api.atlas.pharma")
    signin.add_argument(
        "--token-stdin", action="store_true", required=True, help="read the API token from stdin"
    )

    sandbox = commands.add_parser(
        "sandbox", help="run the NetSuite, SAP and Atlas emulators on loopback ports"
    )
    sandbox.add_argument("--items", type=int, default=1000, help="catalog size (default 1000)")
    sandbox.add_argument("--latency-ms", type=float, default=0.0, help="added latency per request")
    sandbox.add_argument("--concurrency", type=int, default=None, help="requests in flight per emulator")
    sandbox.add_argument("--seed", type=int, default=42, help="catalog seed (same seed, same catalog)")
    sandbox.add_argument("--write-config", type=Path, help="write one credentials file per system into DIR")
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
