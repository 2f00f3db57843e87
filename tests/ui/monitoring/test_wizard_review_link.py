"""Issue 25: the wizard's "Review the mappings…" link opens the window's Mappings tab, on the connection
being set up, filtered to what needs a person (ambiguous rows, else Atlas rows no ERP item matched)."""

from __future__ import annotations

from typing import Any

from ui_fakes import FakeAtlasSignIn, FakeConnectorFactory

from atlas_desktop.domain.enums import MappingStatus
from atlas_desktop.engine.api import DiscoverySummary
from atlas_desktop.ui.main_window import MainWindow
from atlas_desktop.ui.wizard.context import WizardContext
from atlas_desktop.ui.wizard.wizard import DISCOVERY, SetupWizard


def test_review_the_mappings_opens_the_filtered_mappings_tab(world: Any, qtbot: Any) -> None:
    services = world.services
    ctx = WizardContext(
        connections=services.connections, atlas_accounts=services.atlas_accounts,
        atlas_signin=FakeAtlasSignIn(), connector_factory=FakeConnectorFactory(), engine=None,
        draft=None, open_url=lambda url: None,
    )  # fmt: skip
    window = MainWindow(services.connections, world.engine, lambda: SetupWizard(ctx), monitoring=world.ctx)
    qtbot.addWidget(window)
    window.show()
    assert window.mappings is not None
    wizard = window.open_wizard()
    page = wizard.page_at(DISCOVERY)
    page.state.connection_id = world.connection_id
    page.result = DiscoverySummary(matched=30, ambiguous=0, unmatched_atlas=4, unmatched_erp=2)
    page.review.linkActivated.emit("review")

    assert window.tabs.currentWidget() is window.mappings
    assert window.selected_connection() == world.connection_id
    assert window.mappings.status_filter.currentData() == MappingStatus.UNMATCHED_ATLAS
    assert "Mappings" in page.review.text()  # the wizard says where the list went
    wizard.reject()
    world.run(window.aclose())  # the views' loads end with the test, not after the widgets are gone
