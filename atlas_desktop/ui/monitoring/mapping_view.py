"""Mapping review: filter and search (in SQL), map an unmatched row by search, unmap, direction, policy."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from atlas_desktop.domain.enums import ConflictPolicy, MappingStatus, SyncDirection
from atlas_desktop.domain.errors import AtlasDesktopError
from atlas_desktop.domain.review_rows import ErpCandidate
from atlas_desktop.store.review_table import MappingView, ReviewTable
from atlas_desktop.ui.monitoring.context import MonitoringContext
from atlas_desktop.ui.monitoring.map_dialog import MapDialog
from atlas_desktop.ui.monitoring.mapping_model import DIRECTION_LABELS, WIDTHS, MappingTableModel
from atlas_desktop.ui.monitoring.tasks import TaskGroup
from atlas_desktop.ui.monitoring.wording import item_words, plural

ROW_HEIGHT = 24
STATUS_FILTERS: tuple[tuple[str, MappingStatus | None], ...] = (
    ("All", None),
    ("Matched", MappingStatus.MATCHED),
    ("Ambiguous", MappingStatus.AMBIGUOUS),
    ("Only in Atlas (unmatched)", MappingStatus.UNMATCHED_ATLAS),
    ("Only in ERP (information)", MappingStatus.UNMATCHED_ERP),
    ("Conflict", MappingStatus.CONFLICT),
    ("Ignored", MappingStatus.IGNORED),
)
# What a filter's rows mean when a person could read them as a problem.
STATUS_NOTES: dict[MappingStatus, str] = {
    MappingStatus.UNMATCHED_ERP: (
        "These ERP items are not listed on Atlas: information, not a failure. Nothing is synced for them "
        "and nothing needs fixing; list one on Atlas to sync it."
    ),
}
POLICIES = (("Connection's policy", None), ("Atlas wins", ConflictPolicy.ATLAS_WINS),
            ("ERP wins", ConflictPolicy.ERP_WINS), ("Ask me (manual)", ConflictPolicy.MANUAL))  # fmt: skip


def row_count(rows: int) -> str:
    return f"{rows:,} row" + ("" if rows == 1 else "s")


def _mappable(mapping: MappingView) -> bool:
    """An Atlas row still waiting for its ERP side."""
    status = mapping.status in (MappingStatus.UNMATCHED_ATLAS, MappingStatus.AMBIGUOUS)
    return status and bool(mapping.atlas_inventory_id)


def configure_big_table(table: QTableView) -> None:
    """Fixed row height and no resize-to-contents: the view never measures 100,000 rows."""
    vertical = table.verticalHeader()
    vertical.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
    vertical.setDefaultSectionSize(ROW_HEIGHT)
    vertical.setVisible(False)
    header = table.horizontalHeader()
    header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
    header.setMinimumSectionSize(50)  # a column a person can still read, never a ~20 px sliver
    header.setStretchLastSection(True)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
    table.setWordWrap(False)
    table.setAlternatingRowColors(True)


class MappingsView(QWidget):
    changed = Signal()  # after an action was stored
    explain_requested = Signal(int)  # mapping id
    sync_requested = Signal(str)

    def __init__(self, ctx: MonitoringContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.connection_id: str | None = None
        self.model = MappingTableModel(ReviewTable(ctx.explain.store), self)
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setAccessibleName("Mappings")
        configure_big_table(self.table)
        self.table.setSortingEnabled(True)
        self.table.horizontalHeader().setSortIndicator(-1, Qt.SortOrder.AscendingOrder)
        for column, width in enumerate(WIDTHS):
            self.table.setColumnWidth(column, width)
        self.table.setTextElideMode(Qt.TextElideMode.ElideRight)  # the whole name is the tooltip

        self.status_filter = QComboBox()
        self.status_filter.setAccessibleName("Status filter")
        for label, status in STATUS_FILTERS:
            self.status_filter.addItem(label, status)
        self.search = QLineEdit()
        self.search.setPlaceholderText("Search NDC (any format), name, SKU or lot")
        self.search.setClearButtonEnabled(True)
        self.search.setAccessibleName("Search mappings")
        self.count_label = QLabel()
        self.info = QLabel()
        self.info.setWordWrap(True)
        self.info.setAccessibleName("What these rows mean")
        self.info.setVisible(False)
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.tasks = TaskGroup(self.message.setText)
        self.model.load_failed.connect(self.message.setText)
        # An empty table says what is empty and what to do (no connection / no discovery / no match).
        self.empty = QLabel()
        self.empty.setWordWrap(True)
        self.empty.setObjectName("emptyState")
        self.empty.setAccessibleName("Why the table is empty")
        self.discover_button = QPushButton("Run discovery…")
        self.discover_button.setToolTip("Read both sides and pair each Atlas listing with its ERP item")
        self.clear_filter_button = QPushButton("Show all rows")

        self.map_button = QPushButton("Map to ERP item…")
        self.unmap_button = QPushButton("Unmap")
        self.ignore_button = QPushButton("Ignore")
        self.explain_button = QPushButton("Explain…")
        self.direction = QComboBox()
        self.direction.setAccessibleName("Direction")
        for value, label in DIRECTION_LABELS.items():
            self.direction.addItem(label, SyncDirection(value))
        self.direction_button = QPushButton("Set direction")
        self.policy = QComboBox()
        self.policy.setAccessibleName("Conflict policy")
        for label, policy in POLICIES:
            self.policy.addItem(label, policy)
        self.policy_button = QPushButton("Set policy")

        filters = QHBoxLayout()
        filters.addWidget(QLabel("Show:"))
        filters.addWidget(self.status_filter)
        filters.addWidget(self.search, 1)
        filters.addWidget(self.count_label)
        actions = QHBoxLayout()
        for widget in (self.map_button, self.unmap_button, self.ignore_button, self.explain_button,
                       self.direction, self.direction_button, self.policy, self.policy_button):  # fmt: skip
            actions.addWidget(widget)
        actions.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(filters)
        layout.addWidget(self.info)
        empty_row = QHBoxLayout()
        empty_row.addWidget(self.empty, 1)
        empty_row.addWidget(self.discover_button)
        empty_row.addWidget(self.clear_filter_button)
        layout.addLayout(empty_row)
        layout.addWidget(self.table, 1)
        layout.addLayout(actions)
        layout.addWidget(self.message)

        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(250)  # typing does not run a query per key
        self._debounce.timeout.connect(self.apply_filter)
        self.search.textChanged.connect(lambda _text: self._debounce.start())
        self.status_filter.currentIndexChanged.connect(lambda _i: self.apply_filter())
        self.table.selectionModel().selectionChanged.connect(lambda *_: self._update_buttons())
        self.model.modelReset.connect(self._update_buttons)
        self.map_button.clicked.connect(self.on_map_button_clicked)
        self.unmap_button.clicked.connect(lambda: self._bulk(self._unmap, "unmapped"))
        self.ignore_button.clicked.connect(lambda: self._bulk(self._ignore, "ignored"))
        # The combo values are read here, on the GUI thread; the DB thread only gets plain values.
        self.direction_button.clicked.connect(
            lambda: self._bulk(self._direction_setter(self.direction.currentData()), "direction set")
        )
        self.policy_button.clicked.connect(
            lambda: self._bulk(self._policy_setter(self.policy.currentData()), "policy set")
        )
        self.explain_button.clicked.connect(self.on_explain_button_clicked)
        self.discover_button.clicked.connect(self.on_discover_button_clicked)
        self.clear_filter_button.clicked.connect(lambda: self.show_status(None))
        self.map_dialog: MapDialog | None = None
        # Off screen (another tab shown), reads wait until the view is shown again: counting a large
        # table's mappings costs GUI-thread time that every refresh after a sync would otherwise pay.
        self._active = True
        self._stale = False
        self._named_for: str | None = None  # the connection whose location names were asked for
        self._update_buttons()
        self._show_empty_state()

    # ---- filter ---------------------------------------------------------------------------------
    @property
    def stale(self) -> bool:
        """True while the view is inactive and has skipped a read it must do once shown."""
        return self._stale

    def set_active(self, active: bool) -> None:
        """Whether the view is on screen (the window calls this as its tabs change). An inactive view
        reads nothing and only notes that it is out of date; made active, it reads what it skipped."""
        self._active = active
        if active and self._stale:
            self.apply_filter()

    def set_connection(self, connection_id: str | None) -> None:
        self.connection_id = connection_id
        self.apply_filter()
        if connection_id is not None and connection_id != self._named_for:
            self._named_for = connection_id
            self.model.set_location_names({})
            self.tasks.start(self._read_location_names(connection_id))

    async def _read_location_names(self, connection_id: str) -> None:
        names = await self.ctx.locations.names(connection_id)
        if connection_id == self.connection_id:
            self.model.set_location_names(names)

    def show_status(self, status: MappingStatus | None) -> None:
        """Only the rows of one status, search cleared (a dashboard link: "12 ambiguous items")."""
        self.search.blockSignals(True)  # one query for both changes, not a debounced second one
        self.search.clear()
        self.search.blockSignals(False)
        index = self.status_filter.findData(status)
        if index == self.status_filter.currentIndex():
            self.apply_filter()
        else:
            self.status_filter.setCurrentIndex(index)

    def apply_filter(self) -> None:
        self._debounce.stop()
        if not self._active:
            self._stale = True
            return
        self._stale = False
        note = STATUS_NOTES.get(self.status_filter.currentData(), "")
        self.info.setText(note)
        self.info.setVisible(bool(note))
        self.model.set_query(
            self.connection_id, status=self.status_filter.currentData(), search=self.search.text()
        )
        self.count_label.setText(row_count(self.model.rowCount()))
        self._show_empty_state()

    def refresh(self) -> None:
        if not self._active:
            self._stale = True
            return
        self.model.refresh()
        self.count_label.setText(row_count(self.model.rowCount()))
        self._show_empty_state()

    def _filtered(self) -> bool:
        return self.status_filter.currentData() is not None or bool(self.search.text().strip())

    def _show_empty_state(self) -> None:
        """Say what is empty and offer the way out; the table comes back as soon as there are rows."""
        empty = self.model.rowCount() == 0
        filtered = empty and self.connection_id is not None and self._filtered()
        undiscovered = empty and self.connection_id is not None and not filtered
        if self.connection_id is None:
            text = "No connection selected: choose one in the Connections list to review its mappings."
        elif filtered:
            what = self.status_filter.currentText().lower()
            searched = self.search.text().strip()
            text = f"No rows match “{searched}”" if searched else "No rows"
            text += f" among {what} rows." if self.status_filter.currentData() is not None else "."
            text += " Change the search, or show all rows."
        else:
            text = (
                "No mappings yet: discovery has not run for this connection. Run discovery to pair "
                "each Atlas listing with its ERP item; nothing is changed on either side."
            )
        self.empty.setText(text)
        self.empty.setVisible(empty)
        self.table.setVisible(not empty)
        self.discover_button.setVisible(undiscovered)
        self.clear_filter_button.setVisible(filtered)

    def on_discover_button_clicked(self) -> None:
        if self.connection_id is not None:
            self.tasks.start(self.run_discovery(self.connection_id))

    async def run_discovery(self, connection_id: str) -> None:
        self.discover_button.setEnabled(False)
        self.message.setText("Discovery running: reading both sides…")
        try:
            summary = await self.ctx.engine.discover(connection_id)
        finally:
            self.discover_button.setEnabled(True)
        matched = getattr(summary, "matched", None)
        self.message.setText(
            "Discovery done" + (f": {plural(int(matched), 'item')} matched." if matched is not None else ".")
        )
        self.refresh()
        self.changed.emit()

    # ---- selection ------------------------------------------------------------------------------
    def selected(self) -> list[MappingView]:
        rows = sorted(index.row() for index in self.table.selectionModel().selectedRows())
        return [view for row in rows if (view := self.model.row_at(row)) is not None]

    def select_rows(self, rows: list[int]) -> None:
        self.table.clearSelection()
        mode = self.table.selectionMode()
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.MultiSelection)
        for row in rows:
            self.table.selectRow(row)
        self.table.setSelectionMode(mode)

    def _update_buttons(self) -> None:
        chosen = self.selected() if self.table.selectionModel() else []
        one = chosen[0] if len(chosen) == 1 else None
        self.map_button.setEnabled(bool(chosen) and all(_mappable(m) for m in chosen))
        paired = [m for m in chosen if m.atlas_inventory_id and m.erp_item_id]
        self.unmap_button.setEnabled(bool(paired))
        for widget in (self.ignore_button, self.direction_button, self.policy_button):
            widget.setEnabled(bool(chosen))
        self.explain_button.setEnabled(one is not None)

    # ---- actions --------------------------------------------------------------------------------
    def on_explain_button_clicked(self) -> None:
        chosen = self.selected()
        if chosen:
            self.explain_requested.emit(chosen[0].id)

    def on_map_button_clicked(self) -> None:
        """One row: that row, then the other ambiguous ones if it is ambiguous; several rows: those."""
        chosen = [m for m in self.selected() if _mappable(m)]
        if not chosen:
            return
        first = chosen[0]
        more_of = (
            MappingStatus.AMBIGUOUS if len(chosen) == 1 and first.status is MappingStatus.AMBIGUOUS else None
        )
        dialog = MapDialog(self.ctx, first, self, queue=[m.id for m in chosen[1:]], more_of=more_of)
        dialog.mapped.connect(lambda pairs: self.tasks.start(self.map_pairs(pairs)))
        self.map_dialog = dialog
        dialog.open()  # window-modal without a nested loop

    async def map_to(self, mapping: MappingView, candidate: ErpCandidate) -> int:
        assert mapping.atlas_inventory_id is not None
        mapping_id: int = await self.ctx.db(
            self.ctx.repos.mappings.map_manually, mapping.connection_id, mapping.atlas_inventory_id,
            candidate.item_id, candidate.location_id, candidate.lot,
        )  # fmt: skip
        return mapping_id

    async def map_pairs(self, pairs: list[tuple[MappingView, ErpCandidate]]) -> None:
        """Pair each row with its chosen position, in order; a refusal is reported and the rest go on."""
        refused: list[str] = []
        for mapping, candidate in pairs:
            try:
                await self.map_to(mapping, candidate)
            except AtlasDesktopError as error:
                fix = f" — {error.fix}" if error.fix else ""
                refused.append(f"{mapping.item_name or mapping.id}: {error.message}{fix}")
        done = len(pairs) - len(refused)
        chosen = pairs[0][1]
        one = f"Mapped to {item_words(chosen.name, chosen.lot, fallback=f'ERP item {chosen.item_id}')}"
        text = one if len(pairs) == 1 else f"Mapped {plural(done, 'row')}"
        self.message.setText(
            (text if done else "Nothing mapped") + ("; the next sync carries it." if done else ".")
            + (" Refused: " + "; ".join(refused[:5]) if refused else "")
        )  # fmt: skip
        self.refresh()
        self.changed.emit()

    def _bulk(self, action: Callable[[MappingView], Any], done: str) -> None:
        chosen = self.selected()
        if chosen:
            self.tasks.start(self.run_bulk(action, chosen, done))

    async def run_bulk(
        self, action: Callable[[MappingView], Any], chosen: list[MappingView], done: str
    ) -> None:
        """One DB-thread call per row, in order; rows that refuse are reported, the rest go on."""
        refused: list[str] = []
        for mapping in chosen:
            try:
                await self.ctx.db(action, mapping)
            except Exception as error:  # noqa: BLE001 - reported per row below
                refused.append(f"{mapping.item_name or mapping.id}: {error}")
        ok = len(chosen) - len(refused)
        self.message.setText(
            f"{plural(ok, 'row')} {done}." + (" Refused: " + "; ".join(refused[:5]) if refused else "")
        )
        self.refresh()
        self.changed.emit()

    def _unmap(self, mapping: MappingView) -> None:
        self.ctx.repos.mappings.unmap(mapping.connection_id, mapping.id)

    def _ignore(self, mapping: MappingView) -> None:
        self.ctx.repos.mappings.set_mapping_options(mapping.id, status=MappingStatus.IGNORED)

    def _direction_setter(self, direction: SyncDirection) -> Callable[[MappingView], None]:
        repo = self.ctx.repos.mappings
        return lambda mapping: repo.set_mapping_options(mapping.id, sync_direction=direction)

    def _policy_setter(self, policy: ConflictPolicy | None) -> Callable[[MappingView], None]:
        repo = self.ctx.repos.mappings
        return lambda mapping: repo.set_mapping_options(
            mapping.id, conflict_policy=policy, inherit_policy=policy is None
        )
