"""Writes as strict as production: duplicate externalId wording, lines per transaction, line error paths."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from atlas_desktop.sandbox.netsuite import NetSuiteEmulator

from .test_ns_emu_records import RECORD, adjustment, plain_item

DUPLICATE = "Error while accessing a resource. This record already exists."


def plain_line(item: int, qty: int = 1, location: int = 1) -> dict[str, Any]:
    return {"item": {"id": str(item)}, "location": {"id": str(location)}, "adjustQtyBy": qty}


def po(lines: int, item: int, **header: Any) -> dict[str, Any]:
    return {
        "entity": {"id": "1"},
        "location": {"id": "1"},
        "item": {"items": [{"item": {"id": str(item)}, "quantity": 1, "rate": 2} for _ in range(lines)]},
        **header,
    }


# ------------------------------------------------------------------ duplicate externalId


@pytest.mark.parametrize("record", ["inventoryAdjustment", "purchaseOrder"])
async def test_duplicate_external_id_is_worded_as_real_rest_words_it(
    client: httpx.AsyncClient, emulator: NetSuiteEmulator, record: str
) -> None:
    item = plain_item(emulator)
    body = (
        adjustment([plain_line(item)], externalId="dup-1")
        if record == "inventoryAdjustment"
        else po(1, item, externalId="dup-1")
    )
    assert (await client.post(f"{RECORD}/{record}", json=body)).status_code == 204
    again = await client.post(f"{RECORD}/{record}", json=body)
    assert again.status_code == 400
    payload = again.json()
    assert payload["title"] == "Bad Request" and payload["status"] == 400
    assert payload["o:errorDetails"] == [{"detail": DUPLICATE, "o:errorCode": "USER_ERROR"}]
    assert "external" not in again.text.lower() and "dup-1" not in again.text


async def test_patching_in_another_records_external_id_gets_the_same_answer(
    client: httpx.AsyncClient, emulator: NetSuiteEmulator
) -> None:
    item = plain_item(emulator)
    for key in ("a-1", "a-2"):
        body = adjustment([plain_line(item)], externalId=key)
        assert (await client.post(f"{RECORD}/inventoryAdjustment", json=body)).status_code == 204
    clash = await client.patch(f"{RECORD}/inventoryAdjustment/eid:a-2", json={"externalId": "a-1"})
    assert clash.status_code == 400
    assert clash.json()["o:errorDetails"] == [{"detail": DUPLICATE, "o:errorCode": "USER_ERROR"}]
