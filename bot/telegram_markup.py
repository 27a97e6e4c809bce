"""Pure translation for Telegram replies: command words, text split to fit a message, HTML
escaping, inline keyboards, the toast of a button press."""

from __future__ import annotations

import html
import logging
from collections.abc import Iterable

from telegram import InlineKeyboardButton, InlineKeyboardMarkup
from telegram.constants import MessageLimit

from bot.ports import Choice

__all__ = ["command_name", "escape", "keyboard", "short_answer", "split_text"]

log = logging.getLogger(__name__)

CALLBACK_DATA_LIMIT = 64  # bytes, Telegram's limit for an inline button's callback_data
BUTTONS_PER_ROW = 2
ANSWER_LIMIT = 200  # characters Telegram shows in a callback query's toast


def command_name(text: str, bot_username: str) -> str | None:
    """``subscribe`` for ``/subscribe@this_bot economy``; ``None`` if the message is not a
    command or is addressed to another bot (``/subscribe@other_bot``)."""
    if not text.startswith("/"):
        return None
    name, _, addressee = text.split(maxsplit=1)[0][1:].partition("@")
    if addressee and addressee.lower() != bot_username.lower():
        return None
    return name.lower() or None


def split_text(text: str, limit: int = MessageLimit.MAX_TEXT_LENGTH) -> list[str]:
    """Plain ``text`` cut into pieces whose HTML-escaped form fits one message, at line ends
    when possible (a long topic list), else at spaces, else anywhere."""
    pieces: list[str] = []
    current = ""
    for line in text.split("\n"):
        candidate = f"{current}\n{line}" if current else line
        if len(escape(candidate)) <= limit:
            current = candidate
            continue
        if current:
            pieces.append(current)
        current = line
        while len(escape(current)) > limit:
            cut = _longest_fitting_prefix(current, limit)
            pieces.append(current[:cut].rstrip())
            current = current[cut:].lstrip()
    if current.strip():
        pieces.append(current)
    return pieces


def _longest_fitting_prefix(text: str, limit: int) -> int:
    cut = limit
    while cut > 1 and len(escape(text[:cut])) > limit:
        cut -= max(1, cut // 20)
    space = text.rfind(" ", 0, cut)
    return space if space > cut // 2 else cut


def escape(text: str) -> str:
    return html.escape(text, quote=False)


def keyboard(choices: Iterable[Choice]) -> InlineKeyboardMarkup | None:
    """Choices as inline buttons, two to a row; a choice whose command would not fit in
    Telegram's 64-byte callback data is left out (and logged) rather than cut."""
    buttons = []
    for choice in choices:
        if len(choice.command.encode()) > CALLBACK_DATA_LIMIT:
            log.warning("button %r left out: command longer than 64 bytes", choice.label)
            continue
        buttons.append(InlineKeyboardButton(choice.label, callback_data=choice.command))
    if not buttons:
        return None
    rows = [buttons[i : i + BUTTONS_PER_ROW] for i in range(0, len(buttons), BUTTONS_PER_ROW)]
    return InlineKeyboardMarkup(rows)


def short_answer(text: str) -> str:
    first = text.strip().split("\n", 1)[0]
    return first if len(first) <= ANSWER_LIMIT else first[: ANSWER_LIMIT - 1] + "…"
