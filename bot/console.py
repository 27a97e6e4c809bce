"""The console "platform": digests printed to the terminal, and ``digestbot chat``.

Used when no chat token is set, so that a fresh checkout shows real cards with no network and
no account. ``ConsoleSender`` goes through the same outbox, pacing and delivery as Telegram and
Slack; ``ConsoleAdapter`` owns it. :func:`chat_repl` reads command lines (``/subscribe trade``,
``digest``) and answers them through the same :class:`~bot.ports.CommandHandler` as the chats.

Public API::

    CONSOLE_CHAT = ChatRef("console", "terminal")
    ConsoleSender(out=sys.stdout)               # platform "console"; render -> one message/card
    ConsoleAdapter(commands, out=sys.stdout)    # .sender, start(), stop()
    format_reply(reply) -> str
    await chat_repl(commands, lines: AsyncIterator[str] | None = None, out=sys.stdout) -> None
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TextIO

from bot import messages as msg
from bot.commands import parse_command_line
from bot.ports import (
    Attachment,
    ChatRef,
    Choice,
    CommandHandler,
    OutgoingMessage,
    Reply,
    SendResult,
    Sent,
)
from digests.models import Card
from digests.render.text import render_card

__all__ = ["CONSOLE_CHAT", "ConsoleAdapter", "ConsoleSender", "chat_repl", "format_reply"]

CONSOLE_CHAT = ChatRef("console", "terminal")
_RULE = "-" * 72


class ConsoleSender:
    platform = "console"

    def __init__(self, out: TextIO | None = None) -> None:
        self.out = out or sys.stdout
        # A count, not the messages: a long-running console worker must not keep every
        # message it ever printed.
        self.sent_count = 0

    def render(self, cards: Sequence[Card]) -> list[OutgoingMessage]:
        messages = []
        for index, card in enumerate(cards):
            text = render_card(card)
            messages.append(OutgoingMessage({"text": text}, text, (index,)))
        return messages

    async def send(self, chat_id: str, message: OutgoingMessage) -> SendResult:
        self.out.write(f"{_RULE}\n{message.fallback_text.rstrip()}\n")
        self.out.flush()
        self.sent_count += 1
        return Sent(str(self.sent_count))

    def min_interval(self, chat_id: str) -> float:
        return 0.0


class ConsoleAdapter:
    """Delivers to the terminal; it receives no commands while the worker runs (see
    ``digestbot chat`` for that)."""

    platform = "console"

    def __init__(self, commands: CommandHandler | None = None, out: TextIO | None = None) -> None:
        self.commands = commands
        self.sender = ConsoleSender(out)

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        self.sender.out.flush()


def _file_attachment(path: str) -> Attachment:
    file = Path(path).expanduser()

    async def read(limit: int) -> bytes:
        def head() -> bytes:
            with file.open("rb") as handle:
                return handle.read(limit)

        try:
            return await asyncio.to_thread(head)
        except OSError:
            return b""  # not an OPML file: the core says so

    size = file.stat().st_size if file.is_file() else None
    return Attachment(file.name, size, read)


def _choice(choice: Choice) -> str:
    """A button as something to type: ``help``, or ``Trade (subscribe trade)`` when the label
    is not the command itself ("Help: help" read as a stutter)."""
    if choice.label.casefold() == choice.command.casefold():
        return choice.command
    return f"{choice.label} ({choice.command})"


def format_reply(reply: Reply) -> str:
    parts = [reply.text]
    if reply.document is not None:  # the file, shown in the terminal
        parts.append(reply.document.content.decode("utf-8", "replace").rstrip())
    for card in reply.cards:
        parts.append(f"{_RULE}\n{render_card(card).rstrip()}")
    if reply.choices:
        parts.append(msg.CONSOLE_CHOICES + " | ".join(map(_choice, reply.choices)))
    return "\n".join(parts) + "\n"


async def _stdin_lines() -> AsyncIterator[str]:
    while True:
        sys.stdout.write("digestbot> ")
        sys.stdout.flush()
        line = await asyncio.to_thread(sys.stdin.readline)
        if not line:  # EOF (Ctrl-D)
            return
        yield line


def _writer(out: TextIO) -> Callable[[str], Awaitable[None]]:
    async def write(text: str) -> None:
        out.write(text + "\n")
        out.flush()

    return write


async def chat_repl(
    commands: CommandHandler,
    lines: AsyncIterator[str] | None = None,
    out: TextIO | None = None,
    chat: ChatRef = CONSOLE_CHAT,
) -> None:
    """Answer command lines until EOF or ``quit``."""
    out = out or sys.stdout
    out.write(msg.console_intro() + "\n")
    source = lines if lines is not None else _stdin_lines()
    async for line in source:
        text = line.strip()
        if text.lower() in ("quit", "exit", "/quit", "/exit"):
            break
        request = parse_command_line(text, chat, files=True)
        if request is not None:
            request = replace(request, progress=_writer(out))
        if request is None:
            if text:
                out.write(msg.console_not_a_command() + "\n")
            continue
        if request.name == "import" and len(request.args) == 1:
            # The terminal's "attached file" is a path: `import subscriptions.opml`.
            request = replace(request, args=(), attachment=_file_attachment(request.args[0]))
        out.write(format_reply(await commands.handle(request)))
        out.flush()
