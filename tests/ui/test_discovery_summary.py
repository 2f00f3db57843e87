"""The wizard's discovery summary names the connection that already maps the rows it left out."""

from __future__ import annotations

from atlas_desktop.engine.api import DiscoverySummary
from atlas_desktop.ui.wizard.discovery_page import summary_html


def test_rows_mapped_by_another_connection_and_doubles_are_shown() -> None:
    summary = DiscoverySummary(3, 0, 1, 2, mapped_elsewhere=(("NetSuite main", 1269),), doubles=4)
    html = summary_html(summary)
    assert "Already mapped by connection &#x27;NetSuite main&#x27; (left out)" in html and "1,269" in html
    assert "not synced: unmap in one" in html and "<b>4</b>" in html
    assert "Already mapped" not in summary_html(DiscoverySummary(3, 0, 1, 2))
