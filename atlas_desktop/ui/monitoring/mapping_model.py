"""The mapping review table: a QAbstractTableModel over 100,000+ rows that holds only the current page(s).

Anki's browser pattern: the count and every page come from SQL (filter and sort there, never in Qt);
pages are fetched on demand, synchronously and at most one page at a time (a few ms on SQLite's WAL
reader while the DB thread writes), and kept in a small LRU cache. A page that cannot be read shows its
rows disabled with a note, instead of raising inside data().
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt, Signal
from PySide6.QtGui import QColor

from atlas_desktop.domain.enums import MappingStatus
from atlas_desktop.domain.errors import AtlasDesktopError
from atlas_desktop.domain.ndc import display_ndc
from atlas_desktop.engine.unmatched import LABELS, classify
from atlas_desktop.store.review_table import MappingView
from atlas_desktop.ui.monitoring.wording import match_words, policy_words

log = logging.getLogger(__name__)
AnyIndex = QModelIndex | QPersistentModelIndex
PAGE_SIZE = 200
CACHED_PAGES = 40

# (header, MappingView attribute or a callable, SQL sort key or None). The numbers people compare and the
# Why come right after the item, so they stay in view at 1024 px; ids and options follow (WIDTHS).
COLUMNS: tuple[tuple[str, Callable[[MappingView], Any], str | None], ...] = (
    ("Status", lambda m: STATUS_LABELS.get(m.status, str(m.status)), "status"),
    ("NDC", lambda m: _ndc(m), "ndc_key"),
    ("Name", lambda m: m.item_name or NO_NAME, "item_name"),
    ("Lot", lambda m: m.lot, "lot"),
    ("Atlas qty", lambda m: m.atlas_quantity, None),
    ("ERP qty", lambda m: m.erp_quantity, None),
    ("Base", lambda m: m.base_quantity, None),
    ("Why", lambda m: _why(m), None),
    ("Location", lambda m: m.erp_location_id, "erp_location_id"),  # its name once known (location_names)
    ("ERP item", lambda m: m.erp_item_id, "erp_item_id"),
    ("Match", lambda m: match_words(m.match_method, m.status) if m.erp_item_id else "", None),
    ("Direction", lambda m: DIRECTION_LABELS.get(str(m.sync_direction), str(m.sync_direction)), None),
    ("Policy", lambda m: policy_words(m.conflict_policy), None),
    ("Last synced", lambda m: m.last_synced_at.astimezone().strftime("%Y-%m-%d %H:%M")
     if m.last_synced_at else "", "last_synced_at"),
)  # fmt: skip
# Pixels per column: Name wide enough for "Atorvastatin 20 mg tablet, 500 count", never squeezed.
WIDTHS = (95, 110, 230, 80, 72, 72, 60, 185, 150, 75, 110, 90, 100, 120)
NO_NAME = "(no name)"
COL_WHY = 7
COL_LOCATION = 8
COL_MATCH = 10


def _ndc(mapping: MappingView) -> str:
    """The one display form (5-4-2) of the matching key; the text a side wrote when there is no key."""
    if mapping.ndc_key:
        return display_ndc(mapping.ndc_key)
    return mapping.ndc_text_atlas or mapping.ndc_text_erp or ""


def _ids(mapping: MappingView) -> str:
    """The ids behind a row, for its Name tooltip (support asks for them; the cell shows the name)."""
    parts = [mapping.item_name or NO_NAME]
    if mapping.atlas_inventory_id:
        parts.append(f"Atlas inventory id: {mapping.atlas_inventory_id}")
    if mapping.erp_item_id:
        parts.append(f"ERP item id: {mapping.erp_item_id}")
    return "\n".join(parts)


# An ERP item Atlas does not list: said as information on its row, never left blank like a gap.
ERP_ONLY_WHY = "information: not on Atlas"


def _why(mapping: MappingView) -> str:
    """Why discovery left the row as it is: the reason in words for an Atlas row it found no ERP position
    for (engine/unmatched.py), its note otherwise; the full note is the cell's tooltip."""
    if mapping.status is MappingStatus.UNMATCHED_ATLAS:
        return LABELS[classify(mapping.note)]
    if mapping.status is MappingStatus.UNMATCHED_ERP and not mapping.note:
        return ERP_ONLY_WHY
    return mapping.note or ""


