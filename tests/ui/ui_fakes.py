"""Stand-ins for the Atlas sign-in, an ERP connector and the engine, for wizard tests without a network."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QAbstractButton, QWidget, QWizard

from atlas_desktop.domain.connection import ConnectionSpec
from atlas_desktop.domain.enums import SyncType
from atlas_desktop.domain.errors import AuthFailed
from atlas_desktop.domain.model import ConnectionReport, StepResult
from atlas_desktop.domain.secrets import Secret
from atlas_desktop.engine.api import (
    DiscoveryProgress,
    DiscoverySummary,
    EventBus,
    RunFinished,
    RunStarted,
    RunStatus,
    RunSummary,
    SyncPlan,
)
from atlas_desktop.engine.changes import TO_ATLAS, TO_ERP, ChangeKind, PlannedChange
from atlas_desktop.engine.unmatched import FIXES, LABELS, Unmatched, UnmatchedRow
from atlas_desktop.ui.wizard.context import AtlasIdentity, DeviceCode, DeviceTokens

GOOD_TOKEN = "atl_pat_good_token_0123456789"


class FakeAtlasSignIn:
    def __init__(self, *, good_token: str = GOOD_TOKEN, delay: float = 0.0) -> None:
        self.good_token = good_token
        self.delay = delay
        self.checked: list[str] = []
        self.approved = asyncio.Event()

    async def verify_token(self, base_url: str, token: Secret) -> AtlasIdentity:
        await asyncio.sleep(self.delay)
        self.checked.append(base_url)
        if token.reveal() not in (self.good_token, "device-access-token"):
            raise AuthFailed("Atlas: the API token was refused", fix="Create a new token in the dashboard.")
        return AtlasIdentity("acct_1", "Sandbox Pharma Distribution", "ops@example.com")

    async def start_device(self, base_url: str) -> DeviceCode:
        uri = f"{base_url}/device"
        code = Secret("device-code-secret")
        return DeviceCode("WDJB-MJHT", uri, f"{uri}?user_code=WDJB-MJHT", 0.01, 600, code)

    async def wait_device(self, base_url: str, code: DeviceCode) -> DeviceTokens:
        await self.approved.wait()
        return DeviceTokens(Secret("device-access-token"), Secret("device-refresh-token"))


@dataclass
class FakeConnector:
    spec: ConnectionSpec
    steps: tuple[StepResult, ...] = (
        StepResult("Sign in", ok=True, detail="as the integration user"),
        StepResult("Read items", ok=True, detail="1,000 items"),
        StepResult("Post stock adjustments", ok=True),
    )
    gate: asyncio.Event | None = None
    closed: bool = False

    async def test_connection(self) -> ConnectionReport:
        if self.gate is not None:
            await self.gate.wait()
        return ConnectionReport(steps=self.steps)

    async def list_locations(self) -> list[Any]:
        return [_Choice("1", "Main warehouse"), _Choice("2", "East")]

    async def setting_choices(self, key: str) -> list[Any] | None:
        return await self.list_locations() if key == "default_location_id" else None

    async def aclose(self) -> None:
        self.closed = True


@dataclass(frozen=True)
class _Choice:
    id: str
    name: str


@dataclass
class FakeConnectorFactory:
    make: Callable[[ConnectionSpec], Any] = FakeConnector
    built: list[Any] = field(default_factory=list)

    def __call__(self, spec: ConnectionSpec) -> Any:
        connector = self.make(spec)
        self.built.append(connector)
        return connector


class FakeEngine:
    def __init__(self) -> None:
        self.events = EventBus()
        self.synced: list[tuple[str, SyncType, bool]] = []

    async def test_connection(self, connection_id: str) -> ConnectionReport:
        return ConnectionReport(steps=(StepResult("Sign in", ok=True),))

    async def discover(self, connection_id: str) -> DiscoverySummary:
        for done in (100, 500, 1000):
            self.events.publish(DiscoveryProgress(connection_id, done, 1000))
            await asyncio.sleep(0)
        reasons = (("NDC not in the ERP", 22), ("no NDC on the Atlas listing", 9),
                   ("location not mapped to an ERP location", 5), ("lot not in the ERP at that location", 2))
        return DiscoverySummary(matched=902, ambiguous=21, unmatched_atlas=38, unmatched_erp=46,
                                unmatched_reasons=reasons)  # fmt: skip

    async def unmatched_atlas(self, connection_id: str) -> list[UnmatchedRow]:
        return fake_unmatched()

    async def preview(self, connection_id: str) -> SyncPlan:
        return fake_plan()

    async def sync(self, connection_id: str, *, sync_type: SyncType = SyncType.MANUAL,
                   approve: bool = False) -> RunSummary:
        self.synced.append((connection_id, sync_type, approve))
        self.events.publish(RunStarted(connection_id, sync_type))
        summary = RunSummary(1, connection_id, sync_type, RunStatus.SUCCESS, items_synced=51)
        self.events.publish(RunFinished(summary))
        return summary


def fake_unmatched() -> list[UnmatchedRow]:
    """The 38 Atlas rows of the fake discovery, explained (engine.unmatched)."""
    location = "location 'WH-NORTH' has no ERP location; map it in settings"
    kinds = (
        [(Unmatched.NDC_NOT_IN_ERP, "no ERP item with this NDC")] * 22
        + [(Unmatched.NO_NDC, "NDC not usable: no NDC")] * 9
        + [(Unmatched.LOCATION_NOT_MAPPED, location)] * 5
        + [(Unmatched.LOT_NOT_IN_ERP, "lot 'B-7781' not in the ERP at location 1")] * 2
    )
    return [
        UnmatchedRow(f"Listing {n}", "" if kind is Unmatched.NO_NDC else f"5{n:04}-123-45", "", "",
                     LABELS[kind], note, FIXES[kind])  # fmt: skip
        for n, (kind, note) in enumerate(kinds)
    ]


def fake_plan() -> SyncPlan:
    """A first-sync plan as the engine makes it: counts per kind and the list behind them."""
    changes = [
        PlannedChange(ChangeKind.QUANTITY_TO_ATLAS, f"Amoxicillin 500 mg caps, 100 (#{n})", f"L{n:04}",
                      "1", TO_ATLAS, str(10 + n), str(12 + n), n)
        for n in range(44)
    ] + [
        PlannedChange(ChangeKind.EXPIRY_TO_ATLAS, "Lisinopril 10 mg tabs, 90", "LIS-2207", "2", TO_ATLAS,
                      "2027-03-31", "2027-02-28", 90),
        PlannedChange(ChangeKind.NAME_TO_ATLAS, "Metformin 850 mg tabs, 60", "", "1", TO_ATLAS,
                      "Metformin 850", "Metformin 850 mg tabs, 60", 91),
        PlannedChange(ChangeKind.NAME_TO_ATLAS, "Atorvastatin 20 mg tabs, 30", "", "1", TO_ATLAS,
                      "Atorvastatin", "Atorvastatin 20 mg tabs, 30", 92),
        PlannedChange(ChangeKind.QUANTITY_TO_ERP, "Omeprazole 20 mg caps, 28", "OM-118", "1", TO_ERP,
                      "40", "37", 93),
        PlannedChange(ChangeKind.QUANTITY_TO_ERP, "Sertraline 50 mg tabs, 30", "SE-771", "2", TO_ERP,
                      "12", "15", 94),
        PlannedChange(ChangeKind.QUANTITY_TO_ERP, "Amlodipine 5 mg tabs, 90", "AM-093", "1", TO_ERP,
                      "8", "6", 95),
        PlannedChange(ChangeKind.PURCHASE_ORDER, "Order ATL-1042: Insulin glargine 100 U/mL", "", "", TO_ERP,
                      "confirmed on Atlas", "purchase order (1 line)"),
    ]  # fmt: skip
    kinds = {kind: 0 for kind in ChangeKind}
    for change in changes:
        kinds[change.kind] += 1
    kinds[ChangeKind.ALREADY_SAME] = 850
    counts = {str(kind): n for kind, n in kinds.items()}
    return SyncPlan(to_atlas=47, to_erp=3, conflicts=0, creates_on_atlas=0, unchanged=850,
                    reason="first sync", kinds=counts, changes=tuple(changes))  # fmt: skip


async def reachable(host: str, port: int) -> StepResult:
    return StepResult("Reach the server", ok=True, detail=f"{host}:{port}")


class User:
    """Acts on the wizard only through clicks, key presses and the clipboard; counts what it did."""

    def __init__(self, qtbot: Any, wizard: Any) -> None:
        self.qtbot, self.wizard = qtbot, wizard
        self.clicks = 0
        self.pastes = 0

    def click(self, widget: QWidget) -> None:
        assert widget.isVisible() and widget.isEnabled(), widget
        # Radio buttons and check boxes react to their indicator and text, not to the empty rest of the row.
        checkable = isinstance(widget, QAbstractButton) and widget.isCheckable()
        pos = QPoint(8, widget.height() // 2) if checkable else widget.rect().center()
        self.qtbot.mouseClick(widget, Qt.MouseButton.LeftButton, pos=pos)
        self.clicks += 1

    def next_when_ready(self, expected_page: int, timeout: int = 15_000) -> None:
        button = self.wizard.button(QWizard.WizardButton.NextButton)
        try:
            self.qtbot.waitUntil(lambda: button.isEnabled(), timeout=timeout)
        except Exception as exc:
            page = self.wizard.currentPage()
            rows = [(r.name, str(r.state)) for r in getattr(getattr(page, "checklist", None), "rows", [])]
            raise AssertionError(f"Next stays disabled on {type(page).__name__}; checklist {rows}") from exc
        self.click(button)
        self.qtbot.waitUntil(lambda: self.wizard.currentId() == expected_page, timeout=timeout)

    def paste_into(self, widget: QWidget, text: str) -> None:
        QGuiApplication.clipboard().setText(text)
        widget.setFocus()
        self.qtbot.keyClick(widget, Qt.Key.Key_V, Qt.KeyboardModifier.ControlModifier)
        self.pastes += 1
