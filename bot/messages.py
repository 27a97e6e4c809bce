"""Every text a chat user reads, written once, each saying what to do next.

Plain text: adapters escape it for their markup. Commands are written Telegram-style
(``/subscribe``); the Slack adapter maps them to its slash command.
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.filters import MAX_FILTER_LENGTH, MAX_FILTERS, FilterParse

COMMANDS_HELP = """\
Here is what I understand:

/subscribe - get every new opinion piece as a digest card
/subscribe economy trade - only pieces on these topics or keywords
/unsubscribe trade - stop one topic or keyword (/unsubscribe all stops everything)
/list - what you are subscribed to and how you get it
/topics - the topics you can pick
/digest - the latest matching cards, right now (/digest trade for one topic)
/settings - instant, hourly or daily digests and your timezone
/help - this message"""


def welcome(title: str | None, subscribed: bool) -> str:
    hello = f"Hello{', ' + title if title else ''}! I send digest cards of new opinion pieces:"
    body = "a short summary, key facts and the editor's note, so you know what a piece says."
    if subscribed:
        nxt = "You are already subscribed: /list shows what you get, /digest shows the latest."
    else:
        nxt = "Tap a button below or send /subscribe to start; /topics lists what you can pick."
    return f"{hello} {body}\n\n{nxt}"


def help_text() -> str:
    return COMMANDS_HELP


def unknown_command(name: str) -> str:
    return f"I don't know /{name}. Send /help to see what I can do."


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


def subscribed_everything(delivery: str) -> str:
    return (
        f"Subscribed to everything. You will get new cards {delivery}.\n"
        "Want less? Pick a topic below, or send /subscribe with your own keywords."
    )


def subscribed(parse: FilterParse, now_following: str, delivery: str, *, narrowed: bool) -> str:
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
    lines.append(f"New cards come {delivery}. /digest shows the latest now.")
    return "\n".join(lines)


def filter_problems(parse: FilterParse) -> str:
    lines = []
    if parse.too_long:
        lines.append(
            f"Too long (at most {MAX_FILTER_LENGTH} characters): " + ", ".join(parse.too_long)
        )
    if parse.too_short:
        lines.append("Too short (at least 2 characters): " + ", ".join(parse.too_short))
    if parse.bad_chars:
        lines.append(
            "Only letters, digits and - + . & ' # work in a keyword "
            '(put a phrase in quotes: "supply chain"): ' + ", ".join(parse.bad_chars)
        )
    return "\n".join(lines)


def filters_rejected(parse: FilterParse) -> str:
    return (
        "I could not use any of those words.\n"
        + filter_problems(parse)
        + "\nTry for example: /subscribe economy trade"
    )


def filters_skipped(parse: FilterParse) -> str:
    return "Skipped some words:\n" + filter_problems(parse)


def too_many_filters(current: int, adding: int) -> str:
    return (
        f"You can follow up to {MAX_FILTERS} topics and keywords; you have {current} and asked "
        f"for {adding} more. Remove some first, e.g. /unsubscribe WORD, then try again."
    )


def not_subscribed() -> str:
    return "You are not subscribed. Send /subscribe to get digest cards, /topics to pick topics."


def unsubscribed_all(dropped: int) -> str:
    extra = f" {dropped} pending card(s) will not be sent." if dropped else ""
    return f"Unsubscribed: you will get no more cards.{extra} Send /subscribe to come back."


def unsubscribe_from_everything(topics_hint: str) -> str:
    return (
        "You get everything, so there is no single topic to remove. To get less, follow only "
        f"what you want, e.g. /subscribe {topics_hint}; /unsubscribe all stops everything."
    )


def unsubscribed_some(removed: Sequence[str], missing: Sequence[str], now_following: str) -> str:
    lines = []
    if removed:
        lines.append("Removed: " + ", ".join(removed) + ".")
    if missing:
        lines.append("You were not following: " + ", ".join(missing) + ".")
    lines.append(f"You now follow {now_following}. /list shows your subscription.")
    return "\n".join(lines)


def unsubscribed_last(removed: Sequence[str]) -> str:
    return (
        "Removed " + ", ".join(removed) + ". That was all you followed, so you are now "
        "unsubscribed. Send /subscribe to get everything, or /subscribe TOPIC for one topic."
    )


def status(following: str, delivery: str, timezone: str, active: bool, reason: str | None) -> str:
    if not active:
        why = f" ({reason})" if reason else ""
        return f"You are not subscribed{why}. Send /subscribe to start."
    return (
        f"You follow {following}.\nCards come {delivery}.\nTimezone: {timezone}.\n"
        "Change it with /subscribe, /unsubscribe or /settings."
    )


def topics_list(names: Sequence[str], following: Sequence[str]) -> str:
    if not names:
        return "There is no topic list yet; subscribe to your own keywords: /subscribe WORD."
    mine = [n for n in names if n in following]
    text = "Topics: " + ", ".join(names) + "."
    if mine:
        text += "\nYou follow: " + ", ".join(mine) + "."
    return text + "\nTap one below or send /subscribe TOPIC. Any other word works as a keyword."


def digest_header(count: int, what: str) -> str:
    return f"The latest {count} card(s) for {what}:"


def digest_empty(what: str, any_cards: bool) -> str:
    if not any_cards:
        return "No cards yet: the feeds have not been read. Try again in a few minutes."
    return f"No recent cards match {what}. Try /digest without words, or /topics."


SETTINGS_USAGE = (
    "Change it with:\n"
    "/settings instant - each card as soon as it is published\n"
    "/settings hourly - one digest an hour\n"
    "/settings daily 08:00 Europe/Berlin - one digest a day at that time\n"
    "/settings timezone Europe/Berlin - your timezone (IANA name)"
)


def settings_show(delivery: str, timezone: str, next_at: str | None) -> str:
    nxt = f"\nNext digest: {next_at}." if next_at else ""
    return f"Cards come {delivery}. Timezone: {timezone}.{nxt}\n\n{SETTINGS_USAGE}"


def settings_saved(delivery: str, timezone: str, subscribed: bool) -> str:
    text = f"Saved: cards come {delivery}. Timezone: {timezone}."
    if not subscribed:
        text += " You are not subscribed yet: send /subscribe to start."
    return text


def settings_bad_mode(word: str) -> str:
    return f"I don't know the setting {word!r}.\n\n{SETTINGS_USAGE}"


def settings_bad_time(word: str) -> str:
    return (
        f"{word!r} is not a time of day. Write it as HH:MM on a 24-hour clock, "
        "e.g. /settings daily 07:30"
    )


def settings_bad_timezone(word: str) -> str:
    return (
        f"I don't know the timezone {word!r}. Use an IANA name such as Europe/Berlin, "
        "America/New_York or Asia/Shanghai (UTC works too): /settings timezone Europe/Berlin"
    )


def settings_missing_timezone() -> str:
    return "Which timezone? For example: /settings timezone Europe/Berlin"


def settings_too_many(words: Sequence[str]) -> str:
    return f"Too many words after /settings: {' '.join(words)}\n\n{SETTINGS_USAGE}"


def chat_gone_log(reason: str) -> str:
    return f"chat no longer reachable: {reason}"


CONSOLE_NO_TOKEN = "no chat token set: printing digests to the console"
