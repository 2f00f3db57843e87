"""Removing a connection never discards its pending or in-doubt writes silently: refused unless forced."""

from __future__ import annotations

import pytest

from atlas_desktop.domain.connection import parse_connection
from atlas_desktop.domain.enums import OutboxStatus
from atlas_desktop.domain.model import Side
from atlas_desktop.store.db import Store
from atlas_desktop.store.models import OutboxRow
from atlas_desktop.store.repositories import ConnectionRepository, OpenWrites, UnsettledWrites
from atlas_desktop.store.vault import Vault
from tests.store.test_repositories import NETSUITE_FILE


def add_writes(store: Store, connection_id: str, *statuses: OutboxStatus) -> None:
    with store.session() as session:
        for n, status in enumerate(statuses):
            key = f"{connection_id}-{n}"
            session.add(OutboxRow(connection_id=connection_id, target=Side.ERP, operation="adjust_stock",
                                  payload={"delta": "-1"}, idempotency_key=key, status=status))  # fmt: skip


@pytest.fixture
def repo(store: Store, vault: Vault) -> ConnectionRepository:
    return ConnectionRepository(store, vault)


def test_unsettled_writes_refuse_the_removal_and_name_their_counts(
    repo: ConnectionRepository, store: Store
) -> None:
    cid = repo.add(parse_connection(NETSUITE_FILE))
    open_ones = (OutboxStatus.PENDING, OutboxStatus.PENDING, OutboxStatus.SENDING, OutboxStatus.IN_DOUBT)
    add_writes(store, cid, *open_ones, OutboxStatus.DONE, OutboxStatus.FAILED, OutboxStatus.CANCELLED)
    assert repo.open_writes(cid) == OpenWrites(pending=2, in_doubt=2)
    with pytest.raises(UnsettledWrites) as refused:
        repo.remove(cid)
    assert refused.value.writes == OpenWrites(pending=2, in_doubt=2)
    assert "2 write(s) waiting to be sent and 2 in doubt" in refused.value.message
    assert [s.id for s in repo.list()] == [cid]  # nothing removed
    assert repo.remove(cid, force=True) == OpenWrites(pending=2, in_doubt=2)
    assert repo.list() == []


def test_settled_writes_do_not_stop_a_removal(repo: ConnectionRepository, store: Store) -> None:
    cid = repo.add(parse_connection(NETSUITE_FILE))
    add_writes(store, cid, OutboxStatus.DONE, OutboxStatus.FAILED, OutboxStatus.CANCELLED)
    assert repo.remove(cid) == OpenWrites()
    assert repo.list() == []
