"""Where an SAP system keeps the NDC: product fields, the EAN table, YY1_* custom fields."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence

import httpx

from atlas_desktop.connectors.http import HttpClient
from atlas_desktop.connectors.sap.config import EAN_SOURCE, PRODUCT_SRV, SapConfig
from atlas_desktop.connectors.sap.errors import raise_for_sap
from atlas_desktop.connectors.sap.odata import any_of, read_page
from atlas_desktop.domain.connector import NdcPlaceCandidate
from atlas_desktop.domain.errors import NotFound, PermissionDenied, ValidationFailed
from atlas_desktop.domain.ndc import NdcError, ndc_candidates

SAMPLE_ROWS = 50
# GTIN/UPC (MARA-EAN11), manufacturer part number and old material number sometimes hold the NDC [V]/[R].
STANDARD_FIELDS: Mapping[str, str] = {
    "ProductStandardID": "GTIN",
    "ProductManufacturerNumber": "Manufacturer Part Number",
    "ProductOldID": "Old Product Number",
}
EAN_LABEL = "GTINs per unit of measure (EAN table)"
CUSTOM_PREFIX = "YY1_"
_SAP_LABEL = "{http://www.sap.com/Protocols/SAPData}label"


def custom_fields(metadata: bytes) -> dict[str, str]:
    """The YY1_* properties of A_ProductType -> their sap:label. Their suffix depends on the business
    context (_PRD, _SDH, ... [U]), so they are found in $metadata, never assumed."""
    if b"<!DOCTYPE" in metadata or b"<!ENTITY" in metadata:
        return {}  # SAP never sends a DTD; refusing one keeps entity expansion out of the parser
    try:
        root = ET.fromstring(metadata)
    except (ET.ParseError, ValueError):  # not XML (a damaged or non-SAP answer): no custom fields
        return {}
    found: dict[str, str] = {}
    for entity in root.iter():
        if not entity.tag.endswith("}EntityType") or entity.get("Name") != "A_ProductType":
            continue
        for prop in entity:
            name = prop.get("Name") or ""
            if prop.tag.endswith("}Property") and name.startswith(CUSTOM_PREFIX):
                found[name] = prop.get(_SAP_LABEL) or name
    return found


def _is_ndc(value: str) -> bool:
    try:
        return bool(ndc_candidates(value))
    except NdcError:
        return False


def _candidate(field: str, label: str, values: Sequence[str]) -> NdcPlaceCandidate | None:
    ndc_like = [v for v in values if _is_ndc(v)]
    if not ndc_like:
        return None
    return NdcPlaceCandidate(field, len(values), len(ndc_like), ndc_like[0], label)


async def _get(http: HttpClient, url: str, params: dict[str, str], context: str) -> httpx.Response:
    response = await http.request("GET", url, params=params)
    await response.aread()
    raise_for_sap(response, context=context)
    return response


async def ndc_source_candidates(http: HttpClient, config: SapConfig) -> list[NdcPlaceCandidate]:
    """Places whose values read as NDCs in a sample of products, best first (as NetSuite's discovery)."""
    root = config.service_url(PRODUCT_SRV)
    try:
        metadata = await _get(http, f"{root}/$metadata", {}, "reading the product service's metadata")
        custom = custom_fields(metadata.content)
    except (NotFound, PermissionDenied, ValidationFailed):
        custom = {}
    labels = {**STANDARD_FIELDS, **custom}
    params = {
        "$format": "json",
        "$top": str(SAMPLE_ROWS),
        "$select": ",".join(["Product", *labels]),
        "$orderby": "Product",
    }
    page = read_page(await _get(http, f"{root}/A_Product", params, "sampling products for their NDC"))
    rows = page.rows
    found = [
        _candidate(field, label, [str(r[field]).strip() for r in rows if str(r.get(field) or "").strip()])
        for field, label in labels.items()
    ]
    found.append(await _ean_candidate(http, root, [str(r.get("Product")) for r in rows if r.get("Product")]))
    ranked = [c for c in found if c is not None]
    return sorted(ranked, key=lambda c: (-c.share, -c.ndc_like, c.field))


async def _ean_candidate(http: HttpClient, root: str, materials: list[str]) -> NdcPlaceCandidate | None:
    """Per sampled product, its first GTIN in A_ProductUnitsOfMeasureEAN (any pack level)."""
    if not materials:
        return None
    params = {
        "$format": "json",
        "$filter": any_of("Product", materials),
        "$select": "Product,ProductStandardID",
        "$top": str(SAMPLE_ROWS * 10),
    }
    try:
        response = await _get(http, f"{root}/{EAN_SOURCE}", params, "sampling GTINs per unit of measure")
    except (NotFound, PermissionDenied):
        return None  # an older release or a user without access: the other places remain
    first: dict[str, str] = {}
    for row in read_page(response).rows:
        gtin = str(row.get("ProductStandardID") or "").strip()
        if gtin:
            first.setdefault(str(row.get("Product")), gtin)
    return _candidate(EAN_SOURCE, EAN_LABEL, list(first.values()))
