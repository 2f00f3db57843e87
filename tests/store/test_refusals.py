"""Refused quantities as item errors (store/refusals.py): found by mapping key, open until closed."""

from __future__ import annotations

from atlas_desktop.domain.drafts import MappingDraft
from atlas_desktop.domain.enums import MappingStatus, MatchMethod, SyncDirection, SyncType
from atlas_desktop.domain.errors import ValidationFailed
from atlas_desktop.domain.model import StockKey
from atlas_desktop.domain.quantity import QuantityRefused, erp_ref
from atlas_desktop.domain.refusals import Refusal
from atlas_desktop.store.db import Store
from atlas_desktop.store.mappings import MappingRepository
from atlas_desktop.store.runs import RunRepository


def test_refusals_find_their_mapping_and_stay_open_until_closed(store: Store, connection_id: str) -> None:
    mappings = MappingRepository(store)
    mappings.apply_discovery(
        connection_id,
        [MappingDraft("a1", "i1", "WH1", None, "00002143380", None, None, "Humalog",
                      MappingStatus.MATCHED, MatchMethod.AUTO_NDC)],
    )  # fmt: skip
    [mapping] = mappings.page(connection_id, status=None, search=None, offset=0, limit=1)
    runs = RunRepository(store)
    log_id = runs.start(connection_id, SyncType.MANUAL, SyncDirection.BIDIRECTIONAL)
    error = QuantityRefused("SAP sent 'NaN' as the quantity of i1", system="SAP").as_dict()
    key = StockKey("i1", "WH1")
    other = StockKey("i9", "WH1")
    assert runs.record_refusals(log_id, connection_id, [
        Refusal(erp_ref(key), error, key=key),
        Refusal("Atlas row a1", error, atlas_id="a1"),
        Refusal(erp_ref(other), error, key=other),  # not mapped
    ]) == 3  # fmt: skip
    runs.add_item_error(log_id, connection_id, None, "order 7", ValidationFailed("refused").as_dict())

    found = runs.open_refusals(connection_id)
    assert [(v.item_ref, v.mapping_id, v.error_kind) for v in found] == [
        ("ERP stock i1 at WH1", mapping.id, "out_of_bounds"),
        ("Atlas row a1", mapping.id, "out_of_bounds"),
        ("ERP stock i9 at WH1", None, "out_of_bounds"),
    ]  # the order error is no refusal

    # Recorded again by a later run, the old rows closed in the same transaction.
    later = runs.start(connection_id, SyncType.MANUAL, SyncDirection.BIDIRECTIONAL)
    again = [Refusal(found[0].item_ref, error, mapping_id=found[0].mapping_id)]
    runs.record_refusals(later, connection_id, again, close=[found[0].id, found[1].id])
    assert [(v.sync_log_id, v.item_ref) for v in runs.open_refusals(connection_id)] == [
        (log_id, "ERP stock i9 at WH1"),
        (later, "ERP stock i1 at WH1"),
    ]
    runs.close_refusals([v.id for v in runs.open_refusals(connection_id)])
    assert runs.open_refusals(connection_id) == []
    assert len(runs.unreplayed_errors(connection_id)) == 1
