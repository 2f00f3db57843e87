"""The token user's time zone: found by asking the account, shown by the connection test, used by reads."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import httpx
import pytest

from atlas_desktop.connectors.netsuite import build_connector
from atlas_desktop.connectors.netsuite.connection_test import TIME_ZONE
from atlas_desktop.connectors.netsuite.user_zone import parse_offset
from atlas_desktop.domain.errors import ConfigError
from atlas_desktop.domain.model import StockChange, StockKey
from atlas_desktop.sandbox.netsuite import NetSuiteEmulator

from .emulator_support import Clock, connect, make_emulator
from .helpers import error_response, make_spec, no_sleep, suiteql_response

NEW_YORK = "America/New_York"
SERVER_DATE = "Tue, 03 Mar 2026 15:00:05 GMT"  # 10:00:05 in New York (EST)


def account(zone_name: str | None, offset: str | None, wall: str | None = None) -> httpx.MockTransport:
    """An account answering the zone probes as given (None: the probe is refused), items otherwise."""

    def answer(request: httpx.Request) -> httpx.Response:
        query = json.loads(request.content)["q"] if request.url.path.endswith("/suiteql") else ""
        if "FROM dual" in query:
            value = zone_name if "SESSIONTIMEZONE" in query else (offset if "TZH" in query else wall)
            if value is None:
                return error_response(400, "INVALID_PARAMETER", "Invalid search query.")
            key = "zone" if "SESSIONTIMEZONE" in query else "now"
            response = suiteql_response([{key: value}], offset=0, limit=1, total=1)
            response.headers["Date"] = SERVER_DATE
            return response
        if query:
            return suiteql_response(
                [{"id": "7", "itemid": "SKU7", "islotitem": "F"}], offset=0, limit=1, total=1
            )
        return httpx.Response(200, json={"id": "7", "itemId": "SKU7"})

    return httpx.MockTransport(answer)


async def zone_step(transport: httpx.MockTransport, **settings: str) -> tuple[bool, str, str | None]:
    spec = make_spec(settings={"adjustment_account_id": "2615", **settings})
    connector = build_connector(spec, transport=transport, sleep=no_sleep)
    report = await connector.test_connection()
    step = report.steps[-1]
    assert step.name == TIME_ZONE
    return step.ok, step.detail, step.fix


def test_offsets_are_parsed() -> None:
    assert parse_offset("2026-03-03 10:00:05 -05:00") == -timedelta(hours=5)
    assert parse_offset("2026-03-03 15:30:05 +05:30") == timedelta(hours=5, minutes=30)
    assert parse_offset("2026-03-03 10:00:05") is None
    assert parse_offset("-1234") is None and parse_offset("x -05:00") is None  # damaged, not an offset


async def test_the_connection_test_names_the_users_zone_from_the_account() -> None:
    emulator = make_emulator(5, Clock(), timezone=NEW_YORK)
    report = await connect(emulator, Clock()).test_connection()
    step = report.steps[-1]
    assert step.name == TIME_ZONE and step.ok, report
    offset = datetime.now(UTC).astimezone(emulator.state.user_zone).strftime("%z")
    assert step.detail.startswith(f"America/New_York (UTC{offset[:3]}:{offset[3:]} now)")
    assert "preference" in step.detail


async def test_an_offset_alone_confirms_the_setting() -> None:
    ok, detail, _ = await zone_step(account(None, "2026-03-03 10:00:05 -05:00"), timezone=NEW_YORK)
    assert ok and detail.startswith("America/New_York (UTC-05:00 now)") and "settings.timezone" in detail


async def test_an_offset_without_a_zone_name_asks_for_the_setting() -> None:
    ok, detail, fix = await zone_step(account(None, "2026-03-03 10:00:05 -05:00"))
    assert not ok and "UTC-05:00" in detail and "does not name the time zone" in detail
    assert fix is not None and "settings.timezone" in fix and "Set Preferences" in fix


async def test_a_setting_the_account_contradicts_is_refused() -> None:
    ok, detail, fix = await zone_step(account(None, "2026-03-03 10:00:05 -05:00"), timezone="Europe/Berlin")
    assert not ok and "Europe/Berlin" in detail and "UTC-05:00" in detail
    assert fix is not None and "Set Preferences" in fix


async def test_the_offset_comes_from_the_wall_clock_when_tzh_is_refused() -> None:
    ok, detail, _ = await zone_step(account(None, None, wall="2026-03-03 10:00:05"), timezone=NEW_YORK)
    assert ok and detail.startswith("America/New_York (UTC-05:00 now)")


async def test_no_answer_and_no_setting_is_a_step_with_a_fix_not_a_crash() -> None:
    ok, detail, fix = await zone_step(account(None, None, None))
    assert not ok and "did not tell the integration user's time zone" in detail
    assert fix is not None and "settings.timezone" in fix


async def test_a_read_without_a_known_zone_stops_with_the_fix() -> None:
    connector = build_connector(
        make_spec(), transport=account(None, "2026-03-03 10:00:05 -05:00"), sleep=no_sleep
    )
    with pytest.raises(ConfigError, match="does not name the time zone"):
        [p async for p in connector.products(datetime(2026, 3, 3, 15, tzinfo=UTC))]


# ---- reads against the emulator, its user in New York ----------------------------------------------


def stamped_move(emulator: NetSuiteEmulator, item: int, utc_text: str) -> None:
    """An ERP user's stock move whose lastmodifieddate is `utc_text` (the emulator's clock stays near now)."""
    txn = emulator.state.receive(item, 1, 4)
    emulator.state.update("transaction", txn, {"lastmodifieddate": utc_text})


async def reread_items(connector: object, since: datetime) -> list[str]:
    return [level.key.item_id async for level in connector.stock(since)]  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("stamp", "first_since", "second_since"),
    [
        # 23:30 in New York is 04:30 UTC the next day
        (
            "2026-11-28 04:30:00",
            datetime(2026, 11, 28, 4, 25, tzinfo=UTC),
            datetime(2026, 11, 28, 4, 35, tzinfo=UTC),
        ),
        # 01:30 EST, the second 01:30 of the night clocks go back
        (
            "2026-11-01 06:30:00",
            datetime(2026, 11, 1, 6, 25, tzinfo=UTC),
            datetime(2026, 11, 1, 6, 35, tzinfo=UTC),
        ),
        # 03:05 EDT, just after clocks go forward (02:00 EST -> 03:00 EDT)
        (
            "2026-03-08 07:05:00",
            datetime(2026, 3, 8, 7, 0, tzinfo=UTC),
            datetime(2026, 3, 8, 7, 10, tzinfo=UTC),
        ),
    ],
    ids=["local-23:30", "dst-fall-back", "dst-spring-forward"],
)
async def test_a_change_at_any_local_time_is_read_exactly_once(
    stamp: str, first_since: datetime, second_since: datetime
) -> None:
    clock = Clock()
    emulator = make_emulator(20, clock, timezone=NEW_YORK)
    item = emulator.state.item_ids(lot=False, limit=1)[0]
    connector = connect(emulator, clock)
    stamped_move(emulator, item, stamp)
    # the read just after the change re-reads its item; the next one, whose overlap covers it, does not
    assert str(item) in await reread_items(connector, first_since)
    assert await reread_items(connector, second_since) == []


async def test_returned_datetimes_are_parsed_from_the_users_zone() -> None:
    clock = Clock()
    emulator = make_emulator(5, clock, timezone=NEW_YORK)
    item = emulator.state.item_ids(limit=1)[0]
    emulator.state.update("item", item, {"lastmodifieddate": "2026-11-28 04:30:00"})
    connector = connect(emulator, clock)
    products = [p async for p in connector.products(datetime(2026, 11, 28, 4, 25, tzinfo=UTC))]
    edited = [p.last_modified for p in products if p.erp_item_id == str(item)]
    assert edited == [datetime(2026, 11, 28, 4, 30, tzinfo=UTC)]


async def test_the_zone_is_asked_once_per_hour_not_per_read() -> None:
    asked: list[str] = []
    inner = account(NEW_YORK, None)

    def counting(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/suiteql") and "FROM dual" in json.loads(request.content)["q"]:
            asked.append(json.loads(request.content)["q"])
        return inner.handler(request)  # type: ignore[attr-defined]

    now = [datetime(2026, 3, 3, 15, tzinfo=UTC)]
    connector = build_connector(
        make_spec(), transport=httpx.MockTransport(counting), sleep=no_sleep, clock=lambda: now[0]
    )
    for _ in range(3):
        [p async for p in connector.products(now[0] - timedelta(minutes=5))]
    assert asked == ["SELECT SESSIONTIMEZONE AS zone FROM dual"]  # a region: no offset probe needed
    now[0] += timedelta(hours=1, seconds=1)
    [p async for p in connector.products(now[0] - timedelta(minutes=5))]
    assert len(asked) == 2  # a preference changed in NetSuite is seen within the hour


@pytest.mark.parametrize("zone", ["Pacific/Kiritimati", "Pacific/Pago_Pago"])  # UTC+14, UTC-11
async def test_a_write_is_dated_the_users_today_once_the_zone_is_known(zone: str) -> None:
    # At any hour one of the two zones is on another day than UTC.
    clock = Clock()
    emulator = make_emulator(5, clock, timezone=zone)
    connector = connect(emulator, clock)
    [p async for p in connector.products(datetime.now(UTC) - timedelta(minutes=1))]  # learns the zone
    item = emulator.state.item_ids(lot=False, limit=1)[0]
    result = await connector.adjust_stock(
        StockChange(StockKey(str(item), "1", None), Decimal(2), "EA"), "k-1"
    )
    posted = emulator.state.get("transaction", int(result.remote_id or 0))
    assert posted is not None
    assert posted["trandate"] == f"{datetime.now(ZoneInfo(zone)).date().isoformat()} 00:00:00"
