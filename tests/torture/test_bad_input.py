"""Bad input: damaged remote answers and credential files become typed errors with clear messages, no crash.

Every connector's public reads and writes run against a scripted transport whose answers are good except
one to three, which hypothesis damages (fields missing or of the wrong type, huge strings, invalid dates and
decimals, truncated JSON, HTML, empty bodies, wrong content types, error bodies on 200). The only
acceptable outcomes: the operation completes (skipping or defaulting a value where the connector documents
that), or it raises a ConnectorError whose message and fix say what went wrong.
"""

from __future__ import annotations

import asyncio
import json
import os
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from atlas_desktop.connectors.atlas import build_client
from atlas_desktop.connectors.netsuite import build_connector as build_netsuite
from atlas_desktop.connectors.sap import build_connector as build_sap
from atlas_desktop.domain.connection import ALL_SECRET_FIELDS, ConnectionSpec, parse_connection
from atlas_desktop.domain.errors import ConfigError
from atlas_desktop.domain.model import PurchaseOrder, PurchaseOrderLine, StockChange, StockKey
from atlas_desktop.domain.secrets import Secret
from tests.connectors.netsuite.helpers import make_spec as netsuite_spec
from tests.connectors.sap.helpers import make as make_sap
from tests.connectors.sap.helpers import spec as sap_spec
from tests.torture.malformed import (
    SWEEP_VALUES,
    Good,
    Script,
    checked,
    drain,
    draw_bad,
    field_names,
    mutate,
    outcome,
    sweep_transport,
)

