"""API_PURCHASEORDER_PROCESS_SRV: purchase orders by deep insert with items (minimal real field names)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from atlas_desktop.sandbox.sap import errors
from atlas_desktop.sandbox.sap.errors import GatewayError
from atlas_desktop.sandbox.sap.schema import (
    Access,
    EntitySet,
    EntityType,
    Nav,
    Prop,
    ServiceSchema,
    date,
    dec,
    key,
    s,
)
from atlas_desktop.sandbox.sap.services.base import Context, Service
from atlas_desktop.sandbox.sap.state import Row

RO: Access = {"creatable": False, "updatable": False}

ORDER = EntityType(
    "A_PurchaseOrderType",
    key=("PurchaseOrder",),
    label="Purchase Order",
    props=(
        key("PurchaseOrder", 10, label="Purchase Order", display_format="UpperCase", updatable=False),
        s("CompanyCode", 4, label="Company Code", display_format="UpperCase"),
        s("PurchaseOrderType", 4, label="Purchasing Doc. Type", display_format="UpperCase"),
        s("PurchasingDocumentDeletionCode", 1, label="Deletion indicator", display_format="UpperCase", **RO),
        date("CreationDate", label="Created On", **RO),
        s("CreatedByUser", 12, label="Created By", **RO),
        Prop("LastChangeDateTime", "Edm.DateTimeOffset", precision=7, label="Changed On", **RO),
        s("Supplier", 10, label="Supplier", display_format="UpperCase"),
        s("PurchasingOrganization", 4, label="Purch. Organization", display_format="UpperCase"),
        s("PurchasingGroup", 3, label="Purchasing Group", display_format="UpperCase"),
        date("PurchaseOrderDate", label="Purchase Order Date"),
        s("DocumentCurrency", 5, label="Currency", semantics="currency-code"),
        s("PurchasingProcessingStatus", 2, label="Processing status", **RO),
        s("CorrespncExternalReference", 12, label="Your Reference"),
    ),
    navs=(Nav("to_PurchaseOrderItem", "A_PurchaseOrderItem", True, (("PurchaseOrder", "PurchaseOrder"),)),),
)

ITEM = EntityType(
    "A_PurchaseOrderItemType",
    key=("PurchaseOrder", "PurchaseOrderItem"),
    label="Purchase Order Item",
    props=(
        key("PurchaseOrder", 10, label="Purchase Order", display_format="UpperCase", updatable=False),
        key("PurchaseOrderItem", 5, label="Item", display_format="NonNegative", updatable=False),
        s("PurchaseOrderItemText", 40, label="Short Text"),
        s("Plant", 4, label="Plant", display_format="UpperCase"),
        s("StorageLocation", 4, label="Storage location", display_format="UpperCase"),
        s("MaterialGroup", 9, label="Material Group", display_format="UpperCase"),
        s("Material", 40, label="Material", display_format="UpperCase"),
        s("PurchaseOrderQuantityUnit", 3, label="Order Unit", semantics="unit-of-measure"),
        dec("OrderQuantity", 13, 3, label="Order Quantity", unit="PurchaseOrderQuantityUnit"),
        s("DocumentCurrency", 5, label="Currency", semantics="currency-code"),
        dec("NetPriceAmount", 16, 3, label="Net Price", unit="DocumentCurrency"),
        dec("NetPriceQuantity", 5, 0, label="Price Unit", unit="OrderPriceUnit"),
        s("OrderPriceUnit", 3, label="Order Price Unit", semantics="unit-of-measure"),
        s("AccountAssignmentCategory", 1, label="Acct Assignment Cat.", display_format="UpperCase"),
    ),
    navs=(Nav("to_PurchaseOrder", "A_PurchaseOrder", False, (("PurchaseOrder", "PurchaseOrder"),)),),
)

SCHEMA = ServiceSchema(
    name="API_PURCHASEORDER_PROCESS_SRV",
    namespace="API_PURCHASEORDER_PROCESS_SRV",
    scenario="SAP_COM_0053",
    sets=(
        EntitySet("A_PurchaseOrder", ORDER, creatable=True, updatable=True, deletable=True),
        EntitySet("A_PurchaseOrderItem", ITEM, creatable=True, updatable=True, deletable=True),
    ),
)

_HEADER_REQUIRED = (
    "PurchaseOrderType",
    "CompanyCode",
    "PurchasingOrganization",
    "PurchasingGroup",
    "Supplier",
)
_ITEM_REQUIRED = ("Material", "Plant", "OrderQuantity", "PurchaseOrderQuantityUnit", "NetPriceAmount")


class PurchaseOrderService(Service):
    """Create by deep insert; numbers come from the system (internal numbering, 45...)."""

    schema = SCHEMA

    def create(
        self, ctx: Context, eset: EntitySet, payload: dict[str, Any], navs: dict[str, list[Row]]
    ) -> Row:
        if eset.name != "A_PurchaseOrder":
            raise GatewayError(
                400, errors.NOT_ALLOWED, "Create purchase order items with the order (deep insert)"
            )
        state = ctx.state
        for name in _HEADER_REQUIRED:
            if not payload.get(name):
                raise GatewayError(400, "06/001", f"Enter {name}", target=name)
        if payload.get("PurchaseOrder"):
            raise GatewayError(400, "06/002", "PurchaseOrder is assigned by the system; leave it empty")
        items = navs.get("to_PurchaseOrderItem") or []
        if not items:
            raise GatewayError(
                400, "06/003", "A purchase order needs at least one item (to_PurchaseOrderItem)"
            )
        with state.transaction():
            number = f"{state.next_number('purchase_order', ctx.config.first_purchase_order):010d}"
            header = self.defaults(ctx, eset)
            header.update(payload)
            now = state.now()
            header.update(
                PurchaseOrder=number,
                CreationDate=now.replace(hour=0, minute=0, second=0, microsecond=0),
                CreatedByUser=ctx.user[:12],
                LastChangeDateTime=now,
                PurchasingProcessingStatus="02",
                DocumentCurrency=payload.get("DocumentCurrency") or ctx.config.currency,
            )
            if header["PurchaseOrderDate"] is None:
                header["PurchaseOrderDate"] = header["CreationDate"]
            state.insert("A_PurchaseOrder", header)
            item_set = SCHEMA.sets[1]
            for position, item_in in enumerate(items, start=1):
                where = f"item {position}"
                for name in _ITEM_REQUIRED:
                    if item_in.get(name) in (None, ""):
                        raise GatewayError(400, "06/001", f"{where}: enter {name}", target=name)
                if state.table("A_ProductPlant").get((item_in["Material"], item_in["Plant"])) is None:
                    raise GatewayError(
                        400,
                        "M3/305",
                        f"{where}: material {item_in['Material']} is not maintained "
                        f"in plant {item_in['Plant']}",
                    )
                if item_in["OrderQuantity"] <= Decimal(0):
                    raise GatewayError(
                        400, "06/004", f"{where}: the order quantity must be greater than zero"
                    )
                item = self.defaults(ctx, item_set)
                item.update(item_in)
                item.update(
                    PurchaseOrder=number,
                    PurchaseOrderItem=f"{position * 10:05d}",
                    DocumentCurrency=item_in.get("DocumentCurrency") or header["DocumentCurrency"],
                )
                state.insert("A_PurchaseOrderItem", item)
        return header
