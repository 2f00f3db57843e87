"""Step 6: what to sync, which way, how often, who wins a conflict, and the ERP settings writes need."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QVBoxLayout,
)

from atlas_desktop.domain.connector import NdcPlaceCandidate, SettingChoices
from atlas_desktop.domain.enums import ConflictPolicy, SyncDirection, SyncScope
from atlas_desktop.domain.errors import AtlasDesktopError
from atlas_desktop.domain.model import ErpType, Location
from atlas_desktop.engine.factory import with_network_defaults
from atlas_desktop.ui.widgets.collapsible import CollapsibleSection
from atlas_desktop.ui.wizard.base import WizardPageBase
from atlas_desktop.ui.wizard.context import WizardContext
from atlas_desktop.ui.wizard.forms import ERP_LABELS, form_values, spec_from_values
from atlas_desktop.ui.wizard.location_names import LocationNamesBox
from atlas_desktop.ui.wizard.state import WizardState

log = logging.getLogger(__name__)

SCOPE_LABELS = {
    SyncScope.STOCK: "Stock levels",
    SyncScope.PRODUCT_MASTER: "Product master data",
    SyncScope.LOTS: "Lots / batches with expiry",
    SyncScope.TRANSACTIONS: "Transactions (Atlas purchases become purchase orders)",
}
DIRECTION_LABELS = {
    SyncDirection.BIDIRECTIONAL: "Both ways",
    SyncDirection.ERP_TO_ATLAS: "ERP → Atlas only",
    SyncDirection.ATLAS_TO_ERP: "Atlas → ERP only",
}
POLICY_LABELS = {
    ConflictPolicy.MANUAL: "Ask me (the item waits)",
    ConflictPolicy.ERP_WINS: "The ERP's value wins",
    ConflictPolicy.ATLAS_WINS: "Atlas's value wins",
}
FREQUENCIES = (
    (5, "Every 5 minutes"),
    (15, "Every 15 minutes"),
    (30, "Every 30 minutes"),
    (60, "Every hour"),
    (240, "Every 4 hours"),
    (1440, "Once a day"),
)


@dataclass(frozen=True)
class ErpSetting:
    """One ERP-side setting; `discover`: the wizard asks the connector for its possible values."""

    key: str
    label: str
    default: str = ""
    discover: bool = False
    mapping: bool = False  # kept in field_mappings (the "Advanced" part) instead of settings
    needed: bool = False  # writes fail without it; said in the placeholder, not enforced (read-only syncs)


ERP_SETTINGS: dict[ErpType, tuple[ErpSetting, ...]] = {
    ErpType.NETSUITE: (
        ErpSetting("subsidiary_id", "Subsidiary", discover=True, needed=True),
        ErpSetting("default_location_id", "Location", discover=True),
        ErpSetting("adjustment_account_id", "Adjustment account", discover=True, needed=True),
        ErpSetting("ndc_field", "Field holding the NDC", "custitem_ndc_code", discover=True, needed=True),
        ErpSetting("lot_field", "Field holding the lot", "inventorynumber", mapping=True),
        ErpSetting("expiry_field", "Field holding the expiry", "expirationdate", mapping=True),
    ),
    ErpType.SAP_CLOUD: (
        ErpSetting("plants", "Plant", "1010", discover=True),
        ErpSetting("storage_locations", "Storage location", "0001", discover=True),
        ErpSetting("receipt_movement_type", "Movement type for receipts", "501"),
        ErpSetting("issue_movement_type", "Movement type for issues", "201"),
        ErpSetting("cost_center", "Cost center (for issues)", "", discover=True),
        ErpSetting("ndc_field", "Field holding the NDC", "ProductStandardID", discover=True, needed=True),
        ErpSetting("lot_field", "Field holding the lot", "Batch", mapping=True),
        ErpSetting("expiry_field", "Field holding the expiry", "ShelfLifeExpirationDate", mapping=True),
    ),
}
ERP_SETTINGS[ErpType.SAP_ONPREM] = ERP_SETTINGS[ErpType.SAP_CLOUD]


def default_prefs(erp_type: ErpType) -> dict[str, Any]:
    return {
        "scopes": {scope.value: True for scope in SyncScope},
        "direction": SyncDirection.BIDIRECTIONAL.value,
        "frequency_minutes": 15,
        "conflict_policy": ConflictPolicy.MANUAL.value,
        "erp_settings": {s.key: s.default for s in ERP_SETTINGS[erp_type] if not s.mapping and s.default},
        "field_mappings": {s.key: s.default for s in ERP_SETTINGS[erp_type] if s.mapping and s.default},
    }


def _choice(item: Any) -> tuple[str, str]:
    """(value, label) of whatever a connector's discovery returns: Choice(id, name), a candidate, text."""
    if isinstance(item, str):
        return item, item
    if isinstance(item, NdcPlaceCandidate):
        # SAP names custom fields YY1_<name>_<suffix>: the label a key user gave it says more.
        shown = f"{item.label} – {item.field}" if item.label else item.field
        return item.field, f"{shown} ({item.share:.0%} of sampled items hold an NDC)"
    value = str(getattr(item, "id", item))
    name = str(getattr(item, "name", "") or value)
    return value, f"{name} ({value})" if name != value else value


