"""Every text a chat user reads, written once, each saying what to do next.

Plain text: adapters escape it for their markup. A text that names a command takes the
platform's :class:`CommandSyntax` (``cmd``) and spells the command through it, so that a
Telegram user reads ``/subscribe trade``, a Slack user ``/digest subscribe trade`` and the
console ```subscribe trade```. The command core picks the syntax by the chat's platform
(:func:`syntax_for`); adapters use the texts here and write none of their own.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from bot.filters import MAX_FILTER_LENGTH, MAX_FILTERS, FilterParse
from digests.textclean import clean_line

SHOWN_INPUT = 40  # characters of a user's word quoted back in a reply


@dataclass(frozen=True, slots=True)
class CommandSyntax:
    """How users of one platform type a command.

    ``template`` wraps the command line (``"/{}"``, ``"/digest {}"``, ```{}```);
    ``renamed`` maps a core command name to the word typed on this platform where they differ
    (Slack's ``/digest`` cannot also be the sub-command for "the latest cards": it is ``now``).
    """

    template: str
    renamed: tuple[tuple[str, str], ...] = ()

    def __call__(self, name: str, *args: str) -> str:
        """``cmd("subscribe", "trade")``: how to type the core command ``name`` with ``args``."""
        word = dict(self.renamed).get(name, name)
        return self.template.format(" ".join((word, *args)))

    def typed(self, word: str) -> str:
        """A word the user typed as a command, shown back as they typed it (no renaming)."""
        return self.template.format(word)


TELEGRAM = CommandSyntax("/{}")
SLACK_SLASH_COMMAND = "/digest"  # as in config/slack-manifest.yml; bot.slack listens to it
SLACK = CommandSyntax(SLACK_SLASH_COMMAND + " {}", renamed=(("digest", "now"), ("start", "help")))
CONSOLE = CommandSyntax("`{}`")
SYNTAX_BY_PLATFORM: Mapping[str, CommandSyntax] = {
    "telegram": TELEGRAM,
    "slack": SLACK,
    "console": CONSOLE,
}


def syntax_for(platform: str) -> CommandSyntax:
    """The platform's syntax; Telegram-style slash commands for a platform not listed."""
    return SYNTAX_BY_PLATFORM.get(platform, TELEGRAM)


def _cut(word: str, limit: int = SHOWN_INPUT) -> str:
    # Control and invisible characters dropped, and cut: a 10,000-character word must not make
    # the reply too long to send.
    text = clean_line(word)
    return text[: limit - 1] + "…" if len(text) > limit else text


def shown(word: str) -> str:
    """A word the user typed, quoted back (cleaned, at most 40 characters)."""
    return f"'{_cut(word)}'"


def shown_list(words: Sequence[str], limit: int = 10) -> str:
    """At most ``limit`` words, quoted back, and how many more there were."""
    parts = [_cut(w) for w in words[:limit]]
    more = len(words) - limit
    return ", ".join(parts) + (f" and {more} more" if more > 0 else "")


def welcome(cmd: CommandSyntax, title: str | None, subscribed: bool) -> str:
    hello = f"Hello{', ' + title if title else ''}! I send digest cards of new opinion pieces:"
    body = "a short summary, key facts and the editor's note, so you know what a piece says."
    if subscribed:
        nxt = (
            f"You are already subscribed: {cmd('list')} shows what you get, "
            f"{cmd('digest')} shows the latest."
        )
    else:
        nxt = (
            f"Tap a button below or send {cmd('subscribe')} to start; "
            f"{cmd('topics')} lists what you can pick."
        )
    return f"{hello} {body}\n\n{nxt}"


def help_text(cmd: CommandSyntax) -> str:
    return f"""\
Here is what I understand:

{cmd("subscribe")} - get every new opinion piece as a digest card
{cmd("subscribe", "economy", "trade")} - only pieces on these topics or keywords
{cmd("unsubscribe", "trade")} - stop one topic or keyword \
({cmd("unsubscribe", "all")} stops everything)
{cmd("list")} - what you are subscribed to and how you get it
{cmd("topics")} - the topics you can pick
{cmd("digest")} - the latest matching cards, right now ({cmd("digest", "trade")} for one topic)
{cmd("settings")} - instant, hourly or daily digests and your timezone
{cmd("help")} - this message"""


def unknown_command(cmd: CommandSyntax, name: str) -> str:
    return f"I don't know {cmd.typed(clean_line(name))}. Send {cmd('help')} to see what I can do."


def describe_filters(filters: Sequence[str], topics: set[str]) -> str:
    if not filters:
        return "everything"
    topic_part = [f for f in filters if f in topics]
    keyword_part = [f for f in filters if f not in topics]
    parts = []
    if topic_part:
        parts.append("topics: " + ", ".join(topic_part))
    if keyword_part:
        parts.append("keywords: " + ", ".join(keyword_part))
    return "; ".join(parts)


def describe_delivery(mode: str, daily_time: str | None, timezone: str) -> str:
    if mode == "hourly":
        return "once an hour, all new cards together"
    if mode == "daily":
        return f"once a day at {daily_time or '08:00'} ({timezone})"
    return "as soon as they are published"


def subscribed_everything(cmd: CommandSyntax, delivery: str) -> str:
    return (
        f"Subscribed to everything. You will get new cards {delivery}.\n"
        f"Want less? Pick a topic below, or send {cmd('subscribe')} with your own keywords."
    )


def subscribed(
    cmd: CommandSyntax, parse: FilterParse, now_following: str, delivery: str, *, narrowed: bool
) -> str:
    lines = []
    if narrowed:
        lines.append("Narrowed your subscription: you no longer get everything.")
    lines.append(f"Subscribed. You now follow {now_following}.")
    if parse.keywords:
        lines.append(
            "Not in my topic list, so matched as keywords in headlines and text: "
            + ", ".join(parse.keywords)
            + "."
        )
    lines.append(f"New cards come {delivery}. {cmd('digest')} shows the latest now.")
    return "\n".join(lines)


def filter_problems(parse: FilterParse) -> str:
    lines = []
    if parse.too_long:
        lines.append(
            f"Too long (at most {MAX_FILTER_LENGTH} characters): " + shown_list(parse.too_long)
        )
    if parse.too_short:
        lines.append("Too short (at least 2 characters): " + shown_list(parse.too_short))
    if parse.bad_chars:
        lines.append(
            "Only letters, digits and - + . & ' # work in a keyword "
            '(put a phrase in quotes: "supply chain"): ' + shown_list(parse.bad_chars)
        )
    return "\n".join(lines)


def filters_rejected(cmd: CommandSyntax, parse: FilterParse) -> str:
    return (
        "I could not use any of those words.\n"
        + filter_problems(parse)
        + f"\nTry for example: {cmd('subscribe', 'economy', 'trade')}"
    )


def filters_skipped(parse: FilterParse) -> str:
    return "Skipped some words:\n" + filter_problems(parse)


def too_many_filters(cmd: CommandSyntax, current: int, adding: int) -> str:
    return (
        f"You can follow up to {MAX_FILTERS} topics and keywords; you have {current} and asked "
        f"for {adding} more. Remove some first, e.g. {cmd('unsubscribe', 'WORD')}, then try again."
    )


def too_many_words(cmd: CommandSyntax, name: str, limit: int, sent: int, what: str) -> str:
    """More words than a command takes: nothing was done, and the cap is stated."""
    return (
        f"{cmd(name)} takes at most {limit} {what}; you sent {sent}. Nothing was changed: "
        f"send fewer, e.g. {cmd(name, 'WORD')}."
    )


def not_subscribed(cmd: CommandSyntax) -> str:
    return (
        f"You are not subscribed. Send {cmd('subscribe')} to get digest cards, "
        f"{cmd('topics')} to pick topics."
    )


def unsubscribed_all(cmd: CommandSyntax, dropped: int) -> str:
    extra = f" {dropped} pending card(s) will not be sent." if dropped else ""
    return f"Unsubscribed: you will get no more cards.{extra} Send {cmd('subscribe')} to come back."


def unsubscribe_from_everything(cmd: CommandSyntax, topics_hint: str) -> str:
    return (
        "You get everything, so there is no single topic to remove. To get less, follow only "
        f"what you want, e.g. {cmd('subscribe', topics_hint)}; "
        f"{cmd('unsubscribe', 'all')} stops everything."
    )


def unsubscribed_some(
    cmd: CommandSyntax, removed: Sequence[str], missing: Sequence[str], now_following: str
) -> str:
    lines = []
    if removed:
        lines.append("Removed: " + ", ".join(removed) + ".")
    if missing:
        lines.append("You were not following: " + shown_list(missing) + ".")
    lines.append(f"You now follow {now_following}. {cmd('list')} shows your subscription.")
    return "\n".join(lines)


def unsubscribed_last(cmd: CommandSyntax, removed: Sequence[str]) -> str:
    return (
        "Removed " + ", ".join(removed) + ". That was all you followed, so you are now "
        f"unsubscribed. Send {cmd('subscribe')} to get everything, or "
        f"{cmd('subscribe', 'TOPIC')} for one topic."
    )


def status(
    cmd: CommandSyntax,
    following: str,
    delivery: str,
    timezone: str,
    active: bool,
    reason: str | None,
) -> str:
    if not active:
        why = f" ({reason})" if reason else ""
        return f"You are not subscribed{why}. Send {cmd('subscribe')} to start."
    return (
        f"You follow {following}.\nCards come {delivery}.\nTimezone: {timezone}.\n"
        f"Change it with {cmd('subscribe')}, {cmd('unsubscribe')} or {cmd('settings')}."
    )


def topics_list(cmd: CommandSyntax, names: Sequence[str], following: Sequence[str]) -> str:
    if not names:
        return (
            "There is no topic list yet; subscribe to your own keywords: "
            f"{cmd('subscribe', 'WORD')}."
        )
    mine = [n for n in names if n in following]
    text = "Topics: " + ", ".join(names) + "."
    if mine:
        text += "\nYou follow: " + ", ".join(mine) + "."
    return (
        text
        + f"\nTap one below or send {cmd('subscribe', 'TOPIC')}. Any other word works as a keyword."
    )


def digest_header(count: int, what: str) -> str:
    return f"The latest {count} card(s) for {what}:"


def digest_empty(cmd: CommandSyntax, what: str, any_cards: bool) -> str:
    if not any_cards:
        return "No cards yet: the feeds have not been read. Try again in a few minutes."
    return f"No recent cards match {what}. Try {cmd('digest')} without words, or {cmd('topics')}."


def settings_usage(cmd: CommandSyntax) -> str:
    return (
        "Change it with:\n"
        f"{cmd('settings', 'instant')} - each card as soon as it is published\n"
        f"{cmd('settings', 'hourly')} - one digest an hour\n"
        f"{cmd('settings', 'daily', '08:00', 'Europe/Berlin')} - one digest a day at that time\n"
        f"{cmd('settings', 'timezone', 'Europe/Berlin')} - your timezone (IANA name)"
    )


def settings_show(cmd: CommandSyntax, delivery: str, timezone: str, next_at: str | None) -> str:
    nxt = f"\nNext digest: {next_at}." if next_at else ""
    return f"Cards come {delivery}. Timezone: {timezone}.{nxt}\n\n{settings_usage(cmd)}"


def settings_saved(cmd: CommandSyntax, delivery: str, timezone: str, subscribed: bool) -> str:
    text = f"Saved: cards come {delivery}. Timezone: {timezone}."
    if not subscribed:
        text += f" You are not subscribed yet: send {cmd('subscribe')} to start."
    return text


def settings_bad_mode(cmd: CommandSyntax, word: str) -> str:
    return f"I don't know the setting {shown(word)}.\n\n{settings_usage(cmd)}"


def settings_bad_time(cmd: CommandSyntax, word: str) -> str:
    return (
        f"{shown(word)} is not a time of day. Write it as HH:MM on a 24-hour clock, "
        f"e.g. {cmd('settings', 'daily', '07:30')}"
    )


def settings_bad_timezone(cmd: CommandSyntax, word: str) -> str:
    return (
        f"I don't know the timezone {shown(word)}. Use an IANA name such as Europe/Berlin, "
        "America/New_York or Asia/Shanghai (UTC works too): "
        f"{cmd('settings', 'timezone', 'Europe/Berlin')}"
    )


def settings_timezone_region(cmd: CommandSyntax, region: str, example: str) -> str:
    return (
        f"{region} is a region, not a timezone: add the city whose clock you follow, "
        f"e.g. {cmd('settings', 'timezone', example)}"
    )


def settings_missing_timezone(cmd: CommandSyntax) -> str:
    return f"Which timezone? For example: {cmd('settings', 'timezone', 'Europe/Berlin')}"


def settings_too_many(cmd: CommandSyntax, words: Sequence[str]) -> str:
    return f"Too many words after {cmd('settings')}: {shown_list(words)}\n\n{settings_usage(cmd)}"


# Button labels; a button sends its command line (``Choice.command``), the same everywhere.
BUTTON_HELP = "Help"
BUTTON_LATEST = "Latest cards"
BUTTON_MY_SUBSCRIPTION = "My subscription"
BUTTON_SUBSCRIBE = "Subscribe"
BUTTON_SUBSCRIBE_ALL = "Subscribe to everything"
BUTTON_PICK_TOPICS = "Pick topics"


def topic_button(topic: str) -> str:
    return topic.capitalize()


# --- said by the adapters themselves, not by the core --------------------------------------

# A command that failed unexpectedly (the error is logged); every platform says the same.
COMMAND_FAILED = "Sorry, something went wrong while answering that. Please try again in a minute."


def stale_button(cmd: CommandSyntax) -> str:
    """A pressed button whose command line the core no longer understands."""
    return f"This button no longer works; try {cmd('help')}."


def channel_admins_only(cmd: CommandSyntax) -> str:
    """Slack, ``DIGESTBOT_SLACK_CHANNEL_COMMANDS=admins``: a member who may not change it."""
    return (
        "Only workspace admins and the member who created this channel can change its "
        f"subscription. Anyone can use {cmd('list')}, {cmd('topics')} and {cmd('digest')}."
    )


def more_cards(hidden: int) -> str:
    """Slack: the cards of a reply that did not fit in the messages one reply may post."""
    return f"…and {hidden} more stories that do not fit here."


# Slack OAuth mode: a request from a workspace the app has no installation for (Bolt says it).
SLACK_NOT_INSTALLED = (
    "digestbot is not installed in this workspace (any more). A workspace admin can add it "
    "again from the bot's install page."
)
SLACK_HOME_TITLE = "Your news digests"
SLACK_HOME_EMPTY = "No subscriptions yet."
SLACK_HOME_FOOTER = (
    f"Type `{SLACK('help')}` in any channel, or here in Messages, to manage subscriptions."
)
SLACK_BUTTONS_ONLY = "Choose:"  # the notification text of a reply that is only buttons

# Telegram's command menu (``setMyCommands``), in the order Telegram shows it.
TELEGRAM_COMMAND_MENU: tuple[tuple[str, str], ...] = (
    ("start", "Welcome and how to use the bot"),
    ("help", "What the bot can do"),
    ("subscribe", f"Follow everything, or topics and keywords: {TELEGRAM('subscribe', 'economy')}"),
    ("unsubscribe", f"Stop topics or keywords, or everything: {TELEGRAM('unsubscribe', 'all')}"),
    ("list", "What this chat follows"),
    ("topics", "The topics you can follow"),
    ("digest", "The latest digest, now"),
    ("settings", "Digest schedule and options"),
)


def console_intro(cmd: CommandSyntax = CONSOLE) -> str:
    return (
        f"Talk to digestbot like in a chat: {cmd('help')}, {cmd('subscribe', 'economy')}, "
        f"{cmd('digest')}. quit or Ctrl-D leaves."
    )


def console_not_a_command(cmd: CommandSyntax = CONSOLE) -> str:
    return f"Commands start with a word such as {cmd('help')} or {cmd('subscribe')}."


CONSOLE_CHOICES = "Try: "


# --- operator log lines ---------------------------------------------------------------------


def chat_gone_log(reason: str) -> str:
    return f"chat no longer reachable: {reason}"


CONSOLE_NOTHING_NEW = (
    "nothing new to show: the feeds were read before. `digestbot chat`, then digest, shows "
    "the latest cards"
)
CONSOLE_NO_TOKEN = "no chat token set: printing digests to the console"


# --- alerts to the admin chats (bot.alerts) --------------------------------------------------

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
