"""`atlas-desktop selftest`: proves a build works (store, vault, sandbox, platform, window), in a temp dir.

Each check prints one line, `ok`/`FAIL`/`skip`, its name and a detail; the exit code is 0 only if none
failed. Nothing touches the user's profile or the OS keyring: everything lives in a temporary folder that
is removed at the end. Used by packaging/build.sh on the frozen bundle, and by IT staff after an install.
"""

from __future__ import annotations

import asyncio
import importlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from atlas_desktop import __version__
from atlas_desktop.app import qt_preflight
from atlas_desktop.app.paths import ProfilePaths
from atlas_desktop.app.services import Services, open_services
from atlas_desktop.domain.secrets import Secret
from atlas_desktop.store.vault import MemoryKeySource, PassphraseKeySource, Vault, WrongPassphrase

SELFTEST_ITEMS = 20
SELFTEST_SEED = 7
UI_MODULE = "atlas_desktop.ui.main_window"


class CheckFailed(Exception):
    """A check's own verdict, with the detail to print."""


class CheckSkipped(Exception):
    """A check that cannot run here (no display), with the reason to print."""


@dataclass(frozen=True)
class CheckResult:
    name: str
    status: str  # "ok", "FAIL" or "skip"
    detail: str
    seconds: float

    def line(self) -> str:
        return f"{self.status:<4} {self.name}: {self.detail} ({self.seconds:.2f} s)"


def _run(name: str, check: Callable[[], str]) -> CheckResult:
    started = time.monotonic()
    try:
        detail, status = check(), "ok"
    except CheckFailed as failure:
        detail, status = str(failure), "FAIL"
    except CheckSkipped as reason:
        detail, status = str(reason), "skip"
    except Exception as error:  # a self-test reports every failure and carries on with the next check
        detail, status = f"{type(error).__name__}: {error}", "FAIL"
    return CheckResult(name, status, detail, time.monotonic() - started)


# ---- the checks -----------------------------------------------------------------------------------
def check_store(services: Services) -> str:
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    from atlas_desktop.store.db import alembic_config

    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    with services.store.engine.connect() as connection:
        current = MigrationContext.configure(connection).get_current_revision()
    if current != head:
        raise CheckFailed(f"database at schema {current}, expected {head}")
    count = len(services.connections.list())
    return f"migrated to {head}, {count} connections, {services.paths.database.name}"


def check_vault(services: Services, scratch: Path) -> str:
    value = Secret("selftest-" + os.urandom(8).hex())
    sealed = services.vault.encrypt("selftest", "probe", value)
    if value.reveal().encode() in sealed:
        raise CheckFailed("the encrypted value contains the plain text")
    if services.vault.decrypt("selftest", "probe", sealed).reveal() != value.reveal():
        raise CheckFailed("AES-GCM round trip returned a different value")
    # The passphrase path (scrypt) is what headless services use; its lowest accepted cost keeps this quick.
    passphrase = Secret("selftest passphrase")
    first = Vault(PassphraseKeySource(scratch, passphrase, n=2**14))
    sealed = first.encrypt("selftest", "probe", value)
    again = Vault(PassphraseKeySource(scratch, passphrase))
    if again.decrypt("selftest", "probe", sealed).reveal() != value.reveal():
        raise CheckFailed("passphrase vault did not decrypt after reopening")
    try:
        Vault(PassphraseKeySource(scratch, Secret("wrong passphrase"))).decrypt("selftest", "probe", sealed)
    except WrongPassphrase:
        pass
    else:
        raise CheckFailed("a wrong passphrase was accepted")
    return "AES-256-GCM round trip (memory key), scrypt passphrase vault reopened, wrong passphrase refused"


