"""A live list of checks: each row running, passed (✓), failed (✗ with cause and fix) or skipped."""

from __future__ import annotations

from enum import StrEnum
from html import escape

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QVBoxLayout, QWidget


class StepState(StrEnum):
    RUNNING = "running"
    PASSED = "passed"
    FAILED = "failed"
    SKIPPED = "skipped"
    CANCELLED = "cancelled"


_MARKS = {
    StepState.RUNNING: ("…", "#1f6feb"),
    StepState.PASSED: ("✓", "#1a7f37"),
    StepState.FAILED: ("✗", "#cf222e"),
    StepState.SKIPPED: ("–", "#6e7781"),
    StepState.CANCELLED: ("–", "#6e7781"),
}


class ChecklistRow(QFrame):
    def __init__(self, name: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.name = name
        self.state = StepState.RUNNING
        self.mark = QLabel(self)
        self.mark.setFixedWidth(22)
        self.mark.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignHCenter)
        self.text = QLabel(self)
        self.text.setWordWrap(True)
        self.text.setTextFormat(Qt.TextFormat.RichText)
        self.text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(4, 3, 4, 3)
        layout.addWidget(self.mark)
        layout.addWidget(self.text, 1)
        self.set_state(StepState.RUNNING)

    def set_state(self, state: StepState, detail: str = "", cause: str = "", fix: str = "") -> None:
        self.state = state
        symbol, colour = _MARKS[state]
        self.mark.setText(f"<span style='color:{colour}; font-weight:bold; font-size:14pt'>{symbol}</span>")
        html = f"<b>{escape(self.name)}</b>"
        if state is StepState.RUNNING:
            html += " <i>— checking…</i>"
        elif state is StepState.CANCELLED:
            html += " <i>— cancelled</i>"
        if detail:
            html += f"<br>{escape(detail)}"
        if state is StepState.FAILED:
            if cause:
                html += f"<br><b>Cause:</b> {escape(cause)}"
            if fix:
                html += f"<br><b>Fix:</b> {escape(fix)}"
        self.text.setText(html)
        spoken = {
            StepState.PASSED: "passed",
            StepState.FAILED: "failed",
            StepState.SKIPPED: "skipped",
            StepState.RUNNING: "checking",
            StepState.CANCELLED: "cancelled",
        }[state]
        self.setAccessibleName(f"{self.name}: {spoken}")
        self.setAccessibleDescription(" ".join(p for p in (detail, cause, fix) if p))


class ChecklistWidget(QWidget):
    """Rows in the order the checks ran. `rows` gives them to tests and the page."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.rows: list[ChecklistRow] = []
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._layout.setSpacing(2)
        self._layout.addStretch(1)
        self.setAccessibleName("Connection test results")

    def clear(self) -> None:
        for row in self.rows:
            self._layout.removeWidget(row)
            row.deleteLater()
        self.rows.clear()

    def add(self, name: str) -> ChecklistRow:
        row = ChecklistRow(name, self)
        self._layout.insertWidget(len(self.rows), row)
        self.rows.append(row)
        return row

    def running(self) -> ChecklistRow | None:
        return next((row for row in self.rows if row.state is StepState.RUNNING), None)

    def cancel_running(self) -> None:
        for row in self.rows:
            if row.state is StepState.RUNNING:
                row.set_state(StepState.CANCELLED)
