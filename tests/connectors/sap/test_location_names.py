"""Issue 25: SAP's APIs list no plant or storage-location names, so the user names them in the
connection's settings (`location_names`) and `locations()` gives those names to every view."""

from __future__ import annotations

import asyncio

import httpx

from tests.connectors.sap.helpers import make


def _refuse(request: httpx.Request) -> httpx.Response:
    raise AssertionError(f"locations() needs no request: {request.url}")


def test_locations_carry_the_names_the_user_gave() -> None:
    connector = make(
        _refuse,
        settings={
            "location_map": {"MAIN": "1010/0001", "EAST": "1010/0002"},
            "location_names": {"1010/0001": "Main warehouse, Newark", "1020/0001": "Cold room"},
            "plants": ["1020"],
            "storage_locations": ["0001"],
        },
    )
    found = {location.id: location for location in asyncio.run(connector.locations())}
    assert found["1010/0001"].name == "Main warehouse, Newark" and found["1010/0001"].code == "MAIN"
    assert found["1020/0001"].name == "Cold room"
    # Unnamed: the codes in words, as before.
    assert found["1010/0002"].name == "Plant 1010, storage location 0002"


def test_a_name_without_a_location_elsewhere_is_still_listed() -> None:
    connector = make(_refuse, settings={"location_names": {"1710/0003": "Returns cage"}})
    assert [(loc.id, loc.name) for loc in asyncio.run(connector.locations())] == [
        ("1710/0003", "Returns cage")
    ]
