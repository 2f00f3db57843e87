"""Units of measure and their GTINs (MEAN), and custom fields named and labelled as SAP shows them."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

import httpx

from atlas_desktop.sandbox.sap import SapEmulator

from .conftest import JSON, PRODUCT

EDM = "{http://schemas.microsoft.com/ado/2008/09/edm}"
SAP = "{http://www.sap.com/Protocols/SAPData}"


async def _eans(client: httpx.AsyncClient, material: str) -> list[dict[str, Any]]:
    response = await client.get(
        f"{PRODUCT}/A_ProductUnitsOfMeasureEAN",
        params={"$filter": f"Product eq '{material}'", "$orderby": "AlternativeUnit,ConsecutiveNumber"},
        headers=JSON,
    )
    assert response.status_code == 200, response.text
    return response.json()["d"]["results"]


async def test_several_gtins_per_product_and_pack_level(sap: SapEmulator, client: httpx.AsyncClient) -> None:
    product = next(p for p in sap.products() if p["Product"] == "SKU-000007")  # index 6: UPC and a case
    rows = await _eans(client, product["Product"])
    by_unit: dict[str, list[tuple[str, bool]]] = {}
    for row in rows:
        by_unit.setdefault(row["AlternativeUnit"], []).append(
            (row["ProductStandardID"], row["IsMainGlobalTradeItemNumber"])
        )
    each, case = by_unit["EA"], by_unit["CS"]
    assert each[0] == (product["ProductStandardID"], True)
    assert len(each) == 2 and not each[1][1] and len(each[1][0]) == 12  # the UPC-A of the same NDC
    assert each[1][0][1:11] == each[0][0][3:13]
    assert case[0][1] and case[0][0][0] == "5" and case[0][0][3:11] == each[0][0][3:11]
    assert case[0][0][11:13] != each[0][0][11:13]  # the case has its own NDC package code
    units = (
        await client.get(
            f"{PRODUCT}/A_Product('{product['Product']}')/to_ProductUnitsOfMeasure",
            params={"$expand": "to_InternationalArticleNumber"},
            headers=JSON,
        )
    ).json()["d"]["results"]
    cs = next(u for u in units if u["AlternativeUnit"] == "CS")
    assert cs["GlobalTradeItemNumber"] == case[0][0]
    assert [e["ProductStandardID"] for e in cs["to_InternationalArticleNumber"]["results"]] == [case[0][0]]


async def test_custom_fields_are_yy1_prd_with_a_label(client: httpx.AsyncClient) -> None:
    root = ET.fromstring((await client.get(f"{PRODUCT}/$metadata", headers=JSON)).content)
    product = next(e for e in root.iter(f"{EDM}EntityType") if e.get("Name") == "A_ProductType")
    custom = {p.get("Name"): p.get(f"{SAP}label") for p in product.iter(f"{EDM}Property")}
    custom = {name: label for name, label in custom.items() if name and name.startswith("YY1_")}
    assert custom == {"YY1_NDCCode_PRD": "NDC Code"}
    sets = {s.get("Name") for s in root.iter(f"{EDM}EntitySet")}
    assert {"A_ProductUnitsOfMeasure", "A_ProductUnitsOfMeasureEAN"} <= sets
