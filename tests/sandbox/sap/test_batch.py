"""$batch with atomic change sets, and If-Match on batch master changes (428 / 412)."""

from __future__ import annotations

import json
from email.parser import BytesParser
from email.policy import HTTP
from typing import Any
from urllib.parse import quote

import httpx

from atlas_desktop.sandbox.sap import SapEmulator

from .conftest import BATCH, JSON, MATDOC, STOCK, client_for, csrf, stocked_batch


def http_part(
    method: str, url: str, body: dict[str, Any] | None = None, headers: dict[str, str] | None = None
) -> str:
    lines = [
        "Content-Type: application/http",
        "Content-Transfer-Encoding: binary",
        "",
        f"{method} {url} HTTP/1.1",
    ]
    all_headers = {"Accept": "application/json", **(headers or {})}
    if body is not None:
        all_headers["Content-Type"] = "application/json"
    lines += [f"{k}: {v}" for k, v in all_headers.items()]
    lines += ["", json.dumps(body) if body is not None else ""]
    return "\r\n".join(lines)


def multipart(boundary: str, parts: list[str]) -> str:
    return "".join(f"--{boundary}\r\n{p}\r\n" for p in parts) + f"--{boundary}--\r\n"


def changeset(boundary: str, parts: list[str]) -> str:
    return f"Content-Type: multipart/mixed; boundary={boundary}\r\n\r\n" + multipart(boundary, parts)


def parse_response(response: httpx.Response) -> list[Any]:
    """[(status, body)] for single parts, [[(status, body), ...]] for change set parts."""
    raw = f"Content-Type: {response.headers['content-type']}\r\n\r\n".encode() + response.content
    message = BytesParser(policy=HTTP).parsebytes(raw)
    out: list[Any] = []
    for part in message.iter_parts():
        if part.get_content_type() == "multipart/mixed":
            out.append([_status(p) for p in part.iter_parts()])
        else:
            out.append(_status(part))
    return out


def _status(part: Any) -> tuple[int, str]:
    text = part.get_payload(decode=True).decode()
    status = int(text.split(" ", 2)[1])
    return status, text.split("\r\n\r\n", 1)[1] if "\r\n\r\n" in text else ""


def doc(row: dict[str, Any], qty: str, text: str) -> dict[str, Any]:
    return {
        "GoodsMovementCode": "03",
        "MaterialDocumentHeaderText": text,
        "to_MaterialDocumentItem": [
            {
                "Material": row["Material"],
                "Plant": row["Plant"],
                "StorageLocation": row["StorageLocation"],
                "Batch": row["Batch"],
                "GoodsMovementType": "201",
                "CostCenter": "10101101",
                "EntryUnit": "EA",
                "QuantityInEntryUnit": qty,
            }
        ],
    }


async def test_change_set_with_several_operations_refused_by_default(
    sap: SapEmulator, client: httpx.AsyncClient
) -> None:
    """sap.md §13: Gateway's default change-set implementation allows only one operation."""
    row = stocked_batch(sap)
    headers = await csrf(client)
    body = multipart(
        "batch_1",
        [
            changeset(
                "changeset_a",
                [
                    http_part("POST", "A_MaterialDocumentHeader", doc(row, "1", "CS-A")),
                    http_part("POST", "A_MaterialDocumentHeader", doc(row, "1", "CS-A")),
                ],
            ),
            changeset("changeset_b", [http_part("POST", "A_MaterialDocumentHeader", doc(row, "1", "CS-B"))]),
        ],
    )
    response = await client.post(
        f"{MATDOC}/$batch",
        content=body,
        headers={**headers, "Content-Type": "multipart/mixed; boundary=batch_1"},
    )
    assert response.status_code == 202
    parts = parse_response(response)
    assert isinstance(parts[0], tuple) and parts[0][0] == 400
    message = json.loads(parts[0][1])["error"]["message"]["value"]
    assert message == "Default changeset implementation allows only one operation"
    assert [status for status, _ in parts[1]] == [201]
    assert sap.count_material_documents("CS-A") == 0
    assert sap.count_material_documents("CS-B") == 1


