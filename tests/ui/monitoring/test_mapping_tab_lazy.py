"""The mapping table reads only while its tab is shown: counting 200k mappings on the GUI thread after
every sync cost ~100 ms with the tab hidden. Shown again, it reads what it skipped."""

from __future__ import annotations

from typing import Any

from atlas_desktop.domain.enums import MappingStatus
from atlas_desktop.ui.main_window import MainWindow
from atlas_desktop.ui.monitoring.mapping_view import MappingsView


class CountingPages:
    """The mapping view's repository, counting the queries that reach it."""

    def __init__(self, real: Any) -> None:
        self.real = real
        self.counts = 0
        self.pages = 0

    def count(self, *args: Any, **kwargs: Any) -> int:
        self.counts += 1
        return int(self.real.count(*args, **kwargs))

    def page(self, *args: Any, **kwargs: Any) -> list[Any]:
        self.pages += 1
        return list(self.real.page(*args, **kwargs))


def counted(view: MappingsView) -> CountingPages:
    spy = CountingPages(view.model.repo)
    view.model.repo = spy
    return spy


def test_a_hidden_mapping_tab_does_not_query_on_refresh(world: Any, qtbot: Any) -> None:
    window = MainWindow(world.services.connections, world.engine, lambda: None, monitoring=world.ctx)
    qtbot.addWidget(window)
    window.show()
    mappings = window.mappings
    assert mappings is not None and window.tabs.currentWidget() is window.dashboard
    spy = counted(mappings)

    window.refresh_monitoring()  # what the window does after every run
    mappings.set_connection(world.connection_id)  # and when the selected connection changes
    assert spy.counts == spy.pages == 0
    assert mappings.stale

    window.tabs.setCurrentWidget(mappings)  # shown: it reads now, with the filter as set
    assert spy.counts == 1 and not mappings.stale
    assert mappings.model.rowCount() == world.engine.repos.mappings.count(world.connection_id)
    assert mappings.count_label.text().startswith(f"{mappings.model.rowCount():,} row")

    window.refresh_monitoring()  # on screen: refreshed at once
    assert spy.counts == 2

    window.tabs.setCurrentWidget(window.dashboard)
    mappings.status_filter.setCurrentIndex(mappings.status_filter.findData(MappingStatus.MATCHED))
    assert spy.counts == 2  # a filter changed while hidden waits too
    window.tabs.setCurrentWidget(mappings)
    assert spy.counts == 3
    assert mappings.model.rowCount() == len(world.matched())


def test_a_mapping_view_on_its_own_reads_at_once(world: Any, qtbot: Any) -> None:
    view = MappingsView(world.ctx)
    qtbot.addWidget(view)
    spy = counted(view)
    view.set_connection(world.connection_id)
    assert spy.counts == 1 and view.model.rowCount() > 0
    view.set_active(False)
    view.refresh()
    assert spy.counts == 1 and view.stale
    view.set_active(True)
    assert spy.counts == 2 and not view.stale
