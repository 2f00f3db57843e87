"""API_MATERIAL_STOCK_SRV: read-only stock per material/plant/storage location/batch/stock type."""

from __future__ import annotations

from atlas_desktop.sandbox.sap.schema import Access, EntitySet, EntityType, Nav, ServiceSchema, dec, key, s
from atlas_desktop.sandbox.sap.services.base import Service

STOCK_KEY = (
    "Material",
    "Plant",
    "StorageLocation",
    "Batch",
    "Supplier",
    "Customer",
    "WBSElementInternalID",
    "SDDocument",
    "SDDocumentItem",
    "InventorySpecialStockType",
    "InventoryStockType",
)
RO: Access = {"creatable": False, "updatable": False}

MATERIAL_STOCK = EntityType(
    "A_MaterialStockType",
    key=("Material",),
    label="Material Stock",
    props=(
        key("Material", 40, label="Material", display_format="UpperCase", **RO),
        s("MaterialBaseUnit", 3, label="Base Unit of Measure", semantics="unit-of-measure", **RO),
    ),
    navs=(Nav("to_MatlStkInAcctMod", "A_MatlStkInAcctMod", True, (("Material", "Material"),)),),
)

STOCK = EntityType(
    "A_MatlStkInAcctModType",
    key=STOCK_KEY,
    label="Material Stock",
    props=(
        key("Material", 40, label="Material", display_format="UpperCase", **RO),
        key("Plant", 4, label="Plant", display_format="UpperCase", **RO),
        key("StorageLocation", 4, label="Storage Location", display_format="UpperCase", **RO),
        key("Batch", 10, label="Batch", display_format="UpperCase", **RO),
        key("Supplier", 10, label="Supplier", display_format="UpperCase", **RO),
        key("Customer", 10, label="Customer", display_format="UpperCase", **RO),
        key("WBSElementInternalID", 8, label="WBS Element", display_format="NonNegative", **RO),
        key("SDDocument", 10, label="Sales order", display_format="UpperCase", **RO),
        key("SDDocumentItem", 6, label="Sales Order Item", display_format="NonNegative", **RO),
        key("InventorySpecialStockType", 1, label="Special Stock Type", display_format="UpperCase", **RO),
        key("InventoryStockType", 2, label="Stock Type", display_format="UpperCase", **RO),
        s("WBSElementExternalID", 24, label="WBS Element", **RO),
        s("MaterialBaseUnit", 3, label="Base Unit of Measure", semantics="unit-of-measure", **RO),
        dec("MatlWrhsStkQtyInMatlBaseUnit", 31, 14, label="Stock Quantity", unit="MaterialBaseUnit", **RO),
    ),
    navs=(Nav("to_MaterialStock", "A_MaterialStock", False, (("Material", "Material"),)),),
)

SCHEMA = ServiceSchema(
    name="API_MATERIAL_STOCK_SRV",
    namespace="API_MATERIAL_STOCK_SRV",
    scenario="SAP_COM_0164",
    sets=(
        EntitySet("A_MaterialStock", MATERIAL_STOCK),
        EntitySet("A_MatlStkInAcctMod", STOCK),
    ),
)


class StockService(Service):
    """Read only (sap:creatable/updatable/deletable="false"): stock moves by material documents."""

    schema = SCHEMA
