"""The command core's replies: subscribing, listing, topics, digests, settings."""

from __future__ import annotations

from collections.abc import Sequence

from bot.filters import MAX_FILTER_LENGTH, MAX_FILTERS, FilterParse
from bot.i18n import ENGLISH, LANGUAGE_NAMES, LANGUAGES
from bot.i18n import Translator as Tr
from bot.messages.syntax import CommandSyntax
from digests.textclean import clean_line

SHOWN_INPUT = 40  # characters of a user's word quoted back in a reply


def _cut(word: str, limit: int = SHOWN_INPUT) -> str:
    # Control and invisible characters dropped, and cut: a 10,000-character word must not make
    # the reply too long to send.
    text = clean_line(word)
    return text[: limit - 1] + "…" if len(text) > limit else text


def shown(word: str) -> str:
    """A word the user typed, quoted back (cleaned, at most 40 characters)."""
    return f"'{_cut(word)}'"


def shown_list(words: Sequence[str], limit: int = 10, *, t: Tr = ENGLISH) -> str:
    """At most ``limit`` words, quoted back, and how many more there were."""
    text = ", ".join(_cut(w) for w in words[:limit])
    more = len(words) - limit
    if more > 0:
        text += t.gettext(" and {count} more").format(count=more)
    return text


def welcome(cmd: CommandSyntax, title: str | None, subscribed: bool, *, t: Tr = ENGLISH) -> str:
    _ = t.gettext
    hello = _("Hello, {title}!").format(title=title) if title else _("Hello!")
    body = _(
        "I send digest cards of new opinion pieces: a short summary, key facts and the "
        "editor's note, so you know what a piece says."
    )
    if subscribed:
        nxt = _(
            "You are already subscribed: {list} shows what you get, {digest} shows the latest."
        ).format(list=cmd("list"), digest=cmd("digest"))
    else:
        nxt = _(
            "Tap a button below or send {subscribe} to start; {topics} lists what you can pick."
        ).format(subscribe=cmd("subscribe"), topics=cmd("topics"))
    return f"{hello} {body}\n\n{nxt}"


def help_text(cmd: CommandSyntax, *, t: Tr = ENGLISH, user_feeds: bool = False) -> str:
    _ = t.gettext
    lines = [
        _("Here is what I understand:"),
        "",
        _("{command} - get every new opinion piece as a digest card").format(
            command=cmd("subscribe")
        ),
        _("{command} - only pieces on these topics or keywords").format(
            command=cmd("subscribe", "economy", "trade")
        ),
        _("{command} - stop one topic or keyword ({all} stops everything)").format(
            command=cmd("unsubscribe", "trade"), all=cmd("unsubscribe", "all")
        ),
        _("{command} - what you are subscribed to and how you get it").format(command=cmd("list")),
        _("{command} - the topics you can pick").format(command=cmd("topics")),
        _("{command} - the latest matching cards, right now ({example} for one topic)").format(
            command=cmd("digest"), example=cmd("digest", "trade")
        ),
        _("{command} - instant, hourly or daily digests, your timezone and language").format(
            command=cmd("settings")
        ),
    ]
    if user_feeds:
        from bot.messages.feeds import user_feeds_help

        lines.extend(user_feeds_help(cmd, t=t))
    lines.append(_("{command} - this message").format(command=cmd("help")))
    return "\n".join(lines)


def unknown_command(cmd: CommandSyntax, name: str, *, t: Tr = ENGLISH) -> str:
    return t.gettext("I don't know {command}. Send {help} to see what I can do.").format(
        command=cmd.typed(clean_line(name)), help=cmd("help")
    )


def describe_filters(filters: Sequence[str], topics: set[str], *, t: Tr = ENGLISH) -> str:
    _ = t.gettext
    if not filters:
        return _("everything")
    topic_part = [f for f in filters if f in topics]
    keyword_part = [f for f in filters if f not in topics]
    parts = []
    if topic_part:
        parts.append(_("topics: {names}").format(names=", ".join(topic_part)))
    if keyword_part:
        parts.append(_("keywords: {words}").format(words=", ".join(keyword_part)))
    return "; ".join(parts)


