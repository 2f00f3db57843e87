"""The demo's Sandbox menu: sell, order, receive, issue, change an expiry or make the ERP fail — then watch
the sync carry it. Only in demo mode; it drives the emulators through `SandboxActions` (HTTP, given by the
app), never their internals."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from PySide6.QtWidgets import QDialog, QMainWindow, QMenu, QWidget

from atlas_desktop.domain.enums import MappingStatus
from atlas_desktop.domain.model import ErpType
from atlas_desktop.domain.sandbox_actions import SandboxActions, SandboxItem
from atlas_desktop.store.repositories import ConnectionSummary
from atlas_desktop.ui.monitoring.tasks import TaskGroup
from atlas_desktop.ui.sandbox_dialogs import SandboxFaultDialog, SandboxItemDialog

ActionsFor = Callable[[ErpType | None], SandboxActions]  # the selected connection's ERP (None: none yet)
MAPPED_PAGE = 1000


@dataclass(frozen=True)
class MappedItems:
    """What the selected connection pairs: Atlas row ids, and ERP (item id, lot) — the location aside, as
    the sandbox's own keys write it differently per ERP."""

    atlas_ids: frozenset[str]
    erp_items: frozenset[tuple[str, str]]

    def keep(self, items: list[SandboxItem], *, marketplace: bool) -> list[SandboxItem]:
        if marketplace:
            return [i for i in items if i.key in self.atlas_ids]
        return [i for i in items if (i.key.split("|", 1)[0], i.lot or "") in self.erp_items]


MappedFor = Callable[[], Awaitable["MappedItems | None"]]


