"""GUI bootstrap: QApplication, one qasync loop for Qt and asyncio, crash reports, services, first window."""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
import threading
import traceback
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QProcess, QTimer, QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QApplication, QMessageBox

from atlas_desktop.app import autostart
from atlas_desktop.app.certificate_renewal import CertificateRenewal
from atlas_desktop.app.diagnostics import build_bundle, default_bundle_name
from atlas_desktop.app.gc_tuning import favour_the_gui_thread, freeze_startup_heap, tune_gc
from atlas_desktop.app.logging_setup import configure_logging
from atlas_desktop.app.netsuite_certificates import CertificateFolder
from atlas_desktop.app.paths import ProfilePaths
from atlas_desktop.app.sandbox_client import addresses_text, client_for
from atlas_desktop.app.services import Services, open_services
from atlas_desktop.domain.errors import AtlasDesktopError
from atlas_desktop.domain.secrets import Secret, redact
from atlas_desktop.engine.factory import build_erp_connector, with_network_defaults
from atlas_desktop.store.keys import (
    MIN_PASSPHRASE_CHARS,
    PassphraseCancelled,
    lost_passphrase_advice,
    why_a_passphrase,
)
from atlas_desktop.store.vault import MemoryKeySource
from atlas_desktop.ui.crash_dialog import CrashDialog
from atlas_desktop.ui.main_window import DiagnosticsActions, MainWindow
from atlas_desktop.ui.monitoring.context import MonitoringContext
from atlas_desktop.ui.monitoring.settings_dialog import SettingsDialog
from atlas_desktop.ui.passphrase_dialog import ChoosePassphraseDialog, UnlockPassphraseDialog
from atlas_desktop.ui.sandbox_menu import SandboxMenu, install_sandbox_menu
from atlas_desktop.ui.theme import ThemeMode, app_icon, apply_theme
from atlas_desktop.ui.wizard.atlas_signin import ConnectorAtlasSignIn
from atlas_desktop.ui.wizard.context import SandboxInfo, WizardContext
from atlas_desktop.ui.wizard.state import WizardDraft
from atlas_desktop.ui.wizard.wizard import SetupWizard

if TYPE_CHECKING:  # imported late (see run_app): the window paints before the engine's modules load
    from atlas_desktop.app.background import BackgroundTiming
    from atlas_desktop.engine.service import EngineService

log = logging.getLogger(__name__)

EXIT_OK, EXIT_FAILED = 0, 1


