"""API_MATERIAL_DOCUMENT_SRV: deep insert, Cancel, stock kept in step, item/FI limits."""

from __future__ import annotations

from datetime import UTC, datetime, time
from decimal import Decimal
from typing import Any

from atlas_desktop.sandbox.sap import errors
from atlas_desktop.sandbox.sap.config import MOVEMENT_DIRECTION, REVERSAL_OF, SapConfig
from atlas_desktop.sandbox.sap.errors import GatewayError
from atlas_desktop.sandbox.sap.schema import (
    Access,
    EntitySet,
    EntityType,
    FunctionImport,
    Nav,
    Prop,
    ServiceSchema,
    date,
    dec,
    flag,
    key,
    s,
)
from atlas_desktop.sandbox.sap.services.base import Context, Service
from atlas_desktop.sandbox.sap.state import Row

RO: Access = {"creatable": False, "updatable": False}
DOC_JOIN = (("MaterialDocumentYear", "MaterialDocumentYear"), ("MaterialDocument", "MaterialDocument"))
ITEM_JOIN = ("MaterialDocumentItem", "MaterialDocumentItem")

HEADER = EntityType(
    "A_MaterialDocumentHeaderType",
    key=("MaterialDocumentYear", "MaterialDocument"),
    label="Material Document Header",
    props=(
        key("MaterialDocumentYear", 4, label="Material Doc. Year", updatable=False),
        key("MaterialDocument", 10, label="Material Document", display_format="UpperCase", updatable=False),
        s("InventoryTransactionType", 2, label="Transaction Type", display_format="UpperCase", **RO),
        date("DocumentDate", label="Document Date", updatable=False),
        date("PostingDate", label="Posting Date", updatable=False),
        date("CreationDate", label="Entry Date", **RO),
        Prop("CreationTime", "Edm.Time", precision=0, label="Time of Entry", **RO),
        s("CreatedByUser", 12, label="User Name", **RO),
        s("MaterialDocumentHeaderText", 25, label="Document Header Text", updatable=False),
        s("ReferenceDocument", 16, label="Reference", updatable=False),
        s("VersionForPrintingSlip", 1, label="Print version", updatable=False),
        # Edm.String(1), an 'X'/'' flag, not Edm.Boolean (real EDMX [V]).
        s("ManualPrintIsTriggered", 1, label="Print Active", display_format="UpperCase", updatable=False),
        s("CtrlPostgForExtWhseMgmtSyst", 1, label="Ctrl Posting for eWM", updatable=False),
        s("GoodsMovementCode", 2, label="Goods Movement Code", updatable=False),
    ),
    navs=(Nav("to_MaterialDocumentItem", "A_MaterialDocumentItem", True, DOC_JOIN),),
)