def describe_delivery(mode: str, daily_time: str | None, timezone: str, *, t: Tr = ENGLISH) -> str:
    _ = t.gettext
    if mode == "hourly":
        return _("once an hour, all new cards together")
    if mode == "daily":
        return _("once a day at {time} ({timezone})").format(
            time=daily_time or "08:00", timezone=timezone
        )
    return _("as soon as they are published")


def subscribed_everything(cmd: CommandSyntax, delivery: str, *, t: Tr = ENGLISH) -> str:
    _ = t.gettext
    return (
        _("Subscribed to everything. You will get new cards {delivery}.").format(delivery=delivery)
        + "\n"
        + _("Want less? Pick a topic below, or send {subscribe} with your own keywords.").format(
            subscribe=cmd("subscribe")
        )
    )


def subscribed(
    cmd: CommandSyntax,
    parse: FilterParse,
    now_following: str,
    delivery: str,
    *,
    narrowed: bool,
    t: Tr = ENGLISH,
) -> str:
    _ = t.gettext
    lines = []
    if narrowed:
        lines.append(_("Narrowed your subscription: you no longer get everything."))
    lines.append(_("Subscribed. You now follow {following}.").format(following=now_following))
    if parse.keywords:
        lines.append(
            _(
                "Not in my topic list, so matched as keywords in headlines and text: {words}."
            ).format(words=", ".join(parse.keywords))
        )
    lines.append(
        _("New cards come {delivery}. {digest} shows the latest now.").format(
            delivery=delivery, digest=cmd("digest")
        )
    )
    return "\n".join(lines)


def filter_problems(parse: FilterParse, *, t: Tr = ENGLISH) -> str:
    _ = t.gettext
    lines = []
    if parse.too_long:
        lines.append(
            _("Too long (at most {limit} characters): {words}").format(
                limit=MAX_FILTER_LENGTH, words=shown_list(parse.too_long, t=t)
            )
        )
    if parse.too_short:
        lines.append(
            _("Too short (at least 2 characters): {words}").format(
                words=shown_list(parse.too_short, t=t)
            )
        )
    if parse.bad_chars:
        lines.append(
            _(
                "Only letters, digits and - + . & ' # work in a keyword "
                '(put a phrase in quotes: "supply chain"): {words}'
            ).format(words=shown_list(parse.bad_chars, t=t))
        )
    return "\n".join(lines)


def filters_rejected(cmd: CommandSyntax, parse: FilterParse, *, t: Tr = ENGLISH) -> str:
    _ = t.gettext
    return "\n".join(
        (
            _("I could not use any of those words."),
            filter_problems(parse, t=t),
            _("Try for example: {example}").format(example=cmd("subscribe", "economy", "trade")),
        )
    )


def filters_skipped(parse: FilterParse, *, t: Tr = ENGLISH) -> str:
    return t.gettext("Skipped some words:") + "\n" + filter_problems(parse, t=t)


def too_many_filters(cmd: CommandSyntax, current: int, adding: int, *, t: Tr = ENGLISH) -> str:
    return t.gettext(
        "You can follow up to {limit} topics and keywords; you have {current} and asked for "
        "{adding} more. Remove some first, e.g. {example}, then try again."
    ).format(limit=MAX_FILTERS, current=current, adding=adding, example=cmd("unsubscribe", "WORD"))


def too_many_words(
    cmd: CommandSyntax, name: str, limit: int, sent: int, *, filters: bool, t: Tr = ENGLISH
) -> str:
    """More words than a command takes (``filters``: topics and keywords): nothing was done,
    and the cap is stated."""
    if filters:
        text = t.gettext(
            "{command} takes at most {limit} topics and keywords; you sent {sent}. Nothing was "
            "changed: send fewer, e.g. {example}."
        )
    else:
        text = t.gettext(
            "{command} takes at most {limit} words; you sent {sent}. Nothing was changed: send "
            "fewer, e.g. {example}."
        )
    return text.format(command=cmd(name), limit=limit, sent=sent, example=cmd(name, "WORD"))


