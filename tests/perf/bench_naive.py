"""The baseline: the design plan's way, one ERP read and one Atlas PATCH per mapped row, over sockets.

Given the mappings for free (not timed) and the Atlas listing for the rows' versions (timed, counted).
NetSuite has no per-row stock GET in the record API, so its per-row read is one SuiteQL query for that
item (the same single round trip); SAP's is one filtered GET on A_MatlStkInAcctMod.
"""

from __future__ import annotations

import asyncio
import time
from decimal import Decimal
from typing import Any

import httpx

from atlas_desktop.connectors.netsuite import queries
from atlas_desktop.connectors.netsuite.tba import TbaAuth
from atlas_desktop.domain.secrets import Secret


async def run(world: Any, mappings: list[Any], concurrency: int) -> float:
    """Returns wall seconds."""
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    headers = {"Authorization": f"Bearer {world.atlas.api_token}"}
    async with (
        httpx.AsyncClient(base_url=world.atlas_url, headers=headers, limits=limits, timeout=60) as atlas,
        _erp_client(world, limits) as erp,
    ):
        start = time.perf_counter()
        versions = await _versions(atlas)
        gate = asyncio.Semaphore(concurrency)

        async def one(mapping: Any) -> None:
            async with gate:
                quantity = await _erp_quantity(world.erp_name, erp, mapping)
                response = await atlas.patch(
                    f"/api/v1/inventory/{mapping.atlas_inventory_id}",
                    json={"quantity": str(quantity)},
                    headers={"If-Match": f'"{versions[mapping.atlas_inventory_id]}"'},
                )
                response.raise_for_status()

        await asyncio.gather(*(one(m) for m in mappings))
        return time.perf_counter() - start


def _erp_client(world: Any, limits: httpx.Limits) -> httpx.AsyncClient:
    files = next(iter(world.erp.credential_files(world.erp_url).values()))
    if world.erp_name == "netsuite":
        auth: httpx.Auth = TbaAuth(
            account_id=files["account_id"],
            **{k: Secret(files[k]) for k in ("consumer_key", "consumer_secret", "token_id", "token_secret")},
        )
        return httpx.AsyncClient(base_url=world.erp_url, auth=auth, limits=limits, timeout=60)
    return httpx.AsyncClient(
        base_url=f"{world.erp_url}/sap/opu/odata/sap/API_MATERIAL_STOCK_SRV",
        auth=(files["username"], files["password"]),
        params={"sap-client": files["sap_client"]},
        headers={"Accept": "application/json"},
        limits=limits,
        timeout=60,
    )


async def _versions(atlas: httpx.AsyncClient) -> dict[str, int]:
    versions: dict[str, int] = {}
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 1000} | ({"cursor": cursor} if cursor else {})
        page = (await atlas.get("/api/v1/inventory", params=params)).raise_for_status().json()
        versions.update({row["id"]: row["version"] for row in page["items"]})
        cursor = page["next_cursor"]
        if not cursor:
            return versions


async def _erp_quantity(erp_name: str, erp: httpx.AsyncClient, mapping: Any) -> Decimal:
    if erp_name == "netsuite":
        query = (
            queries.lot_stock(None, [mapping.erp_item_id])
            if mapping.lot
            else queries.plain_stock(None, [mapping.erp_item_id])
        )
        response = await erp.post(
            "/services/rest/query/v1/suiteql", json={"q": query}, headers={"Prefer": "transient"}
        )
        rows = response.raise_for_status().json()["items"]
        for row in rows:
            if (
                str(row.get("location")) == mapping.erp_location_id
                and (row.get("lot") or None) == mapping.lot
            ):
                return Decimal(str(row.get("qty", "0")))
        return Decimal(0)
    plant, _, sloc = mapping.erp_location_id.partition("/")
    clauses = [f"Material eq '{mapping.erp_item_id}'", f"Plant eq '{plant}'", f"StorageLocation eq '{sloc}'"]
    clauses.append(f"Batch eq '{mapping.lot or ''}'")
    response = await erp.get("/A_MatlStkInAcctMod", params={"$filter": " and ".join(clauses)})
    rows = response.raise_for_status().json()["d"]["results"]
    return sum((Decimal(str(r["MatlWrhsStkQtyInMatlBaseUnit"])) for r in rows), Decimal(0))
