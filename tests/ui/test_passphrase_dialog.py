"""The passphrase dialogs explain themselves, catch typos early, and take Cancel as a choice."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from atlas_desktop.store.keys import MIN_PASSPHRASE_CHARS, why_a_passphrase
from atlas_desktop.ui.passphrase_dialog import ChoosePassphraseDialog, UnlockPassphraseDialog


def _choose(qtbot: QtBot, tmp_path: Path) -> ChoosePassphraseDialog:
    dialog = ChoosePassphraseDialog(why_a_passphrase(tmp_path), MIN_PASSPHRASE_CHARS)
    qtbot.addWidget(dialog)
    dialog.show()
    return dialog


def _ok(qtbot: QtBot, dialog: ChoosePassphraseDialog | UnlockPassphraseDialog) -> None:
    button = dialog.buttons.button(dialog.buttons.StandardButton.Ok)
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def test_choosing_explains_why_when_and_what_losing_it_means(qtbot: QtBot, tmp_path: Path) -> None:
    dialog = _choose(qtbot, tmp_path)
    text = dialog.explanation.text()
    assert "no system keyring" in text
    assert "each time Atlas Desktop starts" in text
    assert "cannot be recovered" in text and str(tmp_path) in text


def test_two_different_entries_are_named_and_the_dialog_stays(qtbot: QtBot, tmp_path: Path) -> None:
    dialog = _choose(qtbot, tmp_path)
    qtbot.keyClicks(dialog.first, "correct horse battery")
    qtbot.keyClicks(dialog.second, "correct horse batery")
    _ok(qtbot, dialog)
    assert dialog.isVisible() and dialog.passphrase() is None
    assert "differ" in dialog.problem.text() and dialog.problem.isVisible()
    qtbot.keyClicks(dialog.second, "correct horse battery")
    _ok(qtbot, dialog)
    assert dialog.passphrase() == "correct horse battery"


def test_a_short_passphrase_is_refused_with_the_minimum(qtbot: QtBot, tmp_path: Path) -> None:
    dialog = _choose(qtbot, tmp_path)
    qtbot.keyClicks(dialog.first, "short")
    qtbot.keyClicks(dialog.second, "short")
    _ok(qtbot, dialog)
    assert dialog.isVisible() and f"at least {MIN_PASSPHRASE_CHARS}" in dialog.problem.text()


def test_unlock_shows_why_the_last_try_was_refused_and_cancel_gives_nothing(qtbot: QtBot) -> None:
    dialog = UnlockPassphraseDialog(
        "locked", "That passphrase does not unlock this profile. 2 attempts left."
    )
    qtbot.addWidget(dialog)
    dialog.show()
    assert dialog.problem.isVisible() and "2 attempts left" in dialog.problem.text()
    qtbot.keyClicks(dialog.field, "typed but cancelled")
    dialog.buttons.rejected.emit()
    assert dialog.passphrase() is None
