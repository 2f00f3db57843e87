"""In-app help: topics read from resources/help (offline, shipped in every bundle), the keyboard
shortcuts as the window actually binds them, and About with the versions support asks for."""

from __future__ import annotations

import platform
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import PySide6
from PySide6.QtCore import Qt, QUrl, qVersion
from PySide6.QtGui import QAction, QDesktopServices, QKeySequence, QShowEvent, QTextCursor
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QMenu,
    QMessageBox,
    QTableWidget,
    QTableWidgetItem,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from atlas_desktop import __version__
from atlas_desktop.ui.theme import ICON_DIR

HELP_DIR = ICON_DIR.parent / "help"


@dataclass(frozen=True, slots=True)
class Topic:
    key: str
    title: str


TOPICS: tuple[Topic, ...] = (
    Topic("overview", "Atlas Desktop"),
    Topic("setup", "Setting up a connection"),
    Topic("dashboard", "Dashboard"),
    Topic("mappings", "Mappings"),
    Topic("conflicts", "Conflicts"),
    Topic("history", "History"),
    Topic("troubleshooting", "Troubleshooting"),
)


def topic_text(key: str) -> str:
    path = HELP_DIR / f"{key}.md"
    try:
        return path.read_text(encoding="utf-8")
    except OSError:
        return f"# Help is missing\n\nThis installation has no `{path.name}`; reinstall Atlas Desktop."


