"""The demo's actions over HTTP: the emulators' `/_sandbox/` routes, for the window's Sandbox menu and the
`atlas-desktop sandbox ACTION` commands alike (domain/sandbox_actions.py is the port)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import httpx

from atlas_desktop.domain.model import ErpType
from atlas_desktop.domain.sandbox_actions import SandboxActionFailed, SandboxItem, amount, lot_words
from atlas_desktop.ui.wizard.context import SandboxInfo

_TIMEOUT_S = 15.0


def erp_name(erp_type: ErpType) -> str:
    return "SAP S/4HANA" if erp_type.is_sap else "NetSuite"


def _item(data: dict[str, Any], key: str) -> SandboxItem:
    expiry = data.get("expiry")
    return SandboxItem(
        key=str(data[key]),
        name=str(data["name"]),
        quantity=Decimal(str(data["quantity"])),
        lot=data.get("lot") or None,
        expiry=date.fromisoformat(expiry) if expiry else None,
        location=data.get("location") or None,
    )


class SandboxClient:
    """`SandboxActions` against a running sandbox: the Atlas emulator's URL and the ERP emulator's."""

    def __init__(
        self,
        marketplace_url: str,
        erp_url: str,
        erp_name: str = "ERP",
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        verify: bool | str = True,
    ) -> None:
        self.marketplace_url = marketplace_url.rstrip("/")
        self.erp_url = erp_url.rstrip("/")
        self.erp_name = erp_name
        self._transport = transport
        self._verify = verify

    async def _call(self, method: str, url: str, body: dict[str, Any] | None = None) -> Any:
        try:
            async with httpx.AsyncClient(
                transport=self._transport, timeout=_TIMEOUT_S, verify=self._verify
            ) as http:
                answer = await http.request(method, url, json=body)
        except httpx.HTTPError as exc:
            raise SandboxActionFailed(f"the sandbox at {url} did not answer ({type(exc).__name__})") from None
        try:
            data = answer.json()
        except ValueError:
            data = None
        if answer.status_code >= 400:
            reason = data.get("error") if isinstance(data, dict) else None
            raise SandboxActionFailed(str(reason or f"the sandbox answered HTTP {answer.status_code}"))
        return data

    # ---- lists ----------------------------------------------------------------------------------------
    async def marketplace_items(self) -> list[SandboxItem]:
        rows = await self._call("GET", f"{self.marketplace_url}/_sandbox/marketplace/items")
        return sorted((_item(r, "id") for r in rows), key=lambda i: (i.name.casefold(), i.key))

    async def erp_items(self) -> list[SandboxItem]:
        rows = await self._call("GET", f"{self.erp_url}/_sandbox/stock")
        return [_item(r, "key") for r in rows]

    # ---- the marketplace ------------------------------------------------------------------------------
    async def sell(self, item: SandboxItem, quantity: Decimal) -> str:
        body = {"id": item.key, "quantity": str(quantity)}
        await self._call("POST", f"{self.marketplace_url}/_sandbox/marketplace/sell", body)
        return (
            f"Sold {amount(quantity)} of {item.name}{lot_words(item)} on the marketplace — "
            f"watch it reach {self.erp_name} at the next sync."
        )

    async def order(self, item: SandboxItem, quantity: Decimal) -> str:
        body = {"id": item.key, "quantity": str(quantity)}
        placed = await self._call("POST", f"{self.marketplace_url}/_sandbox/marketplace/order", body)
        return (
            f"Ordered {amount(quantity)} of {item.name} from {placed['supplier']} on the marketplace "
            f"(order {placed['number']}) — the next sync enters it in {self.erp_name} as a purchase order "
            "if the connection syncs Transactions (a setup preference)."
        )

    # ---- the ERP --------------------------------------------------------------------------------------
    async def receive(self, item: SandboxItem, quantity: Decimal) -> str:
        await self._move("receive", item, quantity)
        return (
            f"Received {amount(quantity)} of {item.name}{lot_words(item)} in {self.erp_name} — "
            "watch it reach the marketplace at the next sync."
        )

    async def issue(self, item: SandboxItem, quantity: Decimal) -> str:
        await self._move("issue", item, quantity)
        return (
            f"Issued {amount(quantity)} of {item.name}{lot_words(item)} from {self.erp_name} — "
            "watch it reach the marketplace at the next sync."
        )

    async def _move(self, route: str, item: SandboxItem, quantity: Decimal) -> None:
        body = {"key": item.key, "quantity": str(quantity)}
        await self._call("POST", f"{self.erp_url}/_sandbox/stock/{route}", body)

    async def change_expiry(self, item: SandboxItem, expiry: date) -> str:
        body = {"key": item.key, "expiry": expiry.isoformat()}
        await self._call("POST", f"{self.erp_url}/_sandbox/stock/expiry", body)
        return (
            f"Changed the expiry of {item.name}{lot_words(item)} to {expiry.isoformat()} in {self.erp_name} "
            "— watch the marketplace row follow at the next sync."
        )

    async def fail_erp(self, status: int, times: int) -> str:
        """The next `times` requests to the ERP get `status` (429: its "too many requests" answer)."""
        rule = {"kind": "status", "status": status, "times": times}
        await self._call("POST", f"{self.erp_url}/_sandbox/faults/rules", rule)
        return (
            f"{self.erp_name} will answer HTTP {status} to its next {times} requests — "
            "watch the sync retry, then recover."
        )


def client_for(sandbox: SandboxInfo, erp_type: ErpType | None) -> SandboxClient:
    """The demo's client for the ERP a connection uses: the emulator whose credentials the wizard's sandbox
    button fills in for that ERP (NetSuite when no connection exists yet)."""
    kind = erp_type or ErpType.NETSUITE
    credentials = sandbox.credentials_for(kind) or {}
    return SandboxClient(sandbox.atlas_url, str(credentials.get("base_url", "")), erp_name(kind))


def addresses_text(sandbox: SandboxInfo) -> str:
    """What the window's "Use it from a terminal" says: the addresses and one command to copy."""
    urls = ", ".join(f"{name} {url}" for name, url in sorted(sandbox.urls.items()))
    erp = sandbox.urls.get("netsuite", "<erp url>")
    return (
        f"Sandbox addresses: {urls}. From a terminal, e.g.: atlas-desktop sandbox sell "
        f"--atlas {sandbox.atlas_url} --erp {erp} --item \"NAME\" --qty 3"
    )