def check_sandbox(scratch: Path) -> str:
    from atlas_desktop.sandbox.catalog import Catalog
    from atlas_desktop.sandbox.registry import SandboxOptions, load_emulators
    from atlas_desktop.sandbox.server import running_sandbox

    options = SandboxOptions(Catalog(seed=SELFTEST_SEED, size=SELFTEST_ITEMS), seed=SELFTEST_SEED,
                             data_dir=scratch)  # fmt: skip
    emulators = load_emulators(options)
    if not emulators:
        raise CheckFailed("no sandbox emulator in this build")
    with running_sandbox(options, emulators=emulators) as urls:
        files: dict[str, dict[str, Any]] = {}
        for emulator in emulators:
            files.update(emulator.credential_files(urls[emulator.name]))
        answers = asyncio.run(_ask_each(files))
    failed = [f"{name}: {detail}" for name, (ok, detail) in answers.items() if not ok]
    if failed:
        raise CheckFailed("; ".join(failed))
    return f"{len(urls)} emulators started, answered and stopped ({', '.join(answers)})"


async def _ask_each(files: dict[str, dict[str, Any]]) -> dict[str, tuple[bool, str]]:
    """One call per emulator through the real client code: the ERP connection test, Atlas `GET /me`."""
    from atlas_desktop.connectors.atlas import build_client, parse_credentials
    from atlas_desktop.domain.connection import parse_connection
    from atlas_desktop.engine.factory import build_erp_connector

    async def ask(name: str, content: dict[str, Any]) -> tuple[str, tuple[bool, str]]:
        system = name.removesuffix(".json")
        if system == "atlas":
            base_url, token = parse_credentials(content)
            client = build_client(base_url, token=token)
            try:
                account = await client.me()
            finally:
                await client.aclose()
            return system, (bool(account.account_id), f"account {account.account_id}")
        connector = build_erp_connector(parse_connection(content))
        try:
            report = await connector.test_connection()
        finally:
            await connector.aclose()
        failure = report.first_failure
        return system, (report.ok, "passed" if failure is None else f"{failure.name}: {failure.cause}")

    # Concurrently: the emulators are independent, and the self-test should take seconds, not tens.
    return dict(await asyncio.gather(*(ask(name, content) for name, content in files.items())))


def probe_command() -> list[str]:
    """This program again, asked only to start Qt: a bundle is its own executable, a source install is not."""
    program = [sys.executable] if getattr(sys, "frozen", False) else [sys.executable, "-m", "atlas_desktop"]
    return [*program, "selftest", "--probe-platform"]


def probe_platform() -> int:
    """`selftest --probe-platform`: start Qt on the platform it would use for the window and name it. In
    a process of its own because a platform plugin that cannot load aborts the process."""
    from PySide6.QtGui import QGuiApplication

    app = QGuiApplication(sys.argv[:1])
    print(app.platformName())
    return 0


def check_platform(
    env: dict[str, str],
    *,
    finder: qt_preflight.Finder = qt_preflight.can_load,
    run: Callable[..., subprocess.CompletedProcess[str]] = subprocess.run,
) -> str:
    """The window's real platform (not the offscreen one check_window renders on): the preflight's
    libraries, then Qt started with the session's own settings in a child process."""
    problem = qt_preflight.check(env, finder=finder)
    if problem is not None and not problem.missing:  # no display: the libraries can still be looked at
        libraries = qt_preflight.libraries_problem(finder) if sys.platform.startswith("linux") else None
        if libraries is not None:
            raise CheckFailed(libraries.line.removeprefix("error: "))
        raise CheckSkipped(problem.line.removeprefix("error: "))
    if problem is not None:
        raise CheckFailed(problem.line.removeprefix("error: "))
    result = run(probe_command(), env=env, capture_output=True, text=True, timeout=60)
    if result.returncode != 0:
        said = " | ".join([line.strip() for line in result.stderr.splitlines() if line.strip()][-3:])
        code = result.returncode
        ended = f"killed by {signal.Signals(-code).name}" if code < 0 else f"exit {code}"
        raise CheckFailed(f"Qt could not start its platform plugin ({ended}): {said}")
    name = result.stdout.strip().splitlines()[-1] if result.stdout.strip() else "?"
    return f"Qt started on its '{name}' platform, as the window will"