# BAD_INPUT_EXAMPLES=2000 explores with fresh random examples; the default run is fixed and quick.
EXPLORE = int(os.environ.get("BAD_INPUT_EXAMPLES", "0"))
EXAMPLES = settings(
    max_examples=EXPLORE or 120,
    deadline=None,
    derandomize=not EXPLORE,  # the same examples on every run: CI time stays bounded and failures reproduce
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
SINCE = datetime(2026, 3, 3, 9, 0, tzinfo=UTC)
CHANGE_IN = StockChange(StockKey("5", "1", None), Decimal("2"), "EA", reason="erp_sync")
CHANGE_OUT_LOT = StockChange(StockKey("5", "1", "L1"), Decimal("-1.5"), "EA", reason="sale")
ORDER = PurchaseOrder(
    atlas_order_id="ord-1",
    number="PO-1",
    supplier_name="Acme Pharma",
    supplier_atlas_id="sup-1",
    lines=(PurchaseOrderLine("00002-3227-30", "Drug", Decimal(3), "EA", Decimal("4.25"), "USD"),),
    created_at=SINCE,
)

# ---- NetSuite -------------------------------------------------------------------------------------------

NS_ROW = {
    "id": "5", "itemid": "SKU5", "displayname": "Drug 5", "upccode": "0002-3227-30", "ndc": "00002-3227-30",
    "islotitem": "T", "isinactive": "F", "modified": "2026-03-03 09:59:00", "stockunit": "EA",
    "manufacturer": "Acme", "item": "5", "location": "1", "numid": "9", "lot": "L1", "expiry": "2027-01-01",
    "qty": "12.5", "lotmodified": "2026-03-03 09:59:00", "line": "1", "name": "Main", "externalid": "MAIN",
    "tranid": "ADJ77", "accttype": "COGS", "links": [],
}  # fmt: skip
NS_PAGE = {"links": [], "count": 1, "hasMore": False, "offset": 0, "totalResults": 1, "items": [NS_ROW]}
NS_ERROR = {
    "type": "https://www.rfc-editor.org/rfc/rfc9110.html#section-15.5.1",
    "title": "Bad Request",
    "status": 400,
    "o:errorDetails": [
        {"detail": "Invalid value for item", "o:errorCode": "INVALID_CONTENT", "o:errorPath": "item"}
    ],
}
NS_BASE = "http://127.0.0.1:8765/services/rest/record/v1"


def netsuite_good(request: httpx.Request) -> Good:
    path = request.url.path
    if path.endswith("/suiteql"):
        if " FROM dual" in json.loads(request.content)["q"]:  # the user's time zone, as reads ask it
            return 200, {**NS_PAGE, "items": [{"zone": "America/New_York", "links": []}]}, {}
        # Like NetSuite: one row at offset 0, nothing further on.
        page = NS_PAGE if request.url.params.get("offset", "0") == "0" else {**NS_PAGE, "items": []}
        return 200, page, {"Date": "Tue, 03 Mar 2026 10:00:05 GMT"}
    if request.method in ("POST", "PUT"):
        record = "purchaseOrder" if "purchaseOrder" in path else "inventoryAdjustment"
        return 204, None, {"Location": f"{NS_BASE}/{record}/77"}
    return 200, {"id": "77", "tranId": "ADJ77", "links": []}, {}


NETSUITE_OPS = {
    "products": lambda c: drain(c.products()),
    "products_since": lambda c: drain(c.products(SINCE)),
    "stock": lambda c: drain(c.stock()),
    "stock_since": lambda c: drain(c.stock(SINCE)),
    "locations": lambda c: c.locations(),
    "accounts": lambda c: c.list_accounts(),
    "ndc_fields": lambda c: c.ndc_field_candidates(),
    "find_write": lambda c: c.find_write("key-1"),
    "adjust_in": lambda c: c.adjust_stock(CHANGE_IN, "key-1"),
    "adjust_out_lot": lambda c: c.adjust_stock(CHANGE_OUT_LOT, "key-2"),
    "purchase_order": lambda c: c.create_purchase_order(ORDER, "key-3"),
}


@EXAMPLES
@given(op=st.sampled_from(sorted(NETSUITE_OPS)), data=st.data())
def test_netsuite_damaged_answers_become_typed_errors(op: str, data: st.DataObject) -> None:
    script = Script(data, netsuite_good, NS_ERROR, draw_bad(data))

    async def run() -> object:
        connector = build_netsuite(
            netsuite_spec(),
            transport=httpx.MockTransport(script),
            sleep=_no_sleep,
            page_size=2,
            max_rows_per_query=10,
        )
        async with connector:
            return await NETSUITE_OPS[op](connector)

    outcome(run)


# ---- SAP ------------------------------------------------------------------------------------------------

SAP_DATE = "/Date(1772530000000+0060)/"
SAP_PRODUCT = {
    "Product": "TG11", "ProductType": "FERT", "BaseUnit": "EA", "ProductStandardID": "00300023227305",
    "IsMarkedForDeletion": False, "IsBatchManagementRequired": True, "LastChangeDateTime": SAP_DATE,
    "ProductGroup": "L001",
    "to_Description": {"results": [{"Product": "TG11", "Language": "EN", "ProductDescription": "Drug"}]},
}  # fmt: skip
SAP_STOCK = {
    "Material": "TG11", "Plant": "1010", "StorageLocation": "0001", "Batch": "B1",
    "InventoryStockType": "01", "InventorySpecialStockType": "", "MaterialBaseUnit": "EA",
    "MatlWrhsStkQtyInMatlBaseUnit": "10.000",
}  # fmt: skip
SAP_BATCH = {
    "Material": "TG11", "BatchIdentifyingPlant": "1010", "Batch": "B1",
    "ShelfLifeExpirationDate": "/Date(1798761600000)/", "ManufactureDate": "2025-01-01T00:00:00",
}  # fmt: skip
SAP_MATDOC = {
    "MaterialDocumentYear": "2026", "MaterialDocument": "4900000001", "CreationDate": SAP_DATE,
    "to_MaterialDocumentItem": {"results": [{
        "Material": "TG11", "Plant": "1010", "StorageLocation": "0001", "Batch": "B1",
        "MaterialBaseUnit": "EA",
    }]},
}  # fmt: skip
SAP_ERROR = {
    "error": {
        "code": "M7/021",
        "message": {"lang": "en", "value": "Deficit of SL Unrestricted-use 5 EA"},
        "innererror": {"errordetails": [{"code": "M7/021", "message": "Deficit", "severity": "error"}]},
    }
}
SAP_MESSAGE = {"code": "M7/021", "message": "Deficit", "severity": "error", "details": [{"code": "X"}]}


def _collection(request: httpx.Request, row: dict[str, Any]) -> dict[str, Any]:
    # Like SAP: one row at $skip 0, nothing further on.
    rows = [row] if request.url.params.get("$skip", "0") == "0" else []
    return {"d": {"results": rows, "__count": "1"}}


def sap_good(request: httpx.Request) -> Good:
    path = request.url.path
    if request.headers.get("x-csrf-token", "").lower() == "fetch":
        return 200, {"d": {"EntitySets": []}}, {"x-csrf-token": "csrf-abc"}
    if request.method == "POST":
        return 201, {"d": {"MaterialDocumentYear": "2026", "MaterialDocument": "4900000002"}}, {}
    for name, row in (
        ("A_Product", SAP_PRODUCT),
        ("A_MatlStkInAcctMod", SAP_STOCK),
        ("Batch", SAP_BATCH),
        ("A_MaterialDocumentHeader", SAP_MATDOC),
    ):
        if path.endswith(name):
            return 200, _collection(request, row), {}
    return 200, _collection(request, {"Product": "TG11", "ProductStandardID": "00300023227305"}), {}


SAP_RECEIPT = StockChange(StockKey("TG11", "1010/0001", "B1"), Decimal("2"), "EA", reason="erp_sync")
SAP_OPS = {
    "products": lambda c: drain(c.products()),
    "products_since": lambda c: drain(c.products(SINCE)),
    "stock": lambda c: drain(c.stock()),
    "stock_since": lambda c: drain(c.stock(SINCE)),
    "find_write": lambda c: c.find_write("key-1"),
    "adjust_in": lambda c: c.adjust_stock(SAP_RECEIPT, "key-1"),
    "ndc_fields": lambda c: c.ndc_field_candidates(),
}


@EXAMPLES
@given(op=st.sampled_from(sorted(SAP_OPS)), data=st.data())
def test_sap_damaged_answers_become_typed_errors(op: str, data: st.DataObject) -> None:
    script = Script(data, sap_good, SAP_ERROR, draw_bad(data), bad_headers={"sap-message": SAP_MESSAGE})

    async def run() -> object:
        connector = make_sap(script, settings={"page_size": 2})
        async with connector:
            return await SAP_OPS[op](connector)

    outcome(run)


# ---- Atlas ----------------------------------------------------------------------------------------------

ATLAS_ROW = {
    "id": "r1", "sku": "S1", "ndc": "00002-3227-30", "name": "Drug", "lot_number": "L1",
    "expiry_date": "2027-06-30", "quantity": "12", "unit": "EA", "location": "MAIN", "version": 3,
    "updated_at": "2026-03-03T10:00:00Z", "deleted": False,
}  # fmt: skip
ATLAS_ORDER = {
    "id": "o1", "number": "PO-1", "status": "confirmed", "created_at": "2026-03-03T10:00:00Z",
    "supplier": {"name": "Acme", "atlas_id": "s1"},
    "lines": [{"ndc": "00002-3227-30", "name": "Drug", "quantity": "2", "unit": "EA", "unit_price": "3.50",
               "currency": "USD"}],
}  # fmt: skip
ATLAS_ERROR = {"error": {"code": "version_conflict", "message": "changed", "details": {"current": ATLAS_ROW}}}


def atlas_good(request: httpx.Request) -> Good:
    path = request.url.path
    if path == "/api/v1/me":
        me = {"account_id": "a1", "company_name": "C", "user_email": "e@x", "scopes": ["inventory"]}
        return 200, me, {}
    if path == "/api/v1/inventory":
        return 200, {"items": [ATLAS_ROW], "next_cursor": None}, {}
    if path == "/api/v1/inventory/changes":
        return 200, {"changes": [ATLAS_ROW], "cursor": "c2", "has_more": False}, {}
    if path == "/api/v1/orders":
        return 200, {"orders": [ATLAS_ORDER], "cursor": "o2", "has_more": False}, {}
    if path.endswith("/erp-link"):
        return 200, {"order_id": "o1", "erp_type": "netsuite", "erp_document_id": "77"}, {}
    return 200, ATLAS_ROW, {}


ATLAS_OPS = {
    "me": lambda c: c.me(),
    "inventory": lambda c: drain(c.inventory(page_size=2)),
    "changes": lambda c: drain(c.changes(since="c1")),
    "orders": lambda c: drain(c.orders(since=None)),
    "get_row": lambda c: c.get_row("r1"),
    "adjust": lambda c: c.adjust("r1", Decimal("-2"), key="key-1"),
    "update_row": lambda c: c.update_row("r1", {"quantity": Decimal(5)}, version=3),
}


@EXAMPLES
@given(op=st.sampled_from(sorted(ATLAS_OPS)), data=st.data())
def test_atlas_damaged_answers_become_typed_errors(op: str, data: st.DataObject) -> None:
    script = Script(data, atlas_good, ATLAS_ERROR, draw_bad(data))

    async def run() -> object:
        client = build_client(
            "http://127.0.0.1:8765",
            token=Secret("atl_test_token_123456"),
            transport=httpx.MockTransport(script),
            sleep=_no_sleep,
        )
        async with client:
            return await ATLAS_OPS[op](client)

    outcome(run)


async def _no_sleep(_seconds: float) -> None:
    return None


def make_sap_on(transport: httpx.AsyncBaseTransport) -> Any:
    return build_sap(sap_spec(settings={"page_size": 2}), transport=transport, sleep=_no_sleep)


# ---- credential files -----------------------------------------------------------------------------------

NETSUITE_FILE = {
    "erp_type": "netsuite", "account_id": "1234567_SB1", "consumer_key": "a1" * 32,
    "consumer_secret": "b2" * 32, "token_id": "c3" * 32, "token_secret": "d4" * 32,
    "base_url": "https://1234567-sb1.suitetalk.api.netsuite.com",
    "settings": {"adjustment_account_id": "2615"},
}  # fmt: skip
SAP_OAUTH_FILE = {
    "erp_type": "sap", "environment": "cloud", "base_url": "https://my1-api.s4hana.cloud.sap",
    "credentials": {"client_id": "CLIENT_ID_SECRETISH_1", "client_secret": "Zq9vT3pL8wR2kN5sapsecret"},
    "token_endpoint": "https://my1.authentication.sap.hana.ondemand.com/oauth/token",
}  # fmt: skip
SAP_BASIC_FILE = {
    "erp_type": "sap", "environment": "on_premise", "base_url": "https://s4.corp.example.com:44300",
    "sap_client": "100", "username": "ATLAS_SYNC_USER", "password": "OnPrem-Passw0rd-xyz",
}  # fmt: skip
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=12,
)


