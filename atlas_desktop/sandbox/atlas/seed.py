"""The emulator's starting data: the seller's listing from the shared catalog, and a few confirmed orders."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from decimal import Decimal
from typing import Any

from atlas_desktop.sandbox.atlas.state import AtlasState, ulid
from atlas_desktop.sandbox.catalog import AtlasSeedRow, Catalog, atlas_rows

# Seeded ids carry this fixed time so the same catalog gives the same ids, sorted in catalog order.
SEED_EPOCH_MS = 1_767_225_600_000  # 2026-01-01T00:00:00Z


def listing(catalog: Catalog) -> Iterator[dict[str, Any]]:
    for index, row in enumerate(atlas_rows(catalog)):
        yield seed_row(row, index)


def seed_row(row: AtlasSeedRow, index: int) -> dict[str, Any]:
    return {
        "id": f"inv_{ulid(SEED_EPOCH_MS, index)}",
        "sku": row.sku,
        "ndc": row.ndc,
        "name": row.name,
        "lot_number": row.lot_number,
        "expiry_date": row.expiry_date.isoformat() if row.expiry_date else None,
        "quantity": str(row.quantity),
        "unit": row.unit,
        "location": row.location,
    }


def sample_orders(catalog: Catalog, count: int = 3) -> Iterator[dict[str, Any]]:
    """Confirmed purchases of catalog products from other sellers, to be entered in the ERP as POs."""
    size = len(catalog)
    for n in range(min(count, size)):
        products = [catalog.product((n * 7 + k * 13) % size) for k in range(1 + n % 3)]
        yield {
            "supplier": {"name": f"Sandbox Supplier {n + 1}", "atlas_id": f"acct_supplier_{n + 1:03d}"},
            "lines": [
                {
                    "ndc": p.ndc,
                    "name": p.name,
                    "quantity": str(Decimal(10 * (k + 1))),
                    "unit": p.unit,
                    "unit_price": f"{(p.index % 90) + 9}.50",
                    "currency": "USD",
                }
                for k, p in enumerate(products)
            ],
        }


def seed(state: AtlasState, catalog: Catalog | None, rows: Iterable[dict[str, Any]] | None = None) -> None:
    if rows is not None:
        state.seed_rows(rows)
    elif catalog is not None:
        state.seed_rows(listing(catalog))
    if catalog is not None and len(catalog):
        for order in sample_orders(catalog):
            state.insert_order(order, "confirmed")
