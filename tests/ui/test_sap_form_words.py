"""Issue 25: the on-premise SAP form suggests an on-premise address, and shows the user name as typed
(only passwords and secrets are masked)."""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QLineEdit
from test_wizard_widgets import to_credentials
from ui_fakes import User

from atlas_desktop.domain.model import ErpType
from atlas_desktop.ui.wizard.wizard import CREDENTIALS


def test_the_on_premise_sap_form_reads_as_on_premise(make_wizard: Any, qtbot: Any) -> None:
    wizard = make_wizard()
    to_credentials(User(qtbot, wizard), wizard, ErpType.SAP_ONPREM)
    page = wizard.page_at(CREDENTIALS)
    address = page.fields["base_url"].edit.placeholderText()
    assert "s4hana.cloud" not in address and address.startswith("https://") and ":443" in address
    assert page.fields["username"].edit.echoMode() is QLineEdit.EchoMode.Normal
    assert page.fields["password"].edit.echoMode() is QLineEdit.EchoMode.Password


def test_the_cloud_sap_form_keeps_its_cloud_address(make_wizard: Any, qtbot: Any) -> None:
    wizard = make_wizard()
    to_credentials(User(qtbot, wizard), wizard, ErpType.SAP_CLOUD)
    page = wizard.page_at(CREDENTIALS)
    assert "s4hana.cloud.sap" in page.fields["base_url"].edit.placeholderText()
