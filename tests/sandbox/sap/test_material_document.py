"""Goods movements through API_MATERIAL_DOCUMENT_SRV: rules SAP enforces, stock kept in step, Cancel."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import httpx
import pytest

from atlas_desktop.sandbox.sap import SapConfig, SapEmulator

from .conftest import JSON, MATDOC, PRODUCT, STOCK, client_for, csrf, stocked_batch


def receipt(row: dict[str, Any], qty: str = "5", **item: Any) -> dict[str, Any]:
    body_item = {
        "Material": row["Material"],
        "Plant": row["Plant"],
        "StorageLocation": row["StorageLocation"],
        "Batch": row["Batch"],
        "GoodsMovementType": "501",
        "EntryUnit": "EA",
        "QuantityInEntryUnit": qty,
    }
    body_item.update(item)
    return {
        "GoodsMovementCode": "05",
        "PostingDate": "2026-03-01T00:00:00",
        "to_MaterialDocumentItem": [body_item],
    }


def issue(row: dict[str, Any], qty: str, **item: Any) -> dict[str, Any]:
    body = receipt(row, qty, **{"GoodsMovementType": "201", "CostCenter": "10101101", **item})
    body["GoodsMovementCode"] = "03"
    return body


async def post(client: httpx.AsyncClient, body: dict[str, Any]) -> httpx.Response:
    headers = await csrf(client)
    return await client.post(f"{MATDOC}/A_MaterialDocumentHeader", json=body, headers=headers)


def qty(sap: SapEmulator, row: dict[str, Any]) -> Decimal:
    return sap.unrestricted_stock(row["Material"], row["Plant"], row["StorageLocation"], row["Batch"])


async def test_receipt_posts_document_and_raises_stock(sap: SapEmulator, client: httpx.AsyncClient) -> None:
    row = stocked_batch(sap)
    before = qty(sap, row)
    body = receipt(row, "20")
    body["MaterialDocumentHeaderText"] = "ATLAS-K1"
    body["to_MaterialDocumentItem"] = {"results": body["to_MaterialDocumentItem"]}  # SAPUI5 form
    response = await post(client, body)
    assert response.status_code == 201, response.text
    d = response.json()["d"]
    assert d["MaterialDocument"] == "4900000000" and d["MaterialDocumentYear"] == "2026"
    assert response.headers["location"].endswith(
        "A_MaterialDocumentHeader(MaterialDocumentYear='2026',MaterialDocument='4900000000')"
    )
    assert d["to_MaterialDocumentItem"]["results"][0]["QuantityInEntryUnit"] == "20.000"
    assert qty(sap, row) == before + 20
    assert sap.count_material_documents("ATLAS-K1") == 1
    found = await client.get(
        f"{MATDOC}/A_MaterialDocumentHeader",
        params={"$filter": "MaterialDocumentHeaderText eq 'ATLAS-K1'", "$expand": "to_MaterialDocumentItem"},
        headers=JSON,
    )
    results = found.json()["d"]["results"]
    assert [r["MaterialDocument"] for r in results] == ["4900000000"]
    assert results[0]["to_MaterialDocumentItem"]["results"][0]["GoodsMovementType"] == "501"


async def test_overdraw_refused_in_m7_shape_and_nothing_posted(
    sap: SapEmulator, client: httpx.AsyncClient
) -> None:
    row = stocked_batch(sap)
    before = qty(sap, row)
    response = await post(client, issue(row, str(before + 1)))
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"].startswith("M7/")
    assert error["message"]["lang"] == "en" and "Deficit" in error["message"]["value"]
    assert error["innererror"]["errordetails"][0]["code"] == error["code"]
    assert {"transactionid", "timestamp", "Error_Resolution", "application"} <= set(error["innererror"])
    assert qty(sap, row) == before
    assert sap.material_documents() == []


async def test_issue_within_stock_and_two_item_document_is_atomic(
    sap: SapEmulator, client: httpx.AsyncClient
) -> None:
    row = stocked_batch(sap)
    before = qty(sap, row)
    body = issue(row, "1")
    second = dict(body["to_MaterialDocumentItem"][0], QuantityInEntryUnit=str(before + 100))
    body["to_MaterialDocumentItem"].append(second)
    assert (await post(client, body)).status_code == 400
    assert qty(sap, row) == before  # the first item was rolled back with the second
    ok = await post(client, issue(row, "1"))
    assert ok.status_code == 201
    assert qty(sap, row) == before - 1


async def test_movement_code_mismatch_refused(sap: SapEmulator, client: httpx.AsyncClient) -> None:
    body = receipt(stocked_batch(sap))
    body["GoodsMovementCode"] = "03"
    response = await post(client, body)
    assert response.status_code == 400
    assert "not allowed with goods movement code 03" in response.json()["error"]["message"]["value"]


async def test_movement_table_is_configurable(make_sap: Any) -> None:
    from .conftest import client_for

    sap = make_sap(movement_codes={"501": frozenset({"01", "05"})})
    async with client_for(sap) as client:
        body = receipt(stocked_batch(sap))
        body["GoodsMovementCode"] = "01"
        assert (await post(client, body)).status_code == 201


async def test_required_fields_per_movement_type(sap: SapEmulator, client: httpx.AsyncClient) -> None:
    row = stocked_batch(sap)
    no_cost_center = issue(row, "1", CostCenter="")
    response = await post(client, no_cost_center)
    assert response.status_code == 400
    assert "CostCenter" in response.json()["error"]["message"]["value"]
    no_batch = receipt(row, Batch="")
    assert "enter a batch" in (await post(client, no_batch)).json()["error"]["message"]["value"]


async def test_new_batch_needs_expiry_and_creates_batch_master(
    sap: SapEmulator, client: httpx.AsyncClient
) -> None:
    row = stocked_batch(sap)
    without = receipt(row, Batch="NEWLOT1")
    response = await post(client, without)
    assert response.status_code == 400 and "shelf life" in response.json()["error"]["message"]["value"]
    with_dates = receipt(
        row,
        Batch="NEWLOT1",
        ShelfLifeExpirationDate="/Date(1861920000000)/",
        ManufactureDate="2026-01-15T00:00:00",
    )
    assert (await post(client, with_dates)).status_code == 201
    batch = sap.tenant.state.table("Batch").get((row["Material"], "", "NEWLOT1"))
    assert batch is not None and batch["ShelfLifeExpirationDate"].isoformat().startswith("2029-01-01")


async def test_decimal_numbers_and_unknown_properties_refused(
    sap: SapEmulator, client: httpx.AsyncClient
) -> None:
    row = stocked_batch(sap)
    as_number = receipt(row)
    as_number["to_MaterialDocumentItem"][0]["QuantityInEntryUnit"] = 5
    assert (await post(client, as_number)).status_code == 400
    unknown = receipt(row, Quantity="5")
    response = await post(client, unknown)
    assert response.status_code == 400 and "Quantity" in response.json()["error"]["message"]["value"]
    too_long = receipt(row)
    too_long["MaterialDocumentHeaderText"] = "X" * 26
    assert (await post(client, too_long)).status_code == 400


async def test_quantities_beyond_the_field_size_are_refused(
    sap: SapEmulator, client: httpx.AsyncClient
) -> None:
    row = stocked_batch(sap)
    before = qty(sap, row)
    for text in ("12345678901", "1e400", "1E+10"):  # QuantityInEntryUnit is DEC 13,3: 10 integer digits
        response = await post(client, receipt(row, text))
        assert response.status_code == 400 and "QuantityInEntryUnit" in response.text, text
    assert qty(sap, row) == before
    assert (await post(client, receipt(row, "9999999999.999"))).status_code == 201


async def test_cancel_posts_reversal_document(sap: SapEmulator, client: httpx.AsyncClient) -> None:
    row = stocked_batch(sap)
    before = qty(sap, row)
    created = (await post(client, issue(row, "2"))).json()["d"]
    headers = await csrf(client)
    params = {
        "MaterialDocumentYear": f"'{created['MaterialDocumentYear']}'",
        "MaterialDocument": f"'{created['MaterialDocument']}'",
    }
    response = await client.post(f"{MATDOC}/Cancel", params=params, headers=headers)
    assert response.status_code == 200, response.text
    reversal = response.json()["d"]
    assert reversal["MaterialDocument"] != created["MaterialDocument"]
    assert qty(sap, row) == before
    items = (
        await client.get(
            f"{MATDOC}/A_MaterialDocumentHeader(MaterialDocumentYear='{reversal['MaterialDocumentYear']}',"
            f"MaterialDocument='{reversal['MaterialDocument']}')/to_MaterialDocumentItem",
            headers=JSON,
        )
    ).json()["d"]["results"]
    assert items[0]["GoodsMovementType"] == "202"
    assert items[0]["ReversedMaterialDocument"] == created["MaterialDocument"]
    again = await client.post(f"{MATDOC}/Cancel", params=params, headers=headers)
    assert again.status_code == 400 and again.json()["error"]["code"] == "M7/085"
    with_body = await client.post(f"{MATDOC}/Cancel", params=params, headers=headers, content=b'{"x":1}')
    assert with_body.status_code == 400


async def test_stock_is_read_only(sap: SapEmulator, client: httpx.AsyncClient) -> None:
    headers = await csrf(client, STOCK)
    response = await client.post(f"{STOCK}/A_MatlStkInAcctMod", json={"Material": "X"}, headers=headers)
    assert response.status_code == 405
    assert "not creatable" in response.json()["error"]["message"]["value"]


def test_user_helpers_post_and_count(sap: SapEmulator) -> None:
    row = stocked_batch(sap)
    before = qty(sap, row)
    sap.post_goods_receipt(
        row["Material"],
        row["Plant"],
        row["StorageLocation"],
        Decimal(3),
        batch=row["Batch"],
        header_text="MIGO-1",
    )
    sap.post_goods_issue(
        row["Material"], row["Plant"], row["StorageLocation"], Decimal(1), batch=row["Batch"]
    )
    assert qty(sap, row) == before + 2
    assert sap.count_material_documents("MIGO-1") == 1


async def test_fi_line_limit_refuses_a_valuated_document_over_499_items(
    sap: SapEmulator, client: httpx.AsyncClient
) -> None:
    """sap.md §13: 999 FI lines, two per item -> 499 items fit, 500 are refused with F5/727."""
    row = stocked_batch(sap)
    before = qty(sap, row)
    body = receipt(row, "1")
    body["to_MaterialDocumentItem"] = body["to_MaterialDocumentItem"] * 500
    response = await post(client, body)
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["code"] == "F5/727"
    assert "Maximum number of items in FI reached" in error["message"]["value"]
    assert qty(sap, row) == before
    body["to_MaterialDocumentItem"] = body["to_MaterialDocumentItem"][:499]
    response = await post(client, body)
    assert response.status_code == 201, response.text
    items = response.json()["d"]["to_MaterialDocumentItem"]["results"]
    assert items[-1]["MaterialDocumentItem"] == "0499"
    assert qty(sap, row) == before + 499


async def test_item_numbers_have_four_digits(make_sap: Any) -> None:
    """Even with FI summarization (a higher FI limit), a document holds at most 9,999 items."""
    sap = make_sap(fi_line_limit=1_000_000)
    row = stocked_batch(sap)
    body = receipt(row, "1")
    body["to_MaterialDocumentItem"] = body["to_MaterialDocumentItem"] * 10_000
    async with client_for(sap) as client:
        response = await post(client, body)
    assert response.status_code == 400, response.text
    assert response.json()["error"]["code"] == "M7/146"
    assert "4 digits" in response.json()["error"]["message"]["value"]


@pytest.mark.parametrize(("setting", "found"), [("copy", 2), ("keep", 1)])
async def test_reversal_carries_the_header_text_as_configured(
    make_sap: Any, setting: str, found: int
) -> None:
    """sap.md §13 [U]: whether Cancel copies the header text is a tenant setting; "copy" by default."""
    sap = make_sap(reversal_header_text=setting)
    row = stocked_batch(sap)
    async with client_for(sap) as client:
        body = issue(row, "1")
        body["MaterialDocumentHeaderText"] = "ATLAS-REV"
        created = (await post(client, body)).json()["d"]
        params = {
            "MaterialDocumentYear": f"'{created['MaterialDocumentYear']}'",
            "MaterialDocument": f"'{created['MaterialDocument']}'",
        }
        cancelled = await client.post(f"{MATDOC}/Cancel", params=params, headers=await csrf(client))
        assert cancelled.status_code == 200, cancelled.text
        rows = (
            await client.get(
                f"{MATDOC}/A_MaterialDocumentHeader",
                params={
                    "$filter": "MaterialDocumentHeaderText eq 'ATLAS-REV'",
                    "$orderby": "MaterialDocument",
                },
                headers=JSON,
            )
        ).json()["d"]["results"]
    numbers = [r["MaterialDocument"] for r in rows]
    assert numbers == [created["MaterialDocument"], cancelled.json()["d"]["MaterialDocument"]][:found]
    assert SapConfig().reversal_header_text == "copy"


async def test_entry_unit_may_be_any_maintained_alternative_unit(
    sap: SapEmulator, client: httpx.AsyncClient
) -> None:
    """sap.md §13: EntryUnit may be any unit maintained for the material, converted to the base unit."""
    row = stocked_batch(sap)
    units = (
        await client.get(
            f"{PRODUCT}/A_ProductUnitsOfMeasure",
            params={"$filter": f"Product eq '{row['Material']}'"},
            headers=JSON,
        )
    ).json()["d"]["results"]
    assert {u["AlternativeUnit"]: u["QuantityNumerator"] for u in units} == {
        "EA": "1",
        "PC": "1",
        "BT": "1",
        "CS": "12",
    }
    before = qty(sap, row)
    response = await post(client, receipt(row, "2", EntryUnit="CS"))
    assert response.status_code == 201, response.text
    (item,) = response.json()["d"]["to_MaterialDocumentItem"]["results"]
    assert (item["EntryUnit"], item["QuantityInEntryUnit"]) == ("CS", "2.000")
    assert (item["MaterialBaseUnit"], item["QuantityInBaseUnit"]) == ("EA", "24.000")
    assert qty(sap, row) == before + 24
    assert (await post(client, receipt(row, "3", EntryUnit="PC"))).status_code == 201
    assert qty(sap, row) == before + 27
    refused = await post(client, receipt(row, "1", EntryUnit="KAR"))
    assert refused.status_code == 400 and refused.json()["error"]["code"] == "M7/034"
    assert "maintained: BT, CS, EA, PC" in refused.json()["error"]["message"]["value"]


async def test_cancel_item_reverses_one_item(sap: SapEmulator, client: httpx.AsyncClient) -> None:
    row = stocked_batch(sap)
    before = qty(sap, row)
    body = issue(row, "1")
    body["to_MaterialDocumentItem"] = body["to_MaterialDocumentItem"] * 2
    created = (await post(client, body)).json()["d"]
    params = {
        "MaterialDocumentYear": f"'{created['MaterialDocumentYear']}'",
        "MaterialDocument": f"'{created['MaterialDocument']}'",
        "MaterialDocumentItem": "'2'",
    }
    response = await client.post(f"{MATDOC}/CancelItem", params=params, headers=await csrf(client))
    assert response.status_code == 200, response.text
    item = response.json()["d"]
    assert (item["GoodsMovementType"], item["ReversedMaterialDocumentItem"]) == ("202", "0002")
    assert qty(sap, row) == before - 1
    serials = await client.get(f"{MATDOC}/A_SerialNumberMaterialDocument", headers=JSON)
    assert serials.status_code == 200 and serials.json()["d"]["results"] == []
