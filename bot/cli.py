"""The ``digestbot`` command line: one entry point, each sub-command delegating to its module.

Imports are done inside each command so that ``digestbot preview`` does not pay for the chat
libraries and ``digestbot --help`` stays fast.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from dataclasses import replace


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="digestbot",
        description="News-digest bot for Telegram and Slack: summary, key facts, editor's note.",
    )
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

    sub.add_parser("chat", help="talk to the bot in the terminal (the console adapter)")

    feeds = sub.add_parser("feeds", help="manage the feeds the worker polls")
    feeds_sub = feeds.add_subparsers(dest="feeds_command", required=True, metavar="ACTION")
    add = feeds_sub.add_parser("add", help="add a feed")
    add.add_argument("url")
    add.add_argument("--name")
    add.add_argument("--topics", help="comma-separated topics every entry of this feed gets")
    feeds_sub.add_parser("list", help="list feeds and their health")
    remove = feeds_sub.add_parser("remove", help="remove a feed")
    remove.add_argument("url")
    imp = feeds_sub.add_parser("import", help="import feeds from an OPML file")
    imp.add_argument("file")
    exp = feeds_sub.add_parser("export", help="export feeds as OPML (to stdout or a file)")
    exp.add_argument("file", nargs="?")

    sub.add_parser(
        "status", help="feeds, subscriptions and outbox at a glance (exit 1 if something fails)"
    )

    db = sub.add_parser("db", help="database maintenance")
    db_sub = db.add_subparsers(dest="db_command", required=True, metavar="ACTION")
    db_sub.add_parser("upgrade", help="apply Alembic migrations up to the newest")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _build_parser().parse_args(argv)
    from pydantic import ValidationError
    from sqlalchemy.exc import DBAPIError

    try:
        return _dispatch(args)
    except ValidationError as exc:
        # A mistyped environment variable: name it and say what was expected, no traceback.
        for error in exc.errors():
            name = ".".join(str(part) for part in error["loc"]) or "settings"
            print(f"digestbot: {name}: {error['msg']}", file=sys.stderr)
        return 2
    except (OSError, DBAPIError) as exc:
        if not _is_database_error(exc):
            raise
        print(f"digestbot: cannot use the database at {_safe_db_url()}: {exc}", file=sys.stderr)
        print("digestbot: check DATABASE_URL and that the server is running", file=sys.stderr)
        return 1


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


def _dispatch(args: argparse.Namespace) -> int:
    if args.command == "preview":
        from bot.settings import Settings
        from digests.preview import main_preview

        # The inputs are the user's own choice, so pages on their own network are fine here.
        config = replace(Settings.load().pipeline_config(), allow_private_addresses=True)
        return main_preview(args.inputs, fmt=args.fmt, limit=args.limit, config=config)

    from bot.settings import Settings

    settings = Settings.load()
    if args.command == "run":
        from bot.app import run_worker

        return run_worker(settings, once=args.once)
    if args.command == "chat":
        from bot.app import run_chat

        return run_chat(settings)
    if args.command == "feeds":
        from bot.feeds_cli import main_feeds

        return main_feeds(settings, args)
    if args.command == "status":
        from bot.status_cli import main_status

        return main_status(settings)
    if args.command == "db":
        from bot.app import upgrade_database

        return upgrade_database(settings)
    return 2  # unreachable: argparse rejects unknown commands


if __name__ == "__main__":
    sys.exit(main())