class SandboxMenu(QMenu):
    def __init__(
        self,
        actions_for: ActionsFor,
        erp_type: Callable[[], ErpType | None],
        log: Callable[[str], None],
        *,
        addresses: str = "",
        mapped: MappedFor | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__("S&andbox", parent)
        self.mapped = mapped  # None: every item of the sandbox is offered
        self.setObjectName("sandboxMenu")
        self.actions_for = actions_for
        self.erp_type = erp_type
        self.log = log
        self.addresses = addresses
        self.tasks = TaskGroup(on_error=lambda text: self.log(f"Sandbox: {text}"))
        self.dialog: QDialog | None = None  # the one open now (tests fill it in)
        self.sell_action = self.addAction("&Sell on the marketplace…", self.open_sell)
        self.order_action = self.addAction("Place a marketplace &order…", self.open_order)
        self.addSeparator()
        self.receive_action = self.addAction("&Receive stock in the ERP…", self.open_receive)
        self.issue_action = self.addAction("&Issue stock from the ERP…", self.open_issue)
        self.expiry_action = self.addAction("Change a lot's &expiry in the ERP…", self.open_expiry)
        self.fault_action = self.addAction("Make the ERP &fail…", self.open_fault)
        self.addSeparator()
        self.addresses_action = self.addAction("Use it from a &terminal", self.show_addresses)
        self.aboutToShow.connect(self.relabel)

    def actions_now(self) -> SandboxActions:
        return self.actions_for(self.erp_type())

    def relabel(self) -> None:
        """Name the ERP the demo connection uses (NetSuite or SAP), not "the ERP"."""
        name = self.actions_now().erp_name
        self.receive_action.setText(f"&Receive stock in {name}…")
        self.issue_action.setText(f"&Issue stock from {name}…")
        self.expiry_action.setText(f"Change a lot's &expiry in {name}…")
        self.fault_action.setText(f"Make {name} &fail…")

    # ---- the actions ----------------------------------------------------------------------------------
    def open_sell(self) -> None:
        self._pick(
            "Sell on the marketplace",
            "A buyer purchases this from your Atlas listing. The next sync takes it off the ERP's stock.",
            "Sell",
            marketplace=True,
            run=lambda actions, dialog, item: actions.sell(item, dialog.quantity()),
        )

    def open_order(self) -> None:
        self._pick(
            "Place a marketplace order",
            "You buy this on the marketplace from another seller. The next sync enters the confirmed "
            "order in the ERP as a purchase order.",
            "Order",
            marketplace=True,
            run=lambda actions, dialog, item: actions.order(item, dialog.quantity()),
        )

    def open_receive(self) -> None:
        self._pick(
            "Receive stock in the ERP",
            "A warehouse user books a receipt in the ERP. The next sync raises the marketplace row.",
            "Receive",
            marketplace=False,
            run=lambda actions, dialog, item: actions.receive(item, dialog.quantity()),
        )

    def open_issue(self) -> None:
        self._pick(
            "Issue stock from the ERP",
            "A warehouse user books an issue in the ERP. The next sync lowers the marketplace row.",
            "Issue",
            marketplace=False,
            run=lambda actions, dialog, item: actions.issue(item, dialog.quantity()),
        )

    def open_expiry(self) -> None:
        self._pick(
            "Change a lot's expiry in the ERP",
            "The expiry belongs to the ERP (it is printed on the packs). The next sync carries the new date "
            "to the marketplace row of that lot.",
            "Change",
            marketplace=False,
            lots_only=True,
            ask_expiry=True,
            run=lambda actions, dialog, item: actions.change_expiry(item, dialog.expiry()),
        )

    def open_fault(self) -> None:
        actions = self.actions_now()
        dialog = SandboxFaultDialog(actions.erp_name, self.parentWidget())
        dialog.accepted.connect(lambda: self._run(actions.fail_erp(dialog.status(), dialog.times())))
        self._show(dialog)

    def show_addresses(self) -> None:
        self.log(self.addresses or "The sandbox's addresses are not known in this window.")

    # ---- plumbing -------------------------------------------------------------------------------------
    def _pick(
        self,
        title: str,
        explanation: str,
        ok_text: str,
        *,
        marketplace: bool,
        run: Callable[[SandboxActions, SandboxItemDialog, SandboxItem], Awaitable[str]],
        lots_only: bool = False,
        ask_expiry: bool = False,
    ) -> None:
        actions = self.actions_now()
        title = title.replace("the ERP", actions.erp_name)
        explanation = explanation.replace("the ERP", actions.erp_name)

        async def choose() -> None:
            items = await (actions.marketplace_items() if marketplace else actions.erp_items())
            if lots_only:
                items = [i for i in items if i.lot]
            pairs = await self.mapped() if self.mapped is not None else None
            mapped = pairs.keep(items, marketplace=marketplace) if pairs is not None else []
            # The mapped items are the ones a sync carries; before discovery, every item is offered.
            note = "Listed: the mapped items." if mapped else "Nothing mapped yet: all sandbox items listed."
            items = mapped or items
            dialog = SandboxItemDialog(title, f"{explanation} {note}", items, ok_text=ok_text,
                                       ask_expiry=ask_expiry, parent=self.parentWidget())  # fmt: skip

            def accepted() -> None:
                item = dialog.item()
                if item is not None:
                    self._run(run(actions, dialog, item))

            dialog.accepted.connect(accepted)
            self._show(dialog)

        self.tasks.start(choose())

    def _show(self, dialog: QDialog) -> None:
        self.dialog = dialog
        dialog.finished.connect(lambda _r: self._forget(dialog))
        dialog.open()  # window-modal, no nested event loop

    def _forget(self, dialog: QDialog) -> None:
        if self.dialog is dialog:
            self.dialog = None
        dialog.deleteLater()

    def _run(self, action: Awaitable[str]) -> None:
        async def act() -> None:
            self.log(await action)

        self.tasks.start(act())

    async def aclose(self) -> None:
        await self.tasks.aclose()


def install_sandbox_menu(window: Any, actions_for: ActionsFor, *, addresses: str = "") -> SandboxMenu:
    """Put the Sandbox menu on the main window's menu bar (before Help, if there is one)."""

    def erp_type() -> ErpType | None:
        selected = window.selected_connection()
        listed: list[ConnectionSummary] = window.connections.list()
        return next((c.erp_type for c in listed if c.id == selected), None)

    ctx = getattr(window, "monitoring", None)

    async def mapped() -> MappedItems | None:
        selected = window.selected_connection()
        if ctx is None or selected is None:
            return None
        atlas_ids: set[str] = set()
        erp_items: set[tuple[str, str]] = set()
        offset = 0
        while True:
            page = await ctx.db(ctx.repos.mappings.page, selected, status=MappingStatus.MATCHED, search=None,
                                offset=offset, limit=MAPPED_PAGE)  # fmt: skip
            for row in page:
                if row.atlas_inventory_id:
                    atlas_ids.add(row.atlas_inventory_id)
                if row.erp_item_id:
                    erp_items.add((row.erp_item_id, row.lot or ""))
            if len(page) < MAPPED_PAGE:
                return MappedItems(frozenset(atlas_ids), frozenset(erp_items))
            offset += MAPPED_PAGE

    menu = SandboxMenu(actions_for, erp_type, window.log_line, addresses=addresses,
                       mapped=mapped if ctx is not None else None, parent=window)  # fmt: skip
    bar = window.menuBar() if isinstance(window, QMainWindow) else None
    if bar is not None:
        help_menu = next((a for a in bar.actions() if a.text().replace("&", "") == "Help"), None)
        if help_menu is not None:
            bar.insertMenu(help_menu, menu)
        else:
            bar.addMenu(menu)
    return menu
