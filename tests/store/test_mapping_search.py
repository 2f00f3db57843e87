"""The trigram search index follows the mapping rows: inserts, changes, deletions, reused ids."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

from atlas_desktop.domain.model import ErpType
from atlas_desktop.store.db import Store
from atlas_desktop.store.enums import MappingStatus
from atlas_desktop.store.explain import MappingPages
from atlas_desktop.store.models import ConnectionRow, InventoryMappingRow


def test_search_finds_fragments_and_follows_changes(tmp_path: Path) -> None:
    with Store.open(tmp_path / "atlas.db") as store:
        with store.session() as session:
            connection = ConnectionRow(erp_type=ErpType.NETSUITE, connection_name="NS", settings={})
            session.add(connection)
            session.flush()
            cid = connection.id
            for i, (ndc, name) in enumerate([("00071015523", "Lipitor 10 mg"), ("12345067890", "Metformin")]):
                session.add(InventoryMappingRow(
                    connection_id=cid, status=MappingStatus.MATCHED, ndc_key=ndc, item_name=name,
                    ndc_text_atlas="0071-0155-23" if i == 0 else None, atlas_inventory_id=f"inv_{i}",
                    erp_item_id=str(100 + i), erp_location_id="1",
                ))  # fmt: skip
        pages = MappingPages(store)

        def found(text: str) -> list[str | None]:
            return [view.item_name for view in pages.page(cid, status=None, search=text, offset=0, limit=10)]

        assert found("pitor") == ["Lipitor 10 mg"]
        assert found("0071-0155") == ["Lipitor 10 mg"]  # as typed on the label
        assert found("00071015523") == ["Lipitor 10 mg"]  # the 11-digit key
        assert found("METFORM") == ["Metformin"]  # case does not matter
        assert found("xyz") == []
        assert pages.count(cid, status=None, search="mg") == 1  # two characters: the plain LIKE path
        with store.session() as session:
            session.execute(
                sa.update(InventoryMappingRow).where(InventoryMappingRow.item_name == "Metformin")
                .values(item_name="Metformin XR 500")
            )  # fmt: skip
        assert found("XR 500") == ["Metformin XR 500"]
        with store.session() as session:
            session.execute(
                sa.delete(InventoryMappingRow).where(InventoryMappingRow.item_name == "Lipitor 10 mg")
            )
            session.add(InventoryMappingRow(connection_id=cid, status=MappingStatus.UNMATCHED_ATLAS,
                                            atlas_inventory_id="inv_9", item_name="Amoxicillin"))  # fmt: skip
        assert found("pitor") == []  # a reused id carries no stale text
        assert found("moxic") == ["Amoxicillin"]
