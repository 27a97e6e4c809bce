"""Every configured secret masked by value in every log line and error line, whatever its shape.

A token is masked wherever it appears, however short or malformed (``7:Zq`` as much as a
well-formed Bot API token). A password is different: the database password may be
``postgres`` or ``news``, and masking every occurrence of such a word would garble lines
that mention the database or the feed; it is masked where it stands as a password: in a URL's
user information (``user:PASSWORD@``, percent-encoded or not) and after ``password=``,
``password: `` or ``"password": "``.

Public API::

    masker = SecretMasker(values, passwords=())     # .mask(text) -> text
    install_secret_masking(values, passwords=())    # a filter on every root handler
    url_password(url) -> str | None                 # the password of a database/Redis URL
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from urllib.parse import quote, unquote, urlsplit

from bot.errors import MASK

__all__ = [
    "SecretMasker",
    "SecretMaskingFilter",
    "install_secret_masking",
    "url_password",
]


def url_password(url: str | None) -> str | None:
    """The password in ``url``'s user information (``scheme://user:PASSWORD@host``)."""
    if not url:
        return None
    try:
        password = urlsplit(url).password
    except ValueError:
        return None
    return unquote(password) if password else None


class SecretMasker:
    """Masks ``values`` everywhere and ``passwords`` where they stand as passwords."""

    def __init__(self, values: Iterable[str | None] = (), passwords: Iterable[str | None] = ()):
        self.values: set[str] = set()
        self.passwords: set[str] = set()
        self._pattern: re.Pattern[str] | None = None
        self.add(values, passwords)

    def add(self, values: Iterable[str | None] = (), passwords: Iterable[str | None] = ()) -> None:
        self.values.update(v for v in values if v)
        self.passwords.update(p for p in passwords if p)
        self._pattern = self._compile()

    def _compile(self) -> re.Pattern[str] | None:
        alternatives = []
        # Longest first, so that a secret containing another is masked whole.
        for value in sorted(self.values, key=len, reverse=True):
            alternatives.append(re.escape(value))
        for password in sorted(self.passwords, key=len, reverse=True):
            forms = "|".join(
                re.escape(f) for f in sorted({password, quote(password, safe="")}, key=len)[::-1]
            )
            # user:PASSWORD@ in a URL; password=..., password: ..., "password": "..."
            alternatives.append(rf"(?<=:)(?:{forms})(?=@)")
            alternatives.append(
                rf"(?i:(?<=password=)|(?<=password: )|(?<=password\": \")|(?<=password=')"
                rf"|(?<=password=\"))(?:{forms})"
            )
        return re.compile("|".join(alternatives)) if alternatives else None

    def mask(self, text: str) -> str:
        if self._pattern is None or not text:
            return text
        return self._pattern.sub(MASK, text)


class SecretMaskingFilter(logging.Filter):
    """Masks secrets in a record's message, exception text and stack before any handler
    formats it. The formatted exception is kept in ``exc_text``, which formatters print
    instead of formatting ``exc_info`` again."""

    def __init__(self, masker: SecretMasker) -> None:
        super().__init__()
        self.masker = masker

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = self.masker.mask(message)
        if masked != message:
            record.msg, record.args = masked, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.masker.mask(record.exc_text)
        if record.stack_info:
            record.stack_info = self.masker.mask(record.stack_info)
        return True


_FILTER = SecretMaskingFilter(SecretMasker())


def install_secret_masking(
    values: Iterable[str | None], passwords: Iterable[str | None] = ()
) -> SecretMaskingFilter:
    """Mask ``values`` (and ``passwords`` where they stand as passwords) in every line the root
    logger's handlers write. Idempotent; secrets add up over calls; handlers added to the root
    later are covered at the next call."""
    _FILTER.masker.add(values, passwords)
    for handler in logging.getLogger().handlers:
        if _FILTER not in handler.filters:
            handler.addFilter(_FILTER)
    return _FILTER
