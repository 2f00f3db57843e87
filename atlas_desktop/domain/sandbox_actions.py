"""What the demo lets a person do to the sandbox (sell, receive, ...), as a port the window and the CLI share.

The window (ui/) and the terminal (app/) both drive it; the HTTP client behind it lives in app/, so the
window never imports httpx or the emulators. The sentences say what happened and what to watch for.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Protocol

from atlas_desktop.domain.errors import AtlasDesktopError


@dataclass(frozen=True)
class SandboxItem:
    """A listing row (marketplace) or a stock position (ERP): `key` is what the sandbox acts on."""

    key: str
    name: str
    quantity: Decimal
    lot: str | None = None
    expiry: date | None = None
    location: str | None = None

    def label(self) -> str:
        where = f", lot {self.lot}" if self.lot else ""
        where += f", {self.location}" if self.location else ""
        return f"{self.name}{where} — {amount(self.quantity)} on hand"


class SandboxActionFailed(AtlasDesktopError):
    """The sandbox refused or could not be reached; the message is the sandbox's reason."""

    def __init__(self, message: str) -> None:
        super().__init__(message, fix="Check the sandbox is running (atlas-desktop --demo or sandbox).")


class SandboxActions(Protocol):
    erp_name: str  # "NetSuite" or "SAP S/4HANA": what the sentences call the ERP

    async def marketplace_items(self) -> list[SandboxItem]: ...

    async def erp_items(self) -> list[SandboxItem]: ...

    async def sell(self, item: SandboxItem, quantity: Decimal) -> str: ...

    async def order(self, item: SandboxItem, quantity: Decimal) -> str: ...

    async def receive(self, item: SandboxItem, quantity: Decimal) -> str: ...

    async def issue(self, item: SandboxItem, quantity: Decimal) -> str: ...

    async def change_expiry(self, item: SandboxItem, expiry: date) -> str: ...

    async def fail_erp(self, status: int, times: int) -> str: ...


def amount(quantity: Decimal) -> str:
    """3, 2.5, 1000 — never 3.000 or 1E+3."""
    return format(quantity.normalize(), "f")


def lot_words(item: SandboxItem) -> str:
    return f" (lot {item.lot})" if item.lot else ""


def pick(items: Sequence[SandboxItem], name: str, *, lot: str | None = None,
         at_least: Decimal | None = None) -> SandboxItem:  # fmt: skip
    """The item a person named: the exact name (any case), else the one name containing the words; among
    that name's lots and locations, the lot asked for, else the first holding `at_least`."""
    wanted = name.strip().casefold()
    found = [i for i in items if i.name.casefold() == wanted]
    if not found:
        found = [i for i in items if wanted in i.name.casefold()]
        names = sorted({i.name for i in found})
        if len(names) > 1:
            shown = "; ".join(names[:5]) + ("; …" if len(names) > 5 else "")
            raise SandboxActionFailed(f"'{name}' names {len(names)} items ({shown}); give more of the name")
    if lot is not None:
        found = [i for i in found if (i.lot or "").casefold() == lot.casefold()]
    if not found:
        raise SandboxActionFailed(f"no item named '{name}'" + (f" with lot {lot}" if lot else ""))
    if at_least is not None:
        return next((i for i in found if i.quantity >= at_least), found[0])
    return found[0]
