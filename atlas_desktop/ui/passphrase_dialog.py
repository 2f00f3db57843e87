"""The passphrase dialogs shown before the window when the computer has no system keyring.

Choosing explains first (why, when it is asked, what losing it means) and checks both entries itself,
so a typo is caught here instead of locking the profile; unlocking says why the last try was refused.
Cancel returns None: the caller treats it as a choice, never as a failed attempt.
"""

from __future__ import annotations

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from atlas_desktop.ui.widgets.fields import ERROR_COLOUR


def _password_field(name: str) -> QLineEdit:
    field = QLineEdit()
    field.setEchoMode(QLineEdit.EchoMode.Password)
    field.setAccessibleName(name)
    return field


class _PassphraseDialog(QDialog):
    def __init__(self, title: str, explanation: str, parent: QWidget | None) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.explanation = QLabel(explanation)
        self.explanation.setWordWrap(True)
        self.problem = QLabel()
        self.problem.setWordWrap(True)
        self.problem.setStyleSheet(f"color: {ERROR_COLOUR};")
        self.problem.setVisible(False)
        self.form = QFormLayout()
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.accepted.connect(self.on_ok)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.explanation)
        layout.addLayout(self.form)
        layout.addWidget(self.problem)
        layout.addWidget(self.buttons)
        self.setMinimumWidth(520)

    def show_problem(self, text: str) -> None:
        self.problem.setText(text)
        self.problem.setVisible(bool(text))

    def on_ok(self) -> None:
        raise NotImplementedError


class ChoosePassphraseDialog(_PassphraseDialog):
    def __init__(self, explanation: str, min_chars: int, parent: QWidget | None = None) -> None:
        super().__init__("Atlas Desktop — choose a passphrase", explanation, parent)
        self.min_chars = min_chars
        self.first = _password_field("Passphrase")
        self.second = _password_field("Passphrase again")
        self.first.setPlaceholderText(f"at least {min_chars} characters, e.g. four random words")
        self.form.addRow("&Passphrase:", self.first)
        self.form.addRow("&Again:", self.second)

    def on_ok(self) -> None:
        first, second = self.first.text(), self.second.text()
        if len(first) < self.min_chars:
            self.show_problem(f"The passphrase has {len(first)} characters; use at least {self.min_chars}.")
            self.first.setFocus()
        elif first != second:
            self.show_problem("The two entries differ. Type the same passphrase in both fields.")
            self.second.clear()
            self.second.setFocus()
        else:
            self.accept()

    def passphrase(self) -> str | None:
        return self.first.text() if self.result() == QDialog.DialogCode.Accepted else None


class UnlockPassphraseDialog(_PassphraseDialog):
    def __init__(self, explanation: str, problem: str | None, parent: QWidget | None = None) -> None:
        super().__init__("Atlas Desktop — unlock", explanation, parent)
        self.field = _password_field("Passphrase")
        self.form.addRow("&Passphrase:", self.field)
        self.show_problem(problem or "")

    def on_ok(self) -> None:
        if self.field.text():
            self.accept()
        else:
            self.show_problem("Type the passphrase, or Cancel to quit.")

    def passphrase(self) -> str | None:
        return self.field.text() if self.result() == QDialog.DialogCode.Accepted else None
