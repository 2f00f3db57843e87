"""The setup wizard: eight pages over one WizardState; a draft is kept while it is open and resumed later."""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Any

from PySide6.QtCore import QTimer, Signal
from PySide6.QtGui import QCloseEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import QBoxLayout, QWizard

from atlas_desktop.domain.connection import NetSuiteAuthMode
from atlas_desktop.domain.enums import ConflictPolicy, ConnectionStatus, SyncDirection
from atlas_desktop.domain.errors import AtlasDesktopError
from atlas_desktop.domain.m2m_certificate import CERTIFICATE_EXPIRES
from atlas_desktop.domain.model import ErpType
from atlas_desktop.ui.bridge import EngineBridge
from atlas_desktop.ui.help import HelpDialog
from atlas_desktop.ui.widgets.banner import SandboxBanner
from atlas_desktop.ui.wizard.activate_page import ActivatePage
from atlas_desktop.ui.wizard.base import WizardPageBase
from atlas_desktop.ui.wizard.context import WizardContext
from atlas_desktop.ui.wizard.credentials_page import CredentialsPage
from atlas_desktop.ui.wizard.discovery_page import DiscoveryPage
from atlas_desktop.ui.wizard.erp_choice_page import ErpChoicePage
from atlas_desktop.ui.wizard.forms import form_values, spec_from_values
from atlas_desktop.ui.wizard.instructions_page import InstructionsPage
from atlas_desktop.ui.wizard.preferences_page import PreferencesPage
from atlas_desktop.ui.wizard.signin_page import SignInPage
from atlas_desktop.ui.wizard.state import WizardState
from atlas_desktop.ui.wizard.test_page import TestPage

log = logging.getLogger(__name__)

SIGNIN, ERP_CHOICE, INSTRUCTIONS, CREDENTIALS, TEST, PREFERENCES, DISCOVERY, ACTIVATE = range(8)
DRAFT_SAVE_DELAY_MS = 300


def connection_settings(state: WizardState) -> tuple[Any, dict[str, Any], dict[str, Any]]:
    """The spec to store, its settings with the ERP-side choices merged in, and the field mappings."""
    assert state.erp_type is not None
    spec = spec_from_values(state.erp_type, form_values(state.fields, state.secrets), state.auth_mode)
    erp_settings = dict(state.prefs.get("erp_settings", {}))
    mappings = dict(state.prefs.get("field_mappings", {}))
    settings = dict(spec.settings)
    if spec.settings.get("auth_mode") == NetSuiteAuthMode.OAUTH2_M2M and state.fields.get(
        CERTIFICATE_EXPIRES
    ):
        # notAfter is not secret: the dashboard warns 30 days ahead without opening the vault
        settings[CERTIFICATE_EXPIRES] = state.fields[CERTIFICATE_EXPIRES]
    if state.erp_type.is_sap:
        movement_types = {}
        for purpose in ("receipt", "issue"):
            value = erp_settings.pop(f"{purpose}_movement_type", None)
            if value:
                movement_types[purpose] = value
        if movement_types:
            settings["movement_types"] = movement_types
    settings.update({k: v for k, v in erp_settings.items() if v})
    if mappings:
        settings["field_mappings"] = mappings
    return spec, settings, mappings


