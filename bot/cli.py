"""The ``digestbot`` command line: one entry point, each sub-command delegating to its module.

Imports are done inside each command so that ``digestbot preview`` does not pay for the chat
libraries and ``digestbot --help`` stays fast.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.secret_masking import SecretMasker
    from digests.config import PipelineConfig

# The settings fields bot.settings.Settings.pipeline_config() reads (their environment
# variables all start with DIGESTBOT_; tests/bot/test_bot_cli_preview.py keeps this in step).
PIPELINE_FIELDS = frozenset(
    {
        "summary_words",
        "max_response_bytes",
        "fetch_timeout",
        "feed_timeout",
        "topics_file",
        "allow_private_addresses",
        "poll_concurrency",
        "malloc_mmap_threshold",
        "gc_threshold",
        "per_host_requests",
    }
)


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("digestbot")
    except PackageNotFoundError:  # run from a checkout that was never installed
        return "unknown"


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="digestbot",
        description="News-digest bot for Telegram and Slack: summary, key facts, editor's note.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    preview = sub.add_parser(
        "preview",
        help="build digest cards for saved HTML pages, page URLs or feed URLs and print them",
    )
    preview.add_argument("inputs", nargs="+", metavar="PATH_OR_URL")
    preview.add_argument(
        "--format", choices=["text", "telegram", "slack", "json"], default="text", dest="fmt"
    )
    preview.add_argument(
        "--limit", type=int, default=3, help="newest entries to preview per feed (default 3)"
    )

    run = sub.add_parser("run", help="start the worker: poll feeds, deliver digests, answer chats")
    run.add_argument("--once", action="store_true", help="one poll + delivery cycle, then exit")
    run.add_argument(
        "--roles",
        help="what this worker does, of poll,deliver,updates (default: all; DIGESTBOT_ROLES)",
    )

    sub.add_parser("chat", help="talk to the bot in the terminal (the console adapter)")

    feeds = sub.add_parser("feeds", help="manage the feeds the worker polls")
    feeds_sub = feeds.add_subparsers(dest="feeds_command", required=True, metavar="ACTION")
    add = feeds_sub.add_parser("add", help="add a feed")
    add.add_argument("url")
    add.add_argument("--name")
    add.add_argument("--topics", help="comma-separated topics every entry of this feed gets")
    add.add_argument(
        "--no-check",
        action="store_true",
        help="store the address as given, without fetching it (by default it is fetched, and "
        "a web page is searched for its feed)",
    )
    add.add_argument(
        "--summary",
        choices=("llm", "extractive"),
        help="who writes this feed's summaries: the LLM server (DIGESTBOT_LLM_URL), guarded, "
        "or the author's own sentences (default: DIGESTBOT_SUMMARY_MODE)",
    )
    feeds_sub.add_parser("list", help="list feeds and their health")
    remove = feeds_sub.add_parser("remove", help="remove a feed")
    remove.add_argument("url")
    imp = feeds_sub.add_parser("import", help="import feeds from an OPML file")
    imp.add_argument("file")
    exp = feeds_sub.add_parser("export", help="export feeds as OPML (to stdout or a file)")
    exp.add_argument("file", nargs="?")

    status = sub.add_parser(
        "status",
        help="feeds, subscriptions, outbox and recent failures (exit 1 for a current problem)",
    )
    status.add_argument("--json", action="store_true", help="one JSON object, for scripts")

    db = sub.add_parser("db", help="database maintenance")
    db_sub = db.add_subparsers(dest="db_command", required=True, metavar="ACTION")
    db_sub.add_parser("upgrade", help="apply Alembic migrations up to the newest")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; every project error becomes one ``digestbot: ...`` line on stderr.

    Exit codes: 0 done; 1 the work failed (database unreachable, every feed failing in
    ``run --once``, ``status`` finding a problem); 2 nothing was tried because a setting or a
    config file must be fixed first (as for argparse's usage errors). See README "Exit codes".
    """
    args = _build_parser().parse_args(argv)
    from bot.errors import EXIT_FAILURE, EXIT_SETUP, ConfigError, DigestError, StoreError

    try:
        return _dispatch(args)
    except _loaded("pydantic", "ValidationError") as exc:
        # A mistyped environment variable: name it and say what was expected, no traceback.
        for error in exc.errors():  # type: ignore[attr-defined]
            name = ".".join(str(part) for part in error["loc"]) or "settings"
            _say(f"{name}: {error['msg']}")
        return EXIT_SETUP
    except ConfigError as exc:
        _say(_with_setting_hint(exc))
        return EXIT_SETUP
    except StoreError as exc:
        _say_database_error(exc)
        return EXIT_FAILURE
    except (OSError, _loaded("sqlalchemy.exc", "DBAPIError")) as exc:
        if not _is_database_error(exc):
            raise
        _say_database_error(exc)
        return EXIT_FAILURE
    except DigestError as exc:
        _say(str(exc))
        return EXIT_FAILURE


