"""The connector against the SAP emulator (atlas_desktop.sandbox.sap): auth modes, paging, CSRF, postings.

The emulator was written by another helper from the same reference, so agreement here is evidence that both
read reference/sap.md the same way. X.509 runs over real TLS on loopback.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
import uvicorn

from atlas_desktop.connectors.sap import build_connector
from atlas_desktop.connectors.sap import reads as sap_reads
from atlas_desktop.connectors.sap.config import DEFAULT_PAGE
from atlas_desktop.connectors.sap.connector import SapConnector
from atlas_desktop.connectors.sap.discovery import custom_fields
from atlas_desktop.connectors.sap.mapping import header_text_for
from atlas_desktop.domain.connection import parse_connection
from atlas_desktop.domain.errors import ValidationFailed
from atlas_desktop.domain.model import PurchaseOrder, PurchaseOrderLine, StockChange, StockKey
from atlas_desktop.domain.packs import PackLevel, pack_levels
from atlas_desktop.sandbox.catalog import Catalog
from atlas_desktop.sandbox.faults import FaultRule
from atlas_desktop.sandbox.sap import SapEmulator, make_emulator, standard_configs

from .helpers import no_sleep

BASE = "http://127.0.0.1:8600"
CATALOG = Catalog(seed=7, size=120)


def tenant(name: str, catalog: Catalog = CATALOG, **config: object) -> SapEmulator:
    base = next(c for c in standard_configs() if c.name == name)
    return make_emulator(replace(base, **config), catalog)


def connect(emulator: SapEmulator, *, settings: dict | None = None, **overrides: object) -> SapConnector:
    (data,) = emulator.credential_files(BASE).values()
    data = {**data, **overrides}
    if settings:
        data["settings"] = {**data.get("settings", {}), **settings}
    spec = parse_connection(data)
    return build_connector(spec, transport=httpx.ASGITransport(app=emulator.app), sleep=no_sleep)


def sellable(emulator: SapEmulator) -> dict[StockKey, Decimal]:
    out: dict[StockKey, Decimal] = {}
    for row in emulator.stock_rows():
        if row["InventoryStockType"] == "01" and row["InventorySpecialStockType"] == "":
            key = StockKey(row["Material"], f"{row['Plant']}/{row['StorageLocation']}", row["Batch"] or None)
            out[key] = out.get(key, Decimal(0)) + Decimal(row["MatlWrhsStkQtyInMatlBaseUnit"])
    return out


def batch_managed_position(emulator: SapEmulator) -> tuple[str, str, str, str, Decimal]:
    """A material, plant, storage location, batch with unrestricted stock."""
    for row in emulator.stock_rows():
        if row["InventoryStockType"] == "01" and not row["InventorySpecialStockType"] and row["Batch"]:
            qty = Decimal(row["MatlWrhsStkQtyInMatlBaseUnit"])
            if qty > 5:
                return row["Material"], row["Plant"], row["StorageLocation"], row["Batch"], qty
    raise AssertionError("catalog has no batch stock")


# --- auth modes --------------------------------------------------------------------------------------


async def test_oauth_cloud_reads_everything_and_survives_token_expiry_mid_sync() -> None:
    emulator = tenant("sap-cloud")
    connector = connect(emulator, settings={"page_size": 10, "max_concurrency": 1})
    products = []
    async for product in connector.products():
        products.append(product)
        if len(products) == 41:
            emulator.expire_access_tokens()  # the token dies between two pages
    assert len(products) == len(emulator.products())
    assert connector.auth.token_requests == 2
    assert all(p.last_modified is not None and p.last_modified.tzinfo is not None for p in products)
    gtin = next(p for p in products if p.ndc_text)
    assert gtin.ndc_text and gtin.ndc_text.isdigit() and len(gtin.ndc_text) == 14


async def test_basic_onprem_with_sap_client_and_wrong_client_explained() -> None:
    emulator = tenant("sap-onprem")
    connector = connect(emulator)
    levels = [level async for level in connector.stock()]
    assert {level.key: level.quantity for level in levels} == sellable(emulator)
    wrong = connect(emulator, sap_client="999")
    report = await wrong.test_connection()
    failure = report.first_failure
    assert failure is not None and "999" in failure.cause and "sap-client" in failure.fix


async def test_cloud_basic_communication_user() -> None:
    emulator = tenant("sap-cloud")
    c = emulator.config
    data = {
        "erp_type": "sap",
        "environment": "cloud",
        "base_url": BASE,
        "username": c.username,
        "password": c.password,
    }
    connector = build_connector(
        parse_connection(data), transport=httpx.ASGITransport(app=emulator.app), sleep=no_sleep
    )
    report = await connector.test_connection()
    assert report.ok, report.first_failure


@contextlib.contextmanager
def serve_tls(emulator: SapEmulator) -> Iterator[str]:
    """uvicorn over TLS with the emulator's client-certificate protocol, in a thread (own loop)."""
    assert emulator.tls is not None and emulator.http_protocol is not None
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        emulator.app,
        http=emulator.http_protocol,
        ssl_certfile=str(emulator.tls.certfile),
        ssl_keyfile=str(emulator.tls.keyfile),
        ssl_ca_certs=str(emulator.tls.ca_certs),
        ssl_cert_reqs=ssl.CERT_REQUIRED,
        log_level="warning",
        lifespan="off",
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "TLS sandbox did not start"
        time.sleep(0.02)
    try:
        yield f"https://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