# Names, types and lengths as in the real EDMX, in its order.
_ITEM_PROPS: tuple[Prop, ...] = (
    key("MaterialDocumentYear", 4, label="Material Doc. Year", **RO),
    key("MaterialDocument", 10, label="Material Document", display_format="UpperCase", **RO),
    key("MaterialDocumentItem", 4, label="Material Doc.Item", display_format="NonNegative", **RO),
    s("Material", 40, label="Material", display_format="UpperCase"),
    s("Plant", 4, label="Plant", display_format="UpperCase"),
    s("StorageLocation", 4, label="Storage Location", display_format="UpperCase"),
    s("Batch", 10, label="Batch", display_format="UpperCase"),
    s("BatchBySupplier", 15, label="Supplier Batch", display_format="UpperCase"),
    s("GoodsMovementType", 3, label="Movement Type", display_format="UpperCase"),
    s("InventoryStockType", 2, label="Stock Type", display_format="UpperCase"),
    s("InventoryValuationType", 10, label="Valuation Type", display_format="UpperCase"),
    s("InventorySpecialStockType", 1, label="Special Stock", display_format="UpperCase"),
    s("Supplier", 10, label="Supplier", display_format="UpperCase"),
    s("Customer", 10, label="Customer", display_format="UpperCase"),
    s("SalesOrder", 10, label="Sales Order", display_format="UpperCase"),
    s("SalesOrderItem", 6, label="Sales Order Item", display_format="NonNegative"),
    s("SalesOrderScheduleLine", 4),
    s("PurchaseOrder", 10, label="Purchase Order", display_format="UpperCase"),
    s("PurchaseOrderItem", 5, label="Item", display_format="NonNegative"),
    s("WBSElement", 24),
    s("ManufacturingOrder", 12, label="Order", display_format="UpperCase"),
    s("ManufacturingOrderItem", 4),
    s("GoodsMovementRefDocType", 1, label="Goods Movement Ref Doc Type", display_format="UpperCase"),
    s("GoodsMovementReasonCode", 4, label="Reason for Movement", display_format="NonNegative"),
    s("Delivery", 10),
    s("DeliveryItem", 6),
    s("AccountAssignmentCategory", 1),
    s("CostCenter", 10, label="Cost Center", display_format="UpperCase"),
    s("ControllingArea", 4, label="Controlling Area", display_format="UpperCase"),
    s("CostObject", 12),
    s("GLAccount", 10, label="G/L Account", display_format="UpperCase"),
    s("FunctionalArea", 16),
    s("ProfitabilitySegment", 10),
    s("ProfitCenter", 10, label="Profit Center", display_format="UpperCase"),
    s("MasterFixedAsset", 12),
    s("FixedAsset", 4),
    s("MaterialBaseUnit", 3, label="Base Unit of Measure", semantics="unit-of-measure", **RO),
    dec("QuantityInBaseUnit", 13, 3, label="Quantity", unit="MaterialBaseUnit", **RO),
    s("EntryUnit", 3, label="Unit of Entry", semantics="unit-of-measure"),
    dec("QuantityInEntryUnit", 13, 3, label="Quantity in UnE", unit="EntryUnit"),
    s("CompanyCodeCurrency", 5, label="Currency", semantics="currency-code", **RO),
    dec("GdsMvtExtAmtInCoCodeCrcy", 14, 3, label="Amount in LC", unit="CompanyCodeCurrency"),
    dec("SlsPrcAmtInclVATInCoCodeCrcy", 14, 3, unit="CompanyCodeCurrency"),
    s("FiscalYear", 4, **RO),
    s("FiscalYearPeriod", 7, **RO),
    s("FiscalYearVariant", 2, **RO),
    s("IssgOrRcvgMaterial", 40, label="Receiving Material", display_format="UpperCase"),
    s("IssgOrRcvgBatch", 10, label="Receiving Batch", display_format="UpperCase"),
    s("IssuingOrReceivingPlant", 4, label="Receiving Plant", display_format="UpperCase"),
    s("IssuingOrReceivingStorageLoc", 4, label="Receiving stor. loc.", display_format="UpperCase"),
    s("IssuingOrReceivingStockType", 2),
    s("IssgOrRcvgSpclStockInd", 1),
    s("IssuingOrReceivingValType", 10),
    flag("IsCompletelyDelivered"),
    s("MaterialDocumentItemText", 50, label="Text"),
    s("GoodsRecipientName", 12),
    s("UnloadingPointName", 25),
    date("ShelfLifeExpirationDate", label="SLED/BBD"),
    date("ManufactureDate", label="Date of Manufacture"),
    flag("SerialNumbersAreCreatedAutomly"),
    s("Reservation", 10, label="Reservation", display_format="NonNegative"),
    s("ReservationItem", 4, label="Item No.", display_format="NonNegative"),
    s("ReservationItemRecordType", 1),
    flag("ReservationIsFinallyIssued"),
    s("SpecialStockIdfgSalesOrder", 10),
    s("SpecialStockIdfgSalesOrderItem", 6),
    s("SpecialStockIdfgWBSElement", 24),
    s("IsAutomaticallyCreated", 1, **RO),
    s("MaterialDocumentLine", 6, **RO),
    s("MaterialDocumentParentLine", 6, **RO),
    s("HierarchyNodeLevel", 2, **RO),
    flag("GoodsMovementIsCancelled", label="Goods Movement Is Cancelled", **RO),
    s("ReversedMaterialDocumentYear", 4, label="Reversed Mat. Doc. Year", **RO),
    s("ReversedMaterialDocument", 10, label="Reversed Mat. Doc.", display_format="UpperCase", **RO),
    s("ReversedMaterialDocumentItem", 4, label="Reversed Mat. Doc. Item", display_format="NonNegative", **RO),
    s("ReferenceDocumentFiscalYear", 4, **RO),
    s("InvtryMgmtRefDocumentItem", 4, **RO),
    s("InvtryMgmtReferenceDocument", 10, **RO),
    s("MaterialDocumentPostingType", 1, label="Posting Type"),
    s("InventoryUsabilityCode", 1),
    s("EWMWarehouse", 4, label="Warehouse Number", display_format="UpperCase"),
    s("EWMStorageBin", 18, label="Storage Bin", display_format="UpperCase"),
    s("DebitCreditCode", 1, label="Debit/Credit ind", display_format="UpperCase", **RO),
)
ITEM = EntityType(
    "A_MaterialDocumentItemType",
    key=("MaterialDocumentYear", "MaterialDocument", "MaterialDocumentItem"),
    label="Material Document Item",
    props=_ITEM_PROPS,
    navs=(
        Nav("to_MaterialDocumentHeader", "A_MaterialDocumentHeader", False, DOC_JOIN),
        Nav("to_SerialNumbers", "A_SerialNumberMaterialDocument", True, (*DOC_JOIN, ITEM_JOIN)),
    ),
)

