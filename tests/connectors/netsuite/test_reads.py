"""Read details the emulator cannot show: server-time watermarks, the overlap window, field mappings."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from atlas_desktop.connectors.netsuite import build_connector
from atlas_desktop.domain.errors import ConfigError

from .helpers import Recorder, answering_zone, make_spec, no_sleep, suiteql_response

SERVER_DATE = "Tue, 03 Mar 2026 10:00:05 GMT"


def items_answer(request: httpx.Request) -> httpx.Response:
    rows = [
        {
            "id": "5",
            "itemid": "SKU5",
            "upccode": "0002-3227-30",
            "ndc": "custom",
            "islotitem": "T",
            "modified": "2026-03-03 09:59:00",
            "stockunit": "Each",
        }
    ]
    response = suiteql_response(rows, offset=0, limit=1000, total=1)
    response.headers["Date"] = SERVER_DATE
    return response


async def test_incremental_query_uses_server_time_watermark_and_overlap() -> None:
    recorder = Recorder(items_answer)
    local_clock = datetime(2026, 3, 3, 10, 3, tzinfo=UTC)  # ours runs 3 minutes ahead: the server's time wins
    connector = build_connector(
        make_spec(),
        transport=httpx.MockTransport(answering_zone(recorder)),
        sleep=no_sleep,
        clock=lambda: local_clock,
    )
    products = [p async for p in connector.products()]
    assert products[0].unit == "Each" and products[0].lot_tracked
    assert products[0].last_modified == datetime(2026, 3, 3, 9, 59, tzinfo=UTC)
    watermark = connector.read_watermark("products")
    assert watermark == datetime(2026, 3, 3, 10, 0, 4, tzinfo=UTC)  # the server's Date minus a second
    changed = [p async for p in connector.products(watermark)]
    query = recorder.queries()[-1]
    # ten minutes of overlap, with the time of day (never truncated to a date)
    assert "lastmodifieddate >= TO_DATE('2026-03-03 09:50:04', 'YYYY-MM-DD HH24:MI:SS')" in query
    assert changed == []  # the same row again, already handed out by the full read


async def test_account_time_zone_setting_converts_both_ways() -> None:
    recorder = Recorder(items_answer)
    spec = make_spec(settings={"timezone": "America/New_York"})
    # the account names no zone here: the setting decides
    connector = build_connector(spec, transport=httpx.MockTransport(recorder), sleep=no_sleep)
    products = [p async for p in connector.products(datetime(2026, 3, 3, 15, 0, tzinfo=UTC))]
    assert products[0].last_modified == datetime(2026, 3, 3, 14, 59, tzinfo=UTC)
    assert "TO_DATE('2026-03-03 09:50:00'" in recorder.queries()[-1]


async def test_upc_code_as_the_ndc_field() -> None:
    recorder = Recorder(items_answer)
    spec = make_spec(settings={"field_mappings": {"ndc_field": "upcCode"}})
    connector = build_connector(spec, transport=httpx.MockTransport(answering_zone(recorder)), sleep=no_sleep)
    products = [p async for p in connector.products()]
    assert products[0].ndc_text == "0002-3227-30"
    assert " AS ndc" not in recorder.queries()[0]


@pytest.mark.parametrize("field", ["custitem_x; DROP", "a b", "1abc", "x' OR '1'='1"])
def test_ndc_field_must_be_a_field_id(field: str) -> None:
    with pytest.raises(ConfigError, match="ndc_field"):
        build_connector(make_spec(settings={"field_mappings": {"ndc_field": field}}))


async def test_since_must_be_aware() -> None:
    connector = build_connector(
        make_spec(), transport=httpx.MockTransport(answering_zone(items_answer)), sleep=no_sleep
    )
    with pytest.raises(ValueError, match="timezone-aware"):
        [p async for p in connector.products(datetime(2026, 1, 1))]  # noqa: DTZ001


async def test_stock_incremental_rereads_only_affected_items() -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        query = json.loads(request.content)["q"]
        if "FROM transactionline" in query:
            rows = [
                {"id": "900", "line": "1", "item": "5", "modified": "2026-03-03 09:59:00"},
                {"id": "900", "line": "2", "item": "6", "modified": "2026-03-03 09:59:00"},
            ]
            return suiteql_response(rows, offset=0, limit=1000, total=2)
        if "FROM inventorynumber WHERE inventorynumber.lastmodifieddate" in query:
            return suiteql_response([], offset=0, limit=1000, total=0)
        if "FROM inventorynumberlocation" in query:
            assert "inventorynumber.item IN (5, 6)" in query
            rows = [
                {
                    "item": "5",
                    "numid": "1",
                    "location": "1",
                    "qty": "4.5",
                    "lot": "L1",
                    "expiry": "2027-01-31",
                }
            ]
            return suiteql_response(rows, offset=0, limit=1000, total=1)
        assert "aggregateitemlocation.item IN (5, 6)" in query
        return suiteql_response([{"item": "6", "location": "2", "qty": "3"}], offset=0, limit=1000, total=1)

    connector = build_connector(
        make_spec(), transport=httpx.MockTransport(answering_zone(answer)), sleep=no_sleep
    )
    since = datetime.now(UTC) - timedelta(minutes=1)
    levels = [lv async for lv in connector.stock(since)]
    assert [(lv.key.item_id, lv.key.lot, str(lv.quantity)) for lv in levels] == [
        ("5", "L1", "4.5"),
        ("6", None, "3"),
    ]
    # the same transaction seen again in the next overlap window is not re-read
    assert [lv async for lv in connector.stock(connector.read_watermark("stock"))] == []