async def test_x509_over_real_tls_on_loopback(tmp_path: Path) -> None:
    base = next(c for c in standard_configs() if c.name == "sap-onprem-x509")
    emulator = make_emulator(replace(base), CATALOG, data_dir=tmp_path)
    # running_sandbox() does not pass emulator.http_protocol to uvicorn yet (see sap-wire.md), so the
    # client certificate would not reach the app; this test serves it with the protocol itself.
    with serve_tls(emulator) as url:
        (data,) = emulator.credential_files(url).values()
        connector = build_connector(parse_connection(data), sleep=no_sleep)
        try:
            report = await connector.test_connection()
            assert report.ok, report.first_failure
            names = [s.name for s in report.steps]
            assert "TLS certificate" in names and "Server address (DNS and TCP)" in names
            levels = [level async for level in connector.stock()]
            assert len(levels) == len(sellable(emulator))
            material, plant, sloc, batch, _ = batch_managed_position(emulator)
            before = emulator.unrestricted_stock(material, plant, sloc, batch)
            change = StockChange(
                StockKey(material, f"{plant}/{sloc}", batch), Decimal(3), _unit(emulator, material)
            )
            await connector.adjust_stock(change, "x")
            assert emulator.unrestricted_stock(material, plant, sloc, batch) == before + 3
        finally:
            await connector.aclose()
        # without the corporate CA the chain is refused, and the step names the issuer it saw
        untrusting = build_connector(parse_connection({**data, "ca_bundle": None}), sleep=no_sleep)
        try:
            report = await untrusting.test_connection()
            tls = next(s for s in report.steps if s.name == "TLS certificate")
            assert not tls.ok and "issued to" in tls.cause and "CA bundle" in tls.fix
        finally:
            await untrusting.aclose()


def _unit(emulator: SapEmulator, material: str) -> str:
    return next(p["BaseUnit"] for p in emulator.products() if p["Product"] == material)


# --- paging ------------------------------------------------------------------------------------------


async def test_paging_across_next_with_a_small_server_cap() -> None:
    emulator = tenant("sap-onprem", page_cap=70)
    connector = connect(emulator)
    levels = [level async for level in connector.stock()]
    expected = sellable(emulator)
    assert len(levels) == len(expected) > 140
    assert {level.key: level.quantity for level in levels} == expected
    assert len({level.key for level in levels}) == len(levels)  # no duplicates


@pytest.fixture(scope="module")
def big_catalog() -> Catalog:
    return Catalog(seed=11, size=4400)


