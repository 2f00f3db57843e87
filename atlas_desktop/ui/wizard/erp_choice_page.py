"""Step 2: which ERP holds the stock — Oracle NetSuite, SAP S/4HANA Cloud or SAP S/4HANA on-premise."""

from __future__ import annotations

from PySide6.QtWidgets import QButtonGroup, QLabel, QRadioButton, QVBoxLayout

from atlas_desktop.domain.model import ErpType
from atlas_desktop.ui.wizard.base import WizardPageBase
from atlas_desktop.ui.wizard.context import WizardContext
from atlas_desktop.ui.wizard.forms import ERP_LABELS
from atlas_desktop.ui.wizard.state import WizardState

_DESCRIPTIONS = {
    ErpType.NETSUITE: "SuiteTalk REST web services with token-based authentication.",
    ErpType.SAP_CLOUD: "Public cloud edition: communication arrangements, OAuth 2.0 or a communication user.",
    ErpType.SAP_ONPREM: "On-premise or private cloud: a service user or a client certificate.",
}


class ErpChoicePage(WizardPageBase):
    def __init__(self, ctx: WizardContext, state: WizardState) -> None:
        super().__init__(ctx, state)
        self.setTitle("Choose your ERP")
        self.setSubTitle("Atlas Desktop keeps this system and your Atlas listing in step.")
        self.group = QButtonGroup(self)
        self.buttons: dict[ErpType, QRadioButton] = {}
        layout = QVBoxLayout(self)
        for erp_type, label in ERP_LABELS.items():
            button = QRadioButton(label)
            button.setObjectName(f"erp_{erp_type.value}")
            button.setAccessibleName(label)
            button.setAccessibleDescription(_DESCRIPTIONS[erp_type])
            note = QLabel(_DESCRIPTIONS[erp_type])
            note.setWordWrap(True)
            note.setContentsMargins(26, 0, 0, 8)
            note.setBuddy(button)
            self.group.addButton(button)
            self.buttons[erp_type] = button
            layout.addWidget(button)
            layout.addWidget(note)
            button.toggled.connect(self.on_button_toggled)
        layout.addStretch(1)

    def initializePage(self) -> None:  # noqa: N802 - Qt override
        if self.state.erp_type is not None:
            self.buttons[self.state.erp_type].setChecked(True)

    def on_button_toggled(self, checked: bool) -> None:
        if not checked:
            return
        chosen = next(erp for erp, button in self.buttons.items() if button.isChecked())
        if chosen is not self.state.erp_type:
            # Another ERP: the credentials typed for the previous one no longer apply.
            self.state.erp_type = chosen
            self.state.auth_mode = None
            self.state.fields.clear()
            for name in [n for n in self.state.secrets if not n.startswith("atlas.")]:
                del self.state.secrets[name]
            self.state.tested_ok = False
        self.state_changed()

    def isComplete(self) -> bool:  # noqa: N802 - Qt override
        return self.state.erp_type is not None
