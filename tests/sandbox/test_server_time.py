"""Production-like server time: what each request costs per service, slept inside the concurrency slot."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from atlas_desktop.cli import build_parser
from atlas_desktop.domain.errors import ConfigError
from atlas_desktop.sandbox.atlas import build as build_atlas
from atlas_desktop.sandbox.catalog import Catalog
from atlas_desktop.sandbox.faults import Receive, Scope, Send
from atlas_desktop.sandbox.registry import SandboxOptions, load_emulators
from atlas_desktop.sandbox.server_time import PROFILES, ServerTimeMiddleware, install_server_time

NS = PROFILES["netsuite"]
SAP = PROFILES["sap"]
ATLAS = PROFILES["atlas"]


class FakeSleep:
    """Records what would have been slept; sleeps nothing (no timing asserts)."""

    def __init__(self, probe: Any = None) -> None:
        self.slept: list[float] = []
        self.probe = probe
        self.seen: list[Any] = []

    async def __call__(self, seconds: float) -> None:
        self.slept.append(seconds)
        if self.probe is not None:
            self.seen.append(self.probe())


def answering(payload: Any, status: int = 200):
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        message = await receive()
        assert message["type"] == "http.request"  # the body the middleware read is replayed to the app
        app.received = message["body"]  # type: ignore[attr-defined]
        body = json.dumps(payload).encode() if payload is not None else b""
        await send({"type": "http.response.start", "status": status, "headers": []})
        await send({"type": "http.response.body", "body": body})

    return app


async def call(profile, app, method: str, path: str, body: bytes = b"", headers=None) -> FakeSleep:
    sleep = FakeSleep()
    client = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=ServerTimeMiddleware(app, profile, sleep=sleep)),
        base_url="http://emulator",
    )
    async with client:
        response = await client.request(method, path, content=body, headers=headers or {})
    response.raise_for_status()
    return sleep


def adjustment(lines: int) -> bytes:
    items = [{"item": {"id": str(i)}, "location": {"id": "1"}, "adjustQtyBy": 1} for i in range(lines)]
    return json.dumps({"account": {"id": "1"}, "inventory": {"items": items}}).encode()


async def test_a_netsuite_record_costs_its_base_plus_each_transaction_line():
    app = answering(None, 204)
    one = await call(NS, app, "POST", "/services/rest/record/v1/inventoryAdjustment", adjustment(1))
    assert app.received == adjustment(1)  # type: ignore[attr-defined]
    many = await call(NS, app, "POST", "/services/rest/record/v1/inventoryAdjustment", adjustment(40))
    assert one.slept == [pytest.approx(NS.write_s + NS.line_s)]
    assert many.slept == [pytest.approx(NS.write_s + 40 * NS.line_s)]
    # the reference's orders of magnitude: ~1 s per record, 10-20 ms per line
    assert 0.5 <= NS.write_s <= 1.5 and 0.010 <= NS.line_s <= 0.020


async def test_a_suiteql_page_costs_per_row_returned_after_the_app_answered():
    page = {"items": [{"id": i} for i in range(1000)], "hasMore": True, "count": 1000}
    sleep = await call(NS, answering(page), "POST", "/services/rest/query/v1/suiteql", b'{"q": "SELECT 1"}')
    assert sleep.slept == [pytest.approx(NS.read_s), pytest.approx(1000 * NS.row_s)]
    assert 1.0 <= sum(sleep.slept) <= 3.0  # netsuite.md §9: a 1,000-row page takes 1-3 s


def batch_body(*item_counts: int) -> bytes:
    parts = ["--batch_1", "Content-Type: multipart/mixed; boundary=changeset_1", ""]
    for count in item_counts:
        document = {"GoodsMovementCode": "03", "to_MaterialDocumentItem": [{"Material": "M"}] * count}
        parts += [
            "--changeset_1", "Content-Type: application/http", "Content-Transfer-Encoding: binary", "",
            "POST A_MaterialDocumentHeader HTTP/1.1", "Content-Type: application/json", "",
            json.dumps(document),
        ]  # fmt: skip
    parts += ["--changeset_1--", "--batch_1", "Content-Type: application/http", "",
              "GET A_MaterialDocumentHeader?$top=1 HTTP/1.1", "", "", "--batch_1--", ""]  # fmt: skip
    return "\r\n".join(parts).encode()


async def test_a_sap_batch_costs_the_sum_of_its_operations_and_their_items():
    path = "/sap/opu/odata/sap/API_MATERIAL_DOCUMENT_SRV/$batch"
    sleep = await call(SAP, answering(None, 202), "POST", path, batch_body(1, 3))
    assert sleep.slept == [pytest.approx(2 * SAP.write_s + 4 * SAP.line_s + SAP.read_s)]


async def test_a_sap_document_costs_per_item_and_a_csrf_fetch_is_light():
    path = "/sap/opu/odata/sap/API_MATERIAL_DOCUMENT_SRV/A_MaterialDocumentHeader"
    document = {"d": {"to_MaterialDocumentItem": {"results": [{"Material": "M"}] * 2}}}
    one = await call(SAP, answering(None, 201), "POST", path, json.dumps(document).encode())
    assert one.slept == [pytest.approx(SAP.write_s + 2 * SAP.line_s)]
    fetch = await call(SAP, answering(None), "GET", "/sap/opu/odata/sap/API_MATERIAL_DOCUMENT_SRV/",
                       headers={"X-CSRF-Token": "Fetch"})  # fmt: skip
    assert fetch.slept == [pytest.approx(0.1)]


async def test_an_atlas_batch_costs_per_operation():
    body = json.dumps({"operations": [{"op": "adjust"}] * 50}).encode()
    sleep = await call(ATLAS, answering({"results": []}), "POST", "/api/v1/inventory/batch", body)
    assert sleep.slept[0] == pytest.approx(0.030 + 50 * 0.0002)


async def test_the_server_time_holds_the_concurrency_slot():
    emulator = build_atlas(SandboxOptions(Catalog(seed=1, size=3)))
    stats = emulator.fault_middleware.stats
    sleep = FakeSleep(probe=lambda: stats.in_flight)
    install_server_time(emulator, "atlas", "realistic", sleep=sleep)
    # installed inside the fault middleware (below: the request holds its slot while the server works)
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=emulator.app), base_url="http://atlas")
    async with client:
        response = await client.get(
            "/api/v1/inventory", headers={"Authorization": f"Bearer {emulator.api_token}"}
        )
    assert response.status_code == 200
    rows = len(response.json()["items"])
    assert sleep.slept == [pytest.approx(ATLAS.read_s), pytest.approx(rows * ATLAS.row_s)]
    assert sleep.seen == [1, 1]  # the request stays in flight while the server works


def test_instant_adds_nothing_and_realistic_wraps_every_emulator():
    catalog = Catalog(seed=1, size=3)
    for emulator in load_emulators(SandboxOptions(catalog, seed=1)):
        assert not _has_server_time(emulator.app), emulator.name
    realistic = load_emulators(SandboxOptions(catalog, seed=1, server_time="realistic"))
    assert realistic and all(_has_server_time(e.app) for e in realistic)
    with pytest.raises(ConfigError):
        load_emulators(SandboxOptions(catalog, server_time="slow"))


def _has_server_time(app: Any) -> bool:
    for _ in range(8):
        if isinstance(app, ServerTimeMiddleware):
            return True
        app = vars(app).get("app") if hasattr(app, "__dict__") else None
    return False


def test_the_sandbox_command_takes_server_time(monkeypatch):
    from atlas_desktop.app import commands
    from atlas_desktop.sandbox import server

    assert build_parser().parse_args(["sandbox"]).server_time == "instant"
    args = build_parser().parse_args(["sandbox", "--server-time", "realistic"])
    passed: dict[str, Any] = {}
    monkeypatch.setattr(server, "main_sandbox", lambda **kw: passed.update(kw) or 0)
    assert commands.run_sandbox(args) == 0
    assert passed["server_time"] == "realistic"
    with pytest.raises(SystemExit):
        build_parser().parse_args(["sandbox", "--server-time", "slow"])
