"""API_PURCHASEORDER_PROCESS_SRV deep insert, and the standard tenants through the sandbox registry."""

from __future__ import annotations

import httpx

from atlas_desktop.sandbox.catalog import Catalog
from atlas_desktop.sandbox.registry import SandboxOptions, load_emulators
from atlas_desktop.sandbox.sap import SapEmulator

from .conftest import JSON, PO, TODAY, csrf


def order(material: str, **header: str) -> dict[str, object]:
    body: dict[str, object] = {
        "PurchaseOrderType": "NB",
        "CompanyCode": "1010",
        "PurchasingOrganization": "1010",
        "PurchasingGroup": "001",
        "Supplier": "17300001",
        "to_PurchaseOrderItem": [
            {
                "Material": material,
                "Plant": "1010",
                "OrderQuantity": "24",
                "PurchaseOrderQuantityUnit": "EA",
                "NetPriceAmount": "3.75",
                "DocumentCurrency": "USD",
            }
        ],
    }
    body.update(header)
    return body


async def test_purchase_order_deep_insert(sap: SapEmulator, client: httpx.AsyncClient) -> None:
    material = sap.products()[0]["Product"]
    headers = await csrf(client, PO)
    response = await client.post(f"{PO}/A_PurchaseOrder", json=order(material), headers=headers)
    assert response.status_code == 201, response.text
    d = response.json()["d"]
    assert d["PurchaseOrder"].startswith("45")
    item = d["to_PurchaseOrderItem"]["results"][0]
    assert item["PurchaseOrderItem"] == "00010" and item["OrderQuantity"] == "24.000"
    items_url = f"{PO}/A_PurchaseOrder('{d['PurchaseOrder']}')/to_PurchaseOrderItem"
    read = await client.get(items_url, headers=JSON)
    assert read.json()["d"]["results"][0]["NetPriceAmount"] == "3.750"
    missing = order(material)
    del missing["Supplier"]
    refused = await client.post(f"{PO}/A_PurchaseOrder", json=missing, headers=headers)
    assert refused.status_code == 400
    assert refused.json()["error"]["innererror"]["errordetails"][0]["target"] == "Supplier"
    unknown_plant = order(material)
    unknown_plant["to_PurchaseOrderItem"][0]["Plant"] = "9999"  # type: ignore[index]
    bad_plant = await client.post(f"{PO}/A_PurchaseOrder", json=unknown_plant, headers=headers)
    assert bad_plant.status_code == 400
    assert len(sap.purchase_orders()) == 1


def test_registry_builds_three_tenants(tmp_path: object) -> None:
    options = SandboxOptions(catalog=Catalog(size=5, today=TODAY), data_dir=tmp_path)  # type: ignore[arg-type]
    names = [e.name for e in load_emulators(options, ["sap"])]
    assert names == ["sap-cloud", "sap-onprem", "sap-onprem-x509"]
