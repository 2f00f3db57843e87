"""Volume: 100,000 stock rows seed in seconds and page fast through $top/$skip and __next."""

from __future__ import annotations

import time

import httpx
import pytest

from atlas_desktop.sandbox.sap import AuthMode, SapConfig, SapEmulator, make_emulator

from .conftest import JSON, STOCK


def _volume() -> SapEmulator:
    sap = make_emulator(SapConfig(name="volume", auth_mode=AuthMode.BASIC), None)
    started = time.perf_counter()
    sap.add_bulk_stock(100_000)
    assert time.perf_counter() - started < 5.0
    assert len(sap.stock_rows()) == 100_000
    return sap


async def test_hundred_thousand_rows_seed_fast_and_a_deep_page_is_quick() -> None:
    sap = _volume()
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=sap.app),
        base_url="http://sap.test",
        auth=(sap.config.username, sap.config.password),
    ) as client:
        params = {"$filter": "InventoryStockType eq '01'", "$top": "5000", "$inlinecount": "allpages"}
        first = await client.get(f"{STOCK}/A_MatlStkInAcctMod", params=params, headers=JSON)
        assert first.json()["d"]["__count"] == "100000"
        started = time.perf_counter()
        deep = await client.get(
            f"{STOCK}/A_MatlStkInAcctMod", params={**params, "$skip": "95000"}, headers=JSON
        )
        assert len(deep.json()["d"]["results"]) == 5000
        assert time.perf_counter() - started < 2.0  # the filtered, sorted list is cached per table version


@pytest.mark.slow
async def test_walk_all_hundred_thousand_rows() -> None:
    sap = _volume()
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=sap.app),
        base_url="http://sap.test",
        auth=(sap.config.username, sap.config.password),
    ) as client:
        started = time.perf_counter()
        filter_ = "InventoryStockType eq '01' and InventorySpecialStockType eq ''"
        seen = 0
        skip = 0
        while True:  # the client rule of sap.md §5: $top <= 5000, loop with $skip
            response = await client.get(
                f"{STOCK}/A_MatlStkInAcctMod",
                params={
                    "$filter": filter_,
                    "$top": "5000",
                    "$skip": str(skip),
                    "$select": "Material,Plant,StorageLocation,Batch,MatlWrhsStkQtyInMatlBaseUnit",
                },
                headers=JSON,
            )
            results = response.json()["d"]["results"]
            seen += len(results)
            if len(results) < 5000:
                break
            skip += 5000
        assert seen == 100_000
        assert time.perf_counter() - started < 20.0
