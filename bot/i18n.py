"""The user's language: gettext catalogs for the texts of :mod:`bot.messages`.

The English texts in ``bot/messages.py`` are the message ids; each other language has a
catalog ``bot/locale/<lang>/LC_MESSAGES/digestbot.po``, compiled to ``.mo`` next to it (the
``.mo`` files are committed and shipped as package data, so a plain ``pip install`` has them).
Extract and compile with Babel (see the README, "Languages")::

    pybabel extract -F babel.cfg -o bot/locale/digestbot.pot bot/messages.py
    pybabel update -i bot/locale/digestbot.pot -d bot/locale -D digestbot
    pybabel compile -d bot/locale -D digestbot

Public API::

    translator("de-AT") -> Translator     # German; English for a language we do not have
    language_of("pt-br") -> "pt" | None   # the supported language a user's code names
    LANGUAGES                             # supported codes, English first
    N_("text")                            # marks a constant for extraction; translate at use
"""

from __future__ import annotations

import gettext
from functools import cache
from pathlib import Path

__all__ = [
    "DOMAIN",
    "ENGLISH",
    "LANGUAGES",
    "LANGUAGE_NAMES",
    "LOCALE_DIR",
    "N_",
    "Translator",
    "language_of",
    "translator",
]

DOMAIN = "digestbot"
LOCALE_DIR = Path(__file__).parent / "locale"

# Each language under its own name, as a user choosing it would look for it.
LANGUAGE_NAMES: dict[str, str] = {
    "en": "English",
    "de": "Deutsch",
    "fr": "Français",
    "es": "Español",
    "pt": "Português",
    "it": "Italiano",
    "ru": "Русский",
    "uk": "Українська",
    "zh": "简体中文",
    "ja": "日本語",
    "ko": "한국어",
    "ar": "العربية",
    "tr": "Türkçe",
}
LANGUAGES: tuple[str, ...] = tuple(LANGUAGE_NAMES)

# Anything with ``gettext`` and ``ngettext``: the stdlib's translations objects are.
Translator = gettext.NullTranslations
ENGLISH: Translator = gettext.NullTranslations()


def N_(text: str) -> str:
    """Marks ``text`` for the catalogs without translating it (a constant, translated when
    it is used, in the reader's language)."""
    return text


def language_of(code: str | None) -> str | None:
    """The supported language an IETF tag names (``"de"``, ``"pt-BR"``, ``"zh-hans"``,
    ``"en_US"``), or ``None``. Chinese is simplified Chinese: the only catalog we write."""
    if not code:
        return None
    primary = code.strip().lower().replace("_", "-").split("-", 1)[0]
    return primary if primary in LANGUAGE_NAMES else None


def translator(code: str | None) -> Translator:
    """The translations for ``code``; English (the message ids) when there is no catalog."""
    language = language_of(code)
    if language is None or language == "en":
        return ENGLISH
    return _catalog(language)


@cache  # keyed by supported language only: a user's odd language_code never grows it
def _catalog(language: str) -> Translator:
    return gettext.translation(DOMAIN, LOCALE_DIR, languages=[language], fallback=True)
