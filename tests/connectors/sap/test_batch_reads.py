"""Reads of many filters in one $batch: against the emulator (paging inside a retrieval, URL limit) and
scripted answers (a failed retrieval named, one or two filters as plain GETs)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import httpx
import pytest

from atlas_desktop.connectors.sap import reads as sap_reads
from atlas_desktop.connectors.sap.batch_reads import BatchReader
from atlas_desktop.connectors.sap.paging import Query
from atlas_desktop.domain.errors import PermissionDenied
from atlas_desktop.domain.model import StockKey

from .helpers import BASE, make, odata
from .test_emulator import connect, sellable, tenant

S = "/sap/opu/odata/sap/API_MATERIAL_STOCK_SRV"
B = "/sap/opu/odata/sap/API_BATCH_SRV"
M = "/sap/opu/odata/sap/API_MATERIAL_DOCUMENT_SRV"


def _receive_everywhere(emulator, count: int) -> set[str]:  # type: ignore[no-untyped-def]
    """A receipt into the first stocked position of `count` materials; the materials."""
    moved: dict[str, tuple[str, str, str]] = {}
    for row in sorted(emulator.stock_rows(), key=lambda r: r["Material"]):
        if row["InventoryStockType"] == "01" and not row["InventorySpecialStockType"]:
            moved.setdefault(row["Material"], (row["Plant"], row["StorageLocation"], row["Batch"]))
        if len(moved) == count:
            break
    for material, (plant, sloc, batch) in moved.items():
        emulator.post_goods_receipt(material, plant, sloc, Decimal(3), batch=batch)
    return set(moved)


@pytest.mark.parametrize("name", ["sap-cloud", "sap-onprem"])
async def test_moved_materials_are_reread_in_one_batch_per_service_following_each_reads_next_link(
    monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    monkeypatch.setattr(sap_reads, "URL_BUDGET", 800)  # several filters out of a small catalog
    emulator = tenant(name, page_cap=7)  # every filter's answer runs over one page
    connector = connect(emulator)
    moved = _receive_everywhere(emulator, 60)
    since = datetime.now(UTC) - timedelta(minutes=5)
    emulator.app.stats.reset()

    levels = {level.key: level async for level in connector.stock(since)}

    truth = {key: qty for key, qty in sellable(emulator).items() if key.item_id in moved}
    assert {key: level.quantity for key, level in levels.items() if key.item_id in moved} == truth
    assert any(level.expiry is not None for level in levels.values())  # batch master read and joined
    stats = emulator.app.stats
    assert stats.count("GET", f"{S}/A_") == stats.count("GET", f"{B}/Batch") == 0
    stock_batches, batch_batches = stats.count("POST", f"{S}/$batch"), stats.count("POST", f"{B}/$batch")
    # a $batch for the first page of every filter, then one per further page (plain GETs: one per page)
    assert 2 <= stock_batches < len(truth) / 7, (stock_batches, len(truth))
    assert batch_batches >= 2
    assert stats.count("GET", f"{S}/") == stats.count("GET", f"{B}/") == 1  # one CSRF fetch each


def test_every_filter_fits_the_url_limit_and_all_materials_are_read_once_in_order() -> None:
    materials = [f"PHARMA-{n:05d}-{'X' * 25}/ä'" for n in range(300)]  # long, with characters to encode

    def query_of(part: Sequence[str]) -> Query:
        # the context lists the part, to check the cut
        filter_ = sap_reads.any_of("Material", part)
        return Query(path=f"{S}/A_MatlStkInAcctMod", filter=filter_, context="\n".join(part))

    queries = sap_reads.fitted("Material", materials, query_of, 1000)
    assert len(queries) > 5
    assert [m for query in queries for m in query.context.split("\n")] == materials
    for query in queries:
        params = query.params(1000, 0, count=True)
        sent = httpx.Request("GET", f"http://sap{query.path}", params=params).url.raw_path
        assert len(sent) == sap_reads.url_length(query, 1000) <= sap_reads.URL_BUDGET  # as httpx sends it
    # as many as fit: one more would not
    first = queries[0].context.split("\n")
    assert sap_reads.url_length(query_of(materials[: len(first) + 1]), 1000) > sap_reads.URL_BUDGET


# --- scripted answers --------------------------------------------------------------------------------


def _part(status: int, body: bytes) -> str:
    return (
        "Content-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n\r\n"
        f"HTTP/1.1 {status} X\r\nContent-Type: application/json\r\n\r\n{body.decode()}\r\n"
    )


class Scripted:
    """Material documents moving MAT-0..MAT-n; stock $batch answers with one part refused."""

    def __init__(self, materials: int, refuse: int | None = None, next_url: str | None = None) -> None:
        self.materials, self.refuse, self.next_url = materials, refuse, next_url
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        path = request.url.path
        if path == f"{M}/A_MaterialDocumentHeader":
            items = [{"Material": f"MAT-{n}", "Plant": "1010", "StorageLocation": "0001", "Batch": "",
                      "MaterialBaseUnit": "EA"} for n in range(self.materials)]  # fmt: skip
            return odata([{"to_MaterialDocumentItem": {"results": items}}], count=1)
        if request.headers.get("x-csrf-token") == "Fetch":
            return httpx.Response(200, headers={"x-csrf-token": "T"})
        if path.endswith("/$batch"):
            parts = request.content.decode().count("GET ")
            answers = [_part(500 if n + 1 == self.refuse else 200, self._page(n, path)) for n in range(parts)]
            body = "".join(f"--b\r\n{a}" for a in answers) + "--b--\r\n"
            return httpx.Response(
                202, content=body.encode(), headers={"content-type": "multipart/mixed; boundary=b"}
            )
        if path == "/elsewhere/A_MatlStkInAcctMod":
            return odata([_row("MAT-0", "7")])
        return odata([], count=0)

    def _page(self, part: int, path: str) -> bytes:
        """The first stock part's answer: one row, and a next link when scripted."""
        if part or not self.next_url or not path.startswith(S):
            return b'{"d":{"results":[],"__count":"0"}}'
        return json.dumps({"d": {"results": [_row("MAT-0", "5")], "__next": self.next_url}}).encode()