def _secret_inputs(data: object) -> list[str]:
    """The secret-field values a (damaged) file carries, top level and under "credentials"."""
    found: list[str] = []
    plain: set[str] = set()  # the same text in a non-secret field may be shown (e.g. a bad erp_type)
    if isinstance(data, dict):
        for scope in (data, data.get("credentials")):
            if isinstance(scope, dict):
                found += [v for k, v in scope.items() if k in ALL_SECRET_FIELDS and isinstance(v, str)]
                plain |= {str(v) for k, v in scope.items() if k not in ALL_SECRET_FIELDS}
    return [v for v in found if len(v.strip()) >= 4 and not any(v in p for p in plain)]


def _check_credentials(data: object) -> None:
    try:
        spec = parse_connection(data)
    except ConfigError as exc:
        assert isinstance(exc.field, str) and exc.field.strip(), exc
        assert exc.message.startswith(exc.field) and exc.fix
        shown = f"{exc.message} {exc.fix} {exc!r}"
        for value in _secret_inputs(data):
            assert value not in shown, f"{exc.field}: the message echoes a secret value"
        return
    assert isinstance(spec, ConnectionSpec)
    assert all(isinstance(v, Secret) for v in spec.secrets.values())
    assert not ALL_SECRET_FIELDS & set(spec.settings), "a secret field landed in the plain settings"
    for value in _secret_inputs(data):
        assert value not in repr(spec)


