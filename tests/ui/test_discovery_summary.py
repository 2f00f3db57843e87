"""The wizard's discovery summary: the connection that already maps the rows it left out, and why each
Atlas row was not found in the ERP."""

from __future__ import annotations

from typing import Any

from atlas_desktop.engine.api import DiscoverySummary
from atlas_desktop.ui.wizard.discovery_page import summary_html
from atlas_desktop.ui.wizard.wizard import DISCOVERY


def test_rows_mapped_by_another_connection_and_doubles_are_shown() -> None:
    summary = DiscoverySummary(3, 0, 1, 2, mapped_elsewhere=(("NetSuite main", 1269),), doubles=4)
    html = summary_html(summary)
    assert "Already mapped by connection &#x27;NetSuite main&#x27; (left out)" in html and "1,269" in html
    assert "not synced: unmap in one" in html and "<b>4</b>" in html
    assert "Already mapped" not in summary_html(DiscoverySummary(3, 0, 1, 2))


def test_rows_not_found_in_the_erp_are_counted_by_reason() -> None:
    reasons = (("NDC not in the ERP", 22), ("no NDC on the Atlas listing", 9))
    html = summary_html(DiscoverySummary(3, 0, 31, 2, unmatched_reasons=reasons))
    assert "NDC not in the ERP" in html and "<b>22</b>" in html and "no NDC on the Atlas listing" in html
    assert (
        html.index("not found in the ERP")
        < html.index("NDC not in the ERP")
        < html.index("not listed on Atlas")
    )


def test_the_discovery_page_opens_each_rows_reason_and_fix(make_wizard: Any, qtbot: Any) -> None:
    wizard = make_wizard()
    page = wizard.page_at(DISCOVERY)
    page.state.connection_id = "c-1"
    page.start()
    qtbot.waitUntil(lambda: page.result is not None and not page.busy(), timeout=3000)
    assert not page.why.isHidden()
    page.why.linkActivated.emit("why")
    qtbot.waitUntil(lambda: page.unmatched_dialog is not None, timeout=3000)
    dialog = page.unmatched_dialog
    assert dialog.model.rowCount() == page.result.unmatched_atlas == 38
    first = [dialog.model.index(0, c).data() for c in range(dialog.model.columnCount())]
    assert (
        first[4] == "NDC not in the ERP" and "no ERP item" in first[5] and "connection settings" in first[6]
    )
    dialog.close()


def test_the_discovery_page_says_when_it_pairs_rather_than_counting_zero(make_wizard: Any) -> None:
    from atlas_desktop.engine.api import DiscoveryProgress

    page = make_wizard().page_at(DISCOVERY)
    page.state.connection_id = "c-1"
    page.on_discovery_progressed(DiscoveryProgress("c-1", 4_000, phase="pull"))
    assert page.status.text() == "Reading Atlas and the ERP: 4,000 rows read…"
    page.on_discovery_progressed(DiscoveryProgress("c-1", 0, phase="match"))
    assert "Pairing" in page.status.text() and "0" not in page.status.text()
    assert page.progress.maximum() == 0  # busy, not a bar stuck at zero