def not_subscribed(cmd: CommandSyntax, *, t: Tr = ENGLISH) -> str:
    return t.gettext(
        "You are not subscribed. Send {subscribe} to get digest cards, {topics} to pick topics."
    ).format(subscribe=cmd("subscribe"), topics=cmd("topics"))


def unsubscribed_all(cmd: CommandSyntax, dropped: int, *, t: Tr = ENGLISH) -> str:
    text = t.gettext("Unsubscribed: you will get no more cards.")
    if dropped:
        text += " " + t.ngettext(
            "{count} pending card will not be sent.",
            "{count} pending cards will not be sent.",
            dropped,
        ).format(count=dropped)
    return (
        text + " " + t.gettext("Send {subscribe} to come back.").format(subscribe=cmd("subscribe"))
    )


def unsubscribe_from_everything(cmd: CommandSyntax, topics_hint: str, *, t: Tr = ENGLISH) -> str:
    return t.gettext(
        "You get everything, so there is no single topic to remove. To get less, follow only "
        "what you want, e.g. {example}; {all} stops everything."
    ).format(example=cmd("subscribe", topics_hint), all=cmd("unsubscribe", "all"))


def unsubscribed_some(
    cmd: CommandSyntax,
    removed: Sequence[str],
    missing: Sequence[str],
    now_following: str,
    *,
    t: Tr = ENGLISH,
) -> str:
    _ = t.gettext
    lines = []
    if removed:
        lines.append(_("Removed: {words}.").format(words=", ".join(removed)))
    if missing:
        lines.append(_("You were not following: {words}.").format(words=shown_list(missing, t=t)))
    lines.append(
        _("You now follow {following}. {list} shows your subscription.").format(
            following=now_following, list=cmd("list")
        )
    )
    return "\n".join(lines)


def unsubscribed_last(cmd: CommandSyntax, removed: Sequence[str], *, t: Tr = ENGLISH) -> str:
    return t.gettext(
        "Removed {words}. That was all you followed, so you are now unsubscribed. Send "
        "{subscribe} to get everything, or {example} for one topic."
    ).format(
        words=", ".join(removed), subscribe=cmd("subscribe"), example=cmd("subscribe", "TOPIC")
    )


def status(
    cmd: CommandSyntax,
    following: str,
    delivery: str,
    timezone: str,
    active: bool,
    reason: str | None,
    *,
    t: Tr = ENGLISH,
) -> str:
    _ = t.gettext
    if not active:
        if reason:
            return _("You are not subscribed ({reason}). Send {subscribe} to start.").format(
                reason=reason, subscribe=cmd("subscribe")
            )
        return _("You are not subscribed. Send {subscribe} to start.").format(
            subscribe=cmd("subscribe")
        )
    return "\n".join(
        (
            _("You follow {following}.").format(following=following),
            _("Cards come {delivery}.").format(delivery=delivery),
            _("Timezone: {timezone}.").format(timezone=timezone),
            _("Change it with {subscribe}, {unsubscribe} or {settings}.").format(
                subscribe=cmd("subscribe"),
                unsubscribe=cmd("unsubscribe"),
                settings=cmd("settings"),
            ),
        )
    )


def topics_list(
    cmd: CommandSyntax, names: Sequence[str], following: Sequence[str], *, t: Tr = ENGLISH
) -> str:
    _ = t.gettext
    if not names:
        return _("There is no topic list yet; subscribe to your own keywords: {example}.").format(
            example=cmd("subscribe", "WORD")
        )
    mine = [n for n in names if n in following]
    lines = [_("Topics: {names}.").format(names=", ".join(names))]
    if mine:
        lines.append(_("You follow: {names}.").format(names=", ".join(mine)))
    lines.append(
        _("Tap one below or send {example}. Any other word works as a keyword.").format(
            example=cmd("subscribe", "TOPIC")
        )
    )
    return "\n".join(lines)


def digest_header(count: int, what: str, *, t: Tr = ENGLISH) -> str:
    return t.ngettext(
        "The latest card for {what}:", "The latest {count} cards for {what}:", count
    ).format(count=count, what=what)


