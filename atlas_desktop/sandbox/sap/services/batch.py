"""API_BATCH_SRV: batch master with expiry; every change needs If-Match."""

from __future__ import annotations

from typing import Any

from atlas_desktop.sandbox.sap import errors
from atlas_desktop.sandbox.sap.errors import GatewayError
from atlas_desktop.sandbox.sap.schema import (
    Access,
    EntitySet,
    EntityType,
    Prop,
    ServiceSchema,
    date,
    flag,
    key,
    s,
)
from atlas_desktop.sandbox.sap.services.base import Context, Service
from atlas_desktop.sandbox.sap.state import Row

RO: Access = {"creatable": False, "updatable": False}

BATCH = EntityType(
    "BatchType",
    key=("Material", "BatchIdentifyingPlant", "Batch"),
    label="Batch",
    props=(
        key("Material", 40, label="Material", display_format="UpperCase", updatable=False),
        key("BatchIdentifyingPlant", 4, label="Plant", display_format="UpperCase", updatable=False),
        key("Batch", 10, label="Batch", display_format="UpperCase", updatable=False),
        s("Supplier", 10, label="Supplier", display_format="UpperCase"),
        s("BatchBySupplier", 15, label="Supplier Batch", display_format="UpperCase"),
        s("CountryOfOrigin", 3, label="Country of Origin", display_format="UpperCase"),
        s("RegionOfOrigin", 3, label="Region of Origin", display_format="UpperCase"),
        date("MatlBatchAvailabilityDate", label="Available From"),
        date("ShelfLifeExpirationDate", label="SLED/BBD"),
        date("ManufactureDate", label="Date of Manufacture"),
        date("FreeDefinedDate1", label="Free Date 1"),
        Prop("CreationDateTime", "Edm.DateTimeOffset", precision=7, label="Created On", **RO),
        Prop(
            "LastChangeDateTime",
            "Edm.DateTimeOffset",
            precision=7,
            label="Last Changed",
            concurrency=True,
            **RO,
        ),
        flag("BatchIsMarkedForDeletion", label="Deletion Flag"),
        flag("MatlBatchIsInRstrcdUseStock", label="Batch in Restricted-Use Stock"),
        s("BatchExtWhseMgmtInternalId", 22, label="Batch ID in EWM", **RO),
    ),
)

# The captured response shows the CDS-generated namespace cds_api_batch_srv [R].
SCHEMA = ServiceSchema(
    name="API_BATCH_SRV",
    namespace="cds_api_batch_srv",
    scenario="SAP_COM_0337",
    sets=(EntitySet("Batch", BATCH, creatable=True, updatable=True, deletable=True),),
)


class BatchService(Service):
    """Batches are unique per material (BatchIdentifyingPlant = ''); stocked batches cannot be deleted."""

    schema = SCHEMA

    def create(
        self, ctx: Context, eset: EntitySet, payload: dict[str, Any], navs: dict[str, list[Row]]
    ) -> Row:
        material = payload.get("Material") or ""
        if ctx.state.table("A_Product").get((material,)) is None:
            raise GatewayError(400, "M3/305", f"Material '{material}' does not exist", target="Material")
        payload.setdefault("BatchIdentifyingPlant", "")
        if payload["BatchIdentifyingPlant"]:
            raise GatewayError(
                400,
                "12/101",
                "Batches are unique at material level in this system: BatchIdentifyingPlant must be ''",
            )
        return super().create(ctx, eset, payload, navs)

    def delete(self, ctx: Context, eset: EntitySet, row: Row) -> None:
        for stock in ctx.state.table("A_MatlStkInAcctMod").rows.values():
            if stock["Material"] == row["Material"] and stock["Batch"] == row["Batch"]:
                if stock["MatlWrhsStkQtyInMatlBaseUnit"]:
                    raise GatewayError(400, errors.NOT_ALLOWED, f"Batch {row['Batch']} still has stock")
        super().delete(ctx, eset, row)
