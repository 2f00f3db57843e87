"""The list behind a preview's counts: opened from the wizard's last page, filtered, exported to CSV."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog
from ui_fakes import fake_plan

from atlas_desktop.engine.changes import TO_ATLAS, ChangeKind, PlannedChange
from atlas_desktop.ui.widgets.changes_dialog import ITEM_COLUMN, ChangesDialog
from atlas_desktop.ui.wizard.wizard import ACTIVATE


def _dialog(qtbot: Any, changes: list[PlannedChange] | None = None) -> ChangesDialog:
    plan = fake_plan()
    dialog = ChangesDialog(changes or list(plan.changes), title="What will change", kinds=plan.kinds)
    qtbot.addWidget(dialog)
    dialog.show()
    return dialog


def test_the_wizard_opens_the_list_behind_its_counts(make_wizard: Any, qtbot: Any) -> None:
    wizard = make_wizard()
    page = wizard.page_at(ACTIVATE)
    page.state.connection_id = "c-1"
    page.start()
    qtbot.waitUntil(lambda: page.plan is not None and not page.busy(), timeout=3000)
    text = page.plan_label.text()
    assert "Quantity updates on Atlas" in text and "<b>44</b>" in text
    assert (
        "Purchase orders entered in the ERP" in text and "Already the same" in text and "<b>850</b>" in text
    )
    assert "New listings" not in text  # a kind with nothing to do is not shown as a promise
    assert not page.show_changes.isHidden()  # (the page itself is not the one shown in this test)
    page.show_changes.click()
    dialog = page.changes_dialog
    assert dialog is not None and dialog.isVisible()
    assert dialog.model.rowCount() == len(page.plan.changes) == 51
    first = [dialog.proxy.index(0, c).data() for c in range(7)]
    assert (
        first[1].startswith("Amoxicillin") and first[4] == TO_ATLAS and first[5] == "10" and first[6] == "12"
    )
    assert dialog.table.columnWidth(ITEM_COLUMN) >= 200  # names readable, never a sliver
    dialog.close()


def test_the_filter_keeps_rows_holding_what_is_typed(qtbot: Any) -> None:
    dialog = _dialog(qtbot)
    qtbot.keyClicks(dialog.filter, "Atlas ")
    dialog.filter.insert("→ erp")  # typed with a compose key
    qtbot.waitUntil(lambda: dialog.proxy.rowCount() == 4, timeout=2000)  # three quantities and the PO
    assert dialog.count_label.text() == "4 of 51"
    dialog.filter.setText("lis-2207")
    qtbot.waitUntil(lambda: dialog.proxy.rowCount() == 1, timeout=2000)
    assert [c.kind for c in dialog.shown()] == [ChangeKind.EXPIRY_TO_ATLAS]


def test_export_writes_the_rows_shown_as_csv(
    qtbot: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "changes.csv"
    # The person picks `out` in the file dialog (window-modal, opened without a nested loop).
    monkeypatch.setattr(QFileDialog, "open", lambda chooser: chooser.fileSelected.emit(str(out)))
    hostile = PlannedChange(ChangeKind.NAME_TO_ATLAS, "=HYPERLINK(\"http://x\")", "", "1", TO_ATLAS,
                            "-old", "+5", 1)  # fmt: skip
    dialog = _dialog(qtbot, [*fake_plan().changes, hostile])
    dialog.filter.setText("erp")
    dialog.apply_filter()
    qtbot.mouseClick(dialog.export_button, Qt.MouseButton.LeftButton)
    assert (
        dialog.file_dialog is not None
        and dialog.file_dialog.acceptMode() == QFileDialog.AcceptMode.AcceptSave
    )
    with out.open(encoding="utf-8-sig", newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["Change", "Item", "Lot", "Location", "Direction", "Old", "New"]
    assert len(rows) - 1 == dialog.proxy.rowCount() > 0
    assert all("erp" in " ".join(row).lower() for row in rows[1:])
    assert "Saved" in dialog.message.text()
    dialog.filter.setText("hyperlink")
    dialog.apply_filter()
    dialog.export(out)
    with out.open(encoding="utf-8-sig", newline="") as f:
        (_, row) = list(csv.reader(f))
    assert row[1].startswith("'=") and row[5] == "'-old" and row[6] == "+5"  # no formula; numbers stay


def test_one_change_is_counted_in_the_singular(qtbot: Any) -> None:
    dialog = _dialog(qtbot, list(fake_plan().changes)[:1])
    assert dialog.count_label.text() == "1 change"