COL_STATUS, COL_NDC, COL_NAME = 0, 1, 2
assert (
    COLUMNS[COL_WHY][0] == "Why"
    and COLUMNS[COL_LOCATION][0] == "Location"
    and COLUMNS[COL_MATCH][0] == "Match"
)
assert len(WIDTHS) == len(COLUMNS)
STATUS_LABELS: dict[str, str] = {
    MappingStatus.MATCHED: "Matched",
    MappingStatus.AMBIGUOUS: "Ambiguous",
    MappingStatus.UNMATCHED_ATLAS: "Only in Atlas",
    MappingStatus.UNMATCHED_ERP: "Only in ERP",
    MappingStatus.CONFLICT: "Conflict",
    MappingStatus.IGNORED: "Ignored",
}
DIRECTION_LABELS: dict[str, str] = {
    "bidirectional": "both ways",
    "atlas_to_erp": "Atlas → ERP",
    "erp_to_atlas": "ERP → Atlas",
}
ID_ROLE = Qt.ItemDataRole.UserRole + 1
VIEW_ROLE = Qt.ItemDataRole.UserRole + 2
_STATUS_COLOURS = {MappingStatus.CONFLICT: "#cf222e", MappingStatus.AMBIGUOUS: "#bf8700"}


class _Unreadable:
    """Stands for a row whose page could not be read."""

    def __init__(self, reason: str) -> None:
        self.reason = reason


