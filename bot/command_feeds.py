"""Feeds a chat adds itself, in the command core: ``addfeed``, ``feeds``, ``removefeed``,
``import`` and ``export``. A mixin of :class:`bot.commands.CommandCore`; the decisions are
:mod:`bot.user_feeds`, the texts :mod:`bot.messages.feeds`.

A chat's feeds belong to its subscription (a chat, or a forum topic of one): a chat with none
yet gets an inactive one to own them. Addresses are checked through the :class:`FeedProbe`
port (wired in ``bot.builders``): fetched at once by the worker's guarded fetcher.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from bot import messages as msg
from bot.errors import FeedsFileError
from bot.i18n import Translator
from bot.messages import feeds as fmsg
from bot.models import FeedRecord, Subscription
from bot.opml import parse_opml, render_opml
from bot.ports import (
    CommandRequest,
    CommandStore,
    Document,
    FeedFound,
    FeedProbe,
    FeedProblem,
    Reply,
)
from bot.user_feeds import MAX_OPML_BYTES, pick_feed, plan_import

__all__ = ["IMPORT_SECONDS", "USER_FEED_COMMANDS", "ChatFeedCommands", "UserFeeds"]

USER_FEED_COMMANDS = frozenset({"addfeed", "feeds", "removefeed", "import", "export"})
_IMPORT_CONCURRENCY = 4  # addresses of one import fetched at once
IMPORT_SECONDS = 120.0  # then what is not checked yet is reported as such, never lost
_PROGRESS_FROM = 2  # addresses to check before /import says "Checking N feeds..." first
_REFUSED_SHOWN = 10


@dataclass(frozen=True, slots=True)
class UserFeeds:
    """``DIGESTBOT_USERS_MAY_ADD_FEEDS`` and ``DIGESTBOT_MAX_FEEDS_PER_CHAT``, and the port
    addresses are checked through (``None``: chats may not add feeds)."""

    enabled: bool = False
    max_per_chat: int = 50
    probe: FeedProbe | None = None
    import_seconds: float = IMPORT_SECONDS  # one /import's addresses all checked within this


class ChatFeedCommands:
    store: CommandStore
    user_feeds: UserFeeds
    clock: Callable[[], datetime]

    def _feed_handlers(self) -> dict[str, object]:
        return {
            "addfeed": self._addfeed,
            "feeds": self._feeds,
            "removefeed": self._removefeed,
            "import": self._import,
            "export": self._export,
        }

    def _feeds_off(self, name: str, cmd: msg.CommandSyntax, t: Translator) -> Reply | None:
        """The reply to a feed command when chats may not add feeds, else ``None``."""
        if name in USER_FEED_COMMANDS and (
            not self.user_feeds.enabled or self.user_feeds.probe is None
        ):
            return Reply(fmsg.feeds_disabled(cmd, t=t))
        return None

    async def _owner(self, request: CommandRequest, current: Subscription | None) -> int:
        """The subscription that owns the chat's feeds; an inactive one when it has none."""
        if current is not None and current.id is not None:
            return current.id
        saved = await self.store.save_subscription(
            Subscription(chat=request.chat, title=request.chat_title, active=False)
        )
        assert saved.id is not None
        return saved.id

    async def _addfeed(
        self,
        request: CommandRequest,
        current: Subscription | None,
        cmd: msg.CommandSyntax,
        t: Translator,
    ) -> Reply:
        if len(request.args) != 1:
            return Reply(fmsg.addfeed_usage(cmd, t=t))
        url = request.args[0]
        owned = await self._owned(current)
        # Neither a feed the chat has nor one over its limit is fetched.
        had = pick_feed(url, owned) if not url.isdigit() else None
        if had is not None:
            return Reply(fmsg.feed_already(cmd, _title(had), t=t))
        if len(owned) >= self.user_feeds.max_per_chat:
            return Reply(fmsg.feed_limit(cmd, self.user_feeds.max_per_chat, t=t))
        assert self.user_feeds.probe is not None
        found = await self.user_feeds.probe.probe(url)
        if isinstance(found, FeedProblem):
            return Reply(fmsg.feed_problem(cmd, found.kind, url, found.detail, t=t))
        owner = await self._owner(request, current)
        added = await self.store.add_chat_feed(
            owner, found.url, name=found.title, limit=self.user_feeds.max_per_chat, now=self.clock()
        )
        title = _title(added.feed) if added.feed else found.title or found.url
        if added.outcome == "limit":
            return Reply(fmsg.feed_limit(cmd, self.user_feeds.max_per_chat, t=t))
        if added.outcome == "already":
            return Reply(fmsg.feed_already(cmd, title, t=t))
        subscribed = current is not None and current.active
        if found.page is not None:  # the address was a page: say which feed it led to
            return Reply(fmsg.feed_discovered(cmd, found, subscribed, t=t))
        return Reply(fmsg.feed_added(cmd, found.title or title, found.entries, subscribed, t=t))

    async def _feeds(
        self,
        request: CommandRequest,
        current: Subscription | None,
        cmd: msg.CommandSyntax,
        t: Translator,
    ) -> Reply:
        feeds = await self._owned(current)
        if not feeds:
            return Reply(fmsg.feeds_none(cmd, t=t))
        lines = [f"{n}. {_title(f)} - {f.url}" for n, f in enumerate(feeds, start=1)]
        return Reply(fmsg.feeds_list(cmd, lines, self.user_feeds.max_per_chat, t=t))

    async def _removefeed(
        self,
        request: CommandRequest,
        current: Subscription | None,
        cmd: msg.CommandSyntax,
        t: Translator,
    ) -> Reply:
        if len(request.args) != 1:
            return Reply(fmsg.removefeed_usage(cmd, t=t))
        feed = pick_feed(request.args[0], await self._owned(current))
        if feed is None or current is None or current.id is None:
            return Reply(fmsg.removefeed_unknown(cmd, request.args[0], t=t))
        await self.store.remove_chat_feed(current.id, feed.id)
        return Reply(fmsg.feed_removed(_title(feed), t=t))

    async def _import(
        self,
        request: CommandRequest,
        current: Subscription | None,
        cmd: msg.CommandSyntax,
        t: Translator,
    ) -> Reply:
        if not request.files:
            return Reply(fmsg.import_no_files(cmd, t=t))
        attachment = request.attachment
        if attachment is None:
            return Reply(fmsg.import_usage(cmd, t=t))
        too_large = Reply(fmsg.import_too_large(MAX_OPML_BYTES // 1024, t=t))
        if attachment.size is not None and attachment.size > MAX_OPML_BYTES:
            return too_large
        data = await attachment.read(MAX_OPML_BYTES + 1)
        if len(data) > MAX_OPML_BYTES:
            return too_large
        try:
            listed = await asyncio.to_thread(parse_opml, data)
        except FeedsFileError:
            return Reply(fmsg.import_unreadable(t=t))
        owned = await self._owned(current)
        room = max(0, self.user_feeds.max_per_chat - len(owned))
        plan = plan_import([f.url for f in listed], {f.url for f in owned}, room)
        refused = [fmsg.feed_problem(cmd, "invalid", url, "", t=t) for url in plan.invalid]
        added: list[str] = []
        unchecked: list[str] = []
        over, already = plan.over_limit, plan.already
        seconds = self.user_feeds.import_seconds
        if request.progress is not None and len(plan.to_check) >= _PROGRESS_FROM:
            await request.progress(fmsg.import_checking(len(plan.to_check), seconds, t=t))
        results = await self._probe_all(plan.to_check)
        owner = await self._owner(request, current) if plan.to_check else None
        for url, found in zip(plan.to_check, results, strict=True):
            if found is None:
                unchecked.append(url)
                continue
            if isinstance(found, FeedProblem):
                refused.append(fmsg.feed_problem(cmd, found.kind, url, found.detail, t=t))
                continue
            assert owner is not None
            done = await self.store.add_chat_feed(
                owner, found.url, name=found.title, limit=self.user_feeds.max_per_chat,
                now=self.clock(),
            )  # fmt: skip
            if done.outcome == "limit":
                over += 1
            elif done.outcome == "already":  # a page led to a feed the chat has
                already += 1
            else:
                added.append(found.title or found.url)
        refused = _shown_list(refused, t)
        return Reply(
            fmsg.import_report(
                added, already, over, refused, unchecked=_shown_list(unchecked, t),
                seconds=seconds, t=t,
            )
        )  # fmt: skip

    async def _probe_all(self, urls: tuple[str, ...]) -> list[FeedFound | FeedProblem | None]:
        """Each address checked, a few at a time (an import of 50 feeds must not open 50
        connections at once from one chat's command), all within ``import_seconds``: an
        address not checked by then is ``None``, reported as such."""
        assert self.user_feeds.probe is not None
        if not urls:
            return []
        probe = self.user_feeds.probe
        gate = asyncio.Semaphore(_IMPORT_CONCURRENCY)

        async def one(url: str) -> FeedFound | FeedProblem:
            async with gate:
                return await probe.probe(url)

        tasks = [asyncio.create_task(one(u)) for u in urls]
        try:
            done, _ = await asyncio.wait(tasks, timeout=self.user_feeds.import_seconds)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        return [task.result() if task in done else None for task in tasks]

    async def _export(
        self,
        request: CommandRequest,
        current: Subscription | None,
        cmd: msg.CommandSyntax,
        t: Translator,
    ) -> Reply:
        feeds = await self._owned(current)
        if not feeds:
            return Reply(fmsg.feeds_none(cmd, t=t))
        opml = render_opml(feeds, title="digestbot: " + (request.chat_title or "feeds"))
        if not request.files:
            return Reply(fmsg.export_as_text(t=t) + "\n" + opml)
        document = Document(
            "digestbot-feeds.opml", opml.encode("utf-8"), fmsg.export_caption(len(feeds), t=t)
        )
        return Reply(fmsg.export_caption(len(feeds), t=t), document=document)

    async def _owned(self, current: Subscription | None) -> list[FeedRecord]:
        if current is None or current.id is None:
            return []
        return await self.store.chat_feeds(current.id)


def _shown_list(lines: list[str], t: Translator) -> list[str]:
    """At most ``_REFUSED_SHOWN`` lines, then how many more there are."""
    if len(lines) <= _REFUSED_SHOWN:
        return lines
    rest = len(lines) - _REFUSED_SHOWN
    return [*lines[:_REFUSED_SHOWN], t.gettext(" and {count} more").format(count=rest).strip()]


def _title(feed: FeedRecord) -> str:
    return feed.name or feed.url
