"""The quantities the window's mapping review shows for one mapping, as a person reads them."""

from __future__ import annotations

from decimal import Decimal

from atlas_desktop.ui.main_window import MainWindow
from atlas_desktop.ui.monitoring.mapping_model import COLUMNS


def shown_quantities(window: MainWindow, mapping_id: int) -> tuple[Decimal, Decimal] | None:
    """(Atlas qty, ERP qty) as the review's row for `mapping_id` shows them; None while it is not listed."""
    assert window.mappings is not None
    model = window.mappings.model
    names = [name for name, _read, _tip in COLUMNS]
    atlas, erp = names.index("Atlas qty"), names.index("ERP qty")
    for row in range(model.rowCount()):
        if model.row_at(row).id == mapping_id:
            texts = (model.index(row, atlas).data(), model.index(row, erp).data())
            return Decimal(texts[0].replace(",", "")), Decimal(texts[1].replace(",", ""))
    return None
