"""API_PRODUCT_SRV: products, descriptions, plants, units of measure and their GTINs."""

from __future__ import annotations

from typing import Any

from atlas_desktop.sandbox.sap.schema import (
    Access,
    EntitySet,
    EntityType,
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
NDC_CUSTOM_FIELD = "YY1_NDCCode_PRD"

PRODUCT = EntityType(
    "A_ProductType",
    key=("Product",),
    label="Product",
    props=(
        key("Product", 40, label="Product", display_format="UpperCase", updatable=False),
        s("ProductType", 4, label="Product Type", display_format="UpperCase"),
        s("CrossPlantStatus", 2, label="Basic Data Status", display_format="UpperCase"),
        date("CreationDate", label="Created On", **RO),
        s("CreatedByUser", 12, label="Created By", **RO),
        date("LastChangeDate", label="Last Change", **RO),
        s("LastChangedByUser", 12, label="Changed By", **RO),
        Prop("LastChangeDateTime", "Edm.DateTimeOffset", precision=7, label="Last Changed", **RO),
        flag("IsMarkedForDeletion", label="Marked for Deletion"),
        s("ProductOldID", 40, label="Old Product Number", display_format="UpperCase"),
        dec("GrossWeight", 13, 3, label="Gross Weight", unit="WeightUnit"),
        s("WeightUnit", 3, label="Weight Unit", semantics="unit-of-measure"),
        dec("NetWeight", 13, 3, label="Net Weight", unit="WeightUnit"),
        s("ProductGroup", 9, label="Product Group", display_format="UpperCase"),
        s("BaseUnit", 3, label="Base Unit", semantics="unit-of-measure"),
        s("Division", 2, label="Division", display_format="UpperCase"),
        s("IndustryStandardName", 18, label="Industry Standard Desc."),
        s("ProductStandardID", 18, label="GTIN"),
        s("InternationalArticleNumberCat", 2, label="EAN category", display_format="UpperCase"),
        flag("IsBatchManagementRequired", label="Batch Management"),
        s("ProductManufacturerNumber", 40, label="Manufacturer Part No.", display_format="UpperCase"),
        s("ManufacturerNumber", 10, label="Manufacturer", display_format="UpperCase"),
        s("Brand", 4, label="Brand", display_format="UpperCase"),
        s("ProductHierarchy", 18, label="Product Hierarchy", display_format="UpperCase"),
        # A key-user custom field "NDCCode" enabled for the Product API: YY1_<name>_<context suffix>, the
        # suffix _PRD for products being [U]; clients find it in $metadata by its sap:label.
        s(NDC_CUSTOM_FIELD, 20, label="NDC Code"),
    ),
    navs=(
        Nav("to_Description", "A_ProductDescription", True, (("Product", "Product"),)),
        Nav("to_Plant", "A_ProductPlant", True, (("Product", "Product"),)),
        Nav("to_ProductUnitsOfMeasure", "A_ProductUnitsOfMeasure", True, (("Product", "Product"),)),
    ),
)

UOM_JOIN = (("Product", "Product"), ("AlternativeUnit", "AlternativeUnit"))
# Names, types and lengths of the real EDMX (gregorwolf/customer-material-management API_PRODUCT_SRV.edmx):
# 1 AlternativeUnit = QuantityNumerator / QuantityDenominator BaseUnit.
UNITS = EntityType(
    "A_ProductUnitsOfMeasureType",
    key=("Product", "AlternativeUnit"),
    label="Units of Measure",
    props=(
        key("Product", 40, label="Product", display_format="UpperCase", updatable=False),
        key("AlternativeUnit", 3, label="AlternativeUnit", semantics="unit-of-measure", updatable=False),
        dec("QuantityNumerator", 5, 0, label="Units / Quantity - Base Unit of Measure", unit="BaseUnit"),
        dec(
            "QuantityDenominator",
            5,
            0,
            label="Units / Quantity - Alt Unit of Measure",
            unit="AlternativeUnit",
        ),
        dec("GrossWeight", 13, 3, label="Gross Weight", unit="WeightUnit"),
        s("WeightUnit", 3, label="Unit of Weight", semantics="unit-of-measure"),
        s("GlobalTradeItemNumber", 18, label="EAN/UPC", display_format="UpperCase"),
        s("GlobalTradeItemNumberCategory", 2, label="GTIN Category", display_format="UpperCase"),
        s("LowerLevelPackagingUnit", 3, label="Lower-level unit", semantics="unit-of-measure"),
        s("BaseUnit", 3, label="Base Unit of Measure", semantics="unit-of-measure"),
    ),
    navs=(Nav("to_InternationalArticleNumber", "A_ProductUnitsOfMeasureEAN", True, UOM_JOIN),),
)

# MEAN: several GTINs per unit of measure.
UNIT_EANS = EntityType(
    "A_ProductUnitsOfMeasureEANType",
    key=("Product", "AlternativeUnit", "ConsecutiveNumber"),
    label="GTIN Data",
    props=(
        key("Product", 40, label="Material", display_format="UpperCase", updatable=False),
        key("AlternativeUnit", 3, label="Display Unit/Measure", semantics="unit-of-measure", updatable=False),
        key("ConsecutiveNumber", 5, label="Consecutive number", display_format="UpperCase", updatable=False),
        s("ProductStandardID", 18, label="EAN/UPC", display_format="UpperCase"),
        s("InternationalArticleNumberCat", 2, label="GTIN Category", display_format="UpperCase"),
        flag("IsMainGlobalTradeItemNumber", label="Main EAN", display_format="UpperCase"),
    ),
)

DESCRIPTION = EntityType(
    "A_ProductDescriptionType",
    key=("Product", "Language"),
    label="Product Description",
    props=(
        key("Product", 40, label="Product", display_format="UpperCase", updatable=False),
        key("Language", 2, label="Language Key", updatable=False),
        s("ProductDescription", 40, label="Product Description"),
    ),
)

PLANT = EntityType(
    "A_ProductPlantType",
    key=("Product", "Plant"),
    label="Plant Data",
    props=(
        key("Product", 40, label="Product", display_format="UpperCase", updatable=False),
        key("Plant", 4, label="Plant", display_format="UpperCase", updatable=False),
        s("PurchasingGroup", 3, label="Purchasing Group", display_format="UpperCase"),
        s("CountryOfOrigin", 3, label="Country of Origin", display_format="UpperCase"),
        s("ProfileCode", 2, label="Plant-Sp.Matl Status", display_format="UpperCase"),
        s("AvailabilityCheckType", 2, label="Availability Check", display_format="UpperCase"),
        flag("IsBatchManagementRequired", label="Batch Management"),
        s("MRPType", 2, label="MRP Type", display_format="UpperCase"),
        s("ProcurementType", 1, label="Procurement Type", display_format="UpperCase"),
        flag("IsInternalBatchManaged", label="Batch Management"),
        s("BaseUnit", 3, label="Base Unit", semantics="unit-of-measure", **RO),
        flag("IsMarkedForDeletion", label="DF at plant level"),
    ),
)

SCHEMA = ServiceSchema(
    name="API_PRODUCT_SRV",
    namespace="API_PRODUCT_SRV",
    scenario="SAP_COM_0009",
    sets=(
        EntitySet("A_Product", PRODUCT, creatable=True, updatable=True, deletable=False),
        EntitySet("A_ProductDescription", DESCRIPTION, creatable=True, updatable=True, deletable=True),
        EntitySet("A_ProductPlant", PLANT, creatable=True, updatable=True, deletable=False),
        EntitySet("A_ProductUnitsOfMeasure", UNITS, creatable=True, updatable=True, deletable=True),
        EntitySet("A_ProductUnitsOfMeasureEAN", UNIT_EANS, creatable=True, updatable=True, deletable=True),
    ),
)


class ProductService(Service):
    """Product master: external numbering on create [R]; sub-entity changes bump the product's stamp [U]."""

    schema = SCHEMA

    def stamp(self, ctx: Context, eset: EntitySet, row: Row, *, created: bool) -> None:
        now = ctx.state.now()
        if eset.name == "A_Product":
            row["LastChangeDateTime"] = now
            row["LastChangeDate"] = now.replace(hour=0, minute=0, second=0, microsecond=0)
            row["LastChangedByUser"] = ctx.user[:12]
            if created:
                row["CreationDate"] = row["LastChangeDate"]
                row["CreatedByUser"] = ctx.user[:12]

    def create(
        self, ctx: Context, eset: EntitySet, payload: dict[str, Any], navs: dict[str, list[Row]]
    ) -> Row:
        row = super().create(ctx, eset, payload, navs)
        self._touch_product(ctx, eset, row)
        return row

    def update(self, ctx: Context, eset: EntitySet, row: Row, changes: dict[str, Any]) -> Row:
        updated = super().update(ctx, eset, row, changes)
        self._touch_product(ctx, eset, updated)
        return updated

    def delete(self, ctx: Context, eset: EntitySet, row: Row) -> None:
        super().delete(ctx, eset, row)
        self._touch_product(ctx, eset, row)

    def _touch_product(self, ctx: Context, eset: EntitySet, row: Row) -> None:
        if eset.name == "A_Product":
            return
        product = ctx.state.table("A_Product").get((row["Product"],))
        if product is not None:
            changes: Row = {}
            self.stamp(ctx, SCHEMA.sets[0], changes, created=False)
            ctx.state.update("A_Product", (row["Product"],), changes)