class PreferencesPage(WizardPageBase):
    def __init__(self, ctx: WizardContext, state: WizardState) -> None:
        super().__init__(ctx, state)
        self.setTitle("Sync preferences")
        self.scopes: dict[str, QCheckBox] = {}
        what = QGroupBox("What to sync")
        what_layout = QVBoxLayout(what)
        for scope, label in SCOPE_LABELS.items():
            box = QCheckBox(label)
            box.setAccessibleName(f"Sync {label.lower()}")
            box.toggled.connect(self.on_value_changed)
            self.scopes[scope.value] = box
            what_layout.addWidget(box)
        self.direction = self._combo("Sync direction", [(d.value, t) for d, t in DIRECTION_LABELS.items()])
        self.frequency = self._combo("Sync frequency", [(m, t) for m, t in FREQUENCIES])
        self.policy = self._combo("Conflict policy", [(p.value, t) for p, t in POLICY_LABELS.items()])
        how = QFormLayout()
        how.addRow(self._label("&Direction:", self.direction), self.direction)
        how.addRow(self._label("&Frequency:", self.frequency), self.frequency)
        how.addRow(self._label("&Conflicts:", self.policy), self.policy)

        self.erp_box = QGroupBox("ERP settings")
        self.erp_form = QFormLayout(self.erp_box)
        self.advanced = CollapsibleSection("Advanced: field mapping")
        self.mapping_form = QFormLayout(self.advanced.body)
        self.discovery_note = QLabel()
        self.discovery_note.setWordWrap(True)
        self.discovery_note.setObjectName("discoveryNote")
        self.erp_fields: dict[str, QComboBox] = {}
        self._built_for: ErpType | None = None
        self.location_names = LocationNamesBox()  # SAP only: its APIs list no location names
        self.location_names.setVisible(False)
        self.location_names.changed.connect(self.on_location_names_changed)
        self._locations_spec: Any = None  # the spec the locations were listed for (SAP), once known
        self._relist = QTimer(self)
        self._relist.setSingleShot(True)
        self._relist.setInterval(400)  # typing "1010, 1710" lists the locations once, not per key
        self._relist.timeout.connect(self._on_relist)

        top = QHBoxLayout()
        top.addWidget(what, 1)
        how_box = QGroupBox("How")
        how_box.setLayout(how)
        top.addWidget(how_box, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.erp_box)
        layout.addWidget(self.location_names)
        layout.addWidget(self.discovery_note)
        layout.addWidget(self.advanced)
        layout.addStretch(1)

    @staticmethod
    def _label(text: str, buddy: QComboBox) -> QLabel:
        label = QLabel(text)
        label.setBuddy(buddy)
        return label

    def _combo(self, name: str, items: Sequence[tuple[Any, str]], *, editable: bool = False) -> QComboBox:
        combo = QComboBox()
        combo.setAccessibleName(name)
        combo.setEditable(editable)
        for value, text in items:
            combo.addItem(text, value)
        combo.currentIndexChanged.connect(self.on_value_changed)
        if editable:
            combo.editTextChanged.connect(self.on_value_changed)
        return combo

    # ---- state <-> widgets --------------------------------------------------------------------------
    def initializePage(self) -> None:  # noqa: N802 - Qt override
        erp_type = self.state.erp_type or ErpType.NETSUITE
        self.setSubTitle(
            f"Sensible defaults are set; the {ERP_LABELS[erp_type]} values are read from the system."
        )
        if not self.state.prefs or self.state.prefs.get("erp_type") != erp_type.value:
            self.state.prefs = {**default_prefs(erp_type), "erp_type": erp_type.value}
        prefs = self.state.prefs
        self._loading = True
        for scope, box in self.scopes.items():
            box.setChecked(bool(prefs["scopes"].get(scope, True)))
        self._select(self.direction, prefs["direction"])
        self._select(self.frequency, prefs["frequency_minutes"])
        self._select(self.policy, prefs["conflict_policy"])
        if self._built_for is not erp_type:
            self._build_erp(erp_type)
        for setting in ERP_SETTINGS[erp_type]:
            store = prefs["field_mappings" if setting.mapping else "erp_settings"]
            self.erp_fields[setting.key].setEditText(str(store.get(setting.key, setting.default)))
        self._loading = False
        self.location_names.setVisible(False)  # shown once the locations are listed (SAP)
        self.start_task(self._discover(erp_type), "erp-settings-discovery")

    def _select(self, combo: QComboBox, value: Any) -> None:
        index = combo.findData(value)
        combo.setCurrentIndex(max(index, 0))

    def _build_erp(self, erp_type: ErpType) -> None:
        self._built_for = erp_type
        for form in (self.erp_form, self.mapping_form):
            while form.rowCount():
                form.removeRow(0)
        self.erp_fields = {}
        for setting in ERP_SETTINGS[erp_type]:
            combo = self._combo(setting.label, [], editable=True)
            combo.setObjectName(f"erp_{setting.key}")
            hint = "needed to post stock changes" if setting.needed else "optional"
            edit = combo.lineEdit()
            assert edit is not None, "an editable combo box has a line edit"
            edit.setPlaceholderText(setting.default or hint)
            (self.mapping_form if setting.mapping else self.erp_form).addRow(
                self._label(f"{setting.label}:", combo), combo
            )
            self.erp_fields[setting.key] = combo

    def on_value_changed(self, *_args: Any) -> None:
        if getattr(self, "_loading", False) or not self.state.prefs:
            return
        prefs = self.state.prefs
        prefs["scopes"] = {scope: box.isChecked() for scope, box in self.scopes.items()}
        prefs["direction"] = self.direction.currentData()
        prefs["frequency_minutes"] = self.frequency.currentData()
        prefs["conflict_policy"] = self.policy.currentData()
        erp_type = self.state.erp_type or ErpType.NETSUITE
        places = {key: prefs.get("erp_settings", {}).get(key) for key in ("plants", "storage_locations")}
        for setting in ERP_SETTINGS[erp_type]:
            if setting.key not in self.erp_fields:
                continue
            value = self.value_of(setting.key)
            store = prefs.setdefault("field_mappings" if setting.mapping else "erp_settings", {})
            if value:
                store[setting.key] = value
            else:
                store.pop(setting.key, None)
        moved = any(prefs["erp_settings"].get(key) != value for key, value in places.items())
        if moved and self._locations_spec is not None:
            self._relist.start()  # other plants or storage locations: other locations to name
        self.state_changed()

    def value_of(self, key: str) -> str:
        """The chosen value: the item's data when picked from the list, else the text typed."""
        combo = self.erp_fields[key]
        text = combo.currentText().strip()
        index = combo.findText(text)
        if index >= 0 and combo.itemData(index) is not None:
            return str(combo.itemData(index))
        return text

    def isComplete(self) -> bool:  # noqa: N802 - Qt override
        return any(box.isChecked() for box in self.scopes.values())

    # ---- values discovered in the ERP ---------------------------------------------------------------
    async def _discover(self, erp_type: ErpType) -> None:
        wanted = [s for s in ERP_SETTINGS[erp_type] if s.discover]
        try:
            spec = with_network_defaults(
                spec_from_values(
                    erp_type, form_values(self.state.fields, self.state.secrets), self.state.auth_mode
                ),
                self.ctx.network_defaults,
            )
            connector = self.ctx.connector_factory(spec)
        except AtlasDesktopError:
            return
        found: list[str] = []
        try:
            if isinstance(connector, SettingChoices):
                found = await self._offer_choices(connector, wanted)
        finally:
            await connector.aclose()
        self.discovery_note.setText(
            f"Choices read from {ERP_LABELS[erp_type]}: {', '.join(found)}." if found else ""
        )
        if erp_type.is_sap:
            self._locations_spec = spec
            await self._list_locations(spec)

    async def _offer_choices(self, connector: SettingChoices, wanted: list[ErpSetting]) -> list[str]:
        """Offers what the ERP lists for each of `wanted`; the labels of those it listed values for."""
        found: list[str] = []
        for setting in wanted:
            self.discovery_note.setText(f"Reading the {setting.label.lower()} choices…")
            try:
                items = list(await connector.setting_choices(setting.key) or ())
            except AtlasDesktopError as error:
                log.info("discovery of %s failed: %s", setting.key, error.message)
                continue
            if items:
                self._offer(setting, [_choice(item) for item in items])
                found.append(setting.label.lower())
        return found

    # ---- SAP location names ---------------------------------------------------------------------------
    def _on_relist(self) -> None:
        if self._locations_spec is not None and self.isVisible():
            self.start_task(self._list_locations(self._locations_spec), "sap-location-list")

    def _location_settings(self, spec: Any) -> dict[str, Any]:
        """The settings the stored connection will have, as far as its locations go: the sandbox's set-up
        under the plants, storage locations and names chosen here."""
        chosen = self.state.prefs.get("erp_settings", {})
        settings = {**self.setup_wizard().sandbox_settings(), **spec.settings}
        for key in ("plants", "storage_locations", "location_names"):
            if chosen.get(key):
                settings[key] = chosen[key]
        return settings

    async def _list_locations(self, spec: Any) -> None:
        settings = self._location_settings(spec)
        try:
            connector = self.ctx.connector_factory(replace(spec, settings=settings))
        except AtlasDesktopError:
            return
        try:
            locations: list[Location] = list(await connector.locations())
        except (AtlasDesktopError, AttributeError) as error:
            log.info("the locations could not be listed: %s", error)
            return
        finally:
            await connector.aclose()
        known = dict(settings.get("location_names") or {})
        self.location_names.show_locations(locations, known)
        if locations and not self.state.prefs["erp_settings"].get("location_names"):
            self.on_location_names_changed(self.location_names.names())  # the pre-filled names are kept

    def on_location_names_changed(self, names: dict[str, str]) -> None:
        if not self.state.prefs:
            return
        store = self.state.prefs.setdefault("erp_settings", {})
        if names:
            store["location_names"] = dict(names)
        else:
            store.pop("location_names", None)
        self.state_changed()

    def _offer(self, setting: ErpSetting, choices: list[tuple[str, str]]) -> None:
        combo = self.erp_fields[setting.key]
        store = self.state.prefs["field_mappings" if setting.mapping else "erp_settings"]
        current = str(store.get(setting.key) or "")
        self._loading = True
        combo.clear()
        for value, label in choices:
            combo.addItem(label, value)
        index = combo.findData(current) if current else -1
        if index < 0 and current:
            combo.setEditText(current)
        else:
            combo.setCurrentIndex(max(index, 0))
        self._loading = False
        self.on_value_changed()

    # ---- leaving: the connection is stored now, so discovery can run on it ---------------------------
    def validatePage(self) -> bool:  # noqa: N802 - Qt override
        self.on_value_changed()
        return self.setup_wizard().commit_connection()
