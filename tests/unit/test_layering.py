"""The headless agent must not need Qt: importing the Qt-free layers loads no PySide6."""

from __future__ import annotations

import subprocess
import sys


def test_qt_free_layers_do_not_load_qt() -> None:
    code = (
        "import sys, importlib, pkgutil\n"
        "import atlas_desktop.engine as e, atlas_desktop.connectors as c\n"
        "import atlas_desktop.store as s, atlas_desktop.domain as d\n"
        "for pkg in (e, c, s, d):\n"
        "    for info in pkgutil.walk_packages(pkg.__path__, pkg.__name__ + '.'):\n"
        "        if '.migrations' not in info.name:  # alembic scripts run only under alembic\n"
        "            importlib.import_module(info.name)\n"
        "loaded = [m for m in sys.modules if m.split('.')[0] in ('PySide6', 'shiboken6', 'qasync')]\n"
        "print(','.join(loaded))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == ""
