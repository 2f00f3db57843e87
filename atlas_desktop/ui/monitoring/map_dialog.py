"""Pair Atlas rows with ERP stock positions: the candidates discovery weighed, best first, row after row.

It opens on the candidates (same NDC in any form, same lot, same quantity, same location), the obvious
one pre-selected; after a choice it moves on to the next row of the queue (the ambiguous rows, or the
rows selected), and one button accepts every row's obvious candidate at once. Searching the ERP mirror
by name, SKU, NDC, item id or lot is still there for what discovery could not find.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from atlas_desktop.domain.enums import MappingStatus
from atlas_desktop.domain.review_rows import ErpCandidate
from atlas_desktop.engine.candidates import RankedCandidate, find_candidates, obvious, rank, unique_obvious
from atlas_desktop.store.candidate_reads import CandidateReads
from atlas_desktop.store.review_table import MappingView, ReviewTable
from atlas_desktop.ui.monitoring.context import MonitoringContext
from atlas_desktop.ui.monitoring.location_names import LocationNames
from atlas_desktop.ui.monitoring.tasks import TaskGroup
from atlas_desktop.ui.monitoring.wording import ndc_text_words, ndc_words

HEADERS = ("Name", "Why it may be this one", "NDC", "Item", "Location", "Lot", "Qty", "")
NAME, WHY, NDC, LOCATION = 0, 1, 2, 4
# Name stretches; the rest start wide enough to read (with Qt's default widths, a stretched first column
# is squeezed to a sliver in a narrow dialog).
WIDTHS = {WHY: 400, NDC: 110, 3: 60, LOCATION: 130, 5: 85, 6: 60, 7: 100}
MIN_NAME = 220
OBVIOUS_CHUNK = 50

Pair = tuple[MappingView, ErpCandidate]


class MapDialog(QDialog):
    """Non-modal use: `open()`. `mapped(pairs)` fires with the (row, ERP position) pairs a person chose:
    one per Map click, all of them for "Accept the obvious"."""

    mapped = Signal(object)  # list[Pair]
    searched = Signal()  # a list was shown (candidates or search results)
    obvious_counted = Signal(int)

    def __init__(
        self,
        ctx: MonitoringContext,
        mapping: MappingView,
        parent: QWidget | None = None,
        *,
        queue: Sequence[int] = (),
        more_of: MappingStatus | None = None,
    ) -> None:
        """`queue`: the rows to go through after `mapping`; `more_of`: or every row of that status (the
        ones after `mapping` first), read when the dialog opens."""
        super().__init__(parent)
        self.ctx = ctx
        self.mapping = mapping
        self.queue = [i for i in queue if i != mapping.id]  # rows still to go, after this one
        self.handled = 0  # rows mapped or skipped before this one
        self.more_of = more_of
        self.location_map: dict[str, str] = {}  # the connection's Atlas location code -> ERP location
        self.location_names: dict[str, str] = {}  # ERP location id -> its name, once the ERP said
        self.reads = CandidateReads(ctx.explain.store)
        self.pages = ReviewTable(ctx.explain.store)
        self.ranked: list[RankedCandidate] = []
        self.found: list[RankedCandidate] = []  # discovery's candidates for the current row
        self.obvious_pairs: list[Pair] = []
        self.setWindowTitle("Map to an ERP item")
        self.resize(1180, 480)
        self.intro = QLabel()
        self.intro.setWordWrap(True)
        self.search = QLineEdit()
        self.search.setPlaceholderText(
            "Not listed? Search the ERP by name, SKU, NDC (any format), item id or lot"
        )
        self.search.setClearButtonEnabled(True)
        self.search.setAccessibleName("Search ERP items")
        self.table = QTableWidget(0, len(HEADERS))
        self.table.setHorizontalHeaderLabels(HEADERS)
        self.table.setAccessibleName("ERP candidates")
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setWordWrap(False)
        self.table.verticalHeader().setVisible(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setMinimumSectionSize(50)
        for column, width in WIDTHS.items():
            self.table.setColumnWidth(column, width)
        header.setSectionResizeMode(NAME, QHeaderView.ResizeMode.Stretch)
        self.table.setMinimumWidth(MIN_NAME + sum(WIDTHS.values()) + 4)
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.accept_obvious = QPushButton("Finding obvious matches…")
        self.accept_obvious.setEnabled(False)
        self.accept_obvious.setVisible(bool(self.queue))
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.map_button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.map_button.setText("Map")
        self.skip_button = self.buttons.addButton("Skip", QDialogButtonBox.ButtonRole.ActionRole)
        self.skip_button.setVisible(bool(self.queue))
        self.buttons.button(QDialogButtonBox.StandardButton.Cancel).setText("Close")
        self.buttons.addButton(self.accept_obvious, QDialogButtonBox.ButtonRole.ActionRole)
        self.buttons.accepted.connect(self.on_buttons_accepted)
        self.buttons.rejected.connect(self.reject)
        self.skip_button.clicked.connect(self.next_row)
        self.accept_obvious.clicked.connect(self.on_accept_obvious_clicked)
        layout = QVBoxLayout(self)
        for widget in (self.intro, self.search, self.table, self.message, self.buttons):
            layout.addWidget(widget, 1 if widget is self.table else 0)
        self.tasks = TaskGroup(self.message.setText)
        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(250)
        self._debounce.timeout.connect(self.run_search)
        self.search.textChanged.connect(lambda _text: self._debounce.start())
        self.table.itemSelectionChanged.connect(self._update_ok)
        self.table.doubleClicked.connect(lambda _index: self.on_buttons_accepted())
        self.message.setText("Looking for the candidates discovery found…")
        self.tasks.start(self._begin())

    async def _begin(self) -> None:
        connection_id = self.mapping.connection_id
        summary = await self.ctx.db(self.ctx.connections.summary, connection_id)
        self.location_map = dict((summary.settings or {}).get("location_map") or {})
        self.tasks.start(self._read_location_names(connection_id))  # an offline ERP must not hold the list
        if self.more_of is not None:
            ids = await self.ctx.db(self.pages.ids, connection_id, status=self.more_of, search=None)
            later = [i for i in ids if i > self.mapping.id] + [i for i in ids if i < self.mapping.id]
            self.queue = later
        self.skip_button.setVisible(bool(self.queue))
        self.accept_obvious.setVisible(bool(self.queue))
        self._show_row()
        if self.queue:
            await self._count_obvious()

    async def _read_location_names(self, connection_id: str) -> None:
        self.location_names = await self.ctx.locations.names(connection_id)
        for row, ranked in enumerate(self.ranked):
            self.table.setItem(row, LOCATION, self._location_item(ranked.position))

    def _location_item(self, candidate: ErpCandidate) -> QTableWidgetItem:
        name = LocationNames.word(self.location_names, candidate.location_id) or ""
        item = QTableWidgetItem(name)
        item.setToolTip(f"{name} (id {candidate.location_id})" if name != candidate.location_id else name)
        return item

    def done(self, result: int) -> None:  # noqa: D401 - Qt override
        self.tasks.cancel_all()  # a count of obvious matches over thousands of rows stops with the dialog
        super().done(result)

    # ---- the current row ----------------------------------------------------------------------------
    @property
    def candidates(self) -> list[ErpCandidate]:
        return [r.position for r in self.ranked]

    @property
    def position(self) -> int:
        """1-based place of the current row among the rows of this session."""
        return self.handled + 1

    @property
    def total(self) -> int:
        return self.handled + 1 + len(self.queue)

    def _show_row(self) -> None:
        m = self.mapping
        who = escape(m.item_name or m.atlas_inventory_id or "")
        where = f" — row {self.position} of {self.total}" if self.total > 1 else ""
        self.setWindowTitle(f"Map to an ERP item{where}")
        note = f"<br><span style='color:#57606a'>Discovery: {escape(m.note)}</span>" if m.note else ""
        quantity = m.atlas_quantity if m.atlas_quantity is not None else "—"
        ndc = ndc_words(m.ndc_key) if m.ndc_key else ndc_text_words(m.ndc_text_atlas)
        facts = f"NDC {escape(ndc)}, lot {escape(m.lot or '—')}, quantity {quantity}"
        self.intro.setText(f"Pair the Atlas row <b>{who}</b> ({facts}) with an ERP stock position:{note}")
        self.search.blockSignals(True)
        self.search.clear()
        self.search.blockSignals(False)
        self.show_ranked([])
        self.message.setText("Looking for the candidates discovery found…")
        self.tasks.start(self._load_candidates(m))

    async def _load_candidates(self, mapping: MappingView) -> None:
        found = await self.ctx.db(find_candidates, self.reads, mapping, self.location_map)
        if mapping is not self.mapping:
            return  # the person moved on meanwhile
        self.found = found
        if not self.search.text().strip():  # a search typed meanwhile keeps its results
            self.show_ranked(found, from_discovery=True)

    def run_search(self) -> None:
        text = self.search.text().strip()
        if not text:
            self.show_ranked(self.found, from_discovery=True)
            return
        self.tasks.start(self._search(self.mapping, text))

    async def _search(self, mapping: MappingView, text: str) -> None:
        found = await self.ctx.db(self.ctx.explain.erp_candidates, mapping.connection_id, text)
        if mapping is not self.mapping:
            return
        self.show_candidates(found)

    def show_candidates(self, candidates: list[ErpCandidate]) -> None:
        """Show plain search results (ranked against the current row)."""
        m = self.mapping
        self.show_ranked(rank(candidates, ndc_text=m.ndc_text_atlas, lot=m.lot, quantity=m.atlas_quantity,
                              location=None, suggested_item=m.erp_item_id))  # fmt: skip

    def show_ranked(self, ranked: list[RankedCandidate], *, from_discovery: bool = False) -> None:
        self.ranked = ranked
        self.table.setRowCount(len(ranked))
        for row, r in enumerate(ranked):
            c = r.position
            ndc = ndc_text_words(c.ndc_text) if c.ndc_text else None
            values = (c.name or c.sku or c.item_id, r.why, ndc, c.item_id, None, c.lot, c.quantity,
                      "already mapped" if c.mapped else "")  # fmt: skip
            for column, value in enumerate(values):
                item = QTableWidgetItem("" if value is None else str(value))
                written = c.ndc_text if column == NDC else None  # the tooltip keeps what the ERP holds
                shown = item.text()
                item.setToolTip(f"{shown} ({written})" if written and written != shown else shown)
                self.table.setItem(row, column, item)
            self.table.setItem(row, LOCATION, self._location_item(c))
        best = obvious(ranked)
        if best is not None:
            self.table.selectRow(ranked.index(best))
        else:
            self.table.clearSelection()
        self.message.setText(self._list_message(ranked, best, from_discovery))
        self._update_ok()
        self.searched.emit()

    def _list_message(self, ranked: list[RankedCandidate], best: RankedCandidate | None, found: bool) -> str:
        if not ranked:
            if found:
                return "Discovery found no ERP item with this NDC. Search above by name, SKU or item id."
            return "No ERP stock position matches that search."
        source = "candidate" + ("s" if len(ranked) > 1 else "") + (" discovery found" if found else "")
        text = f"{len(ranked)} {source}, best first."
        if best is not None:
            return f"{text} The selected one is the obvious match ({best.why}): Map it, or pick another."
        return f"{text} None is certain: choose the right one, or Skip."

    def selected(self) -> ErpCandidate | None:
        rows = self.table.selectionModel().selectedRows()
        return self.ranked[rows[0].row()].position if rows else None

    def _update_ok(self) -> None:
        candidate = self.selected()
        self.map_button.setEnabled(candidate is not None and not candidate.mapped)

    def on_buttons_accepted(self) -> None:
        candidate = self.selected()
        if candidate is None or candidate.mapped:
            return
        self.obvious_pairs = [p for p in self.obvious_pairs if p[0].id != self.mapping.id]
        self._refresh_obvious_button()
        self.mapped.emit([(self.mapping, candidate)])
        self.next_row()

    def next_row(self) -> None:
        """On to the next row of the queue; closes after the last."""
        self.handled += 1
        if not self.queue:
            self.accept()
            return
        self.tasks.start(self._next(self.queue.pop(0)))

    async def _next(self, mapping_id: int) -> None:
        following = await self.ctx.db(self.pages.views, [mapping_id])
        if not following:  # gone meanwhile (unmapped elsewhere): the one after it
            self.handled -= 1
            self.next_row()
            return
        self.mapping = following[0]
        self._show_row()

    # ---- every obvious one at once --------------------------------------------------------------------
    async def _count_obvious(self) -> None:
        ids = [self.mapping.id, *self.queue]
        ranked: list[tuple[MappingView, list[RankedCandidate]]] = []
        # A few rows per DB-thread call: thousands of ambiguous rows never hold that thread for long.
        for start in range(0, len(ids), OBVIOUS_CHUNK):
            ranked += await self.ctx.db(self._ranked_rows, ids[start : start + OBVIOUS_CHUNK])
        self.obvious_pairs = unique_obvious(ranked)
        self._refresh_obvious_button()
        self.obvious_counted.emit(len(self.obvious_pairs))

    def _ranked_rows(self, ids: list[int]) -> list[tuple[MappingView, list[RankedCandidate]]]:
        """On the DB thread: each row with its ranked candidates."""
        views = self.pages.views(ids)
        return [(view, find_candidates(self.reads, view, self.location_map)) for view in views]

    def _refresh_obvious_button(self) -> None:
        count = len(self.obvious_pairs)
        self.accept_obvious.setText(f"Accept {count} obvious match" + ("" if count == 1 else "es"))
        self.accept_obvious.setEnabled(count > 0)

    def on_accept_obvious_clicked(self) -> None:
        pairs, self.obvious_pairs = self.obvious_pairs, []
        if not pairs:
            return
        done = {view.id for view, _candidate in pairs}
        self.queue = [i for i in self.queue if i not in done]
        self._refresh_obvious_button()
        self.mapped.emit(pairs)
        if self.mapping.id in done:
            self.next_row()
        else:
            self._show_row()  # "row n of m" counts what is left