@settings(max_examples=150, deadline=None, derandomize=True)
@given(data=json_values)
def test_arbitrary_json_credential_file(data: object) -> None:
    _check_credentials(data)


@settings(max_examples=200, deadline=None, derandomize=True)
@given(template=st.sampled_from([NETSUITE_FILE, SAP_OAUTH_FILE, SAP_BASIC_FILE]), data=st.data())
def test_damaged_credential_file(template: dict[str, Any], data: st.DataObject) -> None:
    damaged = mutate(data, template)
    _check_credentials(damaged)
    # The same through a JSON round trip, as the file is read (NaN and huge integers included).
    _check_credentials(json.loads(json.dumps(damaged, default=str)))


# ---- sweeps: every field of every answer, each kind of wrong value, every operation -----------------


async def _sweep(
    connect: Any, ops: dict[str, Any], good: Any, names: set[str], values: tuple[Any, ...] = SWEEP_VALUES
) -> int:
    runs = 0
    for name in sorted(names):
        for value in values:
            for op, call in ops.items():
                async with connect(sweep_transport(good, name, value)) as client:
                    try:
                        await checked(lambda: call(client))  # noqa: B023 - awaited at once
                    except RuntimeError as exc:
                        raise AssertionError(f"{op} with {name}={str(value)[:40]!r}: {exc}") from None
                    except AssertionError as exc:
                        raise AssertionError(f"{op} with {name}={str(value)[:40]!r}: {exc}") from None
                runs += 1
    return runs


