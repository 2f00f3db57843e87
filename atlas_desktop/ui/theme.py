"""Light and dark palettes (Fusion style, so both look the same on every platform) and the app icon."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QGuiApplication, QIcon, QPalette
from PySide6.QtWidgets import QApplication

# resources/ sits next to the package in a checkout and in the PyInstaller bundle (packaging/ puts it there).
ICON_DIR = Path(__file__).resolve().parents[2] / "resources" / "icons"
ICON_SIZES = (16, 24, 32, 48, 64, 128, 256, 512)


class ThemeMode(StrEnum):
    SYSTEM = "system"
    LIGHT = "light"
    DARK = "dark"


def _palette(colours: dict[QPalette.ColorRole, str], disabled_text: str) -> QPalette:
    palette = QPalette()
    for role, colour in colours.items():
        palette.setColor(role, QColor(colour))
    for role in (QPalette.ColorRole.Text, QPalette.ColorRole.WindowText, QPalette.ColorRole.ButtonText):
        palette.setColor(QPalette.ColorGroup.Disabled, role, QColor(disabled_text))
    return palette


def light_palette() -> QPalette:
    R = QPalette.ColorRole  # noqa: N806 - a short alias keeps the table readable
    return _palette(
        {
            R.Window: "#f6f8fa", R.WindowText: "#1f2328", R.Base: "#ffffff", R.AlternateBase: "#f0f3f6",
            R.Text: "#1f2328", R.Button: "#eef1f4", R.ButtonText: "#1f2328", R.Highlight: "#0969da",
            R.HighlightedText: "#ffffff", R.ToolTipBase: "#ffffff", R.ToolTipText: "#1f2328",
            R.Link: "#0969da", R.PlaceholderText: "#6e7781", R.BrightText: "#cf222e",
        },
        "#8c959f",
    )  # fmt: skip


def dark_palette() -> QPalette:
    R = QPalette.ColorRole  # noqa: N806
    return _palette(
        {
            R.Window: "#1f2328", R.WindowText: "#e6edf3", R.Base: "#0d1117", R.AlternateBase: "#161b22",
            R.Text: "#e6edf3", R.Button: "#2d333b", R.ButtonText: "#e6edf3", R.Highlight: "#2f81f7",
            R.HighlightedText: "#ffffff", R.ToolTipBase: "#2d333b", R.ToolTipText: "#e6edf3",
            R.Link: "#58a6ff", R.PlaceholderText: "#8b949e", R.BrightText: "#ff7b72",
        },
        "#6e7681",
    )  # fmt: skip


def system_prefers_dark() -> bool:
    hints = QGuiApplication.styleHints()
    return hints.colorScheme() == Qt.ColorScheme.Dark


def apply_theme(app: QApplication, mode: ThemeMode = ThemeMode.SYSTEM) -> ThemeMode:
    """Apply the palette; returns the mode actually used (SYSTEM resolves to LIGHT or DARK)."""
    app.setStyle("Fusion")
    dark = mode is ThemeMode.DARK or (mode is ThemeMode.SYSTEM and system_prefers_dark())
    app.setPalette(dark_palette() if dark else light_palette())
    return ThemeMode.DARK if dark else ThemeMode.LIGHT


def app_icon() -> QIcon:
    """Every rendered size, so each screen density picks a sharp one; empty if resources/ is missing."""
    icon = QIcon()
    for size in ICON_SIZES:
        path = ICON_DIR / f"atlas-desktop-{size}.png"
        if path.exists():
            icon.addFile(str(path))
    svg = ICON_DIR / "atlas-desktop.svg"
    if icon.isNull() and svg.exists():
        icon.addFile(str(svg))
    return icon
