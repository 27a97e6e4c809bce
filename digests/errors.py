"""One exception hierarchy for the news side.

Expected, per-item failures (a broken feed, an unreachable page) are raised as subclasses of
:class:`DigestError` so that callers can turn them into per-item results and carry on.
"""


class DigestError(Exception):
    """Root of every error digestbot raises on purpose."""


class ConfigError(DigestError):
    """Settings or a configuration file that cannot work; the message names what to fix.

    The command line turns it into one line and exit code 2 (``bot.cli``); the chat side's
    setup errors (``bot.errors.SetupError``) are its subclasses.
    """


class FetchError(DigestError):
    """A feed or page could not be fetched (network, HTTP status, size or time limit)."""

    def __init__(self, url: str, reason: str) -> None:
        super().__init__(f"{url}: {reason}")
        self.url = url
        self.reason = reason


class FeedError(DigestError):
    """A feed was fetched but yields no usable entries."""

    def __init__(self, url: str, reason: str) -> None:
        super().__init__(f"{url}: {reason}")
        self.url = url
        self.reason = reason


class ExtractionError(DigestError):
    """No main text could be found in a page (and no feed content to fall back on)."""

    def __init__(self, url: str, reason: str) -> None:
        super().__init__(f"{url}: {reason}")
        self.url = url
        self.reason = reason
