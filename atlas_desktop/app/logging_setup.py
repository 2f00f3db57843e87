"""Logging: a rotating file in the profile and stderr for the CLI, every record redacted on the way out."""

from __future__ import annotations

import contextlib
import io
import logging
import logging.handlers
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import cast

from atlas_desktop.domain.secrets import redact

FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"
_OURS = "_atlas_desktop_handler"


def redact_record(record: logging.LogRecord, formatter: logging.Formatter) -> None:
    """Replace the message, its arguments and any traceback of `record` by their redacted text."""
    if getattr(record, "_redacted", False):
        return
    try:
        message = record.getMessage()
    except Exception:  # a bad format string must not hide the record, nor leak its args
        message = f"{record.msg!s} (unformattable arguments)"
    record.msg = redact(message)
    record.args = None
    if record.exc_info:
        record.exc_text = redact(formatter.formatException(record.exc_info))
        record.exc_info = None
    elif record.exc_text:
        record.exc_text = redact(record.exc_text)
    if record.stack_info:
        record.stack_info = redact(record.stack_info)
    record._redacted = True


_formatter = logging.Formatter()
_base_factory = logging.getLogRecordFactory()


def _redacting_factory(*args: object, **kwargs: object) -> logging.LogRecord:
    record = _base_factory(*args, **kwargs)
    redact_record(record, _formatter)
    return record


class RedactingFilter(logging.Filter):
    """Defence in depth on our handlers, for records built outside the record factory."""

    def filter(self, record: logging.LogRecord) -> bool:
        redact_record(record, _formatter)
        return True


def install_redaction() -> None:
    """Redact every record when it is created, so no handler (ours, Qt's, a test's) sees a secret."""
    if logging.getLogRecordFactory() is not _redacting_factory:
        logging.setLogRecordFactory(_redacting_factory)


class RepeatFilter(logging.Filter):
    """At most `burst` identical lines per minute; the rest are counted, not written.

    A loop that fails the same way (accept() with no file descriptors left, under a flood of slow
    clients) would otherwise write megabytes in seconds and rotate the useful log away.
    """

    def __init__(self, burst: int = 5, window_s: float = 60.0, clock: Callable[[], float] = time.monotonic):
        super().__init__()
        self._burst, self._window_s, self._clock = burst, window_s, clock
        self._seen: dict[tuple[str, int, str], tuple[float, int, int]] = {}  # key -> (start, kept, dropped)

    def filter(self, record: logging.LogRecord) -> bool:
        # The whole line, not its template: "%s sync of %s" for many connections is not a loop.
        try:
            text = record.getMessage()
        except Exception:  # a bad format string: the redaction filter reports it
            text = str(record.msg)
        key = (record.name, record.levelno, text)
        now = self._clock()
        start, kept, dropped = self._seen.get(key, (now, 0, 0))
        if now - start >= self._window_s:
            if dropped:
                record.msg = f"{record.msg} [{dropped} more like this in the last minute were not logged]"
            start, kept, dropped = now, 0, 0
        if kept >= self._burst:
            self._seen[key] = (start, kept, dropped + 1)
            return False
        self._seen[key] = (start, kept + 1, dropped)
        if len(self._seen) > 10_000:  # a flood of distinct lines must not grow this without bound
            self._seen.clear()
        return True


class PrivateRotatingFileHandler(logging.handlers.RotatingFileHandler):
    """A rotating log whose files only the owner can read: the log names items, lots and customers."""

    def _open(self) -> io.TextIOWrapper:
        # O_CREAT with 0600 from the start: a chmod after open would leave a window where it is 0644.
        fd = os.open(self.baseFilename, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        with contextlib.suppress(OSError):
            os.chmod(self.baseFilename, 0o600)  # a file made by an older version
        # A text mode (the handler's "a"), so `open` gives the TextIOWrapper the base class returns.
        return cast(io.TextIOWrapper, open(fd, self.mode, encoding=self.encoding, errors=self.errors))


def configure_logging(log_file: Path | None, *, level: int = logging.INFO, stderr: bool = False) -> None:
    """(Re)configure the root logger; idempotent, replaces only handlers this function added."""
    install_redaction()
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, _OURS, False):
            root.removeHandler(handler)
            handler.close()
    redacting = RedactingFilter()
    handlers: list[logging.Handler] = []
    if log_file is not None:
        log_file.parent.mkdir(parents=True, exist_ok=True)
        handlers.append(
            PrivateRotatingFileHandler(log_file, maxBytes=5_000_000, backupCount=5, encoding="utf-8")
        )
    if stderr:
        handlers.append(logging.StreamHandler(sys.stderr))
    for handler in handlers:
        setattr(handler, _OURS, True)
        handler.setFormatter(logging.Formatter(FORMAT))
        handler.addFilter(RepeatFilter())  # one per handler: each counts what it writes
        handler.addFilter(redacting)
        root.addHandler(handler)
    root.setLevel(level)
    # httpx logs every request line at INFO with full URLs; ours are enough (and redacted).
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("httpcore").setLevel(logging.WARNING)
