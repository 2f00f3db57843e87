"""What goes into the PyInstaller bundle, as data the spec reads and tests check (no PyInstaller import here).

This folder is not a Python package on purpose: a `packaging/__init__.py` would shadow the PyPI `packaging`
library for everything run from the project root.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "atlas_desktop"
APP_NAME = "atlas-desktop"
DISPLAY_NAME = "Atlas Desktop"
BUNDLE_ID = "pharma.atlas.desktop"
PUBLISHER = "Atlas"
COPYRIGHT = "© Atlas. All rights reserved."
ICON_SIZES = (16, 24, 32, 48, 64, 128, 256, 512)

# Modules the code imports by name at run time (importlib), which PyInstaller's analysis cannot see.
# The sources are parsed rather than imported so this list never goes stale silently (see tests).
_LAZY_SOURCES = (
    PACKAGE / "sandbox" / "registry.py",  # EMULATOR_FACTORIES: "atlas_desktop.sandbox.netsuite:build", ...
    PACKAGE / "engine" / "factory.py",  # _CONNECTOR_MODULES: "atlas_desktop.connectors.sap", ...
)
_DOTTED = re.compile(r'"(atlas_desktop(?:\.[a-z_][a-z0-9_]*)+)(?::[a-z_]+)?"')

# Third-party modules loaded by name or through entry points.
EXTRA_HIDDEN_IMPORTS = (
    # Alembic migration scripts are data files, loaded from disk: their imports are invisible to analysis.
    "alembic.op",
    "alembic.context",
    "alembic.ddl.sqlite",
    "sqlalchemy.dialects.sqlite",
    "sqlalchemy.dialects.sqlite.pysqlite",
    # APScheduler 3 resolves "interval" and the asyncio executor through entry points.
    "apscheduler.triggers.interval",
    "apscheduler.triggers.date",
    "apscheduler.triggers.cron",
    "apscheduler.executors.asyncio",
    "apscheduler.executors.pool",
    "apscheduler.jobstores.memory",
    "apscheduler.schedulers.asyncio",
    # httpx -> anyio picks its backend by name.
    "anyio._backends._asyncio",
    # qasync finds its Qt binding at import time.
    "PySide6.QtSvg",
)
# Packages whose every submodule is wanted (uvicorn picks its loop/protocol/lifespan classes by name).
COLLECT_SUBMODULES = ("atlas_desktop", "uvicorn", "keyring.backends")
# Submodules that import optional packages we do not ship.
SKIP_SUBMODULE_PREFIXES = ("uvicorn.workers",)
# Distribution metadata read at run time: entry points (APScheduler plugins, keyring backends).
COPY_METADATA = ("APScheduler", "keyring")
# Packages with data files next to their code (GS1 application identifiers and prefix tables).
COLLECT_DATA = ("biip",)

# Test-only and development packages: never in the bundle, even when the build Python has them.
EXCLUDES = (
    "pytest",
    "_pytest",
    "pytestqt",
    "pytest_asyncio",
    "pytest_timeout",
    "hypothesis",
    "respx",
    "authlib",
    "joserfc",
    "pyodata",
    "requests",
    "ruff",
    "importlinter",
    "grimp",
    "tkinter",
    "_tkinter",
    "IPython",
    "matplotlib",
    "numpy",
    "PyInstaller",
)
# Runtime dependencies (pyproject.toml [project].dependencies, by import name): never excluded.
RUNTIME_IMPORTS = (
    "PySide6",
    "qasync",
    "httpx",
    "oauthlib",
    "jwt",  # PyJWT: NetSuite OAuth 2.0 client assertions
    "cryptography",
    "sqlalchemy",
    "alembic",
    "keyring",
    "apscheduler",
    "platformdirs",
    "filelock",
    "biip",
    "starlette",
    "uvicorn",
)


def read_version(package: Path = PACKAGE) -> str:
    """`__version__` from atlas_desktop/__init__.py, read as text so the spec need not import the app."""
    text = (package / "__init__.py").read_text(encoding="utf-8")
    match = re.search(r'^__version__\s*=\s*["\']([^"\']+)["\']', text, re.MULTILINE)
    if match is None:
        raise ValueError(f"no __version__ in {package / '__init__.py'}")
    return match.group(1)


def numeric_version(version: str) -> tuple[int, int, int, int]:
    """"1.2.3rc1" -> (1, 2, 3, 0): Windows file versions and CFBundleVersion take numbers only."""
    parts = [int(m.group()) for m in (re.match(r"\d+", p) for p in version.split(".")[:4]) if m]
    return tuple((parts + [0, 0, 0, 0])[:4])  # type: ignore[return-value]


def lazy_modules() -> list[str]:
    """Our modules imported by name: each emulator factory and each ERP connector package."""
    found: list[str] = []
    for source in _LAZY_SOURCES:
        for name in _DOTTED.findall(source.read_text(encoding="utf-8")):
            if name not in found:
                found.append(name)
    return found


def hidden_imports(submodules: list[str]) -> list[str]:
    """Everything to force into the bundle; `submodules` come from PyInstaller's collect_submodules."""
    wanted = [m for m in submodules if not m.startswith(SKIP_SUBMODULE_PREFIXES)]
    for name in [*lazy_modules(), *EXTRA_HIDDEN_IMPORTS]:
        if name not in wanted:
            wanted.append(name)
    return wanted