# Served empty: the catalog has no serialised materials, but the set and its shape are the real EDMX's.
SERIAL = EntityType(
    "A_SerialNumberMaterialDocumentType",
    key=("Material", "SerialNumber", "MaterialDocument", "MaterialDocumentItem", "MaterialDocumentYear"),
    label="Serial Numbers",
    props=(
        key("Material", 40, label="Material", display_format="UpperCase", **RO),
        key("SerialNumber", 18, label="Serial Number", display_format="UpperCase", **RO),
        key("MaterialDocument", 10, label="Material Document", display_format="UpperCase", **RO),
        key("MaterialDocumentItem", 4, label="Material Document Item", display_format="NonNegative", **RO),
        key("MaterialDocumentYear", 4, label="Material Document Year", display_format="NonNegative", **RO),
        s("ManufacturerSerialNumber", 30, label="Manuf. Serial Number", display_format="UpperCase", **RO),
        s("SerialNumberIsRecursive", 1, label="Recursive SNo.", display_format="UpperCase", **RO),
    ),
)

_CANCEL_PARAMS = (
    Prop("MaterialDocumentYear", "Edm.String", max_length=4, nullable=False),
    Prop("MaterialDocument", "Edm.String", max_length=10, nullable=False),
    Prop("PostingDate", "Edm.DateTime", precision=0, nullable=True),
)

_CANCEL_ITEM_PARAMS = (
    *_CANCEL_PARAMS[:2],
    Prop("MaterialDocumentItem", "Edm.String", max_length=4, nullable=False),
    _CANCEL_PARAMS[2],
)

SCHEMA = ServiceSchema(
    name="API_MATERIAL_DOCUMENT_SRV",
    namespace="API_MATERIAL_DOCUMENT_SRV",
    scenario="SAP_COM_0108",
    sets=(
        EntitySet("A_MaterialDocumentHeader", HEADER, creatable=True),
        EntitySet("A_MaterialDocumentItem", ITEM),
        EntitySet("A_SerialNumberMaterialDocument", SERIAL),
    ),
    functions=(
        FunctionImport("Cancel", "A_MaterialDocumentHeader", "POST", _CANCEL_PARAMS),
        FunctionImport("CancelItem", "A_MaterialDocumentItem", "POST", _CANCEL_ITEM_PARAMS),
    ),
)