class HelpDialog(QDialog):
    """Topics on the left, the text on the right; `show_topic` turns to one, at one of its sections (the
    heading of that name) when given: F1 on a page or on a wizard step."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Atlas Desktop help")
        self.topics = QListWidget()
        self.topics.setAccessibleName("Help topics")
        for topic in TOPICS:
            item = QListWidgetItem(topic.title)
            item.setData(Qt.ItemDataRole.UserRole, topic.key)
            self.topics.addItem(item)
        self.topics.setMaximumWidth(200)
        self.text = QTextBrowser()
        self.text.setAccessibleName("Help text")
        self.text.setOpenExternalLinks(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        row = QHBoxLayout()
        row.addWidget(self.topics)
        row.addWidget(self.text, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(row, 1)
        layout.addWidget(buttons)
        self.section: str | None = None
        self.topics.currentRowChanged.connect(self._on_topic_row_changed)
        self.resize(760, 520)
        self.show_topic("overview")

    def show_topic(self, key: str, section: str | None = None) -> None:
        keys = [topic.key for topic in TOPICS]
        self.topics.setCurrentRow(keys.index(key) if key in keys else 0)
        self.section = section
        self._scroll_to_section()

    def current_section(self) -> str | None:
        """The heading the text is scrolled to (None: the topic's start)."""
        block = self.text.textCursor().block()
        return block.text() if block.blockFormat().headingLevel() > 0 else None

    def _scroll_to_section(self) -> None:
        block = self.text.document().begin()
        while block.isValid():
            if block.blockFormat().headingLevel() > 0 and block.text() == self.section:
                break
            block = block.next()
        cursor = QTextCursor(self.text.document())
        top = 0.0
        if block.isValid():
            cursor.setPosition(block.position())
            # The heading on top, not merely somewhere in view: what follows it is what the reader came for.
            top = self.text.document().documentLayout().blockBoundingRect(block).top()
        self.text.setTextCursor(cursor)
        self.text.verticalScrollBar().setValue(int(top))

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 - Qt override
        super().showEvent(event)
        # The layout (hence where a heading sits) is only final at the viewport's real width.
        self._scroll_to_section()

    def current_key(self) -> str:
        item = self.topics.currentItem()
        return str(item.data(Qt.ItemDataRole.UserRole)) if item is not None else "overview"

    def _on_topic_row_changed(self, _row: int) -> None:
        self.text.setMarkdown(topic_text(self.current_key()))
        self.section = None  # a topic chosen from the list opens at its start


def shortcut_rows(actions: Iterable[QAction]) -> list[tuple[str, str]]:
    """(what, keys) for every action that has a shortcut, as the platform spells the keys."""
    rows = []
    for action in actions:
        keys = action.shortcut()
        if not keys.isEmpty():
            what = action.text().replace("&", "").rstrip("…").strip()
            rows.append((what, keys.toString(QKeySequence.SequenceFormat.NativeText)))
    return sorted(set(rows))


class ShortcutsDialog(QDialog):
    def __init__(self, actions: Iterable[QAction], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Keyboard shortcuts")
        rows = shortcut_rows(actions)
        self.table = QTableWidget(len(rows), 2)
        self.table.setHorizontalHeaderLabels(["Action", "Keys"])
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        for row, (what, keys) in enumerate(rows):
            self.table.setItem(row, 0, QTableWidgetItem(what))
            self.table.setItem(row, 1, QTableWidgetItem(keys))
        self.table.resizeColumnsToContents()
        self.table.horizontalHeader().setStretchLastSection(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.table)
        layout.addWidget(buttons)
        self.resize(420, 320)


def about_text() -> str:
    return (
        f"<b>Atlas Desktop {__version__}</b><br>"
        "Keeps your ERP and the Atlas marketplace in step.<br><br>"
        f"Python {platform.python_version()} · PySide6 {PySide6.__version__} · Qt {qVersion()}<br>"
        f"{platform.system()} {platform.release()} ({platform.machine()})"
    )


class HelpMenu:
    """The window's Help menu. `topic_of_page` names the help topic of what is on screen (for F1)."""

    def __init__(
        self,
        window: QMainWindow,
        *,
        topic_of_page: Callable[[], str],
        data_dir: Path | None,
        diagnostics: QAction | None,
    ) -> None:
        self.window = window
        self.topic_of_page = topic_of_page
        self.data_dir = data_dir
        self.dialogs: list[QDialog] = []  # kept alive while open: dialogs are opened, never exec()-ed
        menu: QMenu = window.menuBar().addMenu("&Help")
        self.menu = menu
        self.help_action = menu.addAction("Atlas Desktop &help")
        self.help_action.setShortcut(QKeySequence.StandardKey.HelpContents)  # F1 (Ctrl+? on macOS)
        self.help_action.triggered.connect(self.on_help_action_triggered)
        self.shortcuts_action = menu.addAction("&Keyboard shortcuts")
        self.shortcuts_action.triggered.connect(self.on_shortcuts_action_triggered)
        menu.addSeparator()
        self.data_action = menu.addAction("Open the &data folder")
        self.data_action.setEnabled(data_dir is not None)
        self.data_action.triggered.connect(self.on_data_action_triggered)
        if diagnostics is not None:
            menu.addAction(diagnostics)
        menu.addSeparator()
        self.about_action = menu.addAction("&About Atlas Desktop")
        self.about_action.setMenuRole(QAction.MenuRole.AboutRole)
        self.about_action.triggered.connect(self.on_about_action_triggered)

    def _keep(self, dialog: QDialog) -> QDialog:
        self.dialogs.append(dialog)
        dialog.finished.connect(lambda _r: self.dialogs.remove(dialog) if dialog in self.dialogs else None)
        dialog.open()
        return dialog

    def on_help_action_triggered(self) -> HelpDialog:
        dialog = HelpDialog(self.window)
        dialog.show_topic(self.topic_of_page())
        self._keep(dialog)
        return dialog

    def on_shortcuts_action_triggered(self) -> ShortcutsDialog:
        actions = self.window.findChildren(QAction)
        dialog = ShortcutsDialog(actions, self.window)
        self._keep(dialog)
        return dialog

    def on_data_action_triggered(self) -> None:
        if self.data_dir is not None:
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(self.data_dir)))

    def on_about_action_triggered(self) -> QMessageBox:
        box = QMessageBox(
            QMessageBox.Icon.Information, "About Atlas Desktop", about_text(), parent=self.window
        )
        box.setTextFormat(Qt.TextFormat.RichText)
        self._keep(box)
        return box


def help_label(text: str = "Help") -> QLabel:
    """A small "Help" link for dialogs and wizard pages; connect `linkActivated`."""
    label = QLabel(f"<a href='help'>{text}</a>")
    label.setAccessibleName(text)
    return label
