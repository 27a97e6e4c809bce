"""``digestbot run``, ``digestbot chat`` and ``digestbot db upgrade``: the process around an
:class:`~bot.app.App`, its logging, signals and exit codes.

Public API::

    run_worker(settings, once) -> int        # `digestbot run [--once]`
    run_chat(settings) -> int                # `digestbot chat`
    upgrade_database(settings) -> int        # `digestbot db upgrade`
    once_exit_code(report) -> (code, why)    # pure: the exit code of `run --once`
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal

from bot import messages as msg
from bot.app import App, CycleReport
from bot.console import chat_repl
from bot.settings import Settings
from bot.store import open_store

__all__ = ["once_exit_code", "run_chat", "run_worker", "upgrade_database"]

log = logging.getLogger(__name__)


def _configure_logging(settings: Settings) -> None:
    from bot.logs import configure_logging
    from bot.secret_masking import install_secret_masking

    configure_logging(settings.log_level, settings.log_format)
    install_secret_masking(settings.secret_values(), settings.secret_passwords())


def once_exit_code(report: CycleReport) -> tuple[int, str | None]:
    """``digestbot run --once``'s exit code for cron, and the line saying why when not 0.

    1 when at least one due feed was polled and every polled feed failed, or a send failed
    for a reason other than the chat being gone; 0 otherwise (one failing feed among working
    ones is a warning in the log, not a failed run).
    """
    polled, failed = len(report.feeds), len(report.failed_feeds)
    if polled and failed == polled:
        return 1, f"all {polled} feed(s) due this cycle failed; see the errors above"
    if report.delivery.errors:
        return 1, f"{report.delivery.errors} card(s) could not be sent; see the errors above"
    return 0, None


def _summary(report: CycleReport) -> str:
    polled = len(report.feeds)
    failed = len(report.failed_feeds)
    new = sum(f.new_entries for f in report.feeds)
    return (
        f"cycle done: {polled} feed(s) polled ({failed} failed), {new} new entries; "
        f"delivery: {report.delivery}"
    )


async def _worker(settings: Settings, once: bool) -> int:
    async with App(settings) as app:
        if once:
            report = await app.run_once()
            log.info("%s", _summary(report))
            code, problem = once_exit_code(report)
            if problem:
                log.error("%s", problem)
                return code
            if not report.delivery.sent and "console" in app.senders:
                log.info(msg.CONSOLE_NOTHING_NEW)
            return 0
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            with contextlib.suppress(NotImplementedError):  # Windows
                loop.add_signal_handler(sig, app.request_stop)
        await app.serve()
        log.info("worker stopped")
        return 0


def run_worker(settings: Settings, once: bool) -> int:
    _configure_logging(settings)
    return asyncio.run(_worker(settings, once))


async def _chat(settings: Settings) -> int:
    async with App(settings, adapters=[]) as app:
        await chat_repl(app.commands)
    return 0


def run_chat(settings: Settings) -> int:
    _configure_logging(settings)
    return asyncio.run(_chat(settings))


async def _upgrade(settings: Settings) -> int:
    async with open_store(settings.database_url):
        pass  # opening the store upgrades it
    log.info("database is at the newest schema")
    return 0


def upgrade_database(settings: Settings) -> int:
    _configure_logging(settings)
    return asyncio.run(_upgrade(settings))
