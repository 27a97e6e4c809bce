"""Texts of the feeds a chat adds itself: ``/addfeed``, ``/feeds``, ``/removefeed``,
``/import`` and ``/export`` (``DIGESTBOT_USERS_MAY_ADD_FEEDS``)."""

from __future__ import annotations

from collections.abc import Sequence

from bot.i18n import ENGLISH, N_
from bot.i18n import Translator as Tr
from bot.messages.replies import shown
from bot.messages.syntax import CommandSyntax
from bot.ports import FeedFound

EXAMPLE_FEED = "https://example.org/feed.xml"

# Why a feed could not be added (``bot.ports.FeedProblem.kind``); ``{url}`` is the address
# as typed, ``{detail}`` what the kind needs (a status, an address, seconds, megabytes).
PROBLEMS: dict[str, str] = {
    "invalid": N_(
        "{url} is not a web address of a feed. Send one that starts with https:// or "
        "http://, e.g. {example}"
    ),
    "private": N_(
        "I may not read {url}: it points to a private or local network address ({detail}). "
        "Only feeds on the public internet can be added here."
    ),
    "http": N_("{url} answered HTTP {detail}, not a feed. Check the address and try again."),
    "timeout": N_(
        "{url} did not answer within {detail} seconds. Try again later, or check the address."
    ),
    "too_large": N_("{url} is larger than {detail} MB, the most I read of a feed."),
    "not_feed": N_(
        "{url} is not a feed: I found no RSS, Atom or JSON Feed entries there. Look for the "
        "site's RSS or feed link."
    ),
    "unreachable": N_("I could not reach {url}: {detail}"),
}


def feeds_disabled(cmd: CommandSyntax, *, t: Tr = ENGLISH) -> str:
    return t.gettext(
        "Adding feeds from the chat is not enabled on this bot: its operator chooses the "
        "feeds. {topics} lists what you can follow."
    ).format(topics=cmd("topics"))


def addfeed_usage(cmd: CommandSyntax, *, t: Tr = ENGLISH) -> str:
    return t.gettext(
        "Send the address of an RSS, Atom or JSON feed after the command, e.g. {example}"
    ).format(example=cmd("addfeed", EXAMPLE_FEED))


def feed_problem(cmd: CommandSyntax, kind: str, url: str, detail: str, *, t: Tr = ENGLISH) -> str:
    text = PROBLEMS.get(kind, PROBLEMS["unreachable"])
    return t.gettext(text).format(
        url=shown(url), detail=detail, example=cmd("addfeed", EXAMPLE_FEED)
    )


def feed_added(
    cmd: CommandSyntax, title: str, entries: int, subscribed: bool, *, t: Tr = ENGLISH
) -> str:
    text = t.ngettext(
        "Added {title}: {count} entry there now. New entries come to this chat, filtered by "
        "the topics and keywords it follows.",
        "Added {title}: {count} entries there now. New entries come to this chat, filtered "
        "by the topics and keywords it follows.",
        entries,
    ).format(title=shown(title), count=entries)
    if not subscribed:
        text += "\n" + t.gettext(
            "This chat is not subscribed yet: send {subscribe} to get them."
        ).format(subscribe=cmd("subscribe"))
    return text


_OTHERS_SHOWN = 5


def feed_discovered(
    cmd: CommandSyntax, found: FeedFound, subscribed: bool, *, t: Tr = ENGLISH
) -> str:
    """``/addfeed`` of a web page: the feed found on it (or at its site's usual place),
    added; the page's other feeds listed, each as the command that adds it."""
    title = found.title or found.url
    if found.on_page:
        text = t.ngettext(
            "Found the feed {title} on that page: added, {count} entry there now.",
            "Found the feed {title} on that page: added, {count} entries there now.",
            found.entries,
        )
    else:
        text = t.ngettext(
            "That page links no feed, but its site has one, {title}: added, {count} entry "
            "there now.",
            "That page links no feed, but its site has one, {title}: added, {count} entries "
            "there now.",
            found.entries,
        )
    lines = [
        text.format(title=shown(title), count=found.entries),
        t.gettext("Its address: {url}").format(url=found.url),
        t.gettext("New entries come to this chat, filtered by the topics and keywords it follows."),
    ]
    if found.others:
        lines.append(
            t.ngettext(
                "The page links {count} other feed; add it with:",
                "The page links {count} other feeds; add one with:",
                len(found.others),
            ).format(count=len(found.others))
        )
        for url, other_title in found.others[:_OTHERS_SHOWN]:
            command = cmd("addfeed", url)
            lines.append(f"- {other_title}: {command}" if other_title else f"- {command}")
    if not subscribed:
        lines.append(
            t.gettext("This chat is not subscribed yet: send {subscribe} to get them.").format(
                subscribe=cmd("subscribe")
            )
        )
    return "\n".join(lines)


def feed_already(cmd: CommandSyntax, title: str, *, t: Tr = ENGLISH) -> str:
    return t.gettext("This chat has {title} already. {feeds} lists its feeds.").format(
        title=shown(title), feeds=cmd("feeds")
    )


def feed_limit(cmd: CommandSyntax, limit: int, *, t: Tr = ENGLISH) -> str:
    return t.gettext(
        "This chat has {limit} feeds, the most it may have. Remove one first, e.g. {example}"
    ).format(limit=limit, example=cmd("removefeed", "1"))


