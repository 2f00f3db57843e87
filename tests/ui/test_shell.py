"""The app shell: engine events as throttled signals, the connections table, the crash report, the main
window starting the first sync when the wizard finishes, and the full SAP setup."""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QWizard
from ui_fakes import GOOD_TOKEN, FakeEngine, User

from atlas_desktop.domain.enums import SyncType
from atlas_desktop.domain.model import ErpType
from atlas_desktop.domain.secrets import Secret
from atlas_desktop.engine.api import DiscoveryProgress, EventBus, RunProgress, RunStarted
from atlas_desktop.ui.bridge import EngineBridge
from atlas_desktop.ui.connections_model import ConnectionsTableModel
from atlas_desktop.ui.crash_dialog import CrashDialog
from atlas_desktop.ui.main_window import MainWindow
from atlas_desktop.ui.wizard.wizard import (
    ACTIVATE,
    CREDENTIALS,
    DISCOVERY,
    ERP_CHOICE,
    INSTRUCTIONS,
    PREFERENCES,
    SIGNIN,
    TEST,
    SetupWizard,
)


def test_bridge_coalesces_progress_and_keeps_order(qtbot: Any, qloop: Any) -> None:
    bus = EventBus()
    bridge = EngineBridge(bus)
    seen: list[Any] = []
    bridge.run_progressed.connect(seen.append)
    bridge.run_started.connect(seen.append)
    bridge.discovery_progressed.connect(seen.append)
    for done in range(1000):
        bus.publish(RunProgress("c1", "pull", done, 1000))
    bus.publish(DiscoveryProgress("c2", 5, 10))
    bus.publish(RunStarted("c1", SyncType.MANUAL))  # flushes c1's pending progress first
    assert [type(e).__name__ for e in seen] == ["RunProgress", "RunStarted"]
    assert seen[0].done == 999
    qtbot.waitUntil(lambda: len(seen) == 3, timeout=1000)
    assert isinstance(seen[2], DiscoveryProgress)
    bridge.close()
    bus.publish(RunStarted("c1", SyncType.MANUAL))
    assert len(seen) == 3  # unsubscribed


def test_crash_dialog_redacts_and_copies(qtbot: Any, qapp: Any) -> None:
    secret = Secret("s3cr3t-token-value-123")
    dialog = CrashDialog(f"Traceback ...\nValueError: bad answer for token {secret.reveal()}\n")
    qtbot.addWidget(dialog)
    assert secret.reveal() not in dialog.text.toPlainText()
    dialog.copy_button.click()
    assert "ValueError" in qapp.clipboard().text() and secret.reveal() not in qapp.clipboard().text()


def test_connections_model_is_a_valid_qt_model(qtmodeltester: Any, services: Any) -> None:
    from atlas_desktop.domain.connection import parse_connection

    services.connections.add(parse_connection({"account_id": "123", **{k: "a" * 64 for k in (
        "consumer_key", "consumer_secret", "token_id", "token_secret")}}))  # fmt: skip
    model = ConnectionsTableModel()
    model.set_connections(services.connections.list())
    qtmodeltester.check(model)
    assert model.rowCount() == 1 and model.index(0, 1).data() == "Oracle NetSuite"


def test_sap_setup_runs_to_the_first_sync_from_the_main_window(
    make_context: Any, qtbot: Any, qloop: Any, services: Any
) -> None:
    engine = FakeEngine()
    ctx = make_context(engine=engine)
    window = MainWindow(services.connections, engine, lambda: SetupWizard(ctx))
    qtbot.addWidget(window)
    window.show()
    wizard = window.open_wizard()
    user = User(qtbot, wizard)
    signin = wizard.page_at(SIGNIN)
    signin.token.set_text(GOOD_TOKEN)
    signin.token.edited.emit(GOOD_TOKEN)
    user.next_when_ready(ERP_CHOICE)
    user.click(wizard.page_at(ERP_CHOICE).buttons[ErpType.SAP_CLOUD])
    user.next_when_ready(INSTRUCTIONS)
    user.next_when_ready(CREDENTIALS)
    service_key = (
        '{"url": "https://my123456-api.s4hana.cloud.sap", '
        '"uaa": {"clientid": "sb-atlas", "clientsecret": "Zx9-secret", "url": "https://a.authentication.sap"}}'
    )
    user.paste_into(wizard.page_at(CREDENTIALS).paste_box, service_key)
    user.next_when_ready(TEST)
    user.next_when_ready(PREFERENCES)
    user.next_when_ready(DISCOVERY)
    user.next_when_ready(ACTIVATE)
    finish = wizard.button(QWizard.WizardButton.FinishButton)
    qtbot.waitUntil(finish.isEnabled, timeout=3000)
    user.click(finish)
    qtbot.waitUntil(lambda: engine.synced != [], timeout=3000)
    assert (user.pastes, user.clicks) == (1, 9)
    connection_id, sync_type, approved = engine.synced[0]
    assert (sync_type, approved) == (SyncType.FULL, True)
    spec = services.connections.get(connection_id)
    assert spec.erp_type is ErpType.SAP_CLOUD
    assert spec.settings["token_endpoint"] == "https://a.authentication.sap/oauth/token"
    assert spec.settings["plants"] == "1010"
    assert spec.settings["movement_types"] == {"receipt": "501", "issue": "201"}
    assert spec.secrets["client_secret"].reveal() == "Zx9-secret"
    qtbot.waitUntil(lambda: "Sync success" in window.activity.toPlainText(), timeout=3000)
    assert window.model.rowCount() == 1
    window.close()