def migration_datas(package: Path = PACKAGE) -> list[tuple[str, str]]:
    """The Alembic directory as files on disk (env.py, script.py.mako, versions/*.py): Alembic reads them
    by path, so they cannot live only in the compressed module archive."""
    migrations = package / "store" / "migrations"
    pairs = []
    for path in sorted(migrations.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts and path.suffix in (".py", ".mako"):
            pairs.append((str(path), str(path.parent.relative_to(package.parent))))
    return pairs


def resource_datas(root: Path = ROOT) -> list[tuple[str, str]]:
    """resources/ lands at the bundle's top (ui/theme.py looks for it next to the package)."""
    resources = root / "resources"
    return [
        (str(path), str(path.parent.relative_to(root)))
        for path in sorted(resources.rglob("*"))
        if path.is_file() and not path.name.startswith(".")
    ]


def info_plist(version: str) -> dict[str, object]:
    """macOS Info.plist keys for the .app bundle."""
    return {
        "CFBundleName": DISPLAY_NAME,
        "CFBundleDisplayName": DISPLAY_NAME,
        "CFBundleIdentifier": BUNDLE_ID,
        "CFBundleShortVersionString": version,
        "CFBundleVersion": ".".join(str(n) for n in numeric_version(version)[:3]),
        "CFBundlePackageType": "APPL",
        "LSApplicationCategoryType": "public.app-category.business",
        "LSMinimumSystemVersion": "11.0",
        "NSHighResolutionCapable": True,
        "NSRequiresAquaSystemAppearance": False,  # follow the system's dark mode
        "NSHumanReadableCopyright": COPYRIGHT,
        # Loopback sockets to the sandbox emulators (demo mode) are plain HTTP.
        "NSAppTransportSecurity": {"NSAllowsLocalNetworking": True},
    }


def windows_version_info(version: str) -> str:
    """The VSVersionInfo text PyInstaller embeds in atlas-desktop.exe (Properties > Details)."""
    numbers = numeric_version(version)
    strings = {
        "CompanyName": PUBLISHER,
        "FileDescription": DISPLAY_NAME,
        "FileVersion": version,
        "InternalName": APP_NAME,
        "LegalCopyright": COPYRIGHT,
        "OriginalFilename": f"{APP_NAME}.exe",
        "ProductName": DISPLAY_NAME,
        "ProductVersion": version,
    }
    entries = ",\n          ".join(f"StringStruct({k!r}, {v!r})" for k, v in strings.items())
    return f"""VSVersionInfo(
  ffi=FixedFileInfo(filevers={numbers}, prodvers={numbers}, mask=0x3f, flags=0x0, OS=0x40004,
                    fileType=0x1, subtype=0x0, date=(0, 0)),
  kids=[
    StringFileInfo([StringTable('040904B0', [
          {entries}])]),
    VarFileInfo([VarStruct('Translation', [0x0409, 1200])])
  ]
)
"""