_ITEM_FIELDS_CLIENT_SETS = {p.name for p in _ITEM_PROPS if p.creatable}
# MaterialDocumentItem is Edm.String MaxLength 4.
MAX_ITEMS = 9_999


def _fail(code: str, message: str, status: int = 400, target: str = "") -> GatewayError:
    return GatewayError(status, code, message, target=target)


def midnight(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)


class MaterialDocumentService(Service):
    """Deep insert only; each posting moves unrestricted stock and refuses to overdraw it."""

    schema = SCHEMA

    def create(
        self, ctx: Context, eset: EntitySet, payload: dict[str, Any], navs: dict[str, list[Row]]
    ) -> Row:
        items = navs.get("to_MaterialDocumentItem")
        if not items:
            raise _fail(
                "M7/097", "Document does not contain any items: post items with to_MaterialDocumentItem"
            )
        unknown_nav = set(navs) - {"to_MaterialDocumentItem"}
        if unknown_nav:
            raise _fail(errors.NOT_ALLOWED, f"Deep insert of {sorted(unknown_nav)[0]} is not supported")
        for name in ("MaterialDocumentYear", "MaterialDocument"):
            if payload.get(name):
                raise _fail(errors.INVALID_PAYLOAD, f"{name} is assigned by the system; leave it empty")
        code = payload.get("GoodsMovementCode") or ""
        if not code:
            raise _fail(
                "M7/001", "Enter a goods movement code (GoodsMovementCode), e.g. 05 for other receipts"
            )
        posting = payload.get("PostingDate") or ctx.state.now()
        return post_document(ctx, payload, items, code=code, posting_date=posting)

    def call(self, ctx: Context, fn: FunctionImport, params: dict[str, Any]) -> Row:
        year, number, posting = (
            params["MaterialDocumentYear"],
            params["MaterialDocument"],
            params.get("PostingDate"),
        )
        if fn.name == "CancelItem":
            header = cancel_document(ctx, year, number, posting, only_item=params["MaterialDocumentItem"])
            key = (header["MaterialDocumentYear"], header["MaterialDocument"], "0001")
            return ctx.state.table("A_MaterialDocumentItem").get(key)  # type: ignore[return-value]
        return cancel_document(ctx, year, number, posting)


def post_document(
    ctx: Context,
    header_in: dict[str, Any],
    items_in: list[Row],
    *,
    code: str,
    posting_date: datetime,
    reversal: bool = False,
) -> Row:
    """Validate and post one document (all items or none). Used by the API, Cancel and the test helpers."""
    state, config = ctx.state, ctx.config
    _check_item_limits(config, len(items_in))
    with state.transaction():
        year = f"{posting_date.astimezone(UTC).year:04d}"
        number = f"{state.next_number('material_document', config.first_material_document):010d}"
        now = state.now()
        header = Service().defaults(ctx, SCHEMA.sets[0])
        header.update({k: v for k, v in header_in.items() if v is not None})
        header.update(
            MaterialDocumentYear=year,
            MaterialDocument=number,
            PostingDate=midnight(posting_date),
            DocumentDate=midnight(header_in.get("DocumentDate") or posting_date),
            CreationDate=midnight(now),
            CreationTime=time(now.hour, now.minute, now.second),
            CreatedByUser=ctx.user[:12],
            GoodsMovementCode=code,
        )
        state.insert("A_MaterialDocumentHeader", header)
        for position, item_in in enumerate(items_in, start=1):
            item = _post_item(ctx, header, item_in, position, code=code, reversal=reversal)
            state.insert("A_MaterialDocumentItem", item)
        return header


