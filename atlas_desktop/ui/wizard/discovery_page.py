"""Step 7: find which ERP items and Atlas listings are the same product (by NDC), with a progress bar."""

from __future__ import annotations

from html import escape

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QLabel, QProgressBar, QPushButton, QVBoxLayout

from atlas_desktop.domain.errors import AtlasDesktopError
from atlas_desktop.engine.api import DiscoveryProgress, DiscoverySummary
from atlas_desktop.ui.monitoring.wording import phase_words, plural
from atlas_desktop.ui.widgets.fields import ERROR_COLOUR
from atlas_desktop.ui.wizard.base import WizardPageBase
from atlas_desktop.ui.wizard.context import WizardContext
from atlas_desktop.ui.wizard.state import WizardState
from atlas_desktop.ui.wizard.unmatched_dialog import UnmatchedDialog

REASON_MARK = "• "  # a reason line under "On Atlas, not found in the ERP", shown indented


def _indent(label: str) -> str:
    return "; padding-left:18px" if label.startswith(REASON_MARK) else ""


def summary_html(summary: DiscoverySummary) -> str:
    rows = [
        ("Matched automatically", summary.matched, "#1a7f37"),
        ("Ambiguous (need your choice)", summary.ambiguous, "#9a6700"),
        ("On Atlas, not found in the ERP", summary.unmatched_atlas, "#6e7781"),
    ]
    # Why, counted by reason: each a fix of its own (an NDC to add, a location to map, ...).
    rows += [(f"{REASON_MARK}{reason}", count, "#6e7781") for reason, count in summary.unmatched_reasons]
    # Information, not a failure: the ERP carries more than Atlas lists.
    rows.append(("In the ERP, not listed on Atlas (information)", summary.unmatched_erp, "#6e7781"))
    if summary.duplicates:
        rows.append(("Duplicate NDCs", summary.duplicates, "#cf222e"))
    # An Atlas row belongs to one connection: rows another connection maps are left out here.
    for name, count in summary.mapped_elsewhere:
        rows.append((f"Already mapped by connection '{name}' (left out)", count, "#6e7781"))
    if summary.doubles:
        label = "Also mapped by another connection (not synced: unmap in one)"
        rows.append((label, summary.doubles, "#cf222e"))
    cells = "".join(
        f"<tr><td style='padding-right:16px{_indent(label)}'>{escape(label)}</td>"
        f"<td align='right' style='color:{colour}'><b>{count:,}</b></td></tr>"
        for label, count, colour in rows
    )
    return f"<table>{cells}</table>"


