"""Texts about the chat itself (language, admins, channels), buttons, menus, and what the
adapters say on their own."""

from __future__ import annotations

from bot.i18n import ENGLISH, LANGUAGE_NAMES, LANGUAGES, N_
from bot.i18n import Translator as Tr
from bot.messages.replies import shown
from bot.messages.syntax import CONSOLE, SLACK, TELEGRAM, CommandSyntax


def language_saved(language: str, *, t: Tr = ENGLISH) -> str:
    """Said in the new language (``t`` is already the chosen one's)."""
    return t.gettext("I will answer this chat in {language}.").format(
        language=LANGUAGE_NAMES.get(language, language)
    )


def language_unknown(cmd: CommandSyntax, word: str, *, t: Tr = ENGLISH) -> str:
    return t.gettext("I don't speak {word} yet. Pick one of: {codes}, e.g. {example}").format(
        word=shown(word), codes=" ".join(LANGUAGES), example=cmd("settings", "language", "de")
    )


# --- who may change a chat's subscription -------------------------------------------------


def admins_only(cmd: CommandSyntax, *, t: Tr = ENGLISH) -> str:
    """A group member who is not an admin tried to change the group's subscription."""
    return t.gettext(
        "Only this chat's admins can change what it gets. Anyone can use {list}, {topics} "
        "and {digest}."
    ).format(list=cmd("list"), topics=cmd("topics"), digest=cmd("digest"))


def admin_check_failed(*, t: Tr = ENGLISH) -> str:
    return t.gettext(
        "I could not check who the admins of this chat are. Make sure I am still a member, "
        "then try again."
    )


# --- channels, managed from a private chat ------------------------------------------------


def channel_not_found(channel: str, *, t: Tr = ENGLISH) -> str:
    return t.gettext(
        "I can't find the channel {channel}. Add me to it as an admin first, then try again."
    ).format(channel=channel)


def channel_not_admin(channel: str, *, t: Tr = ENGLISH) -> str:
    return t.gettext(
        "Only an admin of {channel} can change what it gets, and you are not one."
    ).format(channel=channel)


def channel_cannot_post(channel: str, *, t: Tr = ENGLISH) -> str:
    return t.gettext(
        "I am not allowed to post in {channel}. Make me an admin there with the right to "
        "post messages, then try again."
    ).format(channel=channel)


def channel_only_in_private(cmd: CommandSyntax, *, t: Tr = ENGLISH) -> str:
    return t.gettext(
        "Manage a channel from a private chat with me, e.g. {example}, or post the command "
        "in the channel itself."
    ).format(example=cmd("subscribe", "@channel", "trade"))


def for_channel(channel: str, text: str, *, t: Tr = ENGLISH) -> str:
    """A reply about a channel, sent to the private chat that manages it."""
    return t.gettext("For {channel}:").format(channel=channel) + "\n" + text


# Button labels; a button sends its command line (``Choice.command``), the same everywhere.
# Translated where used: ``t.gettext(BUTTON_HELP)``.
BUTTON_HELP = N_("Help")
BUTTON_LATEST = N_("Latest cards")
BUTTON_MY_SUBSCRIPTION = N_("My subscription")
BUTTON_SUBSCRIBE = N_("Subscribe")
BUTTON_SUBSCRIBE_ALL = N_("Subscribe to everything")
BUTTON_PICK_TOPICS = N_("Pick topics")


def topic_button(topic: str) -> str:
    return topic.capitalize()


# --- said by the adapters themselves, not by the core --------------------------------------

# A command that failed unexpectedly (the error is logged); every platform says the same.
COMMAND_FAILED = N_(
    "Sorry, something went wrong while answering that. Please try again in a minute."
)


def stale_button(cmd: CommandSyntax, *, t: Tr = ENGLISH) -> str:
    """A pressed button whose command line the core no longer understands."""
    return t.gettext("This button no longer works; try {help}.").format(help=cmd("help"))


def channel_admins_only(cmd: CommandSyntax, *, t: Tr = ENGLISH) -> str:
    """Slack, ``DIGESTBOT_SLACK_CHANNEL_COMMANDS=admins``: a member who may not change it."""
    return t.gettext(
        "Only workspace admins and the member who created this channel can change its "
        "subscription. Anyone can use {list}, {topics} and {digest}."
    ).format(list=cmd("list"), topics=cmd("topics"), digest=cmd("digest"))


def more_cards(hidden: int, *, t: Tr = ENGLISH) -> str:
    """Slack: the cards of a reply that did not fit in the messages one reply may post."""
    return t.ngettext(
        "…and {count} more story that does not fit here.",
        "…and {count} more stories that do not fit here.",
        hidden,
    ).format(count=hidden)