def _row(material: str, quantity: str) -> dict[str, str]:
    return {"Material": material, "Plant": "1010", "StorageLocation": "0001", "Batch": "",
            "MaterialBaseUnit": "EA", "InventoryStockType": "01", "InventorySpecialStockType": "",
            "MatlWrhsStkQtyInMatlBaseUnit": quantity}  # fmt: skip


async def test_a_next_link_the_service_root_cannot_address_is_followed_by_itself(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(sap_reads, "URL_BUDGET", 700)
    script = Scripted(60, next_url=f"{BASE}/elsewhere/A_MatlStkInAcctMod?$skiptoken=2")
    connector = make(script)
    levels = {level.key: level async for level in connector.stock(datetime(2025, 3, 2, tzinfo=UTC))}
    assert levels[StockKey("MAT-0", "1010/0001", None)].quantity == 12  # both pages summed
    assert [r.url.path for r in script.requests if r.url.path.startswith("/elsewhere")] == [
        "/elsewhere/A_MatlStkInAcctMod"
    ]


async def test_a_refused_read_in_a_batch_is_named_with_its_place(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sap_reads, "URL_BUDGET", 700)
    script = Scripted(60, refuse=2)
    connector = make(script)
    with pytest.raises(Exception) as raised:
        [level async for level in connector.stock(datetime(2025, 3, 2, tzinfo=UTC))]
    message = str(getattr(raised.value, "message", raised.value))
    assert "reading stock (read 2 of" in message and "in a $batch" in message and "HTTP 500" in message


async def test_one_or_two_filters_go_as_plain_reads_without_a_token(monkeypatch: pytest.MonkeyPatch) -> None:
    script = Scripted(3)
    connector = make(script)
    levels = [level async for level in connector.stock(datetime(2025, 3, 2, tzinfo=UTC))]
    assert {level.key for level in levels} == {StockKey(f"MAT-{n}", "1010/0001", None) for n in range(3)}
    assert not [r for r in script.requests if r.method == "POST" or r.headers.get("x-csrf-token")]


async def test_a_read_batch_refused_whole_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sap_reads, "URL_BUDGET", 700)
    emulator = tenant("sap-onprem")
    connector = connect(emulator)
    _receive_everywhere(emulator, 40)
    emulator.config.missing_scenarios = {"SAP_COM_0164"}  # no access to the stock service
    with pytest.raises(PermissionDenied) as raised:
        [level async for level in connector.stock(datetime.now(UTC) - timedelta(minutes=5))]
    assert "API_MATERIAL_STOCK_SRV" in raised.value.message


async def test_more_reads_than_one_batch_takes_go_in_several_each_answer_in_its_place() -> None:
    emulator = tenant("sap-onprem")
    connector = connect(emulator)
    materials = sorted({row["Material"] for row in emulator.stock_rows()})[:10]
    queries = [
        Query(
            path=f"{S}/A_MatlStkInAcctMod", filter=f"Material eq '{m}'", orderby="Plant,StorageLocation,Batch"
        )
        for m in materials[:5]
    ]
    plain = [await connector.pager.all(query) for query in queries]
    emulator.app.stats.reset()
    read = await BatchReader(connector.pager, connector.csrf, per_batch=2).all(S, queries)
    assert read == plain and all(read)
    assert emulator.app.stats.count("POST", f"{S}/$batch") == 3
    assert emulator.app.stats.count("GET", f"{S}/A_") == 0
