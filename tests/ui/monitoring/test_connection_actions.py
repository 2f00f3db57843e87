"""Issue 25: a connection can be removed and its credentials replaced from the window, with the command
line's protection (no silent loss of unsent writes) and a connection test before new credentials are kept."""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QLineEdit

from atlas_desktop.domain.enums import OutboxStatus
from atlas_desktop.domain.model import Side
from atlas_desktop.store.models import OutboxRow
from atlas_desktop.ui.main_window import MainWindow


def _window(world: Any, qtbot: Any) -> MainWindow:
    window = MainWindow(world.services.connections, world.engine, lambda: None, monitoring=world.ctx)  # type: ignore[arg-type,return-value]
    qtbot.addWidget(window)
    return window


def test_removing_a_connection_with_unsent_writes_asks_before_discarding_them(world: Any, qtbot: Any) -> None:
    with world.services.store.session() as session:
        unsent = OutboxRow(
            connection_id=world.connection_id, target=Side.ERP, operation="erp_adjust",
            payload={"delta": "-1"}, idempotency_key="k-test", status=OutboxStatus.PENDING,
        )  # fmt: skip
        session.add(unsent)
    window = _window(world, qtbot)
    assert window.remove_action.isEnabled() and window.remove_action in window.table.actions()
    dialog = window.open_remove_dialog()
    assert dialog is not None
    qtbot.waitUntil(lambda: dialog.discard.isVisibleTo(dialog), timeout=5000)
    text = dialog.explanation.text()
    assert "1 change decided but not sent yet" in text and "Sync now" in text
    assert "credentials" in text and "item pairings" in text  # what is lost, said before
    assert not dialog.remove_button.isEnabled()  # refused until the loss is accepted

    dialog.discard.setChecked(True)
    with qtbot.waitSignal(dialog.removed, timeout=10_000):
        dialog.remove_button.click()
    assert world.services.connections.list() == []
    assert "removed" in window.activity.toPlainText()
    assert not window.remove_action.isEnabled()
    world.run(window.aclose())


def test_replaced_credentials_are_tested_before_they_are_kept(world: Any, qtbot: Any) -> None:
    stored = world.services.connections.get(world.connection_id).secrets["token_secret"].reveal()
    window = _window(world, qtbot)
    dialog = window.open_credentials_dialog()
    assert dialog is not None
    qtbot.waitUntil(lambda: "token_secret" in dialog.fields, timeout=5000)
    field = dialog.fields["token_secret"]
    assert isinstance(field, QLineEdit) and field.echoMode() is QLineEdit.EchoMode.Password

    field.setText("has a space")
    assert not world.run(dialog.test_and_save())
    assert "spaces" in dialog.message.text()
    field.setText("f" * 64)  # well formed, but not this account's: the ERP refuses it
    assert not world.run(dialog.test_and_save())
    assert "Not saved" in dialog.message.text()
    assert world.services.connections.get(world.connection_id).secrets["token_secret"].reveal() == stored

    field.setText(stored)  # e.g. the rotated secret, pasted right this time
    with qtbot.waitSignal(dialog.saved, timeout=10_000):
        assert world.run(dialog.test_and_save())
    assert "replaced" in window.activity.toPlainText()
    world.run(window.aclose())