def _check_item_limits(config: SapConfig, count: int) -> None:
    """Item numbers have 4 digits; every movement here is valuated, so its FI document must fit too."""
    if count > MAX_ITEMS:
        raise _fail(
            "M7/146",
            f"Material document has {count} items; item numbers have 4 digits (at most {MAX_ITEMS})",
        )
    fi_lines = count * config.fi_lines_per_item
    if fi_lines > config.fi_line_limit:
        # F5 727 "Maximum number of items in FI reached" (SAP KBAs 1483198, 1801529). M7/146 above is [U].
        raise _fail(
            "F5/727",
            f"Maximum number of items in FI reached ({config.fi_line_limit}); "
            f"{count} items need {fi_lines} FI lines",
        )


def _post_item(ctx: Context, header: Row, item_in: Row, position: int, *, code: str, reversal: bool) -> Row:
    state, config = ctx.state, ctx.config
    where = f"item {position}"
    for name in ("MaterialDocumentYear", "MaterialDocument", "MaterialDocumentItem"):
        if item_in.get(name):
            raise _fail(errors.INVALID_PAYLOAD, f"{where}: {name} is assigned by the system; leave it empty")
    movement = item_in.get("GoodsMovementType") or ""
    if movement not in MOVEMENT_DIRECTION:
        raise _fail(
            "M7/050", f"{where}: movement type '{movement}' is not supported", target="GoodsMovementType"
        )
    if not reversal:
        allowed = config.movement_codes.get(movement)
        if allowed is None or code not in allowed:
            expected = "/".join(sorted(allowed)) if allowed else "none"
            raise _fail(
                "M7/163",
                f"{where}: movement type {movement} is not allowed with goods movement code {code} "
                f"(allowed: {expected})",
                target="GoodsMovementType",
            )
    material = item_in.get("Material") or ""
    product = state.table("A_Product").get((material,))
    if product is None:
        raise _fail("M3/305", f"{where}: material '{material}' does not exist", target="Material")
    plant = item_in.get("Plant") or ""
    sloc = item_in.get("StorageLocation") or ""
    if state.table("A_ProductPlant").get((material, plant)) is None:
        raise _fail(
            "M3/305", f"{where}: material {material} is not maintained in plant '{plant}'", target="Plant"
        )
    if (plant, sloc) not in set(config.locations.values()):
        raise _fail("M7/002", f"{where}: storage location '{sloc}' does not exist in plant {plant}")
    if not reversal:
        for name in config.required_fields.get(movement, ()):
            if not item_in.get(name):
                raise _fail(
                    "M7/001", f"{where}: field {name} is required for movement type {movement}", target=name
                )
        cost_center = item_in.get("CostCenter") or ""
        if cost_center and config.cost_centers and cost_center not in config.cost_centers:
            raise _fail("KI/248", f"{where}: cost center {cost_center} does not exist", target="CostCenter")
    base_unit = product["BaseUnit"]
    unit = item_in.get("EntryUnit") or base_unit
    quantity = item_in.get("QuantityInEntryUnit")
    if quantity is None or quantity <= 0:
        raise _fail("M7/001", f"{where}: enter a quantity greater than zero (QuantityInEntryUnit)")
    base_quantity = _in_base_unit(ctx, material, unit, base_unit, quantity, where)
    batch = item_in.get("Batch") or ""
    batch_managed = bool(product["IsBatchManagementRequired"])
    if batch_managed and not batch:
        raise _fail(
            "M7/018", f"{where}: enter a batch for material {material} (batch managed)", target="Batch"
        )
    if not batch_managed and batch:
        raise _fail("M7/019", f"{where}: material {material} is not batch managed; leave Batch empty")
    direction = MOVEMENT_DIRECTION[movement]
    sled = item_in.get("ShelfLifeExpirationDate")
    made = item_in.get("ManufactureDate")
    if batch:
        batch_row = state.table("Batch").get((material, "", batch))
        if batch_row is None:
            if direction < 0:
                raise _fail("M7/021", f"{where}: batch {batch} of material {material} does not exist")
            if config.require_sled_for_new_batch and sled is None:
                raise _fail(
                    "M7/017",
                    f"{where}: enter the shelf life expiration date for new batch {batch}",
                    target="ShelfLifeExpirationDate",
                )
            now = state.now()
            state.insert("Batch", _new_batch(material, batch, sled, made, now))
        else:
            sled = sled or batch_row["ShelfLifeExpirationDate"]
            made = made or batch_row["ManufactureDate"]
    move_stock(
        ctx, material, plant, sloc, batch, base_quantity * direction, base_unit, code=config.overdraw_code
    )
    item = Service().defaults(ctx, SCHEMA.sets[1])
    item.update({k: v for k, v in item_in.items() if k in _ITEM_FIELDS_CLIENT_SETS and v is not None})
    item.update(
        MaterialDocumentYear=header["MaterialDocumentYear"],
        MaterialDocument=header["MaterialDocument"],
        MaterialDocumentItem=f"{position:04d}",
        GoodsMovementType=movement,
        InventoryStockType=item_in.get("InventoryStockType") or "01",
        EntryUnit=unit,
        MaterialBaseUnit=base_unit,
        QuantityInBaseUnit=base_quantity,
        QuantityInEntryUnit=quantity,
        CompanyCodeCurrency=config.currency,
        DebitCreditCode="S" if direction > 0 else "H",
        ShelfLifeExpirationDate=sled,
        ManufactureDate=made,
    )
    for name in ("ReversedMaterialDocumentYear", "ReversedMaterialDocument", "ReversedMaterialDocumentItem"):
        if item_in.get(name):
            item[name] = item_in[name]
    return item


