"""Every monitoring view rendered from a store real syncs filled; PNGs go to ATLAS_SCREENSHOT_DIR when set."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from atlas_desktop.app.engine_setup import build_engine
from atlas_desktop.domain.connection import parse_connection
from atlas_desktop.domain.enums import MappingStatus, SyncType
from atlas_desktop.engine.api import RunProgress, RunStarted, RunStatus
from atlas_desktop.engine.health import HealthKind
from atlas_desktop.sandbox.atlas import build as build_atlas
from atlas_desktop.sandbox.catalog import Catalog
from atlas_desktop.sandbox.registry import SandboxOptions
from atlas_desktop.sandbox.sap import build as build_sap
from atlas_desktop.ui.monitoring.conflicts_view import ConflictsView
from atlas_desktop.ui.monitoring.dashboard import ConnectionCard, DashboardView
from atlas_desktop.ui.monitoring.explain_dialog import ExplainDialog
from atlas_desktop.ui.monitoring.history_view import HistoryView
from atlas_desktop.ui.monitoring.mapping_view import MappingsView
from atlas_desktop.ui.monitoring.settings_dialog import SettingsDialog

SAP_URL = "http://127.0.0.1:8125"


@pytest.fixture
def sap_connection(world: Any) -> Iterator[str]:
    """A second, healthy connection (SAP S/4HANA Cloud) synced by its own engine into the same profile."""
    options = SandboxOptions(catalog=Catalog(seed=12, size=30), seed=12)
    sap = next(e for e in build_sap(options) if e.name == "sap-cloud")
    atlas = build_atlas(options)
    spec = parse_connection(sap.credential_files(SAP_URL)["sap-cloud.json"])
    connection_id = world.services.connections.add(spec)
    engine = build_engine(
        world.services,
        transport=httpx.ASGITransport(app=sap.app),
        atlas_options={"transport": httpx.ASGITransport(app=atlas.app)},
    )
    world.run(engine.discover(connection_id))
    first = world.run(engine.sync(connection_id, approve=True))
    assert first.status is RunStatus.SUCCESS, first.error_message
    yield connection_id
    world.run(engine.aclose())


def degrade(world: Any) -> tuple[Any, Any]:
    """A conflict (both sides went to zero on one item) and a failed write (the ERP refused one posting)."""
    clash, failing = [m for m in world.matched() if world.sides(m)[0] >= 3][:2]
    atlas_qty, erp_qty = world.sides(clash)
    world.atlas.sell(clash.atlas_inventory_id, atlas_qty)
    world.netsuite.state.issue(int(clash.erp_item_id), int(clash.erp_location_id), erp_qty, clash.lot)
    world.atlas.sell(failing.atlas_inventory_id, 1)
    path = "/record/v1/inventoryAdjustment"
    rule = world.netsuite.faults.add("status", path=path, method="POST", status=400)
    run = world.run(world.engine.sync(world.connection_id))
    world.netsuite.faults.rules.remove(rule)
    assert (run.status, run.conflicts_opened, run.items_failed) == (RunStatus.PARTIAL, 1, 1), run
    return clash, failing


def test_monitoring_views_render(world: Any, sap_connection: str, qtbot: Any, shoot: Any) -> None:
    _clash, failing = degrade(world)

    dashboard = DashboardView(world.ctx)
    qtbot.addWidget(dashboard)
    dashboard.resize(980, 720)
    with qtbot.waitSignal(dashboard.reloaded, timeout=5000):
        dashboard.reload()
    expected = {world.connection_id: HealthKind.NEEDS_CHOICE, sap_connection: HealthKind.IN_SYNC}
    assert dashboard.healths() == expected
    assert dashboard.cards[world.connection_id].values["conflicts"].text() == "1"
    shoot(dashboard, "monitoring-dashboard.png")

    mappings = MappingsView(world.ctx)
    qtbot.addWidget(mappings)
    mappings.resize(1000, 600)  # the Mappings tab of a 1024×700 window
    mappings.set_connection(world.connection_id)
    mappings.status_filter.setCurrentIndex(mappings.status_filter.findData(MappingStatus.MATCHED))
    mappings.search.setText("tablet")  # the filter a person reviewing one product family would type
    qtbot.waitUntil(lambda: mappings.model.search != "", timeout=5000)
    rows = [mappings.model.row_at(r) for r in range(mappings.model.rowCount())]
    assert len(rows) > 1 and {row.status for row in rows} == {MappingStatus.MATCHED}
    assert all("tablet" in (row.item_name or "").lower() for row in rows)
    assert mappings.count_label.text() == f"{len(rows)} rows"
    qtbot.waitUntil(lambda: bool(mappings.model.location_names), timeout=5000)  # locations by name
    shoot(mappings, "monitoring-mappings-filtered.png")

    conflicts = ConflictsView(world.ctx)
    qtbot.addWidget(conflicts)
    conflicts.resize(1100, 560)
    conflicts.set_connection(world.connection_id)
    qtbot.waitUntil(lambda: conflicts.open_model.rowCount() == 1, timeout=5000)
    conflicts.table.selectRow(0)
    shoot(conflicts, "monitoring-conflicts.png")

    history = HistoryView(world.ctx)
    qtbot.addWidget(history)
    history.resize(1000, 600)  # the History tab of a 1024×700 window
    history.set_connection(world.connection_id)
    qtbot.waitUntil(lambda: history.errors_model.rowCount() == 1, timeout=5000)
    assert history.runs_model.index(0, 2).data() == "partial"
    assert history.errors_model.rows[0].mapping_id == failing.id
    history.errors.selectRow(0)
    assert history.explain_button.isEnabled()
    shoot(history, "monitoring-history.png")

    explain = ExplainDialog(world.ctx, failing.id)
    qtbot.addWidget(explain)
    qtbot.waitUntil(lambda: explain.mapping is not None, timeout=5000)
    assert "failed" in {explain.table.item(r, 4).text() for r in range(explain.table.rowCount())}
    shoot(explain, "monitoring-explain.png")

    settings = SettingsDialog(world.services.settings, world.services.paths.root)
    qtbot.addWidget(settings)
    shoot(settings, "monitoring-settings.png")


def alone(dashboard: DashboardView, connection_id: str, qtbot: Any) -> ConnectionCard:
    card = ConnectionCard(next(s for s in dashboard.snapshots if s.summary.id == connection_id))
    qtbot.addWidget(card)
    card.resize(760, 420)
    return card


def test_health_cards_render(world: Any, qtbot: Any, shoot: Any) -> None:
    """A first sync under way (phase and N of M) and a card waiting for choices (each a link)."""
    first = world.services.connections.add(world.services.connections.get(world.connection_id))
    world.services.connections.update(first, name="NetSuite — second subsidiary")
    dashboard = DashboardView(world.ctx)
    qtbot.addWidget(dashboard)
    with qtbot.waitSignal(dashboard.reloaded, timeout=5000):
        dashboard.reload()
    dashboard.on_bridge_run_started(RunStarted(first, SyncType.FULL))
    dashboard.on_bridge_run_progressed(RunProgress(first, "merge", 1_240, 4_180))
    assert dashboard.cards[first].health is HealthKind.SYNCING
    syncing = alone(dashboard, first, qtbot)  # a card of its own window, so it renders at its own size
    assert syncing.health is HealthKind.SYNCING and "1,240 of 4,180" in syncing.problems.text()
    assert syncing.progress.text() == "1,240 of 4,180" and syncing.cancel_button.isVisibleTo(syncing)
    shoot(syncing, "monitoring-card-syncing.png")

    _clash, _failing = degrade(world)
    ids = ",".join(str(m.id) for m in world.matched()[:12])
    ambiguous = f"UPDATE erp_inventory_mappings SET status = 'ambiguous' WHERE id IN ({ids})"
    with world.services.store.session() as session, session.begin():
        session.execute(sa.text(ambiguous))  # what discovery leaves when an NDC matches several items
    with qtbot.waitSignal(dashboard.reloaded, timeout=5000):
        dashboard.reload()
    waiting = alone(dashboard, world.connection_id, qtbot)
    assert waiting.health is HealthKind.NEEDS_CHOICE
    assert waiting.choices["ambiguous"].text().startswith("12 items")
    assert waiting.choices["conflicts"].text().startswith("1 conflict")
    shoot(waiting, "monitoring-card-needs-choice.png")