# ---- unexpected errors ----------------------------------------------------------------------------
class CrashReporter:
    """sys, threading and asyncio hooks in one place: log the redacted traceback, show it non-modally."""

    def __init__(self) -> None:
        self.dialogs: list[CrashDialog] = []
        self._loop: asyncio.AbstractEventLoop | None = None

    def install(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        sys.excepthook = self.on_exception
        threading.excepthook = self.on_thread_exception
        loop.set_exception_handler(self.on_loop_exception)

    @staticmethod
    def format(exc_type: type[BaseException], exc: BaseException, tb: TracebackType | None) -> str:
        return redact("".join(traceback.format_exception(exc_type, exc, tb)))

    def on_exception(
        self, exc_type: type[BaseException], exc: BaseException, tb: TracebackType | None
    ) -> None:
        self.report(self.format(exc_type, exc, tb))

    def on_thread_exception(self, args: threading.ExceptHookArgs) -> None:
        if args.exc_value is None:
            return
        text = self.format(args.exc_type, args.exc_value, args.exc_traceback)
        if self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self.report, text)  # widgets only on the GUI thread
        else:
            log.error("unexpected error in a thread:\n%s", text)

    def on_loop_exception(self, loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        exc = context.get("exception")
        if isinstance(exc, BaseException):
            self.report(self.format(type(exc), exc, exc.__traceback__))
        else:
            log.error("event loop: %s", redact(str(context.get("message", context))))

    def report(self, text: str) -> None:
        log.error("unexpected error:\n%s", text)
        dialog = CrashDialog(text)
        self.dialogs.append(dialog)
        dialog.finished.connect(lambda _r, d=dialog: self.dialogs.remove(d) if d in self.dialogs else None)
        dialog.open()


# ---- passphrase prompt (before the loop runs: a modal dialog is fine there) ---------------------------
class QtPassphrasePrompt:
    """store.keys.PassphrasePrompt as dialogs; `None` (Cancel) is a choice, never a failed attempt."""

    def choose(self, data_dir: Path) -> Secret | None:
        dialog = ChoosePassphraseDialog(why_a_passphrase(data_dir), MIN_PASSPHRASE_CHARS)
        dialog.exec()
        typed = dialog.passphrase()
        return Secret(typed) if typed else None

    def unlock(self, data_dir: Path, problem: str | None) -> Secret | None:
        explanation = (
            "Atlas Desktop keeps the stored ERP and Atlas credentials locked with the passphrase chosen for "
            f"this computer. If it is lost: {lost_passphrase_advice(data_dir)}"
        )
        dialog = UnlockPassphraseDialog(explanation, problem)
        dialog.exec()
        typed = dialog.passphrase()
        return Secret(typed) if typed else None


def build_engine(services: Services) -> EngineService:
    """The engine from the composition root, imported late: the window is built and shown first."""
    from atlas_desktop.app.engine_setup import build_engine as build

    return build(services)


def wizard_context(
    services: Services, engine: EngineService | None, sandbox: SandboxInfo | None
) -> WizardContext:
    signin = ConnectorAtlasSignIn(network=services.settings.network_overrides())
    ctx = WizardContext(
        connections=services.connections,
        atlas_accounts=services.atlas_accounts,
        atlas_signin=signin,
        # Read at each build: the proxy may be set from the wizard after a failed sign-in.
        connector_factory=lambda spec: build_erp_connector(
            with_network_defaults(spec, services.settings.network_overrides())
        ),
        engine=engine,
        draft=WizardDraft(services.paths.root, services.vault),
        sandbox=sandbox,
        network_defaults=services.settings.network_overrides(),
        open_url=lambda url: QDesktopServices.openUrl(QUrl(url)),
        vault_description=services.vault.description,
        certificates=CertificateFolder(services.paths.root),
    )
    dialogs: list[SettingsDialog] = []

    def network_saved() -> None:
        network = services.settings.network_overrides()
        signin.use_network(network)
        ctx.network_defaults = network

    def edit_network() -> None:
        dialog = SettingsDialog(services.settings, services.paths.root, start_at_login=autostart)
        dialog.saved.connect(network_saved)
        dialog.finished.connect(lambda _result: dialogs.remove(dialog))
        dialogs.append(dialog)  # kept alive while open: the dialog is not modal (see CrashDialog)
        dialog.open()

    ctx.edit_network = edit_network
    if sandbox is None:
        ctx.start_demo = start_demo_process
    return ctx


def start_demo_process() -> None:
    """`atlas-desktop --demo` as its own process: its own temporary profile, never this one."""
    QProcess.startDetached(sys.executable, ["-m", "atlas_desktop", "--demo"])


def monitoring_context(
    services: Services, engine: EngineService, ctx: WizardContext
) -> MonitoringContext | None:
    monitoring = MonitoringContext.for_services(engine, services)
    if monitoring is not None:
        monitoring.renewal = CertificateRenewal(
            services.connections,
            CertificateFolder(services.paths.root),
            ctx.connector_factory,
            engine.forget_connector,
        )
        monitoring.open_url = ctx.open_url
        monitoring.sandbox_upload = ctx.sandbox.upload_certificate if ctx.sandbox is not None else None
    return monitoring


def build_window(
    services: Services, engine: EngineService, ctx: WizardContext, *, sandbox: bool
) -> MainWindow:
    window = MainWindow(
        services.connections,
        engine,
        lambda: SetupWizard(ctx),
        sandbox=sandbox,
        vault_description=services.vault.description,
        monitoring=monitoring_context(services, engine, ctx),
        services=services,
        diagnostics=DiagnosticsActions(
            default_name=default_bundle_name,
            build=lambda out, connection_id: build_bundle(services, out, connection_id=connection_id),
        ),
        start_at_login=autostart,
    )
    window.setWindowIcon(app_icon())
    return window


def attach_sandbox_menu(window: MainWindow, sandbox: SandboxInfo | None) -> SandboxMenu | None:
    """The demo's Sandbox menu (act on the emulators, watch the sync carry it); no menu otherwise."""
    if sandbox is None:
        return None
    actions_for = lambda erp: client_for(sandbox, erp)  # noqa: E731 - the selected connection's ERP
    return install_sandbox_menu(window, actions_for, addresses=addresses_text(sandbox))


async def run_app(
    services: Services,
    sandbox: SandboxInfo | None,
    *,
    engine: EngineService | None = None,
    timing: BackgroundTiming | None = None,
) -> int:
    """The window until it is closed, with the profile's schedule, change-feed triggers and servers
    running here unless the agent (or another window) already runs them. `engine` and `timing` default
    to the profile's engine and the usual delays."""
    engine = engine or build_engine(services)
    window = build_window(
        services, engine, wizard_context(services, engine, sandbox), sandbox=sandbox is not None
    )
    closed: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def close() -> None:
        if not closed.done():
            closed.set_result(None)

    window.closed.connect(close)
    sandbox_menu = attach_sandbox_menu(window, sandbox)
    signals = stop_on_signals(close)
    window.show()
    if not services.connections.list():
        QTimer.singleShot(0, window.open_wizard)  # first run (or an unfinished setup): straight to the wizard
    from atlas_desktop.app.background import BackgroundWork  # uvicorn, APScheduler: once the window exists

    work = BackgroundWork(
        services,
        engine,
        role="window",
        timing=timing,
        on_change=lambda w: window.show_schedule_owner(w.owner.describe()),
    )
    window.connections_changed.connect(work.request_reload)
    await work.start()
    freeze_startup_heap()  # the window, services and schedule live until exit: no collection walks them again
    try:
        await closed
    finally:
        for signum in signals:
            asyncio.get_running_loop().remove_signal_handler(signum)
    # Async clean-up while the loop still runs, not in aboutToQuit: the schedule first (no new runs),
    # then the window's own tasks, then the engine's connections and database thread.
    await work.stop()
    await window.aclose()
    if sandbox_menu is not None:
        await sandbox_menu.aclose()
    await engine.aclose()
    return EXIT_OK


def stop_on_signals(stop: Callable[[], object]) -> list[int]:
    """SIGTERM and Ctrl+C end the app as closing the window does: with its clean-up (the schedule stopped,
    the demo's temporary folder removed), not with the OS's default end, which runs none of it."""
    loop = asyncio.get_running_loop()
    handled: list[int] = []
    for signum in (signal.SIGTERM, signal.SIGINT):
        try:
            loop.add_signal_handler(signum, stop)
        except (NotImplementedError, RuntimeError, ValueError):  # Windows; not the main thread (tests)
            break
        handled.append(signum)
    return handled


def _exit_on_sigterm(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)  # unwinds the ExitStack below: the demo's folder goes too


def run_gui(
    paths: ProfilePaths | None, *, demo: bool, env: dict[str, str] | None = None, verbose: bool = False
) -> int:
    """`atlas-desktop` (and `--demo`): the window until it is closed. Returns the process exit code.
    `paths` may be None with `demo`: the demo's own temporary profile is used (and logged to)."""
    tune_gc()  # see gc_tuning: full collections froze the window during syncs
    favour_the_gui_thread()  # and so did long DB-thread work, with the GUI thread waiting for the GIL
    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    app.setApplicationName("Atlas Desktop")
    app.setOrganizationName("Atlas")
    app.setDesktopFileName("atlas-desktop")
    app.setWindowIcon(app_icon())
    apply_theme(app)
    app.setQuitOnLastWindowClosed(False)  # run_app decides when to stop, after its clean-up
    from atlas_desktop.ui.event_loop import EventLoop  # qasync, imported after PySide6 (module top)

    loop = EventLoop(app)
    asyncio.set_event_loop(loop)
    crash = CrashReporter()
    crash.install(loop)
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _exit_on_sigterm)  # until the loop's own handler (run_app) takes over
    with ExitStack() as stack:
        sandbox: SandboxInfo | None = None
        key_source = None
        try:
            if demo:
                from atlas_desktop.app.demo import demo_environment

                environment = stack.enter_context(demo_environment())
                paths, sandbox = environment.paths, environment.sandbox
                level = logging.DEBUG if verbose else logging.INFO
                configure_logging(paths.log_file, level=level, stderr=verbose)
                # The demo profile is deleted at exit: a key left behind in the keyring would be litter.
                key_source = MemoryKeySource()
            assert paths is not None, "a profile, or the demo's"
            services = stack.enter_context(
                open_services(
                    paths, interactive=True, key_source=key_source, prompt=QtPassphrasePrompt(), env=env
                )
            )
            apply_theme(app, ThemeMode(services.settings.get("theme")))  # the user's choice, once known
        except PassphraseCancelled:
            log.info("the passphrase prompt was cancelled; not starting")
            return EXIT_FAILED
        except AtlasDesktopError as error:
            QMessageBox.critical(None, "Atlas Desktop", f"{error.message}\n\n{error.fix}")
            return EXIT_FAILED
        with loop:
            return loop.run_until_complete(run_app(services, sandbox))