# Slack OAuth mode: a request from a workspace the app has no installation for (Bolt says it).
SLACK_NOT_INSTALLED = N_(
    "digestbot is not installed in this workspace (any more). A workspace admin can add it "
    "again from the bot's install page."
)
SLACK_HOME_TITLE = N_("Your news digests")
SLACK_HOME_EMPTY = N_("No subscriptions yet.")
SLACK_HOME_FOOTER = (
    f"Type `{SLACK('help')}` in any channel, or here in Messages, to manage subscriptions."
)
SLACK_BUTTONS_ONLY = N_("Choose:")  # the notification text of a reply that is only buttons

# Telegram's command menu (``setMyCommands``), in the order Telegram shows it; the
# descriptions are translated per language by :func:`telegram_command_menu`.
TELEGRAM_COMMAND_MENU: tuple[tuple[str, str], ...] = (
    ("start", N_("Welcome and how to use the bot")),
    ("help", N_("What the bot can do")),
    ("subscribe", N_("Follow everything, or topics and keywords: {example}")),
    ("unsubscribe", N_("Stop topics or keywords, or everything: {example}")),
    ("list", N_("What this chat follows")),
    ("topics", N_("The topics you can follow")),
    ("digest", N_("The latest digest, now")),
    ("settings", N_("Digest schedule, timezone and language")),
)
_MENU_EXAMPLES = {
    "subscribe": TELEGRAM("subscribe", "economy"),
    "unsubscribe": TELEGRAM("unsubscribe", "all"),
}


def telegram_command_menu(*, t: Tr = ENGLISH, user_feeds: bool = False) -> list[tuple[str, str]]:
    """``(command, description)`` for Telegram's menu, in ``t``'s language; the commands of
    the chat's own feeds only when chats may add feeds."""
    from bot.messages.feeds import USER_FEEDS_MENU

    entries = (*TELEGRAM_COMMAND_MENU, *(USER_FEEDS_MENU if user_feeds else ()))
    return [
        (name, t.gettext(text).format(example=_MENU_EXAMPLES.get(name, "")))
        for name, text in entries
    ]


def console_intro(cmd: CommandSyntax = CONSOLE, *, t: Tr = ENGLISH) -> str:
    return t.gettext(
        "Talk to digestbot like in a chat: {help}, {example}, {digest}. quit or Ctrl-D leaves."
    ).format(help=cmd("help"), example=cmd("subscribe", "economy"), digest=cmd("digest"))


def console_not_a_command(cmd: CommandSyntax = CONSOLE, *, t: Tr = ENGLISH) -> str:
    return t.gettext("Commands start with a word such as {help} or {subscribe}.").format(
        help=cmd("help"), subscribe=cmd("subscribe")
    )


CONSOLE_CHOICES = N_("Try: ")


# --- operator log lines ---------------------------------------------------------------------


def chat_gone_log(reason: str) -> str:
    return f"chat no longer reachable: {reason}"


CONSOLE_NOTHING_NEW = (
    "nothing new to show: the feeds were read before. `digestbot chat`, then digest, shows "
    "the latest cards"
)
CONSOLE_NO_TOKEN = "no chat token set: printing digests to the console"


# --- alerts to the operators' admin chats (bot.alerts); operator English, not translated ------

_ALERT_TITLES = {
    "feed_failing": ("A feed keeps failing", "A feed works again"),
    "token_rejected": ("The bot token is rejected", "The bot token works again"),
    "outbox_stuck": ("Cards are waiting too long", "Cards go out again"),
    "worker_crashed": ("A worker restarted after a crash", "A worker restarted after a crash"),
}


def alert_title(kind: str, *, ended: bool) -> str:
    titles = _ALERT_TITLES.get(kind, ("Something needs attention", "Back to normal"))
    return f"digestbot: {titles[1] if ended else titles[0]}"


def alert_text(kind: str, detail: str, *, ended: bool) -> str:
    if ended:
        return f"Resolved: {detail}" if detail else "Resolved."
    hints = {
        "feed_failing": "Check the feed URL (`digestbot feeds list` shows its error).",
        "token_rejected": "Delivery to this platform is paused and nothing is dropped; set a "
        "valid token and restart the worker.",
        "outbox_stuck": "Check the worker's log and `digestbot status`.",
        "worker_crashed": "The previous run did not stop cleanly; its log's last lines say why.",
    }
    return f"{detail}. {hints.get(kind, '')}".strip()


NO_TOKEN_SHARED_DATABASE = (
    "no chat token set and the database is shared: this worker polls feeds and delivers "
    "nothing (the console prints digests only on SQLite; `digestbot chat` talks to the bot)"
)
