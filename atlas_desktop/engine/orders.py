"""Transactions: confirmed Atlas marketplace orders become ERP purchase orders, once each, linked back.

Both steps are idempotent by a natural key, so no outbox is needed: the ERP connectors look a purchase
order up by the order's key before creating it (NetSuite externalId, SAP reference hash), and Atlas
answers a repeated link to the same document with the first answer. The orders cursor moves past an
order only once it is created and linked; an order the ERP refuses stops the batch there, with an
item error saying why, so no order is ever skipped.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace

from atlas_desktop.domain.connector import ErpConnector
from atlas_desktop.domain.enums import WatermarkStream
from atlas_desktop.domain.errors import AtlasDesktopError
from atlas_desktop.domain.model import ErpType, PurchaseOrder, PurchaseOrderLine, Side
from atlas_desktop.domain.packs import pack_levels
from atlas_desktop.engine.discovery import ErpProductRef, ProductIndex, identify_ndc
from atlas_desktop.engine.ports import AtlasPort, MirrorReads, RunLogPort, StoreThread

log = logging.getLogger(__name__)


@dataclass
class OrderStats:
    created: int = 0
    failed: list[tuple[PurchaseOrder, AtlasDesktopError]] = field(default_factory=list)
    entered: list[PurchaseOrder] = field(default_factory=list)  # the orders entered, for the run's list


def purchase_order_key(order: PurchaseOrder) -> str:
    return f"atlas-order-{order.atlas_order_id}"


class OrderTransfer:
    def __init__(
        self,
        thread: StoreThread,
        mirrors: MirrorReads,
        runs: RunLogPort,
        connection_id: str,
        erp_type: ErpType,
        erp: ErpConnector,
        atlas: AtlasPort,
    ) -> None:
        self.thread = thread  # the product index is built where the mirror is read, off the event loop
        self.mirrors = mirrors
        self.runs = runs
        self.connection_id = connection_id
        self.erp_type = erp_type
        self.erp = erp
        self.atlas = atlas
        self.stats = OrderStats()

    async def _product_index(self) -> ProductIndex:
        def build() -> ProductIndex:
            return ProductIndex(
                ErpProductRef(p.item_id, p.ndc_text, p.name or "", pack_levels(p.attributes, p.unit))
                for p in self.mirrors.iter_erp_products(self.connection_id)
            )

        return await self.thread(build)

    @staticmethod
    def _resolved(order: PurchaseOrder, index: ProductIndex) -> PurchaseOrder:
        """Each line's ERP item, when its NDC names exactly one item for sure (the rules of discovery).
        A line naming a case's NDC orders cases: the ERP's order unit is that pack level's unit."""

        def resolved(line: PurchaseOrderLine) -> PurchaseOrderLine:
            if line.erp_item_id:
                return line
            found = index.match_units(identify_ndc(line.ndc_text))
            if not found.strong or len(found.items) != 1:
                return line
            item_id, pack = next(iter(found.items.items()))
            return replace(line, erp_item_id=item_id, unit=pack.unit if pack is not None else line.unit)

        return replace(order, lines=tuple(resolved(line) for line in order.lines))

    async def pending(self) -> list[PurchaseOrder]:
        """The confirmed orders `run` would enter now, as it would enter them; nothing is written and the
        cursor stays (a preview counts them)."""
        cursor = await self.runs.get_watermark(self.connection_id, Side.ATLAS, WatermarkStream.ORDERS)
        index: ProductIndex | None = None
        found: list[PurchaseOrder] = []
        async for batch in self.atlas.orders(since=cursor, status="confirmed"):
            if batch.orders and index is None:
                index = await self._product_index()
            found.extend(self._resolved(order, index) for order in batch.orders if index is not None)
        return found

    async def run(self) -> OrderStats:
        cursor = await self.runs.get_watermark(self.connection_id, Side.ATLAS, WatermarkStream.ORDERS)
        index: ProductIndex | None = None
        async for batch in self.atlas.orders(since=cursor, status="confirmed"):
            for order in batch.orders:
                if index is None:
                    index = await self._product_index()
                try:
                    result = await self.erp.create_purchase_order(
                        self._resolved(order, index), purchase_order_key(order)
                    )
                    await self.atlas.link_order(
                        order.atlas_order_id,
                        erp_type=self.erp_type,
                        document_id=result.remote_id,
                        document_number=result.remote_number,
                        key=f"link-{order.atlas_order_id}-{result.remote_id}",
                    )
                except AtlasDesktopError as error:
                    # Stop here: the cursor stays before this order, so it is tried again next run.
                    log.warning("order %s could not be entered in the ERP: %s", order.number, error.message)
                    self.stats.failed.append((order, error))
                    return self.stats
                self.stats.created += 1
                self.stats.entered.append(order)
            await self.runs.set_watermark(
                self.connection_id, Side.ATLAS, WatermarkStream.ORDERS, batch.cursor
            )
        return self.stats
