"""The window's mapping table and the CLI/API listing read the same rows for the same filter, search and
sort: one query (store/review_table.py) behind both."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from atlas_desktop.domain.enums import MappingStatus
from atlas_desktop.domain.model import ErpType
from atlas_desktop.store.db import Store
from atlas_desktop.store.mappings import MappingRepository
from atlas_desktop.store.models import AtlasMirrorRow, ConnectionRow, InventoryMappingRow
from atlas_desktop.store.review_table import ReviewTable
from atlas_desktop.ui.monitoring.mapping_model import MappingTableModel

# (atlas id, ERP item, NDC key, name, lot, status)
_ROWS = [
    ("inv_0", "100", "12345067890", "Metformin 500 mg", None, MappingStatus.MATCHED),
    ("inv_1", "101", "00071015523", "Lipitor 10 mg", "L1", MappingStatus.MATCHED),
    ("inv_2", None, "00093505601", "Amoxicillin 250 mg", None, MappingStatus.UNMATCHED_ATLAS),
    ("inv_3", "103", "12345067891", "Metformin XR 750 mg", "A7", MappingStatus.AMBIGUOUS),
    ("inv_4", "104", None, "Zocor", "", MappingStatus.MATCHED),
]


@pytest.fixture
def table(tmp_path: Path) -> Any:
    with Store.open(tmp_path / "atlas.db") as store:
        with store.session() as session:
            connection = ConnectionRow(erp_type=ErpType.NETSUITE, connection_name="NS", settings={})
            session.add(connection)
            session.flush()
            for atlas, item, ndc, name, lot, status in _ROWS:
                session.add(InventoryMappingRow(
                    connection_id=connection.id, status=status, atlas_inventory_id=atlas, erp_item_id=item,
                    erp_location_id="1" if item else None, ndc_key=ndc, item_name=name, lot=lot,
                ))  # fmt: skip
            session.add(AtlasMirrorRow(
                connection_id=connection.id, atlas_id="inv_4", sku="ZC", ndc_text="", name="Zocor",
                quantity=Decimal(1), unit="each", version=1, updated_at=datetime.now(UTC),
            ))  # fmt: skip
            cid = connection.id
        yield store, cid


@pytest.mark.parametrize(
    ("status", "search", "order_by"),
    [
        (None, "", "id"),
        (None, "12345-678-90", "id"),  # an NDC as printed (5-3-2): the key holds 12345067890
        (None, "0071-0155-23", "-item_name"),  # 4-4-2
        (None, "Metformin", "-item_name"),
        (MappingStatus.MATCHED, "", "lot"),
        (None, "ZC", "id"),  # two characters: the LIKE path, an SKU from the Atlas mirror
        (None, " mg\x00", "-ndc_key"),
    ],
)
def test_window_and_cli_api_read_the_same_rows(
    table: Any, qtbot: Any, status: MappingStatus | None, search: str, order_by: str
) -> None:
    store, cid = table
    model = MappingTableModel(ReviewTable(store), page_size=2)  # several pages
    model.set_query(cid, status=status, search=search, order_by=order_by)
    window = [model.row_at(row) for row in range(model.rowCount())]

    listing = MappingRepository(store)  # what `atlas-desktop mappings` and the API's list call
    rows = listing.page(cid, status=status, search=search or None, offset=0, limit=100, order_by=order_by)
    assert window == rows
    if search:
        assert rows, "a search that finds nothing shows no difference"
    assert model.rowCount() == listing.count(cid, status=status, search=search or None) == len(rows)


def test_an_ndc_in_any_printed_format_finds_its_key_everywhere(table: Any) -> None:
    store, cid = table
    for typed in ("12345-678-90", "12345-0678-90", "12345067890"):
        found = MappingRepository(store).page(cid, status=None, search=typed, offset=0, limit=10)
        assert [view.atlas_inventory_id for view in found] == ["inv_0"], typed
