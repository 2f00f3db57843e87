"""Fixtures for the SAP emulator tests: small seeded tenants and clients that speak to them in-process."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import date
from typing import Any

import httpx
import pytest

from atlas_desktop.sandbox.catalog import Catalog
from atlas_desktop.sandbox.sap import AuthMode, SapConfig, SapEmulator, make_emulator

TODAY = date(2026, 3, 1)
JSON = {"Accept": "application/json"}
PRODUCT = "/sap/opu/odata/sap/API_PRODUCT_SRV"
STOCK = "/sap/opu/odata/sap/API_MATERIAL_STOCK_SRV"
MATDOC = "/sap/opu/odata/sap/API_MATERIAL_DOCUMENT_SRV"
BATCH = "/sap/opu/odata/sap/API_BATCH_SRV"
PO = "/sap/opu/odata/sap/API_PURCHASEORDER_PROCESS_SRV"


@pytest.fixture(scope="session")
def catalog() -> Catalog:
    return Catalog(seed=7, size=60, today=TODAY)


@pytest.fixture
def make_sap(catalog: Catalog) -> Callable[..., SapEmulator]:
    def factory(**overrides: Any) -> SapEmulator:
        config = SapConfig(name="sap-test", auth_mode=AuthMode.BASIC, **overrides)
        return make_emulator(config, catalog)

    return factory


@pytest.fixture
def sap(make_sap: Callable[..., SapEmulator]) -> SapEmulator:
    return make_sap()


def client_for(emulator: SapEmulator, **kw: Any) -> httpx.AsyncClient:
    kw.setdefault("auth", (emulator.config.username, emulator.config.password))
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=emulator.app), base_url="http://sap.test", **kw
    )


@pytest.fixture
async def client(sap: SapEmulator) -> AsyncIterator[httpx.AsyncClient]:
    async with client_for(sap) as c:
        yield c


async def csrf(client: httpx.AsyncClient, service: str = MATDOC) -> dict[str, str]:
    """Fetch a token (cookies land in the client's jar) and return the header to send with writes."""
    response = await client.get(f"{service}/", headers={"X-CSRF-Token": "Fetch", **JSON})
    assert response.status_code == 200
    return {"X-CSRF-Token": response.headers["x-csrf-token"], **JSON}


def batch_managed(emulator: SapEmulator) -> dict[str, Any]:
    return next(p for p in emulator.products() if p["IsBatchManagementRequired"])


def stocked_batch(emulator: SapEmulator) -> dict[str, Any]:
    """An unrestricted stock row of a batch-managed material with some quantity."""
    managed = {p["Product"] for p in emulator.products() if p["IsBatchManagementRequired"]}
    return next(
        r
        for r in emulator.stock_rows()
        if r["Material"] in managed
        and r["InventoryStockType"] == "01"
        and not r["InventorySpecialStockType"]
        and r["MatlWrhsStkQtyInMatlBaseUnit"] > 5
    )
