"""Paths on screen read as people know them: the certificate to upload shows ~/… for the home folder
(its full path in the tooltip), not /home/<name>/… or a temporary folder's name."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from atlas_desktop.ui.widgets.paths import shown_path
from atlas_desktop.ui.wizard.certificate_panel import CertificatePanel

posix_only = pytest.mark.skipif(os.name == "nt", reason="Windows shows the full path")


@posix_only
def test_the_home_folder_is_written_as_a_tilde() -> None:
    home = Path("/home/pat")
    assert shown_path(home / ".local/share/atlas-desktop/certificates/c.pem", home) == (
        "~/.local/share/atlas-desktop/certificates/c.pem"
    )
    assert shown_path(Path("/srv/atlas/certificates/c.pem"), home) == "/srv/atlas/certificates/c.pem"
    assert shown_path(Path("/home/patricia/c.pem"), home) == "/home/patricia/c.pem"  # not a prefix match


@posix_only
def test_the_certificate_panel_shows_where_the_file_is_from_home(
    qtbot: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    path = tmp_path / ".local/share/atlas-desktop/certificates/atlas-desktop-1234567_SB1.pem"
    panel = CertificatePanel(None, None)
    qtbot.addWidget(panel)
    panel.show_certificate(path, datetime(2028, 12, 8, tzinfo=UTC))
    assert panel.file_label.text() == (
        "~/.local/share/atlas-desktop/certificates/atlas-desktop-1234567_SB1.pem  (valid until 2028-12-08)"
    )
    assert panel.file_label.toolTip() == str(path)  # the whole path, for a file dialog that wants it
