"""Issue 25: the SAP preferences show plant and storage-location names, not bare codes. SAP lists no
names, so the page lets the user name each location; the names are stored in the connection's settings
and the SAP connector's `locations()` returns them (so every view that names locations shows them)."""

from __future__ import annotations

import asyncio
from typing import Any

from ui_fakes import GOOD_TOKEN, FakeConnector, FakeConnectorFactory, User

from atlas_desktop.connectors.sap import build_connector
from atlas_desktop.domain.connection import ConnectionSpec
from atlas_desktop.domain.model import ErpType, Location
from atlas_desktop.ui.wizard.context import SandboxInfo
from atlas_desktop.ui.wizard.location_names import COL_NAME
from atlas_desktop.ui.wizard.wizard import CREDENTIALS, ERP_CHOICE, INSTRUCTIONS, PREFERENCES, SIGNIN, TEST

SERVICE_KEY = (
    '{"url": "https://my123456-api.s4hana.cloud.sap", '
    '"uaa": {"clientid": "sb-atlas", "clientsecret": "Zx9-secret", "url": "https://a.authentication.sap"}}'
)
SANDBOX_SETTINGS = {
    "location_map": {"MAIN": "1010/0001", "EAST": "1010/0002"},
    "location_names": {"1010/0001": "Main warehouse"},
}


class SapLikeConnector(FakeConnector):
    """The fake's test and discovery answers; locations as the real SAP connector lists them."""

    async def locations(self) -> list[Location]:
        return await build_connector(self.spec).locations()


def to_preferences(make_wizard: Any, qtbot: Any) -> Any:
    sandbox = SandboxInfo(
        urls={}, credential_files={"sap.json": {"erp_type": "sap", "base_url": "https://x",
                                                "settings": SANDBOX_SETTINGS}},
    )  # fmt: skip
    wizard = make_wizard(connector_factory=FakeConnectorFactory(SapLikeConnector), sandbox=sandbox)
    user = User(qtbot, wizard)
    signin = wizard.page_at(SIGNIN)
    signin.token.set_text(GOOD_TOKEN)
    signin.token.edited.emit(GOOD_TOKEN)
    user.next_when_ready(ERP_CHOICE)
    user.click(wizard.page_at(ERP_CHOICE).buttons[ErpType.SAP_CLOUD])
    user.next_when_ready(INSTRUCTIONS)
    user.next_when_ready(CREDENTIALS)
    user.paste_into(wizard.page_at(CREDENTIALS).paste_box, SERVICE_KEY)
    user.next_when_ready(TEST)
    user.next_when_ready(PREFERENCES)
    page = wizard.page_at(PREFERENCES)
    qtbot.waitUntil(lambda: not page.busy(), timeout=3000)
    return wizard, page


def test_the_sap_preferences_list_each_location_with_an_editable_name(make_wizard: Any, qtbot: Any) -> None:
    wizard, page = to_preferences(make_wizard, qtbot)
    box = page.location_names
    assert box.isVisible()
    table = box.table
    rows = {table.item(r, 0).text(): table.item(r, COL_NAME).text() for r in range(table.rowCount())}
    # The sandbox's name pre-filled; an unnamed location is listed with a blank name to fill in.
    assert rows == {"1010/0001": "Main warehouse", "1010/0002": ""}
    assert table.item(0, COL_NAME).flags() & table.item(0, COL_NAME).flags().ItemIsEditable
    assert not table.item(0, 0).flags() & table.item(0, 0).flags().ItemIsEditable
    box.set_name("1010/0002", "East distribution center")
    assert wizard.state.prefs["erp_settings"]["location_names"] == {
        "1010/0001": "Main warehouse", "1010/0002": "East distribution center"
    }  # fmt: skip


def test_the_names_given_reach_the_connectors_locations(make_wizard: Any, qtbot: Any) -> None:
    wizard, page = to_preferences(make_wizard, qtbot)
    page.location_names.set_name("1010/0001", "Main warehouse, Newark")
    page.location_names.set_name("1010/0002", "Cold room")
    assert wizard.commit_connection()
    stored: ConnectionSpec = wizard.ctx.connections.get(wizard.state.connection_id)
    task = asyncio.ensure_future(build_connector(stored).locations())  # the app's loop is running
    qtbot.waitUntil(task.done, timeout=3000)
    names = {loc.id: loc.name for loc in task.result()}
    assert names["1010/0001"] == "Main warehouse, Newark" and names["1010/0002"] == "Cold room"


def test_a_plant_typed_on_the_page_adds_its_locations_to_name(make_wizard: Any, qtbot: Any) -> None:
    wizard, page = to_preferences(make_wizard, qtbot)
    page.location_names.set_name("1010/0002", "Cold room")
    page.erp_fields["plants"].setEditText("1010, 1710")
    table = page.location_names.table

    def listed() -> dict[str, str]:
        return {table.item(r, 0).text(): table.item(r, COL_NAME).text() for r in range(table.rowCount())}

    qtbot.waitUntil(lambda: "1710/0001" in listed(), timeout=3000)
    assert listed()["1010/0002"] == "Cold room"  # a name typed before stays
