"""The settings dialog starts the app at login through what its caller hands in (app/autostart.py in the
app), never through an import of its own."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtWidgets import QDialogButtonBox

from atlas_desktop.app.settings import AppSettings
from atlas_desktop.ui.monitoring.settings_dialog import SettingsDialog


class FakeStartAtLogin:
    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.calls: list[str] = []

    def is_enabled(self) -> bool:
        return self.enabled

    def enable(self) -> str:
        self.calls.append("enable")
        return "entry"

    def disable(self) -> bool:
        self.calls.append("disable")
        return True


def _save(dialog: SettingsDialog) -> None:
    dialog.findChild(QDialogButtonBox).button(QDialogButtonBox.StandardButton.Save).click()


def test_the_box_shows_and_changes_what_the_caller_handed_in(qtbot: Any, tmp_path: Path) -> None:
    autostart = FakeStartAtLogin(enabled=True)
    dialog = SettingsDialog(AppSettings(tmp_path / "settings.json"), tmp_path, start_at_login=autostart)
    qtbot.addWidget(dialog)
    assert dialog.start_at_login.isEnabled() and dialog.start_at_login.isChecked()
    dialog.start_at_login.setChecked(False)
    _save(dialog)
    assert autostart.calls == ["disable"]


def test_without_it_the_box_is_disabled_and_saving_starts_nothing(qtbot: Any, tmp_path: Path) -> None:
    dialog = SettingsDialog(AppSettings(tmp_path / "settings.json"), tmp_path)
    qtbot.addWidget(dialog)
    assert not dialog.start_at_login.isEnabled()
    assert dialog.autostart is None
    _save(dialog)