def check_window(services: Services) -> str:
    try:
        from PySide6.QtWidgets import QApplication

        # By module name (not `from atlas_desktop.ui import ...`): a bundle without the UI must be told
        # even when the package object is already loaded.
        main_window = importlib.import_module(UI_MODULE)
        theme = importlib.import_module("atlas_desktop.ui.theme")
    except ImportError as error:
        raise CheckFailed(
            f"the window cannot be loaded ({error}); this build has no desktop UI — "
            "run the agent only, or reinstall Atlas Desktop"
        ) from None
    if QApplication.instance() is None:
        os.environ["QT_QPA_PLATFORM"] = "offscreen"  # no display needed, and nothing flashes on screen
    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    theme.apply_theme(app)

    def no_wizard() -> Any:
        raise CheckFailed("the self-test does not open the wizard")

    window = main_window.MainWindow(services.connections, None, no_wizard, sandbox=True,
                                    vault_description=services.vault.description)  # fmt: skip
    try:
        window.setWindowIcon(theme.app_icon())
        window.show()
        app.processEvents()
        image = window.grab().toImage()
        if image.isNull() or image.width() < 100 or image.height() < 100:
            raise CheckFailed(f"the main window rendered as {image.width()}x{image.height()} pixels")
        icon_sizes = len(theme.app_icon().availableSizes())
        if icon_sizes == 0:
            raise CheckFailed(f"the app icon is missing (looked in {theme.ICON_DIR})")
        platform = app.platformName()
    finally:
        window.close()
        window.deleteLater()
        app.processEvents()
    size = f"{image.width()}x{image.height()}"
    return f"main window rendered {size} on '{platform}', icon in {icon_sizes} sizes"


# ---- the command ----------------------------------------------------------------------------------
def run_selftest(*, render: bool = True, out: TextIO | None = None) -> int:
    """Run every check in a temporary profile; print one line per check; 0 only if none failed."""
    stream = out or sys.stdout
    session_env = dict(os.environ)  # before check_window picks offscreen for its own rendering
    scratch = Path(tempfile.mkdtemp(prefix="atlas-selftest-"))
    results: list[CheckResult] = []

    def record(result: CheckResult) -> None:
        results.append(result)
        print(result.line(), file=stream, flush=True)

    print(f"atlas-desktop {__version__} self-test ({sys.platform}, Python {sys.version.split()[0]}, "
          f"{'bundle' if getattr(sys, 'frozen', False) else 'source'})", file=stream, flush=True)  # fmt: skip
    with ExitStack() as stack:
        stack.callback(shutil.rmtree, scratch, ignore_errors=True)
        started = time.monotonic()
        try:
            services: Services | None = stack.enter_context(
                open_services(ProfilePaths(scratch / "profile"), key_source=MemoryKeySource())
            )
        except Exception as error:  # the store could not even open: the checks that do not need it still run
            services = None
            detail = f"{type(error).__name__}: {error}"
            record(CheckResult("store", "FAIL", detail, time.monotonic() - started))
        if services is not None:
            opened = services
            record(_run("store", lambda: check_store(opened)))
            record(_run("vault", lambda: check_vault(opened, scratch / "vault")))
        record(_run("sandbox", lambda: check_sandbox(scratch / "sandbox")))
        if not render:
            record(CheckResult("platform", "skip", "not asked for (--no-render)", 0.0))
            record(CheckResult("window", "skip", "not asked for (--no-render)", 0.0))
        elif services is None:
            record(CheckResult("window", "FAIL", "needs the store, which did not open", 0.0))
        else:
            record(_run("platform", lambda: check_platform(session_env)))
            record(_run("window", lambda: check_window(opened)))
    failed = [result.name for result in results if result.status == "FAIL"]
    print(f"self-test {'FAILED: ' + ', '.join(failed) if failed else 'passed'}", file=stream, flush=True)
    return 1 if failed else 0