def digest_empty(cmd: CommandSyntax, what: str, any_cards: bool, *, t: Tr = ENGLISH) -> str:
    _ = t.gettext
    if not any_cards:
        return _("No cards yet: the feeds have not been read. Try again in a few minutes.")
    return _("No recent cards match {what}. Try {digest} without words, or {topics}.").format(
        what=what, digest=cmd("digest"), topics=cmd("topics")
    )


def settings_usage(cmd: CommandSyntax, *, t: Tr = ENGLISH) -> str:
    _ = t.gettext
    return "\n".join(
        (
            _("Change it with:"),
            _("{command} - each card as soon as it is published").format(
                command=cmd("settings", "instant")
            ),
            _("{command} - one digest an hour").format(command=cmd("settings", "hourly")),
            _("{command} - one digest a day at that time").format(
                command=cmd("settings", "daily", "08:00", "Europe/Berlin")
            ),
            _("{command} - your timezone (IANA name)").format(
                command=cmd("settings", "timezone", "Europe/Berlin")
            ),
            _("{command} - the language I answer in ({codes})").format(
                command=cmd("settings", "language", "de"), codes=" ".join(LANGUAGES)
            ),
        )
    )


def settings_show(
    cmd: CommandSyntax,
    delivery: str,
    timezone: str,
    next_at: str | None,
    *,
    language: str = "en",
    t: Tr = ENGLISH,
) -> str:
    _ = t.gettext
    lines = [
        _("Cards come {delivery}. Timezone: {timezone}.").format(
            delivery=delivery, timezone=timezone
        )
    ]
    if next_at:
        lines.append(_("Next digest: {time}.").format(time=next_at))
    lines.append(_("Language: {language}.").format(language=LANGUAGE_NAMES.get(language, language)))
    return "\n".join(lines) + "\n\n" + settings_usage(cmd, t=t)


def settings_saved(
    cmd: CommandSyntax, delivery: str, timezone: str, subscribed: bool, *, t: Tr = ENGLISH
) -> str:
    _ = t.gettext
    text = _("Saved: cards come {delivery}. Timezone: {timezone}.").format(
        delivery=delivery, timezone=timezone
    )
    if not subscribed:
        text += " " + _("You are not subscribed yet: send {subscribe} to start.").format(
            subscribe=cmd("subscribe")
        )
    return text


def settings_bad_mode(cmd: CommandSyntax, word: str, *, t: Tr = ENGLISH) -> str:
    head = t.gettext("I don't know the setting {word}.").format(word=shown(word))
    return f"{head}\n\n{settings_usage(cmd, t=t)}"


def settings_bad_time(cmd: CommandSyntax, word: str, *, t: Tr = ENGLISH) -> str:
    return t.gettext(
        "{word} is not a time of day. Write it as HH:MM on a 24-hour clock, e.g. {example}"
    ).format(word=shown(word), example=cmd("settings", "daily", "07:30"))


def settings_bad_timezone(cmd: CommandSyntax, word: str, *, t: Tr = ENGLISH) -> str:
    return t.gettext(
        "I don't know the timezone {word}. Use an IANA name such as Europe/Berlin, "
        "America/New_York or Asia/Shanghai (UTC works too): {example}"
    ).format(word=shown(word), example=cmd("settings", "timezone", "Europe/Berlin"))


def settings_timezone_region(
    cmd: CommandSyntax, region: str, example: str, *, t: Tr = ENGLISH
) -> str:
    return t.gettext(
        "{region} is a region, not a timezone: add the city whose clock you follow, e.g. {example}"
    ).format(region=region, example=cmd("settings", "timezone", example))


def settings_missing_timezone(cmd: CommandSyntax, *, t: Tr = ENGLISH) -> str:
    return t.gettext("Which timezone? For example: {example}").format(
        example=cmd("settings", "timezone", "Europe/Berlin")
    )


def settings_too_many(cmd: CommandSyntax, words: Sequence[str], *, t: Tr = ENGLISH) -> str:
    head = t.gettext("Too many words after {command}: {words}").format(
        command=cmd("settings"), words=shown_list(words, t=t)
    )
    return f"{head}\n\n{settings_usage(cmd, t=t)}"
