"""Exact decimals and aware UTC datetimes survive the round trip through SQLite text."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest
import sqlalchemy as sa

from atlas_desktop.domain.enums import MappingStatus, SyncDirection, SyncType
from atlas_desktop.domain.model import ErpType
from atlas_desktop.store.db import Store
from atlas_desktop.store.models import ConnectionRow, InventoryMappingRow, SyncBaseRow, SyncLogRow


@pytest.fixture
def mapping_id(store: Store) -> int:
    with store.session() as session:
        connection = ConnectionRow(erp_type=ErpType.SAP_CLOUD, connection_name="SAP")
        session.add(connection)
        session.flush()
        mapping = InventoryMappingRow(connection_id=connection.id, status=MappingStatus.MATCHED)
        session.add(mapping)
        session.flush()
        return mapping.id


@pytest.mark.parametrize(
    "quantity",
    [
        Decimal("0.1"),
        Decimal("0.1000000000"),  # trailing zeros (the exponent) are kept too
        Decimal("-3.5"),
        Decimal("123456789012345678.0123456789"),  # Numeric(28, 10) at full width
        Decimal("98765432109876543210987654321098765432.123456789012345678901234567890"),
        Decimal("1E+30"),
        Decimal("0"),
    ],
)
def test_decimal_round_trips_exactly(store: Store, mapping_id: int, quantity: Decimal) -> None:
    with store.session() as session:
        session.add(SyncBaseRow(mapping_id=mapping_id, quantity=quantity))
    with store.session() as session:
        stored = session.get(SyncBaseRow, mapping_id)
        assert stored is not None
        assert isinstance(stored.quantity, Decimal)
        assert stored.quantity == quantity
        assert str(stored.quantity) == str(quantity)


def test_float_and_nan_quantities_are_refused(store: Store, mapping_id: int) -> None:
    for bad in (0.1, Decimal("NaN"), Decimal("Infinity")):
        with pytest.raises(sa.exc.StatementError), store.session() as session:
            session.add(SyncBaseRow(mapping_id=mapping_id, quantity=bad))
            session.flush()


def test_aware_datetime_comes_back_as_the_same_instant_in_utc(store: Store, mapping_id: int) -> None:
    eastern = timezone(timedelta(hours=-5))
    started = datetime(2024, 3, 10, 1, 30, 0, 123456, tzinfo=eastern)
    with store.session() as session:
        connection_id = session.get(InventoryMappingRow, mapping_id).connection_id  # type: ignore[union-attr]
        log = SyncLogRow(
            connection_id=connection_id,
            sync_type=SyncType.MANUAL,
            direction=SyncDirection.BIDIRECTIONAL,
            started_at=started,
            duration_seconds=Decimal("12.345"),
        )
        session.add(log)
        session.flush()
        log_id = log.id
    with store.session() as session:
        stored = session.get(SyncLogRow, log_id)
        assert stored is not None
        assert stored.started_at == started
        assert stored.started_at.tzinfo == UTC
        assert stored.started_at.hour == 6
        assert stored.duration_seconds == Decimal("12.345")
        raw = session.execute(sa.text("SELECT started_at FROM erp_sync_logs")).scalar()
        assert raw == "2024-03-10T06:30:00.123456+00:00"


def test_naive_datetime_is_refused_with_a_hint(store: Store, mapping_id: int) -> None:
    with pytest.raises(sa.exc.StatementError, match="naive datetime.*aware"), store.session() as session:
        mapping = session.get(InventoryMappingRow, mapping_id)
        assert mapping is not None
        mapping.last_synced_at = datetime(2024, 1, 1, 12, 0)
        session.flush()


def test_text_order_is_time_order(store: Store, mapping_id: int) -> None:
    # Whole seconds and fractions, across an offset: SQL ORDER BY must sort by instant.
    instants = [
        datetime(2024, 1, 1, 12, 0, 0, tzinfo=UTC),
        datetime(2024, 1, 1, 12, 0, 0, 500, tzinfo=UTC),
        datetime(2024, 1, 1, 8, 0, 1, tzinfo=timezone(timedelta(hours=-4))),
    ]
    with store.session() as session:
        connection_id = session.get(InventoryMappingRow, mapping_id).connection_id  # type: ignore[union-attr]
        for when in reversed(instants):
            session.add(
                SyncLogRow(
                    connection_id=connection_id,
                    sync_type=SyncType.FULL,
                    direction=SyncDirection.BIDIRECTIONAL,
                    started_at=when,
                )
            )
    with store.session() as session:
        ordered = session.scalars(sa.select(SyncLogRow.started_at).order_by(SyncLogRow.started_at)).all()
        assert ordered == sorted(instants)


def test_unknown_enum_value_is_refused(store: Store, mapping_id: int) -> None:
    with pytest.raises(sa.exc.StatementError), store.session() as session:
        mapping = session.get(InventoryMappingRow, mapping_id)
        assert mapping is not None
        mapping.status = "half-matched"  # type: ignore[assignment]
        session.flush()
