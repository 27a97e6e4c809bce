"""Pure translation for the Slack adapter: Slack payloads to commands, replies to Block Kit.

No I/O here: :mod:`bot.slack` receives requests and sends what these functions build.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from bot import messages as msg
from bot.commands import parse_command_line
from bot.i18n import ENGLISH, Translator
from bot.ports import ChatRef, CommandRequest, Reply
from digests.render.slack import MAX_BLOCKS, MAX_BUTTON_TEXT, escape, render_digest, split_text

__all__ = [
    "CHOICE_ACTION",
    "CHOICE_ACTION_PREFIX",
    "MAX_RESPONSES",
    "ReplyMessage",
    "build_request",
    "home_view",
    "is_direct_message",
    "reply_messages",
]

CHOICE_ACTION_PREFIX = "digest_cmd_"
CHOICE_ACTION = re.compile(rf"^{CHOICE_ACTION_PREFIX}\d+$")
MAX_RESPONSES = 5  # Slack accepts at most five posts to one response_url
MAX_BUTTONS_PER_ACTIONS = 25
MAX_BUTTON_VALUE = 2000
MAX_HOME_BLOCKS = 100

Block = dict[str, Any]


def is_direct_message(channel_id: str, channel_name: str | None = None) -> bool:
    """DM channel ids start with ``D``; slash commands name them ``directmessage``."""
    return channel_id.startswith("D") or channel_name == "directmessage"


def build_request(
    text: str, chat: ChatRef, *, user_id: str | None, is_group: bool, title: str | None = None
) -> CommandRequest:
    """The text after ``/digest`` (or a button's command line) as a request for the core.

    Parsed by the core's own :func:`bot.commands.parse_command_line`, the same as Telegram's
    messages; an empty text is ``help``. A text that is no command word still goes to the core,
    whose answer for unknown commands points to help.
    """
    extra = {"user_id": user_id, "is_group": is_group, "chat_title": title}
    request = parse_command_line(text, chat, **extra)
    if request is not None:
        return request
    words = text.split()
    return CommandRequest(
        chat=chat,
        name=words[0] if words else "help",
        args=tuple(words[1:]),
        user_id=user_id,
        is_group=is_group,
        chat_title=title,
    )


@dataclass(frozen=True, slots=True)
class ReplyMessage:
    """One Slack message of a reply: what ``respond()`` / ``chat.postEphemeral`` takes."""

    text: str
    blocks: list[Block]


def _choice_blocks(reply: Reply) -> list[Block]:
    buttons = [
        {
            "type": "button",
            "text": {"type": "plain_text", "text": choice.label[:MAX_BUTTON_TEXT] or "…"},
            "value": choice.command[:MAX_BUTTON_VALUE],
            "action_id": f"{CHOICE_ACTION_PREFIX}{i}",
        }
        for i, choice in enumerate(reply.choices)
    ]
    return [
        {"type": "actions", "elements": buttons[i : i + MAX_BUTTONS_PER_ACTIONS]}
        for i in range(0, len(buttons), MAX_BUTTONS_PER_ACTIONS)
    ]


def _text_blocks(text: str, room: int) -> list[Block]:
    chunks = split_text(escape(text))
    if len(chunks) > room:
        chunks = chunks[:room]
        chunks[-1] = chunks[-1][:-1] + "…"
    return [{"type": "section", "text": {"type": "mrkdwn", "text": c}} for c in chunks]


def reply_messages(
    reply: Reply, *, limit: int = MAX_RESPONSES, t: Translator = ENGLISH
) -> list[ReplyMessage]:
    """A reply as at most ``limit`` Slack messages: its text and buttons, then its cards.

    Text is plain text escaped for mrkdwn, its commands already spelled the Slack way by the
    core (``bot.messages.SLACK``); a long text is split into several sections (3000
    characters each), buttons go in actions blocks of 25, and a message stays <= 50 blocks.
    """
    messages: list[ReplyMessage] = []
    if reply.text.strip() or reply.choices:
        text = reply.text
        actions = _choice_blocks(reply)[: MAX_BLOCKS - 1]
        blocks = _text_blocks(text, MAX_BLOCKS - len(actions)) + actions
        buttons_only = t.gettext(msg.SLACK_BUTTONS_ONLY)
        messages.append(ReplyMessage(escape(text)[:40000] or buttons_only, blocks))
    if reply.cards:
        rendered = render_digest(reply.cards)
        room = limit - len(messages)
        if len(rendered) > room:
            shown = rendered[: max(room - 1, 0)]
            hidden = len(reply.cards) - sum(len(m.card_indexes) for m in shown)
            note = msg.more_cards(hidden, t=t)
            messages.extend(ReplyMessage(m.text, m.blocks) for m in shown)
            messages.append(ReplyMessage(note, _text_blocks(note, 1)))
        else:
            messages.extend(ReplyMessage(m.text, m.blocks) for m in rendered)
    return messages[:limit]


def home_view(reply: Reply, *, t: Translator = ENGLISH) -> dict[str, Any]:
    """The App Home tab: the user's subscriptions (the core's ``list`` reply) and a hint."""
    title = t.gettext(msg.SLACK_HOME_TITLE)
    blocks: list[Block] = [{"type": "header", "text": {"type": "plain_text", "text": title}}]
    text = reply.text or t.gettext(msg.SLACK_HOME_EMPTY)
    blocks += _text_blocks(text, MAX_HOME_BLOCKS - 3)
    blocks.append({"type": "divider"})
    blocks.append(
        {"type": "context", "elements": [{"type": "mrkdwn", "text": msg.SLACK_HOME_FOOTER}]}
    )
    return {"type": "home", "blocks": blocks}