async def test_change_sets_are_atomic_and_isolated(make_sap: Any) -> None:
    sap = make_sap(multi_operation_changesets=True)  # a service that redefines changeset_begin
    async with client_for(sap) as client:
        await _atomic_and_isolated(sap, client)


async def _atomic_and_isolated(sap: SapEmulator, client: httpx.AsyncClient) -> None:
    row = stocked_batch(sap)
    before = sap.unrestricted_stock(row["Material"], row["Plant"], row["StorageLocation"], row["Batch"])
    headers = await csrf(client)
    body = multipart(
        "batch_1",
        [
            http_part("GET", "A_MaterialDocumentHeader?$top=1"),
            changeset("changeset_a", [http_part("POST", "A_MaterialDocumentHeader", doc(row, "1", "CS-A"))]),
            changeset(
                "changeset_b",
                [  # the second operation overdraws: the whole change set rolls back
                    http_part("POST", "A_MaterialDocumentHeader", doc(row, "1", "CS-B")),
                    http_part("POST", "A_MaterialDocumentHeader", doc(row, str(before * 10), "CS-B")),
                ],
            ),
            changeset("changeset_c", [http_part("POST", "A_MaterialDocumentHeader", doc(row, "2", "CS-C"))]),
        ],
    )
    response = await client.post(
        f"{MATDOC}/$batch",
        content=body,
        headers={**headers, "Content-Type": "multipart/mixed; boundary=batch_1"},
    )
    assert response.status_code == 202
    parts = parse_response(response)
    assert parts[0][0] == 200
    assert [status for status, _ in parts[1]] == [201]
    assert isinstance(parts[2], tuple) and parts[2][0] == 400  # one error for the whole change set
    assert json.loads(parts[2][1])["error"]["code"].startswith("M7/")
    assert [status for status, _ in parts[3]] == [201]
    assert sap.count_material_documents("CS-A") == 1
    assert sap.count_material_documents("CS-B") == 0
    assert sap.count_material_documents("CS-C") == 1
    after = sap.unrestricted_stock(row["Material"], row["Plant"], row["StorageLocation"], row["Batch"])
    assert after == before - 3


async def test_batch_needs_csrf_and_well_formed_body(client: httpx.AsyncClient) -> None:
    body = multipart("b", [http_part("GET", "A_MaterialDocumentHeader?$top=1")])
    content_type = {"Content-Type": "multipart/mixed; boundary=b"}
    refused = await client.post(f"{MATDOC}/$batch", content=body, headers=content_type)
    assert refused.status_code == 403 and refused.headers["x-csrf-token"] == "Required"
    headers = {**(await csrf(client)), **content_type}
    unterminated = body.replace("--b--\r\n", "")
    bad = await client.post(f"{MATDOC}/$batch", content=unterminated, headers=headers)
    assert bad.status_code == 400 and "boundary" in bad.json()["error"]["message"]["value"]
    lone_post = multipart("b", [http_part("POST", "A_MaterialDocumentHeader", {})])
    parts = parse_response(await client.post(f"{MATDOC}/$batch", content=lone_post, headers=headers))
    assert parts[0][0] == 400  # writes must sit in a change set


async def _batch_entity(client: httpx.AsyncClient, row: dict[str, Any]) -> tuple[str, str]:
    url = f"{BATCH}/Batch(Material='{row['Material']}',BatchIdentifyingPlant='',Batch='{row['Batch']}')"
    response = await client.get(url, headers=JSON)
    assert response.status_code == 200
    etag = response.headers["etag"]
    assert etag.startswith("W/\"datetimeoffset'") and "%3A" in etag
    assert response.json()["d"]["__metadata"]["etag"] == etag
    return url, etag


