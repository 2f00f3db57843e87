"""What callers ask of a connector beyond reads and writes is part of the contract (domain/connector.py),
asked through typed calls: the read watermark and the wizard's setting choices."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from atlas_desktop.connectors.netsuite.connector import NetSuiteConnector
from atlas_desktop.connectors.sap.connector import SapConnector
from atlas_desktop.domain.connector import ReadWatermarks, SettingChoices
from atlas_desktop.engine.pull import connector_watermark


@pytest.mark.parametrize("connector", [NetSuiteConnector, SapConnector])
def test_both_erps_offer_the_watermark_and_the_setting_choices(connector: type) -> None:
    assert issubclass(connector, ReadWatermarks)
    assert issubclass(connector, SettingChoices)


class _Marks:
    def __init__(self, mark: datetime | None) -> None:
        self.mark = mark

    def read_watermark(self, stream: str) -> datetime | None:
        return self.mark if stream == "stock" else None


def test_the_engine_takes_an_aware_watermark_and_nothing_else() -> None:
    aware = datetime(2026, 3, 1, 12, tzinfo=UTC)
    assert connector_watermark(_Marks(aware), "stock") == aware
    assert connector_watermark(_Marks(aware), "products") is None
    assert connector_watermark(_Marks(aware.replace(tzinfo=None)), "stock") is None  # our clock then
    assert connector_watermark(object(), "stock") is None  # a connector that keeps none