def _in_base_unit(
    ctx: Context, material: str, unit: str, base: str, quantity: Decimal, where: str
) -> Decimal:
    """EntryUnit may be any unit maintained for the material (A_ProductUnitsOfMeasure), converted to the
    base unit; a material without unit rows knows only its base unit."""
    if unit == base:
        return quantity
    row = ctx.state.table("A_ProductUnitsOfMeasure").get((material, unit))
    if row is None or not row["QuantityDenominator"]:
        maintained = sorted(
            r["AlternativeUnit"]
            for r in ctx.state.table("A_ProductUnitsOfMeasure").rows.values()
            if r["Product"] == material
        ) or [base]
        # Not M7/021..023 (the deficit messages clients key on); the real number is [U].
        raise _fail(
            "M7/034",
            f"{where}: unit {unit} is not defined for material {material} "
            f"(maintained: {', '.join(maintained)})",
            target="EntryUnit",
        )
    converted = quantity * row["QuantityNumerator"] / row["QuantityDenominator"]
    return converted.quantize(Decimal("0.001"))


def _new_batch(material: str, batch: str, sled: datetime | None, made: datetime | None, now: datetime) -> Row:
    return {
        "Material": material,
        "BatchIdentifyingPlant": "",
        "Batch": batch,
        "Supplier": "",
        "BatchBySupplier": "",
        "CountryOfOrigin": "",
        "RegionOfOrigin": "",
        "MatlBatchAvailabilityDate": None,
        "ShelfLifeExpirationDate": sled,
        "ManufactureDate": made,
        "FreeDefinedDate1": None,
        "CreationDateTime": now,
        "LastChangeDateTime": now,
        "BatchIsMarkedForDeletion": False,
        "MatlBatchIsInRstrcdUseStock": False,
        "BatchExtWhseMgmtInternalId": "",
    }