def test_netsuite_every_field_damaged() -> None:
    def connect(transport: httpx.MockTransport) -> Any:
        return build_netsuite(
            netsuite_spec(), transport=transport, sleep=_no_sleep, page_size=2, max_rows_per_query=10
        )

    names = field_names(NS_PAGE) | {"tranId"}
    # The reads and writes that parse different columns (the others repeat them; request signing is slow).
    chosen = ("stock", "stock_since", "locations", "adjust_out_lot", "purchase_order")
    ops = {k: NETSUITE_OPS[k] for k in chosen}
    # SuiteQL sends text: the SAP date forms and JSON objects add nothing here.
    values = tuple(v for v in SWEEP_VALUES if not ("Date" in str(v) or isinstance(v, dict | bool)))
    assert asyncio.run(_sweep(connect, ops, netsuite_good, names, values)) > 1000


def test_sap_every_field_damaged() -> None:
    names = field_names([SAP_PRODUCT, SAP_STOCK, SAP_BATCH, SAP_MATDOC]) | {"d", "results", "__count"}
    assert asyncio.run(_sweep(lambda t: make_sap_on(t), SAP_OPS, sap_good, names)) > 1000


def test_atlas_every_field_damaged() -> None:
    def connect(transport: httpx.MockTransport) -> Any:
        return build_client(
            "http://127.0.0.1:8765",
            token=Secret("atl_test_token_123456"),
            transport=transport,
            sleep=_no_sleep,
        )

    names = field_names([ATLAS_ROW, ATLAS_ORDER]) | {"items", "next_cursor", "changes", "cursor"}
    names.add("has_more")
    assert asyncio.run(_sweep(connect, ATLAS_OPS, atlas_good, names)) > 1000


def test_unparseable_addresses_name_the_field() -> None:
    for url in ("https://[abc", "http://[::1", "https://"):
        _check_credentials({**SAP_BASIC_FILE, "base_url": url})
        _check_credentials({**NETSUITE_FILE, "base_url": url})
        _check_credentials({**SAP_OAUTH_FILE, "token_endpoint": url})