async def test_if_match_required_and_checked_on_batch_changes(
    sap: SapEmulator, client: httpx.AsyncClient
) -> None:
    row = stocked_batch(sap)
    url, etag = await _batch_entity(client, row)
    headers = await csrf(client, BATCH)
    change = {"ShelfLifeExpirationDate": "2030-12-31T00:00:00"}
    missing = await client.patch(url, json=change, headers=headers)
    assert missing.status_code == 428 and missing.json()["error"]["code"]
    ok = await client.patch(url, json=change, headers={**headers, "If-Match": etag})
    assert ok.status_code == 204 and ok.headers["etag"] != etag
    stale = await client.request("MERGE", url, json=change, headers={**headers, "If-Match": etag})
    assert stale.status_code == 412
    _, fresh = await _batch_entity(client, row)
    assert fresh == ok.headers["etag"]
    read = (await client.get(url, headers=JSON)).json()["d"]
    assert read["ShelfLifeExpirationDate"] == "/Date(1924905600000)/"


async def test_if_match_inside_batch_change_set(make_sap: Any) -> None:
    sap = make_sap(multi_operation_changesets=True)
    async with client_for(sap) as client:
        await _if_match_in_change_set(sap, client)


async def _if_match_in_change_set(sap: SapEmulator, client: httpx.AsyncClient) -> None:
    row = stocked_batch(sap)
    url, etag = await _batch_entity(client, row)
    relative = url.split("/API_BATCH_SRV/")[1]
    headers = {**(await csrf(client, BATCH)), "Content-Type": "multipart/mixed; boundary=bb"}
    without = multipart("bb", [changeset("cs1", [http_part("PATCH", relative, {"ManufactureDate": None})])])
    parts = parse_response(await client.post(f"{BATCH}/$batch", content=without, headers=headers))
    assert parts[0][0] == 428
    stale = multipart(
        "bb",
        [
            changeset(
                "cs2",
                [
                    http_part("PATCH", relative, {"RegionOfOrigin": "NJ"}, {"If-Match": etag}),
                    http_part(
                        "PATCH", relative, {"RegionOfOrigin": "NY"}, {"If-Match": etag}
                    ),  # etag moved on: 412
                ],
            )
        ],
    )
    parts = parse_response(await client.post(f"{BATCH}/$batch", content=stale, headers=headers))
    assert parts[0][0] == 412
    assert (await client.get(url, headers=JSON)).json()["d"]["RegionOfOrigin"] == ""  # rolled back


async def test_a_url_over_the_limit_is_refused_as_a_request_and_as_a_batch_part(make_sap: Any) -> None:
    sap = make_sap(max_url_length=300)
    materials = " or ".join(f"Material eq 'M{n:04d}'" for n in range(12))
    long_read = f"A_MatlStkInAcctMod?$format=json&$filter={quote(materials)}"
    short_read = "A_MatlStkInAcctMod?$format=json&$top=1"
    full_length = len(f"{STOCK}/{long_read}")
    async with client_for(sap) as client:
        assert full_length > 300 > len(f"{STOCK}/{short_read}")
        assert (await client.get(f"{STOCK}/{long_read}")).status_code == 414
        assert (await client.get(f"{STOCK}/{short_read}")).status_code == 200
        headers = {**await csrf(client, STOCK), "Content-Type": "multipart/mixed; boundary=b"}
        body = multipart("b", [http_part("GET", long_read), http_part("GET", short_read)])
        (too_long, _), (fine, _) = parse_response(
            await client.post(f"{STOCK}/$batch", content=body, headers=headers)
        )
        assert (too_long, fine) == (414, 200)
        # a part's URL counts from the server's root, as the same read sent alone would
        answers = []
        for limit in (full_length, full_length - 1):
            sap.config.max_url_length = limit
            body = multipart("b", [http_part("GET", long_read)])
            response = await client.post(f"{STOCK}/$batch", content=body, headers=headers)
            answers.append(parse_response(response)[0][0])
    assert answers == [200, 414]


async def test_the_default_url_limit_is_4096(make_sap: Any) -> None:
    sap = make_sap()
    padding = "x" * (4096 - len(f"{STOCK}/A_MatlStkInAcctMod?$format=json&$top=1&pad="))
    async with client_for(sap) as client:
        at_limit = await client.get(f"{STOCK}/A_MatlStkInAcctMod?$format=json&$top=1&pad={padding}")
        over = await client.get(f"{STOCK}/A_MatlStkInAcctMod?$format=json&$top=1&pad={padding}x")
    assert (at_limit.status_code, over.status_code) == (200, 414)