async def test_ten_thousand_stock_rows(big_catalog: Catalog) -> None:
    emulator = tenant("sap-onprem", catalog=big_catalog)
    expected = sellable(emulator)
    assert len(expected) >= 10_000
    connector = connect(emulator)
    started = time.perf_counter()
    levels = [level async for level in connector.stock()]
    elapsed = time.perf_counter() - started
    assert {level.key: level.quantity for level in levels} == expected
    assert all(level.expiry is not None for level in levels if level.key.lot)
    # page count, not time, is asserted: one request per page of stock rows and of batches, no more
    batches = len(emulator._ctx().state.table("Batch").rows)
    pages = math.ceil(len(expected) / DEFAULT_PAGE) + math.ceil(batches / DEFAULT_PAGE)
    assert connector.api_calls == pages, (connector.api_calls, pages)
    print(f"10k+ stock rows: {len(levels)} in {elapsed:.2f}s, {connector.api_calls} calls")


async def test_a_full_stock_read_frees_its_batch_index_off_the_event_loop(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    emptied: list[tuple[int, bool]] = []  # (entries, on the loop's thread)
    loop_thread = threading.get_ident()

    def spy(container: dict) -> None:  # type: ignore[type-arg]
        emptied.append((len(container), threading.get_ident() == loop_thread))
        container.clear()

    monkeypatch.setattr(sap_reads, "empty_gradually", spy)
    emulator = tenant("sap-onprem")
    levels = [level async for level in connect(emulator).stock()]
    assert any(level.expiry is not None for level in levels)  # the index was used
    batches = len(emulator._ctx().state.table("Batch").rows)
    assert emptied == [(batches, False)]


# --- writes ------------------------------------------------------------------------------------------


async def test_receipt_into_new_batch_with_expiry_then_issue() -> None:
    emulator = tenant("sap-cloud")
    connector = connect(emulator, settings={"cost_center": sorted(emulator.config.cost_centers)[0]})
    material, plant, sloc, _, _ = batch_managed_position(emulator)
    unit = _unit(emulator, material)
    key = StockKey(material, f"{plant}/{sloc}", "ATLNEW01")
    receipt = await connector.adjust_stock(
        StockChange(key, Decimal("12"), unit, expiry=date(2028, 6, 30)),
        "receipt-1",
        manufacture_date=date(2026, 6, 1),
    )
    assert receipt.remote_number
    assert emulator.unrestricted_stock(material, plant, sloc, "ATLNEW01") == 12
    issue = await connector.adjust_stock(StockChange(key, Decimal("-5"), unit), "issue-1")
    assert issue.remote_id != receipt.remote_id
    assert emulator.unrestricted_stock(material, plant, sloc, "ATLNEW01") == 7
    # the next incremental read sees the new batch with its expiry from API_BATCH_SRV
    since = datetime.now(UTC) - timedelta(minutes=5)
    levels = {level.key: level async for level in connector.stock(since)}
    assert levels[key].quantity == 7 and levels[key].expiry == date(2028, 6, 30)
    assert (await connector.find_write("receipt-1")) == replace(receipt, applied_at=None)
    (batch,) = [
        b for b in emulator.tenant.context("T").state.table("Batch").rows.values() if b["Batch"] == "ATLNEW01"
    ]
    assert batch["ManufactureDate"].date() == date(2026, 6, 1)


async def test_keys_already_posted_are_found_many_per_request_before_sending() -> None:
    # SAP posts a material document again if asked: the engine asks first which keys are there.
    emulator = tenant("sap-onprem")
    connector = connect(emulator, settings={"cost_center": sorted(emulator.config.cost_centers)[0]})
    material, plant, sloc, batch, _ = batch_managed_position(emulator)
    change = StockChange(StockKey(material, f"{plant}/{sloc}", batch), Decimal(-1), _unit(emulator, material))
    landed = [await connector.adjust_stock(change, key) for key in ("sent-1", "sent-2")]
    emulator.app.stats.reset()
    keys = [f"never-{n}" for n in range(43)] + ["sent-2", "sent-1"]
    found = await connector.posted_before(keys)
    assert found == {w.idempotency_key: replace(w, applied_at=None) for w in landed}
    # header texts 40 + 5, then the 43 not found in item texts (batched documents) 40 + 3
    assert emulator.app.stats.count("GET", "/sap/opu/odata/sap/API_MATERIAL_DOCUMENT_SRV/") == 4
    assert emulator.app.stats.count("POST") == 0


async def test_cancelled_posting_is_found_as_the_original_not_its_reversal() -> None:
    emulator = tenant("sap-onprem")  # Cancel copies the header text (reversal_header_text="copy")
    connector = connect(emulator, settings={"cost_center": sorted(emulator.config.cost_centers)[0]})
    material, plant, sloc, batch, _ = batch_managed_position(emulator)
    change = StockChange(StockKey(material, f"{plant}/{sloc}", batch), Decimal(-1), _unit(emulator, material))
    written = await connector.adjust_stock(change, "to-cancel")
    year, number = written.remote_id.split("/")
    emulator.cancel(year, number)
    assert emulator.count_material_documents(header_text_for("to-cancel")) == 2
    assert (await connector.find_write("to-cancel")) == replace(written, applied_at=None)
    assert (await connector.posted_before(["to-cancel"])) == {"to-cancel": replace(written, applied_at=None)}


async def test_alternative_units_are_converted_to_the_base_unit() -> None:
    """A change in a maintained alternative unit posts as such; SAP converts, levels read in the base unit."""
    emulator = tenant("sap-cloud")
    connector = connect(emulator, settings={"cost_center": sorted(emulator.config.cost_centers)[0]})
    material, plant, sloc, batch, qty = batch_managed_position(emulator)
    key = StockKey(material, f"{plant}/{sloc}", batch)
    await connector.adjust_stock(StockChange(key, Decimal(2), "CS"), "in-cases")
    emulator.post_goods_movement(material, plant, sloc, Decimal(1), movement_type="501", batch=batch)
    assert emulator.unrestricted_stock(material, plant, sloc, batch) == qty + 25
    since = datetime.now(UTC) - timedelta(minutes=5)
    levels = {level.key: level async for level in connector.stock(since)}
    assert (levels[key].quantity, levels[key].unit) == (qty + 25, "EA")
    with pytest.raises(ValidationFailed) as info:  # a unit not maintained for the material: not a deficit
        await connector.adjust_stock(StockChange(key, Decimal(1), "KAR"), "in-cartons")
    assert "insufficient" not in info.value.message and "KAR" in info.value.message


async def test_gtins_per_pack_level_from_the_ean_table() -> None:
    """The NDC is the base unit's main GTIN, not a case's; every pack level's GTINs are kept."""
    emulator = tenant("sap-cloud")
    connector = connect(emulator, settings={"field_mappings": {"ndc_field": "A_ProductUnitsOfMeasureEAN"}})
    products = {p.erp_item_id: p async for p in connector.products()}
    row = next(p for p in emulator.products() if p["Product"] == "SKU-000007")  # a UPC and a case GTIN
    eans = emulator.tenant.context("T").state.table("A_ProductUnitsOfMeasureEAN").rows.values()
    case = next(
        e["ProductStandardID"] for e in eans if e["Product"] == "SKU-000007" and e["AlternativeUnit"] == "CS"
    )
    product = products["SKU-000007"]
    assert product.ndc_text == row["ProductStandardID"]
    assert product.attributes["gtin:CS"] == case
    assert product.attributes["gtin:EA"].split(",")[0] == row["ProductStandardID"]
    assert len(product.attributes["gtin:EA"].split(",")) == 2
    each_ndc, case_ndc = product.attributes["ndc:EA"], product.attributes["ndc:CS"]
    assert each_ndc == row["ProductStandardID"][3:13]  # the GTIN-14 and the UPC-A embed the same NDC
    assert case_ndc[:8] == each_ndc[:8] and case_ndc != each_ndc  # same product, another package code


async def test_a_case_level_carries_its_ndc_and_how_many_base_units_it_holds() -> None:
    """A_ProductUnitsOfMeasure's QuantityNumerator / QuantityDenominator: 1 CS = 12 EA in the sandbox."""
    emulator = tenant("sap-cloud")
    connector = connect(emulator, settings={"field_mappings": {"ndc_field": "A_ProductUnitsOfMeasureEAN"}})
    products = {p.erp_item_id: p async for p in connector.products()}
    product = products["SKU-000007"]
    assert product.attributes["per:CS"] == "12"
    assert "per:EA" not in product.attributes  # the base unit is 1 by definition
    case = PackLevel("CS", (product.attributes["ndc:CS"],), Decimal(12))
    assert pack_levels(product.attributes, product.unit) == (case,)


async def test_ndc_discovery_ranks_standard_places_ean_table_and_labelled_custom_fields() -> None:
    emulator = tenant("sap-cloud")
    connector = connect(emulator)
    found = await connector.ndc_field_candidates()
    ranked = [(c.field, c.label, c.sampled, c.ndc_like) for c in found]
    assert ranked == [
        ("A_ProductUnitsOfMeasureEAN", "GTINs per unit of measure (EAN table)", 50, 50),
        ("ProductStandardID", "GTIN", 50, 50),
        ("YY1_NDCCode_PRD", "NDC Code", 12, 12),  # found in $metadata, with the label a key user gave it
    ]
    assert found[2].example and found[2].example.count("-") == 2


def test_custom_fields_come_from_metadata_and_a_dtd_is_refused() -> None:
    edmx = (
        b'<edmx:Edmx xmlns:edmx="http://schemas.microsoft.com/ado/2007/06/edmx" '
        b'xmlns:sap="http://www.sap.com/Protocols/SAPData"><edmx:DataServices>'
        b'<Schema xmlns="http://schemas.microsoft.com/ado/2008/09/edm">'
        b'<EntityType Name="A_ProductType"><Property Name="Product" Type="Edm.String"/>'
        b'<Property Name="YY1_NatDrugCode_SDH" Type="Edm.String" sap:label="National Drug Code"/>'
        b"</EntityType></Schema></edmx:DataServices></edmx:Edmx>"
    )
    assert custom_fields(edmx) == {"YY1_NatDrugCode_SDH": "National Drug Code"}
    assert custom_fields(b'<!DOCTYPE x [<!ENTITY a "b">]>' + edmx) == {}


async def test_overdraw_refused_with_clear_error() -> None:
    emulator = tenant("sap-onprem")
    connector = connect(emulator, settings={"cost_center": sorted(emulator.config.cost_centers)[0]})
    material, plant, sloc, batch, qty = batch_managed_position(emulator)
    change = StockChange(StockKey(material, f"{plant}/{sloc}", batch), -(qty + 1), _unit(emulator, material))
    with pytest.raises(ValidationFailed) as info:
        await connector.adjust_stock(change, "too-much")
    error = info.value
    assert "stock is insufficient" in error.message and material in error.message and batch in error.message
    assert error.remote_code == "M7/021"
    assert emulator.unrestricted_stock(material, plant, sloc, batch) == qty


async def test_in_doubt_posting_is_not_posted_twice() -> None:
    emulator = tenant("sap-cloud")
    emulator.faults.rules.append(
        FaultRule(kind="drop_after", path="A_MaterialDocumentHeader$", method="POST", times=1)
    )
    connector = connect(emulator)
    material, plant, sloc, batch, qty = batch_managed_position(emulator)
    change = StockChange(StockKey(material, f"{plant}/{sloc}", batch), Decimal(2), _unit(emulator, material))
    result = await connector.adjust_stock(change, "doubtful")
    assert emulator.count_material_documents(header_text_for("doubtful")) == 1
    assert emulator.unrestricted_stock(material, plant, sloc, batch) == qty + 2
    assert result.remote_number


async def test_csrf_expiry_mid_sync() -> None:
    emulator = tenant("sap-onprem")
    connector = connect(emulator)
    material, plant, sloc, batch, qty = batch_managed_position(emulator)
    unit = _unit(emulator, material)
    key = StockKey(material, f"{plant}/{sloc}", batch)
    await connector.adjust_stock(StockChange(key, Decimal(1), unit), "c1")
    emulator.expire_csrf_tokens()
    await asyncio.gather(
        *(connector.adjust_stock(StockChange(key, Decimal(1), unit), f"c{i}") for i in range(2, 8))
    )
    assert connector.csrf.fetches == 2
    assert emulator.unrestricted_stock(material, plant, sloc, batch) == qty + 7


async def test_batch_of_postings_one_changeset_each() -> None:
    emulator = tenant("sap-cloud")
    assert not emulator.config.multi_operation_changesets  # Gateway's default: one operation per set
    connector = connect(emulator, settings={"cost_center": sorted(emulator.config.cost_centers)[0]})
    material, plant, sloc, batch, qty = batch_managed_position(emulator)
    unit = _unit(emulator, material)
    key = StockKey(material, f"{plant}/{sloc}", batch)
    changes = [(StockChange(key, Decimal(4), unit), "b1"), (StockChange(key, -(qty + 100), unit), "b2"),
               (StockChange(key, Decimal(-1), unit), "b3")]  # fmt: skip
    [first], [refused], [third] = await connector.adjust_stock_batches(
        [([(change, k)], f"batch-{k}") for change, k in changes]
    )
    assert first.remote_number and third.remote_number  # type: ignore[union-attr]
    assert (
        isinstance(refused, ValidationFailed) and "Deficit" in refused.message and material in refused.message
    )
    assert emulator.unrestricted_stock(material, plant, sloc, batch) == qty + 3


async def test_missing_communication_scenario_is_named() -> None:
    emulator = tenant("sap-cloud")
    emulator.set_missing_scenarios("SAP_COM_0164")
    report = await connect(emulator).test_connection()
    stock = next(s for s in report.steps if s.name == "Stock")
    assert not stock.ok and "SAP_COM_0164" in stock.cause
    assert next(s for s in report.steps if s.name == "Products").ok


async def test_purchase_order_created_and_found_by_key() -> None:
    emulator = tenant("sap-cloud")
    settings = {
        "company_code": "1010",
        "purchasing_organization": "1010",
        "purchasing_group": "001",
        "po_plant": "1010",
        "default_supplier": "17300001",
    }
    connector = connect(emulator, settings=settings)
    material = emulator.products()[0]["Product"]
    line = PurchaseOrderLine(
        "12345-678-90", "Item", Decimal(12), _unit(emulator, material), Decimal("3.10"), "USD", material
    )
    order = PurchaseOrder("o-1", "ATL-1001", "Acme", "sup-1", (line,), datetime.now(UTC))
    result = await connector.create_purchase_order(order, "po-key-1")
    assert result.remote_id.startswith("45")
    (created,) = emulator.purchase_orders()
    assert created["PurchaseOrder"] == result.remote_id and created["Supplier"] == "17300001"
    found = await connector.find_write("po-key-1")
    assert found is not None and found.remote_id == result.remote_id


async def test_ndc_discovery_finds_an_ndc_kept_in_the_old_product_number() -> None:
    """Some systems keep the 11-digit NDC in ProductOldID (or the manufacturer number): offered beside the
    GTIN places when the sample holds NDCs there, and read from there once chosen."""
    emulator = tenant("sap-cloud")
    products = emulator.tenant.context("T").state.table("A_Product").rows.values()
    for n, row in enumerate(products):
        row["ProductOldID"] = f"{n:05d}123401"  # NDC 5-4-2 without dashes
        row["ProductManufacturerNumber"] = f"MPN-{n}"  # a part number, no NDC
    found = {c.field: c for c in await connect(emulator).ndc_field_candidates()}
    old = found["ProductOldID"]
    assert (old.label, old.sampled, old.ndc_like) == ("Old Product Number", 50, 50)
    assert old.example == "00000123401"
    assert "ProductManufacturerNumber" not in found
    chosen = connect(emulator, settings={"field_mappings": {"ndc_field": "ProductOldID"}})
    read = {p.erp_item_id: p.ndc_text async for p in chosen.products()}
    assert read and all(text and text.endswith("123401") for text in read.values())