class MappingTableModel(QAbstractTableModel):
    """`repo` is a ReviewTable (page/count); calls happen on this thread, one page at a time."""

    load_failed = Signal(str)

    def __init__(self, repo: Any, parent: Any = None, *, page_size: int = PAGE_SIZE) -> None:
        super().__init__(parent)
        self.repo = repo
        self.page_size = page_size
        self.connection_id: str | None = None
        self.status: MappingStatus | None = None
        self.search = ""
        self.order_by = "id"
        self._count = 0
        self.location_names: dict[str, str] = {}  # ERP location id -> its name (asked of the ERP once)
        self._pages: OrderedDict[int, list[MappingView | _Unreadable]] = OrderedDict()
        self.pages_read = 0

    # ---- what to show ---------------------------------------------------------------------------
    def set_query(
        self,
        connection_id: str | None,
        *,
        status: MappingStatus | None = None,
        search: str = "",
        order_by: str | None = None,
    ) -> None:
        self.beginResetModel()
        self.connection_id = connection_id
        self.status = status
        self.search = search
        if order_by is not None:
            self.order_by = order_by
        self._pages.clear()
        self._count = self._read_count()
        self.endResetModel()

    def set_location_names(self, names: dict[str, str]) -> None:
        """The ERP's names for its locations, once known: the Location column shows them."""
        self.location_names = dict(names)
        if self._count:
            self.dataChanged.emit(
                self.index(0, COL_LOCATION), self.index(self._count - 1, COL_LOCATION),
                [Qt.ItemDataRole.DisplayRole],
            )  # fmt: skip

    def refresh(self) -> None:
        """Read again (after an action or a sync): same filter, same order."""
        self.set_query(self.connection_id, status=self.status, search=self.search)

    def _read_count(self) -> int:
        if self.connection_id is None:
            return 0
        try:
            return int(self.repo.count(self.connection_id, status=self.status, search=self.search or None))
        except (AtlasDesktopError, OSError, RuntimeError, ValueError) as error:
            return self._failed(f"could not count the mappings: {error}")
        except Exception as error:  # noqa: BLE001 - SQLAlchemy errors: show, never raise into Qt
            return self._failed(f"could not count the mappings: {type(error).__name__}")

    def _failed(self, text: str) -> int:
        log.warning("mapping table: %s", text)
        self.load_failed.emit(text)
        return 0

    def _page(self, number: int) -> list[MappingView | _Unreadable]:
        page = self._pages.get(number)
        if page is not None:
            self._pages.move_to_end(number)
            return page
        assert self.connection_id is not None
        try:
            rows: list[MappingView | _Unreadable] = list(
                self.repo.page(
                    self.connection_id,
                    status=self.status,
                    search=self.search or None,
                    offset=number * self.page_size,
                    limit=self.page_size,
                    order_by=self.order_by,
                )
            )
        except Exception as error:  # noqa: BLE001 - a bad page shows disabled rows, never raises in data()
            reason = str(error) if isinstance(error, AtlasDesktopError) else type(error).__name__
            log.warning("mapping table: page %d unreadable: %s", number, reason)
            rows = [_Unreadable(reason)] * self.page_size
        self.pages_read += 1
        self._pages[number] = rows
        if len(self._pages) > CACHED_PAGES:
            self._pages.popitem(last=False)
        return rows

    def row_at(self, row: int) -> MappingView | None:
        if not 0 <= row < self._count or self.connection_id is None:
            return None
        page = self._page(row // self.page_size)
        offset = row % self.page_size
        item = page[offset] if offset < len(page) else _Unreadable("the row is gone (reload)")
        return item if isinstance(item, MappingView) else None

    def _item(self, row: int) -> MappingView | _Unreadable:
        page = self._page(row // self.page_size)
        offset = row % self.page_size
        return page[offset] if offset < len(page) else _Unreadable("the row is gone (reload)")

    # ---- Qt -------------------------------------------------------------------------------------
    def rowCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: N802, B008 - Qt signature
        return 0 if parent.isValid() else self._count

    def columnCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: N802, B008 - Qt signature
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(  # noqa: N802 - Qt signature
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return COLUMNS[section][0] if 0 <= section < len(COLUMNS) else None
        return None

    def flags(self, index: AnyIndex) -> Qt.ItemFlag:
        if not index.isValid() or not 0 <= index.row() < self._count:
            return Qt.ItemFlag.NoItemFlags
        if isinstance(self._item(index.row()), _Unreadable):
            return Qt.ItemFlag.NoItemFlags  # shown greyed out: a disabled row
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if (
            not index.isValid()
            or not 0 <= index.row() < self._count
            or not 0 <= index.column() < len(COLUMNS)
        ):
            return None
        if role not in (
            Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole, Qt.ItemDataRole.ForegroundRole,
            Qt.ItemDataRole.TextAlignmentRole, ID_ROLE, VIEW_ROLE,
        ):  # fmt: skip
            return None  # cheap exit: the view asks for many roles per cell
        item = self._item(index.row())
        if isinstance(item, _Unreadable):
            if role == Qt.ItemDataRole.DisplayRole:
                return "(could not be read)" if index.column() == COL_STATUS else ""
            return item.reason if role == Qt.ItemDataRole.ToolTipRole else None
        if role == ID_ROLE:
            return item.id
        if role == VIEW_ROLE:
            return item
        if role == Qt.ItemDataRole.ForegroundRole:
            colour = _STATUS_COLOURS.get(item.status) if index.column() == COL_STATUS else None
            return QColor(colour) if colour else None
        if role == Qt.ItemDataRole.TextAlignmentRole:
            if COLUMNS[index.column()][0].endswith(("qty", "Base")):
                return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            return None
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._tooltip(item, index.column())
        if index.column() == COL_LOCATION and item.erp_location_id:
            return self.location_names.get(item.erp_location_id) or item.erp_location_id
        try:
            value = COLUMNS[index.column()][1](item)
        except Exception:  # noqa: BLE001 - one odd value must not break painting
            return "?"
        return "" if value is None else str(value)

    def _tooltip(self, item: MappingView, column: int) -> str | None:
        if column in (COL_STATUS, COL_WHY):
            return item.note
        if column == COL_NAME:
            return _ids(item)
        if column == COL_NDC:
            texts = {text for text in (item.ndc_text_atlas, item.ndc_text_erp) if text}
            return "As written: " + ", ".join(sorted(texts)) if texts else None
        if column == COL_LOCATION and item.erp_location_id:
            return f"ERP location id: {item.erp_location_id}"
        return None

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        if not 0 <= column < len(COLUMNS):
            return
        key = COLUMNS[column][2]
        if key is None:
            return  # values from other tables: not sortable in SQL cheaply
        prefix = "-" if order == Qt.SortOrder.DescendingOrder else ""
        self.beginResetModel()  # every row moves: a reset is honest and cheap (pages are refetched)
        self.order_by = prefix + key
        self._pages.clear()
        self.endResetModel()
