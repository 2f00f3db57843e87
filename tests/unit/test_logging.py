"""The redaction filter keeps secrets out of every log line, arguments and tracebacks included."""

from __future__ import annotations

import logging

from atlas_desktop.app.logging_setup import configure_logging
from atlas_desktop.domain.secrets import Secret


def test_log_file_never_holds_a_secret(tmp_path) -> None:  # type: ignore[no-untyped-def]
    log_file = tmp_path / "logs" / "app.log"
    configure_logging(log_file, level=logging.DEBUG)
    try:
        secret = Secret("d26ad321a4b2f23b0741c8d38392ce01")
        logger = logging.getLogger("atlas_desktop.test.child")
        logger.info("value %s", secret.reveal())
        logger.info("headers {'Authorization': 'OAuth oauth_token=\"abcdef123456\"'}")
        try:
            raise RuntimeError(f"failed with {secret.reveal()}")
        except RuntimeError:
            logger.exception("boom")
        logger.info("bad format %s %s", "only-one-arg")
    finally:
        configure_logging(None)
    content = log_file.read_text()
    assert "d26ad321a4b2f23b0741c8d38392ce01" not in content
    assert "abcdef123456" not in content
    assert "RuntimeError" in content  # the traceback is kept, only masked
    assert content.count("****") >= 3


def test_configure_logging_is_idempotent(tmp_path) -> None:  # type: ignore[no-untyped-def]
    configure_logging(tmp_path / "a.log")
    configure_logging(tmp_path / "a.log")
    ours = [h for h in logging.getLogger().handlers if getattr(h, "_atlas_desktop_handler", False)]
    assert len(ours) == 1
    configure_logging(None)


def test_log_files_are_readable_by_the_owner_only(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import os
    import stat

    old = tmp_path / "logs" / "old.log"
    old.parent.mkdir()
    old.write_text("from an older version\n")
    os.chmod(old, 0o644)
    for log_file in (tmp_path / "logs" / "new.log", old):
        configure_logging(log_file)
        try:
            logging.getLogger("atlas_desktop.test").warning("stock of lot A1 is 12")
        finally:
            configure_logging(None)
        assert stat.S_IMODE(log_file.stat().st_mode) == 0o600
        assert "lot A1" in log_file.read_text()


def test_a_line_repeated_in_a_loop_is_written_a_few_times_then_counted(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from atlas_desktop.app.logging_setup import RepeatFilter

    now = [0.0]
    repeats = RepeatFilter(burst=3, window_s=60.0, clock=lambda: now[0])

    def record(msg: str) -> logging.LogRecord:
        return logging.LogRecord("asyncio", logging.ERROR, __file__, 1, msg, None, None)

    kept = [repeats.filter(record("socket.accept() out of system resource")) for _ in range(10_000)]
    assert sum(kept) == 3
    assert repeats.filter(record("another message"))  # other lines are not affected
    now[0] = 61.0
    later = record("socket.accept() out of system resource")
    assert repeats.filter(later) and "9997 more like this" in later.msg

    log_file = tmp_path / "flood.log"
    configure_logging(log_file)
    try:
        for _ in range(5000):
            logging.getLogger("asyncio").error("socket.accept() out of system resource")
    finally:
        configure_logging(None)
    assert log_file.stat().st_size < 2000


def test_distinct_lines_from_one_template_are_all_kept() -> None:
    from atlas_desktop.app.logging_setup import RepeatFilter

    repeats = RepeatFilter(burst=3)
    records = [
        logging.LogRecord("agent", logging.INFO, __file__, 1, "sync of %s: %s", (f"c{n}", "ok"), None)
        for n in range(50)
    ]
    assert all(repeats.filter(r) for r in records)
