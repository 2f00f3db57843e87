"""Explain one mapping: its base, both sides' values, and every write made for it with its idempotency key."""

from __future__ import annotations

from html import escape

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from atlas_desktop.store.conflicts import ConflictView
from atlas_desktop.store.explain import WriteView
from atlas_desktop.store.review_table import MappingView
from atlas_desktop.ui.monitoring.context import MonitoringContext
from atlas_desktop.ui.monitoring.location_names import LocationNames
from atlas_desktop.ui.monitoring.mapping_model import DIRECTION_LABELS, STATUS_LABELS
from atlas_desktop.ui.monitoring.tasks import TaskGroup
from atlas_desktop.ui.monitoring.wording import match_words, ndc_words, operation_words, policy_words

WRITE_HEADERS = (
    "When",
    "To",
    "Operation",
    "Change",
    "Status",
    "Tries",
    "Idempotency key",
    "Remote id",
    "Error",
)
REMOTE_ID_COLUMN = WRITE_HEADERS.index("Remote id")


def _value(quantity: object, expiry: object) -> str:
    if quantity is None:
        return "—"
    return f"{quantity}" + (f" (expires {expiry})" if expiry else "")


ERROR_WIDTH = 240
KEY_COLUMN, KEY_WIDTH = 6, 150


class ExplainDialog(QDialog):
    loaded = Signal()

    def __init__(self, ctx: MonitoringContext, mapping_id: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.mapping_id = mapping_id
        self.mapping: MappingView | None = None
        self.writes: list[WriteView] = []
        self.setWindowTitle("Explain this item")
        self.resize(900, 480)
        self.summary = QLabel("Loading…")
        self.summary.setWordWrap(True)
        self.table = QTableWidget(0, len(WRITE_HEADERS))
        self.table.setHorizontalHeaderLabels(WRITE_HEADERS)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.setAccessibleName("Writes made")
        self.conflicts = QLabel()
        self.conflicts.setWordWrap(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addWidget(QLabel("<b>Writes made for this item</b> (newest first):"))
        layout.addWidget(self.table, 1)
        layout.addWidget(self.conflicts)
        layout.addWidget(buttons)
        self.tasks = TaskGroup(self.summary.setText)
        self.tasks.start(self._load())

    async def _load(self) -> None:
        mapping = await self.ctx.db(self.ctx.repos.mappings.get, self.mapping_id)
        writes = await self.ctx.db(self.ctx.explain.writes_for_mapping, self.mapping_id)
        conflicts = await self.ctx.db(
            self.ctx.repos.conflicts.history, mapping.connection_id, self.mapping_id, 20
        )
        self.show_explanation(mapping, writes, conflicts, LocationNames.word({}, mapping.erp_location_id))
        if mapping.erp_location_id:  # the name needs the ERP: asked once the rest shows
            names = await self.ctx.locations.names(mapping.connection_id)
            if names:
                place = LocationNames.word(names, mapping.erp_location_id)
                self.show_explanation(mapping, writes, conflicts, place)

    def show_explanation(
        self,
        mapping: MappingView,
        writes: list[WriteView],
        conflicts: list[ConflictView],
        location: str | None = None,
    ) -> None:
        self.mapping, self.writes = mapping, writes
        name = escape(mapping.item_name or "This item")
        erp_place = f" at {location}" if location else ""
        status = STATUS_LABELS.get(mapping.status, str(mapping.status))
        rows = (
            ("Status", f"{status} ({match_words(mapping.match_method, mapping.status)})"),
            ("NDC", ndc_words(mapping.ndc_key, mapping.ndc_text_atlas, mapping.ndc_text_erp)),
            ("Lot", mapping.lot or "—"),
            ("Base (last agreed)", _value(mapping.base_quantity, mapping.base_expiry)),
            ("On Atlas", _value(mapping.atlas_quantity, mapping.atlas_expiry)),
            (f"In the ERP{erp_place}", _value(mapping.erp_quantity, mapping.erp_expiry)),
            (
                "Direction / policy",
                f"{DIRECTION_LABELS.get(mapping.sync_direction, mapping.sync_direction)} / "
                f"{policy_words(mapping.conflict_policy)}",
            ),
        )
        # The ids are for support and the ERP's own screens: at hand on hover, not in the reading text.
        self.summary.setToolTip(
            f"Atlas inventory id: {mapping.atlas_inventory_id or '—'}\n"
            f"ERP item id: {mapping.erp_item_id or '—'}, location id: {mapping.erp_location_id or '—'}"
        )
        table = "".join(
            f"<tr><td>{escape(k)}:&nbsp;</td><td><b>{escape(str(v))}</b></td></tr>" for k, v in rows
        )
        self.summary.setText(f"<h3>{name}</h3><table>{table}</table>")
        self.table.setRowCount(len(writes))
        for row, write in enumerate(writes):
            values = (
                write.created_at.astimezone().strftime("%Y-%m-%d %H:%M:%S"),
                "ERP" if write.target.value == "erp" else "Atlas",
                operation_words(write.operation),
                write.payload.get("delta") or write.payload.get("expiry") or "", write.status.value,
                write.attempts, write.idempotency_key, write.remote_id or "", write.last_error or "",
            )  # fmt: skip
            for column, value in enumerate(values):
                item = QTableWidgetItem(str(value))
                item.setToolTip(str(value))  # a narrowed column still shows the whole key or error on hover
                self.table.setItem(row, column, item)
            if write.batch_key and write.remote_id:
                # Many changes ride in one ERP document: say which one, and the key it was sent under.
                remote_item = self.table.item(row, REMOTE_ID_COLUMN)
                assert remote_item is not None, "set in the loop above"
                remote_item.setToolTip(
                    f"Carried by the ERP document {write.remote_id} with other changes, sent under the "
                    f"key {write.batch_key}."
                )
        self.table.resizeColumnsToContents()  # a handful of rows: measuring them is cheap
        # The error (last column) wraps at a readable width instead of being cut after a few words.
        last = self.table.columnCount() - 1
        self.table.setColumnWidth(last, min(self.table.columnWidth(last), ERROR_WIDTH))
        # The idempotency key is for support, not for reading: a shorter column, the whole key in a tooltip.
        self.table.setColumnWidth(KEY_COLUMN, min(self.table.columnWidth(KEY_COLUMN), KEY_WIDTH))
        self.table.resizeRowsToContents()
        if conflicts:
            lines = [
                f"{c.field}: base {c.base_value}, Atlas {c.atlas_value}, ERP {c.erp_value} — "
                + (f"resolved ({c.resolution or 'both sides agreed'}) to {c.resolved_value}"
                   if c.resolved_at else "open")
                for c in conflicts
            ]  # fmt: skip
            self.conflicts.setText("<b>Conflicts:</b><br>" + "<br>".join(escape(line) for line in lines))
        else:
            self.conflicts.setText("No conflicts for this item.")
        self.loaded.emit()