class _NeverRaised(Exception):
    """Stands in for the error class of a library that was never imported."""


def _loaded(module: str, name: str) -> type[Exception]:
    """``module.name`` if the module was imported, else a class nothing raises: an error of a
    library that never ran cannot have happened, and importing SQLAlchemy just to catch its
    errors cost ``digestbot preview`` 0.2 s."""
    found = sys.modules.get(module)
    return getattr(found, name) if found is not None else _NeverRaised


def _with_setting_hint(exc: BaseException) -> str:
    from digests.topics import TaxonomyError

    # The news side raises it without knowing which setting named the file.
    if isinstance(exc, TaxonomyError):
        return f"topics file {exc} (fix it, or set DIGESTBOT_TOPICS_FILE to another file)"
    return str(exc)


def _env_file_names(path: Path) -> list[str]:
    """The variables a ``.env`` file sets (the settings read it too)."""
    if not path.is_file():
        return []
    from dotenv import dotenv_values

    return list(dotenv_values(path))


def _say(message: str) -> None:
    """One line on stderr, with every secret of the settings masked, whatever its length."""
    from bot.errors import one_line

    print(f"digestbot: {_masker().mask(one_line(message))}", file=sys.stderr)


def _say_database_error(exc: BaseException) -> None:
    first = str(exc).strip().split("\n", 1)[0]  # the driver's reason, not the SQL or a URL
    _say(
        f"cannot use the database at {_safe_db_url()}: {first}; "
        "check DATABASE_URL and that the server is running"
    )


def _masker() -> SecretMasker:
    from bot.secret_masking import SecretMasker
    from bot.settings import Settings

    try:
        settings = Settings.load()
    except Exception:  # invalid settings: pydantic's messages carry no input values anyway
        return SecretMasker()
    return SecretMasker(settings.secret_values(), settings.secret_passwords())


def _is_database_error(exc: BaseException) -> bool:
    from sqlalchemy.exc import DBAPIError

    if isinstance(exc, DBAPIError):
        return True
    # asyncpg raises plain OSError (connection refused) before SQLAlchemy wraps anything.
    tb = exc.__traceback__
    while tb is not None:
        module = tb.tb_frame.f_globals.get("__name__", "")
        if module.startswith(("asyncpg", "aiosqlite", "sqlalchemy")):
            return True
        tb = tb.tb_next
    return False


def _safe_db_url() -> str:
    """DATABASE_URL without its password, for an error message."""
    from sqlalchemy.engine import make_url

    from bot.settings import Settings

    try:
        return make_url(Settings.load().database_url).render_as_string(hide_password=True)
    except Exception:
        return "DATABASE_URL"


def preview_config(environ: Mapping[str, str], env_file: Path) -> PipelineConfig:
    """The news side's settings for ``digestbot preview``, private addresses allowed (the
    inputs are the user's own choice).

    When nothing can set them (no ``.env`` file, no variable named like a pipeline setting)
    they are the defaults, built without pydantic: importing it and building the settings was
    a quarter of the time ``preview PAGE`` took.
    """
    from digests.config import PipelineConfig

    given = env_file.exists() or any(
        name.lower().startswith("digestbot_") or name.lower() in PIPELINE_FIELDS for name in environ
    )
    if not given:
        return PipelineConfig(allow_private_addresses=True)
    from bot.settings import Settings

    return replace(Settings.load().pipeline_config(), allow_private_addresses=True)


def _dispatch(args: argparse.Namespace) -> int:
    if args.command == "preview":
        from digests.preview import main_preview

        config = preview_config(os.environ, Path(".env"))
        return main_preview(args.inputs, fmt=args.fmt, limit=args.limit, config=config)

    from bot.settings import Settings, check_database_url, unknown_settings

    settings = Settings.load()
    for warning in unknown_settings([*os.environ, *_env_file_names(Path(".env"))]):
        _say(f"warning: {warning}")
    check_database_url(settings.database_url)  # every command below opens the store
    if args.command == "run":
        from bot.worker_cli import run_worker

        if args.roles:
            settings = settings.model_copy(update={"roles": args.roles})
        return run_worker(settings, once=args.once)
    if args.command == "chat":
        from bot.worker_cli import run_chat

        return run_chat(settings)
    if args.command == "feeds":
        from bot.feeds_cli import main_feeds

        return main_feeds(settings, args)
    if args.command == "status":
        from bot.status_cli import main_status

        return main_status(settings, as_json=args.json)
    if args.command == "db":
        from bot.worker_cli import upgrade_database

        return upgrade_database(settings)
    return 2  # unreachable: argparse rejects unknown commands


if __name__ == "__main__":
    sys.exit(main())
