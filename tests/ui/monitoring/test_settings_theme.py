"""Appearance is the user's choice (System / Light / Dark), applied at once and kept for the next start."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QApplication, QDialogButtonBox

from atlas_desktop.app.settings import AppSettings
from atlas_desktop.domain.errors import ConfigError
from atlas_desktop.ui.monitoring.settings_dialog import SettingsDialog
from atlas_desktop.ui.theme import ThemeMode, apply_theme


def _window_lightness(app: QApplication) -> int:
    return app.palette().color(QPalette.ColorRole.Window).lightness()


def test_choosing_dark_applies_at_once_and_is_kept(qtbot: Any, qapp: QApplication, tmp_path: Path) -> None:
    apply_theme(qapp, ThemeMode.LIGHT)
    settings = AppSettings(tmp_path / "settings.json")
    assert settings.get("theme") == "system"
    dialog = SettingsDialog(settings, tmp_path)
    qtbot.addWidget(dialog)
    dialog.theme.setCurrentIndex(dialog.theme.findData("dark"))
    save = dialog.findChild(QDialogButtonBox).button(QDialogButtonBox.StandardButton.Save)
    try:
        save.click()
        assert _window_lightness(qapp) < 80  # the dark palette, without a restart
        assert AppSettings(tmp_path / "settings.json").get("theme") == "dark"
        again = SettingsDialog(AppSettings(tmp_path / "settings.json"), tmp_path)
        qtbot.addWidget(again)
        assert again.theme.currentText() == "Dark"
    finally:
        apply_theme(qapp, ThemeMode.LIGHT)  # other tests' screenshots expect light


def test_an_unknown_theme_is_refused_and_ignored_from_the_file(tmp_path: Path) -> None:
    settings = AppSettings(tmp_path / "settings.json")
    with pytest.raises(ConfigError):
        settings.set("theme", "purple")
    (tmp_path / "settings.json").write_text('{"theme": "purple"}', encoding="utf-8")
    assert AppSettings(tmp_path / "settings.json").get("theme") == "system"