def feeds_none(cmd: CommandSyntax, *, t: Tr = ENGLISH) -> str:
    return t.gettext("This chat has added no feeds of its own. Add one with {example}").format(
        example=cmd("addfeed", EXAMPLE_FEED)
    )


def feeds_list(cmd: CommandSyntax, lines: Sequence[str], limit: int, *, t: Tr = ENGLISH) -> str:
    head = t.gettext("This chat's own feeds ({count} of at most {limit}):").format(
        count=len(lines), limit=limit
    )
    tail = t.gettext("Remove one with {example}; {export} gives them as an OPML file.").format(
        example=cmd("removefeed", "1"), export=cmd("export")
    )
    return "\n".join((head, *lines, tail))


def removefeed_usage(cmd: CommandSyntax, *, t: Tr = ENGLISH) -> str:
    return t.gettext(
        "Which feed? Send its number from {feeds} or its address, e.g. {example}"
    ).format(feeds=cmd("feeds"), example=cmd("removefeed", "1"))


def removefeed_unknown(cmd: CommandSyntax, word: str, *, t: Tr = ENGLISH) -> str:
    return t.gettext("This chat has no feed {word}. {feeds} lists its feeds.").format(
        word=shown(word), feeds=cmd("feeds")
    )


def feed_removed(title: str, *, t: Tr = ENGLISH) -> str:
    return t.gettext("Removed {title}: no more entries from it come here.").format(
        title=shown(title)
    )


def import_usage(cmd: CommandSyntax, *, t: Tr = ENGLISH) -> str:
    return t.gettext(
        "Send an OPML file (the export of another feed reader) with {command} as its caption, "
        "or reply {command} to the file."
    ).format(command=cmd("import"))


def import_no_files(cmd: CommandSyntax, *, t: Tr = ENGLISH) -> str:
    return t.gettext(
        "Importing a file works on Telegram only; here, add feeds one at a time with {example}"
    ).format(example=cmd("addfeed", EXAMPLE_FEED))


def import_too_large(kilobytes: int, *, t: Tr = ENGLISH) -> str:
    return t.gettext("That file is larger than {size} KB, the most I read for an import.").format(
        size=kilobytes
    )


def import_unreadable(*, t: Tr = ENGLISH) -> str:
    return t.gettext(
        "That is not an OPML file I can read. Export one from your feed reader (OPML, .opml) "
        "and send it again."
    )


def import_report(
    added: Sequence[str],
    already: int,
    over_limit: int,
    refused: Sequence[str],
    *,
    unchecked: Sequence[str] = (),
    seconds: float = 0,
    t: Tr = ENGLISH,
) -> str:
    """``added``: titles; ``refused``: one reason a line; ``unchecked``: the addresses not
    checked within ``seconds``; nothing is left out silently."""
    _ = t.gettext
    lines = [
        t.ngettext("Imported {count} feed.", "Imported {count} feeds.", len(added)).format(
            count=len(added)
        )
    ]
    lines.extend(f"+ {title}" for title in added)
    if already:
        lines.append(_("Already here: {count}.").format(count=already))
    if over_limit:
        lines.append(
            _("Not added, over this chat's limit of feeds: {count}.").format(count=over_limit)
        )
    if refused:
        lines.append(_("Refused:"))
        lines.extend(f"- {reason}" for reason in refused)
    if unchecked:
        lines.append(
            _(
                "Not checked within {seconds} seconds; send the file again to try them (what "
                "was added stays):"
            ).format(seconds=f"{seconds:g}")
        )
        lines.extend(f"- {url}" for url in unchecked)
    return "\n".join(lines)


def import_checking(count: int, seconds: float, *, t: Tr = ENGLISH) -> str:
    """Sent before an import's addresses are checked, where the platform allows two replies."""
    return t.ngettext(
        "Checking {count} feed, at most {seconds} seconds...",
        "Checking {count} feeds, at most {seconds} seconds...",
        count,
    ).format(count=count, seconds=f"{seconds:g}")


def export_caption(count: int, *, t: Tr = ENGLISH) -> str:
    return t.ngettext(
        "This chat's {count} feed as OPML.", "This chat's {count} feeds as OPML.", count
    ).format(count=count)


def export_as_text(*, t: Tr = ENGLISH) -> str:
    """Before the OPML document, where the platform takes no files (Slack)."""
    return t.gettext(
        "This chat's feeds as OPML (a file on Telegram; here, copy the text into a file):"
    )


def user_feeds_help(cmd: CommandSyntax, *, t: Tr = ENGLISH) -> list[str]:
    """The lines ``help`` adds when chats may add feeds."""
    _ = t.gettext
    return [
        _("{command} - add a feed of your own; {feeds} lists them").format(
            command=cmd("addfeed", "URL"), feeds=cmd("feeds")
        ),
        _("{command} - remove one of them").format(command=cmd("removefeed", "URL")),
        _("{command} and {export} - feeds from and to an OPML file").format(
            command=cmd("import"), export=cmd("export")
        ),
    ]


# Telegram's command menu entries of these commands, only when chats may add feeds.
USER_FEEDS_MENU: tuple[tuple[str, str], ...] = (
    ("addfeed", N_("Add a feed by its address")),
    ("feeds", N_("The feeds this chat added")),
    ("removefeed", N_("Remove one of this chat's feeds")),
    ("import", N_("Add feeds from an OPML file")),
    ("export", N_("This chat's feeds as an OPML file")),
)
