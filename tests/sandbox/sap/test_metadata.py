"""$metadata names, types and lengths match the real EDMX of API_MATERIAL_DOCUMENT_SRV (sap.md §0, §3)."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import httpx

from .conftest import JSON, MATDOC

EDM = "{http://schemas.microsoft.com/ado/2008/09/edm}"
# Facts read from the real EDMX (cloudfirstcomputing/bydeluxe_dcp@266ede3): name -> type[:MaxLength].
HEADER = {
    "MaterialDocumentYear": "String:4",
    "MaterialDocument": "String:10",
    "InventoryTransactionType": "String:2",
    "DocumentDate": "DateTime",
    "PostingDate": "DateTime",
    "CreationDate": "DateTime",
    "CreationTime": "Time",
    "CreatedByUser": "String:12",
    "MaterialDocumentHeaderText": "String:25",
    "ReferenceDocument": "String:16",
    "VersionForPrintingSlip": "String:1",
    "ManualPrintIsTriggered": "String:1",
    "CtrlPostgForExtWhseMgmtSyst": "String:1",
    "GoodsMovementCode": "String:2",
}
_ITEM_STRINGS = (
    "MaterialDocumentYear:4 MaterialDocument:10 MaterialDocumentItem:4 Material:40 Plant:4 StorageLocation:4 "
    "Batch:10 BatchBySupplier:15 GoodsMovementType:3 InventoryStockType:2 InventoryValuationType:10 "
    "InventorySpecialStockType:1 Supplier:10 Customer:10 SalesOrder:10 SalesOrderItem:6 "
    "SalesOrderScheduleLine:4 PurchaseOrder:10 PurchaseOrderItem:5 WBSElement:24 ManufacturingOrder:12 "
    "ManufacturingOrderItem:4 GoodsMovementRefDocType:1 GoodsMovementReasonCode:4 Delivery:10 DeliveryItem:6 "
    "AccountAssignmentCategory:1 CostCenter:10 ControllingArea:4 CostObject:12 GLAccount:10 "
    "FunctionalArea:16 "
    "ProfitabilitySegment:10 ProfitCenter:10 MasterFixedAsset:12 FixedAsset:4 MaterialBaseUnit:3 EntryUnit:3 "
    "CompanyCodeCurrency:5 FiscalYear:4 FiscalYearPeriod:7 FiscalYearVariant:2 IssgOrRcvgMaterial:40 "
    "IssgOrRcvgBatch:10 IssuingOrReceivingPlant:4 IssuingOrReceivingStorageLoc:4 "
    "IssuingOrReceivingStockType:2 "
    "IssgOrRcvgSpclStockInd:1 IssuingOrReceivingValType:10 MaterialDocumentItemText:50 GoodsRecipientName:12 "
    "UnloadingPointName:25 Reservation:10 ReservationItem:4 ReservationItemRecordType:1 "
    "SpecialStockIdfgSalesOrder:10 SpecialStockIdfgSalesOrderItem:6 SpecialStockIdfgWBSElement:24 "
    "IsAutomaticallyCreated:1 MaterialDocumentLine:6 MaterialDocumentParentLine:6 HierarchyNodeLevel:2 "
    "ReversedMaterialDocumentYear:4 ReversedMaterialDocument:10 ReversedMaterialDocumentItem:4 "
    "ReferenceDocumentFiscalYear:4 InvtryMgmtRefDocumentItem:4 InvtryMgmtReferenceDocument:10 "
    "MaterialDocumentPostingType:1 InventoryUsabilityCode:1 EWMWarehouse:4 EWMStorageBin:18 DebitCreditCode:1"
)
ITEM = {name: f"String:{length}" for name, length in (w.split(":") for w in _ITEM_STRINGS.split())}
ITEM.update(
    {
        "QuantityInBaseUnit": "Decimal:13,3",
        "QuantityInEntryUnit": "Decimal:13,3",
        "GdsMvtExtAmtInCoCodeCrcy": "Decimal:14,3",
        "SlsPrcAmtInclVATInCoCodeCrcy": "Decimal:14,3",
        "IsCompletelyDelivered": "Boolean",
        "ShelfLifeExpirationDate": "DateTime",
        "ManufactureDate": "DateTime",
        "SerialNumbersAreCreatedAutomly": "Boolean",
        "ReservationIsFinallyIssued": "Boolean",
        "GoodsMovementIsCancelled": "Boolean",
    }
)


def _shape(prop: ET.Element) -> str:
    kind = prop.get("Type", "").removeprefix("Edm.")
    if kind == "String":
        return f"String:{prop.get('MaxLength')}"
    if kind == "Decimal":
        return f"Decimal:{prop.get('Precision')},{prop.get('Scale')}"
    return kind


async def test_material_document_types_match_the_real_edmx(client: httpx.AsyncClient) -> None:
    response = await client.get(f"{MATDOC}/$metadata", headers=JSON)
    assert response.status_code == 200
    root = ET.fromstring(response.content)
    served = {
        entity.get("Name"): {p.get("Name"): _shape(p) for p in entity.iter(f"{EDM}Property")}
        for entity in root.iter(f"{EDM}EntityType")
    }
    assert served["A_MaterialDocumentHeaderType"] == HEADER
    assert served["A_MaterialDocumentItemType"] == ITEM


async def test_material_document_sets_and_functions_match_the_real_edmx(client: httpx.AsyncClient) -> None:
    root = ET.fromstring((await client.get(f"{MATDOC}/$metadata", headers=JSON)).content)
    sets = sorted(s.get("Name") or "" for s in root.iter(f"{EDM}EntitySet"))
    assert sets == ["A_MaterialDocumentHeader", "A_MaterialDocumentItem", "A_SerialNumberMaterialDocument"]
    functions = {
        f.get("Name"): [p.get("Name") for p in f.iter(f"{EDM}Parameter")]
        for f in root.iter(f"{EDM}FunctionImport")
    }
    assert functions == {
        "Cancel": ["MaterialDocumentYear", "MaterialDocument", "PostingDate"],
        "CancelItem": ["MaterialDocumentYear", "MaterialDocument", "MaterialDocumentItem", "PostingDate"],
    }