def move_stock(
    ctx: Context, material: str, plant: str, sloc: str, batch: str, delta: Decimal, unit: str, *, code: str
) -> Row:
    """Change unrestricted (01, no special stock) stock; refuse to go below zero (M7 deficit)."""
    state = ctx.state
    stock_key = (material, plant, sloc, batch, "", "", "00000000", "", "000000", "", "01")
    row = state.table("A_MatlStkInAcctMod").get(stock_key)
    current = row["MatlWrhsStkQtyInMatlBaseUnit"] if row else Decimal(0)
    new = current + delta
    if new < 0:
        deficit = -new
        where = f"{material} {plant} {sloc}" + (f" {batch}" if batch else "")
        raise GatewayError(
            400,
            code,
            f"Deficit of SL Unrestricted-use {deficit.normalize():f} {unit} : {where}",
            target="QuantityInEntryUnit",
        )
    if row is None:
        row = dict(
            zip(
                (
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
                ),
                stock_key,
                strict=True,
            )
        )
        row.update(WBSElementExternalID="", MaterialBaseUnit=unit, MatlWrhsStkQtyInMatlBaseUnit=new)
        return state.insert("A_MatlStkInAcctMod", row)
    return state.update("A_MatlStkInAcctMod", stock_key, {"MatlWrhsStkQtyInMatlBaseUnit": new})


def cancel_document(
    ctx: Context, year: str, number: str, posting_date: datetime | None, *, only_item: str | None = None
) -> Row:
    """Cancel: a new document with the reversal movement types, carrying ReversedMaterialDocument* [R];
    it copies the header text or not as the tenant's `reversal_header_text` says [U]."""
    state = ctx.state
    header = state.table("A_MaterialDocumentHeader").get((year, number))
    if header is None:
        raise _fail("M7/060", f"Material document {number} {year} does not exist", status=404)
    items = sorted(
        (
            r
            for r in state.table("A_MaterialDocumentItem").rows.values()
            if r["MaterialDocumentYear"] == year and r["MaterialDocument"] == number
        ),
        key=lambda r: r["MaterialDocumentItem"],
    )
    if only_item is not None:  # CancelItem: one item of the document (the item number as posted)
        items = [r for r in items if r["MaterialDocumentItem"] == only_item.zfill(4)]
        if not items:
            raise _fail(
                "M7/060", f"Item {only_item} of material document {number} {year} does not exist", 404
            )
    if any(r["GoodsMovementIsCancelled"] for r in items):
        raise _fail("M7/085", f"Material document {number} {year} has already been cancelled")
    if any(r["ReversedMaterialDocument"] for r in items):
        raise _fail(
            "M7/086", f"Material document {number} {year} is itself a reversal and cannot be cancelled"
        )
    reversal_items = []
    for r in items:
        movement = REVERSAL_OF.get(r["GoodsMovementType"])
        if movement is None:
            raise _fail("M7/087", f"Movement type {r['GoodsMovementType']} cannot be reversed with Cancel")
        reversal_items.append(
            {
                "Material": r["Material"],
                "Plant": r["Plant"],
                "StorageLocation": r["StorageLocation"],
                "Batch": r["Batch"],
                "GoodsMovementType": movement,
                "EntryUnit": r["EntryUnit"],
                "QuantityInEntryUnit": r["QuantityInEntryUnit"],
                "CostCenter": r["CostCenter"],
                "ReversedMaterialDocumentYear": year,
                "ReversedMaterialDocument": number,
                "ReversedMaterialDocumentItem": r["MaterialDocumentItem"],
            }
        )
    copy = ctx.config.reversal_header_text == "copy"
    text = header["MaterialDocumentHeaderText"] if copy else ""
    with state.transaction():
        new = post_document(
            ctx,
            {"MaterialDocumentHeaderText": text, "ReferenceDocument": number},
            reversal_items,
            code="06",
            posting_date=posting_date or state.now(),
            reversal=True,
        )
        for r in items:
            state.update(
                "A_MaterialDocumentItem",
                (year, number, r["MaterialDocumentItem"]),
                {"GoodsMovementIsCancelled": True},
            )
    return new
