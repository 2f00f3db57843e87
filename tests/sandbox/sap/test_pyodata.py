"""SAP's own OData client (pyodata) against the emulator over a socket: metadata, paging, CSRF writes."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from xml.etree import ElementTree

import pyodata
import pytest
import requests

from atlas_desktop.sandbox.catalog import Catalog
from atlas_desktop.sandbox.registry import SandboxOptions
from atlas_desktop.sandbox.sap import AuthMode, SapConfig, SapEmulator, make_emulator
from atlas_desktop.sandbox.sap.seed import ALL_SCHEMAS
from atlas_desktop.sandbox.server import running_sandbox

from .conftest import TODAY

pytestmark = pytest.mark.e2e
CLIENT = "100"


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[SapEmulator, str, requests.Session]]:
    config = SapConfig(name="sap-onprem", auth_mode=AuthMode.BASIC, require_sap_client=True, default_page=50)
    emulator = make_emulator(config, Catalog(seed=11, size=80, today=TODAY))
    with running_sandbox(SandboxOptions(catalog=Catalog(size=0)), emulators=[emulator]) as urls:
        session = requests.Session()
        session.auth = (config.username, config.password)
        session.params = {"sap-client": CLIENT}  # used by the $metadata download
        yield emulator, urls["sap-onprem"], session
        session.close()


def service(base: str, session: requests.Session, name: str) -> pyodata.Client:
    return pyodata.Client(f"{base}/sap/opu/odata/sap/{name}/", session)


def test_metadata_lists_exactly_the_served_sets(served: tuple[SapEmulator, str, requests.Session]) -> None:
    _, base, session = served
    for schema in ALL_SCHEMAS:
        client = service(base, session, schema.name)
        assert sorted(es.name for es in client.schema.entity_sets) == sorted(s.name for s in schema.sets)
        document = session.get(
            f"{base}/sap/opu/odata/sap/{schema.name}/", headers={"Accept": "application/json"}
        )
        assert sorted(document.json()["d"]["EntitySets"]) == sorted(s.name for s in schema.sets)
        for eset in schema.sets:
            entity_type = client.schema.entity_set(eset.name).entity_type
            assert [p.name for p in entity_type.key_proprties] == list(eset.type.key)
            assert {p.name for p in entity_type.proprties()} == {p.name for p in eset.type.props}
        response = session.get(f"{base}/sap/opu/odata/sap/{schema.name}/$metadata")
        assert response.headers["content-type"].startswith("application/xml")
        root = ElementTree.fromstring(response.content)
        assert root.attrib["Version"] == "1.0"
    stock = service(base, session, "API_MATERIAL_STOCK_SRV").schema.entity_set("A_MatlStkInAcctMod")
    assert len(stock.entity_type.key_proprties) == 11
    header = service(base, session, "API_MATERIAL_DOCUMENT_SRV").schema.entity_set("A_MaterialDocumentHeader")
    assert [p.name for p in header.entity_type.key_proprties] == ["MaterialDocumentYear", "MaterialDocument"]


def test_pyodata_reads_products_and_pages_stock(served: tuple[SapEmulator, str, requests.Session]) -> None:
    emulator, base, session = served
    products = service(base, session, "API_PRODUCT_SRV")
    first = products.entity_sets.A_Product.get_entities().custom("sap-client", CLIENT).top(5).execute()
    assert len(first) == 5
    assert first[0].ProductStandardID.startswith("003") and len(first[0].ProductStandardID) == 14
    assert first[0].LastChangeDateTime.tzinfo is not None
    one = products.entity_sets.A_Product.get_entity(first[0].Product).custom("sap-client", CLIENT).execute()
    assert one.Product == first[0].Product

    stock = service(base, session, "API_MATERIAL_STOCK_SRV").entity_sets.A_MatlStkInAcctMod
    request = (
        stock.get_entities()
        .filter("InventoryStockType eq '01'")
        .count(inline=True)
        .custom("sap-client", CLIENT)
    )
    page = request.execute()
    rows = list(page)
    pages = 1
    while page.next_url:
        page = stock.get_entities().next_url(page.next_url).execute()
        rows.extend(page)
        pages += 1
    expected = [r for r in emulator.stock_rows() if r["InventoryStockType"] == "01"]
    assert pages > 1 and len(rows) == len(expected) == page.total_count
    assert sum(Decimal(r.MatlWrhsStkQtyInMatlBaseUnit) for r in rows) == sum(
        r["MatlWrhsStkQtyInMatlBaseUnit"] for r in expected
    )


def test_pyodata_posts_material_document_with_csrf(served: tuple[SapEmulator, str, requests.Session]) -> None:
    emulator, base, session = served
    url = f"{base}/sap/opu/odata/sap/API_MATERIAL_DOCUMENT_SRV/"
    documents = service(base, session, "API_MATERIAL_DOCUMENT_SRV")
    managed = next(p for p in emulator.products() if p["IsBatchManagementRequired"])
    create = documents.entity_sets.A_MaterialDocumentHeader.create_entity().custom("sap-client", CLIENT)
    create.set(
        GoodsMovementCode="05",
        PostingDate=datetime(2026, 3, 1, tzinfo=UTC),
        MaterialDocumentHeaderText="PYODATA-1",
        to_MaterialDocumentItem=[
            {
                "Material": managed["Product"],
                "Plant": "1010",
                "StorageLocation": "0001",
                "Batch": "PYB001",
                "GoodsMovementType": "501",
                "EntryUnit": "EA",
                "QuantityInEntryUnit": "12",
                "ShelfLifeExpirationDate": datetime(2028, 6, 30, tzinfo=UTC),
            }
        ],
    )
    with pytest.raises(pyodata.exceptions.HttpError) as refused:
        create.execute()  # pyodata does not fetch CSRF tokens by itself
    assert refused.value.response.status_code == 403

    fetched = session.head(url, headers={"x-csrf-token": "fetch"})
    session.headers["x-csrf-token"] = fetched.headers["x-csrf-token"]
    try:
        created = create.execute()
        assert created.MaterialDocument and created.MaterialDocumentYear == "2026"
        assert emulator.unrestricted_stock(managed["Product"], "1010", "0001", "PYB001") == Decimal(12)
        cancel = documents.functions.Cancel.parameter("MaterialDocumentYear", created.MaterialDocumentYear)
        cancel = cancel.parameter("MaterialDocument", created.MaterialDocument).custom("sap-client", CLIENT)
        reversal = cancel.execute()
        assert reversal.MaterialDocument != created.MaterialDocument
        assert emulator.unrestricted_stock(managed["Product"], "1010", "0001", "PYB001") == Decimal(0)
        assert emulator.count_material_documents("PYODATA-1") == 2  # the posting and its reversal
    finally:
        del session.headers["x-csrf-token"]