class DiscoveryPage(WizardPageBase):
    mapping_review_requested = Signal(str)

    def __init__(self, ctx: WizardContext, state: WizardState) -> None:
        super().__init__(ctx, state)
        self.setTitle("Match your items")
        self.setSubTitle("Atlas Desktop reads both catalogs and pairs items by NDC. Nothing is written yet.")
        self.progress = QProgressBar()
        self.progress.setAccessibleName("Item matching progress")
        self.progress.setRange(0, 0)
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.summary = QLabel()
        self.summary.setObjectName("discoverySummary")
        self.summary.setTextFormat(Qt.TextFormat.RichText)
        self.summary.setAccessibleName("Item matching summary")
        self.review = QLabel("<a href='review'>Review the mappings…</a> (you can also do this later)")
        self.review.setTextInteractionFlags(Qt.TextInteractionFlag.TextBrowserInteraction)
        self.review.setAccessibleName("Review the mappings")
        self.review.setVisible(False)
        self.why = QLabel("<a href='why'>Show why, row by row…</a>")
        self.why.setTextInteractionFlags(Qt.TextInteractionFlag.TextBrowserInteraction)
        self.why.setAccessibleName("Show why each Atlas row was not found in the ERP")
        self.why.setVisible(False)
        self.unmatched_dialog: UnmatchedDialog | None = None
        self.retry = QPushButton("&Try again")
        self.retry.setVisible(False)
        layout = QVBoxLayout(self)
        layout.addWidget(self.progress)
        layout.addWidget(self.status)
        layout.addWidget(self.summary)
        layout.addWidget(self.why)
        layout.addWidget(self.review)
        layout.addWidget(self.retry)
        layout.addStretch(1)
        self.result: DiscoverySummary | None = None
        self.review.linkActivated.connect(self.on_review_link_activated)
        self.why.linkActivated.connect(lambda _link: self.start_task(self.show_why(), "unmatched-rows"))
        self.retry.clicked.connect(self.on_retry_clicked)

    def initializePage(self) -> None:  # noqa: N802 - Qt override
        if self.result is None and not self.busy():
            self.start()

    def start(self) -> None:
        self.retry.setVisible(False)
        self.progress.setRange(0, 0)
        self.status.setText("Reading the catalogs…")
        self.start_task(self._run(), "discovery")
        self.completeChanged.emit()

    def on_discovery_progressed(self, event: DiscoveryProgress) -> None:
        """From the bridge (throttled): a determinate bar once the total is known."""
        if event.connection_id != self.state.connection_id:
            return
        if event.phase == "match":
            self.progress.setRange(0, 0)
            self.status.setText("Pairing the Atlas listings with the ERP's stock by NDC, lot and location…")
            return
        if event.total:
            self.progress.setRange(0, event.total)
            self.progress.setValue(min(event.done, event.total))
        if event.phase:  # reading the two sides: "Reading Atlas and the ERP: 9,000 rows read…"
            self.status.setText(f"{phase_words(event.phase, event.done, event.total)}…")
            return
        done = event.done
        compared = f"{done:,} of {plural(event.total, 'item')}" if event.total else plural(done, "item")
        self.status.setText(f"Compared {compared}…")

    async def _run(self) -> None:
        engine, connection_id = self.ctx.engine, self.state.connection_id
        if engine is None or connection_id is None:
            self._failed("The sync engine is not available in this build.", "Update Atlas Desktop.")
            return
        try:
            result = await engine.discover(connection_id)
        except AtlasDesktopError as error:
            self._failed(error.message, error.fix)
            return
        self.result = result
        self.progress.setRange(0, 1)
        self.progress.setValue(1)
        self.status.setText("Done. Items that matched are kept in step; the others wait for your review.")
        self.summary.setText(summary_html(result))
        self.review.setVisible(True)
        self.why.setVisible(result.unmatched_atlas > 0)
        self.state_changed()

    async def show_why(self) -> UnmatchedDialog | None:
        """Each Atlas row not found in the ERP with its reason and fix (read on the engine's DB thread)."""
        engine, connection_id = self.ctx.engine, self.state.connection_id
        if engine is None or connection_id is None:
            return None
        try:
            rows = await engine.unmatched_atlas(connection_id)
        except AtlasDesktopError as error:
            self.status.setText(escape(f"{error.message} — {error.fix}"))
            return None
        self.unmatched_dialog = UnmatchedDialog(rows, self)
        self.unmatched_dialog.open()
        return self.unmatched_dialog

    def _failed(self, message: str, fix: str) -> None:
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.status.setText(
            f"<span style='color:{ERROR_COLOUR}'>✗ {escape(message)}</span><br><b>Fix:</b> {escape(fix)}"
        )
        self.retry.setVisible(True)

    def review_status(self) -> str:
        """What the review should list first: the rows a person must choose for, else the Atlas rows
        no ERP item matched (those never sync until mapped)."""
        if self.result is not None and not self.result.ambiguous and self.result.unmatched_atlas:
            return "unmatched_atlas"
        return "ambiguous"

    def on_review_link_activated(self, _link: str) -> None:
        if self.state.connection_id:
            self.mapping_review_requested.emit(self.state.connection_id)
            # The window's Mappings tab is behind this (window-modal) wizard: say where it went.
            self.review.setText(
                "The <b>Mappings</b> tab of the main window now lists the items to review; "
                "it is in front when this wizard closes."
            )

    def on_retry_clicked(self) -> None:
        self.start()

    def isComplete(self) -> bool:  # noqa: N802 - Qt override
        return self.result is not None and not self.busy()