class SetupWizard(QWizard):
    """Keyboard-only friendly: every input has an accessible name, Enter is Next, Esc closes (draft kept)."""

    setup_finished = Signal(str)  # connection id; the caller starts the first sync
    # (connection id, mapping status): "Review the mappings…" on the discovery page; the window opens it
    mapping_review_requested = Signal(str, str)

    def __init__(self, ctx: WizardContext, state: WizardState | None = None) -> None:
        super().__init__()
        self.ctx = ctx
        resumed = state is None and ctx.draft is not None and ctx.draft.exists()
        if state is None:
            state = (ctx.draft.load() if ctx.draft is not None else None) or WizardState()
        self.state = state
        self.resuming = False
        self._resume_page = state.page  # QWizard shows page 0 first, which would overwrite state.page
        self.setWindowTitle("Set up Atlas Desktop" + (" — sandbox" if ctx.sandbox else ""))
        self.setWizardStyle(QWizard.WizardStyle.ModernStyle)
        self.setOption(QWizard.WizardOption.NoBackButtonOnStartPage, True)
        self.setButtonText(QWizard.WizardButton.FinishButton, "Start sync")
        self.setMinimumSize(780, 620)
        # Help (F1 too) opens the setup guide at the step on screen; kept alive here while open (opened,
        # never exec()-ed).
        self.setOption(QWizard.WizardOption.HaveHelpButton, True)
        self.helpRequested.connect(self.on_help_requested)
        self.help_shortcut = QShortcut(QKeySequence.StandardKey.HelpContents, self)
        self.help_shortcut.activated.connect(self.on_help_requested)
        self.help_dialog: HelpDialog | None = None
        self.pages_by_id: dict[int, WizardPageBase] = {}
        self.help_sections: dict[int, str] = {}  # page id -> its section (heading) in the setup guide
        for page_id, page_class in enumerate(
            (
                SignInPage,
                ErpChoicePage,
                InstructionsPage,
                CredentialsPage,
                TestPage,
                PreferencesPage,
                DiscoveryPage,
                ActivatePage,
            )
        ):
            page = page_class(ctx, self.state)
            self.help_sections[page_id] = page.title()
            page.setTitle(f"{page.title()}  ·  step {page_id + 1} of 8")
            self.setPage(page_id, page)
            self.pages_by_id[page_id] = page
            if ctx.sandbox is not None:
                layout = page.layout()
                if isinstance(layout, QBoxLayout):
                    layout.insertWidget(0, SandboxBanner())
        self.bridge: EngineBridge | None = None
        if ctx.engine is not None:
            # Discovery progress reaches the page through the bridge: throttled, on the GUI thread.
            self.bridge = EngineBridge(ctx.engine.events, self)
            self.bridge.discovery_progressed.connect(self.page_at(DISCOVERY).on_discovery_progressed)
        discovery = self.page_at(DISCOVERY)
        discovery.mapping_review_requested.connect(
            lambda cid: self.mapping_review_requested.emit(cid, discovery.review_status())
        )
        self._draft_timer = QTimer(self)
        self._draft_timer.setSingleShot(True)
        self._draft_timer.setInterval(DRAFT_SAVE_DELAY_MS)
        self._draft_timer.timeout.connect(self.save_draft)
        self.currentIdChanged.connect(self.on_current_id_changed)
        if resumed:
            QTimer.singleShot(0, self.resume)

    def on_help_requested(self) -> HelpDialog:
        if self.help_dialog is None:
            self.help_dialog = HelpDialog(self)
        self.help_dialog.show_topic("setup", self.help_sections.get(self.currentId()))
        self.help_dialog.open()
        return self.help_dialog

    # ---- typed page access ------------------------------------------------------------------------
    def page_at(self, page_id: int) -> Any:
        return self.pages_by_id[page_id]

    # ---- draft ------------------------------------------------------------------------------------
    def resume_target(self) -> int:
        """Where a draft resumes: not past a step whose result must be fresh."""
        target = min(self._resume_page, PREFERENCES)
        if not self.state.atlas_verified:
            return SIGNIN
        if self.state.erp_type is None:
            return min(target, ERP_CHOICE)
        if not self.state.tested_ok:
            return min(target, TEST)
        return target

    def resume(self) -> None:
        target = self.resume_target()
        self.resuming = True
        try:
            while self.currentId() < target and self.currentId() != -1:
                self.next()
        finally:
            self.resuming = False

    def validateCurrentPage(self) -> bool:  # noqa: N802 - Qt override
        if self.resuming:
            return True  # values were checked when the draft was written
        return super().validateCurrentPage()

    def schedule_draft_save(self) -> None:
        if self.ctx.draft is not None:
            self._draft_timer.start()

    def save_draft(self) -> None:
        if self.ctx.draft is None:
            return
        try:
            self.ctx.draft.save(self.state)
        except (OSError, AtlasDesktopError) as exc:
            log.warning("could not save the wizard draft: %s", exc)

    def on_current_id_changed(self, page_id: int) -> None:
        if page_id >= 0:
            self.state.page = page_id
            self.schedule_draft_save()

    # ---- storing the connection -------------------------------------------------------------------
    def commit_connection(self) -> bool:
        """Store the connection (replacing one an earlier pass stored) with the chosen preferences."""
        page = self.page_at(PREFERENCES)
        try:
            spec, settings, mappings = connection_settings(self.state)
            # In the demo, the sandbox's ERP-side set-up (which plant/storage location is which Atlas
            # location, purchasing data, default vendor) stands under what the user chose.
            stored = replace(spec, settings={**self.sandbox_settings(), **settings})
            if self.state.connection_id is not None:
                self.ctx.connections.remove(self.state.connection_id)
                self.state.connection_id = None
            connection_id = self.ctx.connections.add(stored)
            prefs = self.state.prefs
            self.ctx.connections.update(
                connection_id,
                sync_direction=SyncDirection(prefs["direction"]),
                conflict_policy=ConflictPolicy(prefs["conflict_policy"]),
                sync_frequency_minutes=int(prefs["frequency_minutes"]),
                sync_scopes=dict(prefs["scopes"]),
                field_mappings=mappings,
            )
        except AtlasDesktopError as error:
            page.discovery_note.setText(f"✗ {error.message} {error.fix}")
            return False
        self.state.connection_id = connection_id
        # Discovery and the preview belong to the stored connection: a new one needs them afresh.
        self.page_at(DISCOVERY).result = None
        self.page_at(ACTIVATE).plan = None
        self.save_draft()
        return True

    def sandbox_settings(self) -> dict[str, Any]:
        sandbox = self.ctx.sandbox
        if sandbox is None or self.state.erp_type is None:
            return {}
        credentials = sandbox.credentials_for(self.state.erp_type) or {}
        return dict(credentials.get("settings") or {})

    # ---- finishing and closing --------------------------------------------------------------------
    def accept(self) -> None:
        connection_id = self.state.connection_id
        if connection_id is None:
            return
        try:
            self.ctx.connections.update(connection_id, status=ConnectionStatus.ACTIVE, sync_enabled=True)
        except AtlasDesktopError as error:
            self.page_at(ACTIVATE).status.setText(f"✗ {error.message} {error.fix}")
            return
        self._stop_all()
        if self.ctx.draft is not None:
            self._draft_timer.stop()
            self.ctx.draft.clear()
        super().accept()
        self.setup_finished.emit(connection_id)

    def reject(self) -> None:
        # Closing mid-way keeps what was entered: the next start resumes here.
        self._stop_all()
        self._draft_timer.stop()
        self.save_draft()
        super().reject()

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt override
        self._stop_all()
        if self.result() != QWizard.DialogCode.Accepted:
            self._draft_timer.stop()
            self.save_draft()
        super().closeEvent(event)

    def _stop_all(self) -> None:
        for page in self.pages_by_id.values():
            page.cancel_tasks()
        if self.bridge is not None:
            self.bridge.close()

    def erp_type(self) -> ErpType | None:
        return self.state.erp_type
