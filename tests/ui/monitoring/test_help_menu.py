"""Help: a menu with the guide (F1 opens the page on screen), the shortcuts as bound, About with versions,
the data folder and the diagnostics bundle; the wizard has Help (F1, at the step on screen) and, outside the
demo, the demo."""

from __future__ import annotations

import platform
from collections.abc import Iterator
from typing import Any

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QMessageBox, QWizard
from ui_fakes import GOOD_TOKEN, User

from atlas_desktop import __version__
from atlas_desktop.domain.model import ErpType
from atlas_desktop.ui.help import HELP_DIR, TOPICS, HelpDialog, ShortcutsDialog
from atlas_desktop.ui.main_window import MainWindow
from atlas_desktop.ui.wizard.wizard import CREDENTIALS, ERP_CHOICE, INSTRUCTIONS, SIGNIN


@pytest.fixture
def window(world: Any, qtbot: Any) -> Iterator[MainWindow]:
    made = MainWindow(
        world.services.connections, world.engine, lambda: None, monitoring=world.ctx, services=world.services
    )
    qtbot.addWidget(made)
    made.show()
    yield made
    assert made.dashboard is not None
    qtbot.waitUntil(lambda: not made.dashboard.tasks.busy, timeout=5000)


def opened(window: MainWindow, kind: type) -> Any:
    shown = [d for d in window.help_menu.dialogs if isinstance(d, kind) and d.isVisible()]
    assert len(shown) == 1, window.help_menu.dialogs
    return shown[0]


def test_every_topic_has_its_text_shipped() -> None:
    for topic in TOPICS:
        text = (HELP_DIR / f"{topic.key}.md").read_text(encoding="utf-8")
        assert text.startswith("# ") and len(text) > 200, topic.key


def test_f1_opens_the_help_of_the_page_on_screen(window: MainWindow, qtbot: Any) -> None:
    window.tabs.setCurrentWidget(window.conflicts)
    qtbot.keyClick(window, Qt.Key.Key_F1)
    dialog = opened(window, HelpDialog)
    assert dialog.current_key() == "conflicts"
    assert "Take Atlas" in dialog.text.toPlainText()
    dialog.close()
    window.tabs.setCurrentWidget(window.history)
    window.help_menu.help_action.trigger()
    assert window.help_menu.dialogs[-1].current_key() == "history"


def test_the_help_menu_has_what_people_look_for(window: MainWindow) -> None:
    texts = [a.text().replace("&", "") for a in window.help_menu.menu.actions() if not a.isSeparator()]
    assert texts == [
        "Atlas Desktop help",
        "Keyboard shortcuts",
        "Open the data folder",
        "Diagnostics bundle…",
        "About Atlas Desktop",
    ]
    assert window.help_menu.data_action.isEnabled()


def test_shortcuts_list_what_the_window_binds(window: MainWindow) -> None:
    dialog = window.help_menu.on_shortcuts_action_triggered()
    rows = {
        dialog.table.item(r, 0).text(): dialog.table.item(r, 1).text() for r in range(dialog.table.rowCount())
    }
    assert rows["Sync now"] == "Ctrl+R" and rows["Add connection"] == "Ctrl+N"
    assert rows["Atlas Desktop help"] == "F1"
    assert isinstance(dialog, ShortcutsDialog)


def test_about_names_the_versions_support_asks_for(window: MainWindow) -> None:
    box = window.help_menu.on_about_action_triggered()
    assert isinstance(box, QMessageBox)
    assert __version__ in box.text() and platform.python_version() in box.text() and "Qt" in box.text()


def test_the_wizard_has_help_and_offers_the_demo_outside_it(make_wizard: Any, qtbot: Any) -> None:
    started: list[str] = []
    wizard = make_wizard(start_demo=lambda: started.append("demo"))
    page = wizard.page_at(0)
    assert page.demo_link.isVisibleTo(page)
    page.demo_link.linkActivated.emit("demo")
    assert started == ["demo"] and "sandbox demo is starting" in page.status.text()
    with qtbot.waitActive(wizard):
        wizard.activateWindow()
    qtbot.keyClick(wizard.currentPage(), Qt.Key.Key_F1)
    assert wizard.help_dialog is not None and wizard.help_dialog.isVisible()
    assert wizard.help_dialog.current_key() == "setup"


def heading_on_top(dialog: HelpDialog) -> str:
    """The text of the first line the reader sees in the guide."""
    view = dialog.text
    return view.cursorForPosition(view.viewport().rect().topLeft() + QPoint(4, 4)).block().text()


def test_f1_in_the_wizard_opens_the_guide_at_the_step_on_screen(make_wizard: Any, qtbot: Any) -> None:
    wizard = make_wizard()
    signin = wizard.page_at(SIGNIN)
    signin.token.set_text(GOOD_TOKEN)
    signin.token.edited.emit(GOOD_TOKEN)
    user = User(qtbot, wizard)
    user.next_when_ready(ERP_CHOICE)
    with qtbot.waitActive(wizard):
        wizard.activateWindow()
    qtbot.keyClick(wizard.currentPage(), Qt.Key.Key_F1)
    dialog = wizard.help_dialog
    assert dialog is not None and dialog.isVisible()
    assert (dialog.current_key(), dialog.current_section()) == ("setup", "Choose your ERP")
    assert heading_on_top(dialog) == "Choose your ERP"
    dialog.close()

    user.click(wizard.page_at(ERP_CHOICE).buttons[ErpType.NETSUITE])
    user.next_when_ready(INSTRUCTIONS)
    user.next_when_ready(CREDENTIALS)
    wizard.button(QWizard.WizardButton.HelpButton).click()  # the Help button does the same as F1
    assert dialog.isVisible() and dialog.current_section() == "Enter the credentials"
    assert heading_on_top(dialog) == "Enter the credentials"
    assert "Certificate ID" in dialog.text.toPlainText()


def test_every_wizard_step_has_its_section_in_the_guide(make_wizard: Any) -> None:
    wizard = make_wizard()
    dialog = HelpDialog()
    for page_id, section in wizard.help_sections.items():
        dialog.show_topic("setup", section)
        assert dialog.current_section() == section, page_id
    assert len(set(wizard.help_sections.values())) == len(wizard.pages_by_id)
