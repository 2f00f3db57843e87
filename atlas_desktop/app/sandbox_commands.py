"""`atlas-desktop sandbox ACTION`: the demo's Sandbox menu from a terminal, against a running sandbox."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from datetime import date
from decimal import Decimal

from atlas_desktop.app.sandbox_client import SandboxClient
from atlas_desktop.domain.sandbox_actions import SandboxActionFailed, SandboxItem, amount, pick

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
ATLAS_ENV, ERP_ENV = "ATLAS_SANDBOX_ATLAS_URL", "ATLAS_SANDBOX_ERP_URL"


def run_sandbox_action(args: argparse.Namespace) -> int:
    atlas = args.atlas or os.environ.get(ATLAS_ENV, "")
    erp = args.erp or os.environ.get(ERP_ENV, "")
    needs_erp = args.sandbox_action in ("receive", "issue", "expiry", "fault") or (
        args.sandbox_action == "items" and args.erp_side
    )
    missing = "--erp (or " + ERP_ENV + ")" if needs_erp and not erp else ""
    if not needs_erp and not atlas:
        missing = "--atlas (or " + ATLAS_ENV + ")"
    if missing:
        where = "`atlas-desktop sandbox` prints them; in the demo, Sandbox > Use it from a terminal"
        print(f"error: give the sandbox's address with {missing} ({where})", file=sys.stderr)
        return EXIT_USAGE
    client = SandboxClient(atlas, erp, "the sandbox ERP")
    try:
        print(asyncio.run(_act(client, args)))
    except SandboxActionFailed as error:
        print(f"Sandbox: {error.message}", file=sys.stderr)
        return EXIT_FAILED
    return EXIT_OK


async def _act(client: SandboxClient, args: argparse.Namespace) -> str:
    action = args.sandbox_action
    if action == "items":
        items = await (client.erp_items() if args.erp_side else client.marketplace_items())
        if args.search:
            items = [i for i in items if args.search.casefold() in i.name.casefold()]
        return "\n".join(_line(i) for i in items) or "no items"
    if action == "fault":
        return await client.fail_erp(args.status, args.times)
    marketplace = action in ("sell", "order")
    items = await (client.marketplace_items() if marketplace else client.erp_items())
    if action == "expiry":
        item = pick([i for i in items if i.lot], args.item, lot=args.lot)
        return await client.change_expiry(item, args.date)
    quantity: Decimal = args.qty
    item = pick(items, args.item, lot=args.lot, at_least=quantity if action in ("sell", "issue") else None)
    run = {"sell": client.sell, "order": client.order, "receive": client.receive, "issue": client.issue}
    return await run[action](item, quantity)


def _line(item: SandboxItem) -> str:
    lot = f"  lot {item.lot}" if item.lot else ""
    expiry = f"  expires {item.expiry.isoformat()}" if item.expiry else ""
    return f"{amount(item.quantity):>10}  {item.name}{lot}{expiry}"


# ---- the parser (called from cli.py; argparse only, so --help stays instant) -------------------------
def _quantity(text: str) -> Decimal:
    try:
        value = Decimal(text)
    except ArithmeticError:
        value = Decimal(-1)
    if not value.is_finite() or value <= 0:
        raise argparse.ArgumentTypeError(f"'{text}' is not a quantity above zero")
    return value


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a date (YYYY-MM-DD)") from None


def add_sandbox_actions(sandbox: argparse.ArgumentParser) -> None:
    actions = sandbox.add_subparsers(
        dest="sandbox_action", metavar="ACTION", help="act on a running sandbox (none: run one)"
    )
    places = argparse.ArgumentParser(add_help=False)
    places.add_argument("--atlas", metavar="URL", help=f"the Atlas emulator's address (env {ATLAS_ENV})")
    places.add_argument("--erp", metavar="URL", help=f"the NetSuite or SAP emulator (env {ERP_ENV})")
    which = argparse.ArgumentParser(add_help=False)
    which.add_argument("--item", required=True, metavar="NAME", help="the item's name or a unique part of it")
    which.add_argument("--lot", help="which lot, when the item has several")
    listing = actions.add_parser("items", parents=[places], help="list the marketplace's items (--erp-side)")
    listing.add_argument("--erp-side", action="store_true", help="list the ERP's stock positions instead")
    listing.add_argument("--search", help="only names containing this")
    for name, text in (
        ("sell", "a buyer purchases this on the marketplace"),
        ("order", "buy this on the marketplace: a confirmed order the sync enters as a purchase order"),
        ("receive", "book a receipt in the sandbox ERP"),
        ("issue", "book an issue from the sandbox ERP"),
    ):
        action = actions.add_parser(name, parents=[places, which], help=text)
        action.add_argument("--qty", required=True, type=_quantity, help="how many")
    expiry = actions.add_parser("expiry", parents=[places, which], help="change a lot's expiry in the ERP")
    expiry.add_argument("--date", required=True, type=_day, metavar="YYYY-MM-DD", help="the new expiry")
    fault = actions.add_parser("fault", parents=[places], help="the ERP refuses its next N requests")
    fault.add_argument("--status", type=int, choices=[429, 500, 503], default=503)
    fault.add_argument("--times", type=int, default=3, help="how many requests (default 3)")
