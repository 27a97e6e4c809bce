"""The chat side's errors, under the project's one root (:class:`digests.errors.DigestError`).

::

    DigestError                      digests.errors: the root
    ├── ConfigError                  digests.errors: settings or a config file that cannot work
    │   ├── TaxonomyError            digests.topics: the topics file
    │   └── SetupError               here: the chat side's settings and files
    │       ├── TelegramSetupError   TELEGRAM_* settings, or a token Telegram refuses
    │       ├── SlackConfigError     SLACK_* settings that cannot work together
    │       ├── FeedsFileError       the feeds file (DIGESTBOT_FEEDS_FILE) or an OPML file
    │       ├── DatabaseUrlError     a DATABASE_URL digestbot cannot use
    │       └── FeedUrlError         a feed URL digestbot will not poll (not http/https, ...)
    ├── StoreError                   here: the database cannot be reached or used
    └── FetchError, FeedError, ExtractionError  digests.errors: per-item news failures

``digestbot`` (``bot.cli.main``) catches them once: one line on stderr, and the exit code by
kind (:data:`EXIT_FAILURE`, :data:`EXIT_SETUP`). Every message says what is wrong and what to
set, and never carries a secret: :func:`mask_secrets` is applied to the line on the way out.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from digests.errors import ConfigError, DigestError

__all__ = [
    "EXIT_FAILURE",
    "EXIT_SETUP",
    "ConfigError",
    "DatabaseUrlError",
    "DigestError",
    "FeedUrlError",
    "FeedsFileError",
    "SetupError",
    "SlackConfigError",
    "StoreError",
    "TelegramSetupError",
    "mask_secrets",
    "one_line",
]

EXIT_FAILURE = 1  # the work could not be done (database down, every feed failing, ...)
EXIT_SETUP = 2  # nothing was tried: a setting or a config file must be fixed first

MASK = "<hidden>"


class SetupError(ConfigError):
    """The chat side's settings or files cannot work; the message says what to set."""


class TelegramSetupError(SetupError):
    """The Telegram settings cannot work; the message says which variable to fix."""


class SlackConfigError(SetupError):
    """The Slack settings cannot work together; the message says what to set."""


class FeedsFileError(SetupError):
    """A feeds file or OPML document that cannot be read; the message says where and why."""


class DatabaseUrlError(SetupError):
    """``DATABASE_URL`` names a database or driver digestbot does not run on."""


class LlmSetupError(SetupError):
    """The LLM summary settings cannot work; the message says which variable to set."""


class FeedUrlError(SetupError):
    """A feed URL that cannot be polled; the message says why and what works."""


class StoreError(DigestError):
    """The database cannot be reached or used (as opposed to a wrong ``DATABASE_URL``)."""


def mask_secrets(text: str, secrets: Iterable[str | None]) -> str:
    """``text`` with every occurrence of each secret replaced, however short the secret.

    Longest first, so that a secret containing another is masked whole.
    """
    for secret in sorted({s for s in secrets if s}, key=len, reverse=True):
        text = text.replace(secret, MASK)
    return text


_BREAKS = re.compile(r"\s*\n\s*")


def one_line(text: str) -> str:
    """A possibly multi-line message as one line (a TOML or driver error may span several)."""
    return _BREAKS.sub(" | ", text.strip())
