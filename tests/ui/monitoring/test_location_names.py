"""ERP location names for the views: asked once, and an offline ERP is not asked again at every click."""

from __future__ import annotations

from typing import Any

from atlas_desktop.domain.errors import NetworkError
from atlas_desktop.domain.model import Location
from atlas_desktop.ui.monitoring.location_names import LocationNames


class Erp:
    async def locations(self) -> list[Location]:
        return [Location("1", "Main warehouse")]


class Engine:
    def __init__(self, online: bool) -> None:
        self.online, self.asked = online, 0

    async def erp(self, connection_id: str) -> Erp:
        self.asked += 1
        if not self.online:
            raise NetworkError("no route to the ERP")
        return Erp()


def test_names_are_asked_once_and_an_offline_erp_falls_back_to_the_id(run: Any) -> None:
    online = Engine(online=True)
    names = LocationNames(online)
    found = run(names.names("c1"))
    assert LocationNames.word(found, "1") == "Main warehouse"
    run(names.names("c1"))
    assert online.asked == 1

    offline = Engine(online=False)
    names = LocationNames(offline)
    assert run(names.names("c1")) == {}
    assert LocationNames.word({}, "1") == "location 1"
    run(names.names("c1"))
    assert offline.asked == 1  # not again right away
