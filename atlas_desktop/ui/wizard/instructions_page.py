"""Step 3: what to set up in the ERP, step by step, with Copy buttons for the values to type there."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QLabel, QScrollArea, QVBoxLayout, QWidget

from atlas_desktop.domain.connection import NetSuiteAuthMode
from atlas_desktop.domain.model import ErpType
from atlas_desktop.ui.widgets.fields import CopyRow
from atlas_desktop.ui.wizard.base import WizardPageBase
from atlas_desktop.ui.wizard.context import WizardContext
from atlas_desktop.ui.wizard.forms import ERP_LABELS
from atlas_desktop.ui.wizard.state import WizardState

INTEGRATION_NAME = "Atlas Desktop"
ROLE_NAME = "Atlas Integration"
SAP_USER = "ATLAS_DESKTOP"


@dataclass(frozen=True)
class Step:
    title: str
    text: str
    copy: Sequence[tuple[str, str]] = ()
    once: str = ""  # values shown only once by the ERP: say so before the user clicks Save there


NETSUITE_STEPS = (
    Step(
        "Turn on the features",
        "Setup › Company › Enable Features. On <b>SuiteCloud</b> tick <i>REST Web Services</i> and "
        "<i>Token-Based Authentication</i>; on <b>Analytics</b> tick <i>SuiteAnalytics Workbook</i>. Save.",
    ),
    Step(
        "Create a role for the integration",
        "Setup › Users/Roles › Manage Roles › New. Permissions: <i>REST Web Services</i> (Full), "
        "<i>Log in using Access Tokens</i> (Full), <i>SuiteAnalytics Workbook</i> (Edit), "
        "Lists › <i>Items</i> (View), Transactions › <i>Adjust Inventory</i> (Full) and "
        "<i>Purchase Order</i> (Create). Give the role to the user the integration acts as.",
        copy=(("Role name", ROLE_NAME),),
    ),
    Step(
        "Create the integration record",
        "Setup › Integration › Manage Integrations › New. Tick <i>Token-Based Authentication</i>; untick "
        "<i>TBA: Authorization Flow</i> and <i>Authorization Code Grant</i>. Save.",
        copy=(("Integration name", INTEGRATION_NAME),),
        once="The consumer key and consumer secret are shown only once, right after Save: copy them before "
        "leaving the page.",
    ),
    Step(
        "Create the access token",
        "Setup › Users/Roles › Access Tokens › New. Application: <i>Atlas Desktop</i>; the user and the role "
        "from step 2. Save.",
        copy=(("Token name", "Atlas Desktop token"),),
        once="The token ID and token secret are shown only once: copy them too.",
    ),
    Step(
        "Note the account ID",
        "Setup › Company › Company Information › <i>Account ID</i>. "
        "A sandbox looks like <tt>1234567_SB1</tt>.",
    ),
)

# OAuth 2.0 client credentials: the certificate step comes on the next page,
# where the app hands over the certificate it made.
NETSUITE_M2M_STEPS = (
    Step(
        "Turn on the features",
        "Setup › Company › Enable Features. On <b>SuiteCloud</b> tick <i>REST Web Services</i> and "
        "<i>OAuth 2.0</i>; on <b>Analytics</b> tick <i>SuiteAnalytics Workbook</i>. Save.",
    ),
    Step(
        "Create a role for the integration",
        "Setup › Users/Roles › Manage Roles › New. Permissions: <i>REST Web Services</i> (Full), "
        "<i>Log in using OAuth 2.0 Access Tokens</i> (Full), <i>SuiteAnalytics Workbook</i> (Edit), "
        "Lists › <i>Items</i> (View), Transactions › <i>Adjust Inventory</i> (Full) and "
        "<i>Purchase Order</i> (Create). Give the role to the user the integration acts as.",
        copy=(("Role name", ROLE_NAME),),
    ),
    Step(
        "Create the integration record",
        "Setup › Integration › Manage Integrations › New. Under OAuth 2.0 tick <i>Client Credentials "
        "(Machine to Machine) Grant</i> and the scope <i>REST Web Services</i>; untick <i>Token-Based "
        "Authentication</i> and <i>Authorization Code Grant</i>. Save.",
        copy=(("Integration name", INTEGRATION_NAME),),
        once="The Client ID is shown only once, right after Save: copy it before leaving the page.",
    ),
    Step(
        "Note the account ID",
        "Setup › Company › Company Information › <i>Account ID</i>. "
        "A sandbox looks like <tt>1234567_SB1</tt>.",
    ),
    Step(
        "Upload the certificate (next page)",
        "Atlas Desktop makes a key pair for you: the next page shows its certificate file to upload in "
        "Setup › Integration › Manage Authentication › <i>OAuth 2.0 Client Credentials (M2M) Setup</i>, "
        "which answers a <b>Certificate ID</b>. Using an existing integration with tokens (TBA)? Pick it "
        "as the sign-in method there.",
    ),
)

SAP_CLOUD_STEPS = (
    Step(
        "Create the communication user",
        "Communication Management › Maintain Communication Users › New. Let SAP propose a password.",
        copy=(("User name", SAP_USER),),
        once="Copy the password before saving: SAP does not show it again.",
    ),
    Step(
        "Create the communication system",
        "Communication Management › Communication Systems › New. Under <i>Users for Inbound "
        "Communication</i> add the user from step 1 (for OAuth 2.0 choose <i>OAuth 2.0</i> as the method).",
        copy=(("System ID", SAP_USER),),
    ),
    Step(
        "Create one communication arrangement per scenario",
        "Communication Management › Communication Arrangements › New, each with the system from step 2. "
        "Atlas Desktop needs all five:",
        copy=(
            ("Product", "SAP_COM_0009"),
            ("Material stock", "SAP_COM_0164"),
            ("Material documents", "SAP_COM_0108"),
            ("Batches", "SAP_COM_0337"),
            ("Purchase orders", "SAP_COM_0053"),
        ),
    ),
    Step(
        "Note the API address and the OAuth details",
        "Each arrangement shows the API address (<tt>https://myNNNNNN-api.s4hana.cloud.sap</tt>). For OAuth "
        "2.0, its <i>OAuth 2.0 Details</i> give the client ID and the token service URL. The communication "
        "user needs no business role: the arrangements grant its access.",
    ),
)

SAP_ONPREM_STEPS = (
    Step(
        "Create a service user",
        "Transaction SU01, user type <i>System</i>. Give it a role with S_SERVICE for the four services "
        "below, display of materials and stock, and goods movements with movement types 501, 201 and 551.",
        copy=(("User name", SAP_USER),),
        once="Note the initial password now; a system user is never asked to change it.",
    ),
    Step(
        "Activate the OData services",
        "Transaction /IWFND/MAINT_SERVICE › Add Service, for each of:",
        copy=(
            ("Product", "API_PRODUCT_SRV"),
            ("Material stock", "API_MATERIAL_STOCK_SRV"),
            ("Material documents", "API_MATERIAL_DOCUMENT_SRV"),
            ("Batches", "API_BATCH_SRV"),
        ),
    ),
    Step(
        "Note the SAP client",
        "The three-digit client you log on to (e.g. <tt>100</tt>); Atlas Desktop sends it as "
        "<tt>sap-client</tt> on every call.",
    ),
    Step(
        "Certificates (if you use them)",
        "For a client certificate: export it and its private key as PEM files and map the certificate to the "
        "service user (transaction CERTRULE). If the server's HTTPS certificate comes from your company's "
        "own CA, export that CA certificate as a PEM file for <i>Corporate CA bundle</i>.",
    ),
)


def steps_for(erp_type: ErpType, auth_mode: str | None) -> Sequence[Step]:
    if erp_type is ErpType.NETSUITE and auth_mode != NetSuiteAuthMode.TBA:
        return NETSUITE_M2M_STEPS
    return STEPS[erp_type]


STEPS: dict[ErpType, Sequence[Step]] = {
    ErpType.NETSUITE: NETSUITE_STEPS,
    ErpType.SAP_CLOUD: SAP_CLOUD_STEPS,
    ErpType.SAP_ONPREM: SAP_ONPREM_STEPS,
}


class InstructionsPage(WizardPageBase):
    def __init__(self, ctx: WizardContext, state: WizardState) -> None:
        super().__init__(ctx, state)
        self.setTitle("Prepare your ERP")
        self.scroll_area = QScrollArea()
        self.scroll_area.setWidgetResizable(True)
        self.scroll_area.setFrameShape(QFrame.Shape.NoFrame)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.scroll_area)
        self.copy_rows: list[CopyRow] = []
        self._shown_for: tuple[ErpType, str | None] | None = None

    def initializePage(self) -> None:  # noqa: N802 - Qt override
        erp_type = self.state.erp_type or ErpType.NETSUITE
        self.setSubTitle(
            f"Do these steps in {ERP_LABELS[erp_type]} (an administrator is needed), then click Next. "
            "Already done? Just click Next."
        )
        shown = (erp_type, self.state.auth_mode if erp_type is ErpType.NETSUITE else None)
        if self._shown_for == shown:
            return
        self._shown_for = shown
        self.copy_rows = []
        content = QWidget()
        column = QVBoxLayout(content)
        for number, step in enumerate(steps_for(*shown), start=1):
            title = QLabel(f"<b>{number}. {step.title}</b>")
            text = QLabel(step.text)
            text.setWordWrap(True)
            text.setTextFormat(Qt.TextFormat.RichText)
            text.setContentsMargins(18, 0, 0, 0)
            column.addWidget(title)
            column.addWidget(text)
            for label, value in step.copy:
                row = CopyRow(label, value)
                row.setContentsMargins(18, 0, 0, 0)
                self.copy_rows.append(row)
                column.addWidget(row)
            if step.once:
                note = QLabel(f"⚠ {step.once}")
                note.setWordWrap(True)
                note.setObjectName("onceNote")
                note.setStyleSheet("QLabel#onceNote { color: #9a6700; font-weight: bold; }")
                note.setContentsMargins(18, 0, 0, 0)
                column.addWidget(note)
            column.addSpacing(6)
        column.addStretch(1)
        self.scroll_area.setWidget(content)
