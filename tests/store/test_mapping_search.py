"""The trigram search index follows the mapping rows: inserts, changes, deletions, reused ids."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from atlas_desktop.domain.drafts import MappingDraft
from atlas_desktop.domain.enums import MappingStatus, MatchMethod
from atlas_desktop.domain.model import ErpType
from atlas_desktop.store.db import Store
from atlas_desktop.store.mappings import MappingRepository
from atlas_desktop.store.models import ConnectionRow, InventoryMappingRow
from atlas_desktop.store.review_table import ReviewTable
from atlas_desktop.store.search_index import COLUMNS, SEARCH_VALUES


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
        pages = ReviewTable(store)

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
        # Control characters (a NUL pasted from a barcode scanner, a tab) are not part of a search.
        assert found("mox\x00ic") == found("moxic\t") == ["Amoxicillin"]
        assert found("\x00\x01") == found("") and found("\x00") != []
        views = MappingRepository(store).page(cid, status=None, search="\x00moxic", offset=0, limit=5)
        assert [view.item_name for view in views] == ["Amoxicillin"]  # the CLI's and API's query too


def _index_matches_rows(store: Store) -> None:
    """The index holds exactly one entry per mapping, with the values the triggers would have written."""
    with store.session() as session:
        connection = session.connection()
        indexed = {row[0]: row[1:] for row in connection.exec_driver_sql(
            f"SELECT rowid, {COLUMNS} FROM mapping_search")}  # fmt: skip
        expected = {row[0]: row[1:] for row in connection.exec_driver_sql(
            f"SELECT m.id, {SEARCH_VALUES} FROM erp_inventory_mappings m")}  # fmt: skip
        paused = connection.exec_driver_sql("SELECT count(*) FROM mapping_search_paused").scalar_one()
        automerge = connection.exec_driver_sql(
            "SELECT v FROM mapping_search_config WHERE k = 'automerge'").scalars().all()  # fmt: skip
    assert indexed == expected
    assert paused == 0
    assert automerge in ([], [4])  # FTS5's default again after a bulk load


def _connection(store: Store) -> str:
    with store.session() as session:
        connection = ConnectionRow(erp_type=ErpType.NETSUITE, connection_name="NS", settings={})
        session.add(connection)
        session.flush()
        return connection.id


def _add_unmatched(store: Store, cid: str, atlas_id: str, name: str) -> None:
    """An ordinary ORM write: the triggers, not the bulk path, must index it."""
    with store.session() as session:
        row = InventoryMappingRow(connection_id=cid, status=MappingStatus.UNMATCHED_ATLAS)
        row.atlas_inventory_id, row.item_name = atlas_id, name
        session.add(row)


def _draft(atlas: str, item: str, name: str) -> MappingDraft:
    return MappingDraft(
        atlas, item, "1", None, "00071015523", "0071-0155-23", "00071-0155-23", name,
        MappingStatus.MATCHED, MatchMethod.AUTO_NDC,
    )  # fmt: skip


def test_discovery_indexes_in_bulk_exactly_what_the_triggers_would(tmp_path: Path) -> None:
    with Store.open(tmp_path / "atlas.db") as store:
        cid = _connection(store)
        mappings = MappingRepository(store)
        pages = ReviewTable(store)

        def found(text: str) -> set[str | None]:
            views = pages.page(cid, status=None, search=text, offset=0, limit=50)
            return {view.atlas_inventory_id for view in views}

        mappings.apply_discovery(cid, [_draft(f"inv_{i}", str(i), f"Lipitor {i} mg") for i in range(30)])
        _index_matches_rows(store)
        assert found("Lipitor 7 mg") == {"inv_7"}
        # Rediscovery: one name changed, one row gone, one new row; the others unchanged.
        again = [_draft(f"inv_{i}", str(i), f"Lipitor {i} mg") for i in range(1, 30)]
        again[0] = _draft("inv_1", "1", "Atorvastatin 1 mg")
        again.append(_draft("inv_new", "99", "Crestor 5 mg"))
        mappings.apply_discovery(cid, again)
        _index_matches_rows(store)
        assert found("Atorvastatin") == {"inv_1"} and found("Lipitor 1 mg") == set()
        assert found("Lipitor 0 mg") == set() and found("Crestor") == {"inv_new"}
        # The triggers are back for ordinary writes.
        _add_unmatched(store, cid, "inv_m", "Amoxicillin")
        assert found("moxic") == {"inv_m"}
        _index_matches_rows(store)


def test_a_failed_discovery_leaves_the_index_and_its_triggers_as_they_were(tmp_path: Path) -> None:
    with Store.open(tmp_path / "atlas.db") as store:
        cid = _connection(store)
        mappings = MappingRepository(store)
        mappings.apply_discovery(cid, [_draft("inv_a", "1", "Lipitor 10 mg")])

        def broken() -> Iterator[MappingDraft]:
            yield from (_draft(f"inv_{i}", str(i + 10), "Zocor") for i in range(2500))  # past one batch
            raise RuntimeError("the ERP read broke off")

        with pytest.raises(RuntimeError):
            mappings.apply_discovery(cid, broken())
        _index_matches_rows(store)
        _add_unmatched(store, cid, "inv_b", "Amoxicillin")
        _index_matches_rows(store)
        assert {v.atlas_inventory_id for v in ReviewTable(store).page(
            cid, status=None, search="Zocor", offset=0, limit=5)} == set()  # fmt: skip
