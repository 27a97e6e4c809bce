"""The platform-neutral command core: every chat command is answered here, once.

Public API::

    core = CommandCore(store, catalog, *, clock=utcnow, digest_size=5, syntax=syntax_for)
    reply = await core.handle(CommandRequest(chat=ChatRef("telegram", "42"), name="subscribe",
                                             args=("economy",)))
    parse_command_line("/subscribe economy trade", chat) -> CommandRequest | None

``store`` is a :class:`bot.store.SubscriptionStore`, ``catalog`` a
:class:`bot.filters.TopicCatalog`. Command names (aliases in brackets): ``start``, ``help``,
``subscribe`` (``sub``, ``follow``), ``unsubscribe`` (``unsub``, ``stop``, ``unfollow``),
``list`` (``status``, ``mysubs``), ``topics``, ``digest`` (``now``, ``latest``), ``settings``,
and the chat's own feeds (``addfeed``, ``feeds``, ``removefeed``, ``import``, ``export``:
:mod:`bot.command_feeds`, when ``user_feeds`` allows them; otherwise they say so).
Unknown commands get a pointer to ``help``. Replies are written by :mod:`bot.messages`, with
commands spelled the way the asking platform types them (``syntax``, by the chat's platform),
in the chat's language (its ``/settings language``, else the user's own, else English).

In groups and channels, commands that change the chat's subscription are for its admins
(:mod:`bot.access`; ``group_commands="everyone"`` lifts that). ``/subscribe @channel ...``
(also ``unsubscribe``, ``list``, ``settings``) sent in a private chat manages that channel,
once the platform confirms the sender is its admin and the bot may post there.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime

from bot import messages as msg
from bot.access import is_channel_ref
from bot.clock import utcnow
from bot.command_access import ChatAccess, Handler
from bot.command_feeds import ChatFeedCommands, UserFeeds
from bot.command_settings import apply_settings
from bot.filters import MAX_FILTERS, TopicCatalog, parse_filters, split_words
from bot.i18n import Translator, language_of, translator
from bot.matching import filters_matcher
from bot.metrics import Metrics
from bot.models import StoredCard
from bot.ports import AdminDesk, ChatRef, Choice, CommandRequest, Reply
from bot.schedule import next_due, parse_timezone
from bot.store import Subscription, SubscriptionStore
from digests.models import Card

__all__ = ["ALIASES", "CommandCore", "parse_command_line"]

ALIASES = {
    "sub": "subscribe",
    "follow": "subscribe",
    "unsub": "unsubscribe",
    "unfollow": "unsubscribe",
    "stop": "unsubscribe",
    "status": "list",
    "mysubs": "list",
    "now": "digest",
    "latest": "digest",
    "setting": "settings",
}
_COMMAND_WORD = re.compile(r"^/?([A-Za-z][A-Za-z0-9_]{0,31})(?:@[A-Za-z0-9_]+)?$")
_MAX_ARGS = 40  # words after a command that takes no topics or keywords (settings: 3)
# Commands whose words are topics and keywords: capped by the filter limit, counted as filters
# (a quoted phrase is one).
_FILTER_COMMANDS = frozenset({"subscribe", "unsubscribe", "digest"})
_TOPIC_CHOICES = 12
# Recent cards looked at to find up to ``digest_size`` matching ones. Read in one go: the store
# keeps cards it has parsed (bot.store.entries.ParsedCards), so reading 200 costs about what
# reading 20 did, and a /digest that matches few of them no longer reads twice.
_DIGEST_SCAN = 200
_CHANNEL_COMMANDS = frozenset(
    {"subscribe", "unsubscribe", "list", "settings", "addfeed", "feeds", "removefeed", "export"}
)


def parse_command_line(text: str, chat: ChatRef, **extra: object) -> CommandRequest | None:
    """``"/subscribe economy"`` (or ``"subscribe economy"``, ``"/sub@MyBot economy"``) as a
    :class:`CommandRequest`; ``None`` for an empty line or one that is not a command word."""
    words = text.split()
    if not words:
        return None
    match = _COMMAND_WORD.match(words[0])
    if not match:
        return None
    name = match.group(1).lower()
    return CommandRequest(
        chat=chat,
        name=ALIASES.get(name, name),
        # Not cut here: the core states the cap and how many were sent.
        args=tuple(words[1:]),
        user_id=extra.get("user_id"),  # type: ignore[arg-type]
        is_group=bool(extra.get("is_group", False)),
        chat_title=extra.get("chat_title"),  # type: ignore[arg-type]
        is_channel=bool(extra.get("is_channel", False)),
        sender_is_chat=bool(extra.get("sender_is_chat", False)),
        language=extra.get("language"),  # type: ignore[arg-type]
        chats=extra.get("chats"),  # type: ignore[arg-type]
        files=bool(extra.get("files", False)),
    )


class CommandCore(ChatAccess, ChatFeedCommands):
    """Implements :class:`bot.ports.CommandHandler`."""

    def __init__(
        self,
        store: SubscriptionStore,
        catalog: TopicCatalog,
        *,
        clock: Callable[[], datetime] = utcnow,
        digest_size: int = 5,
        syntax: Callable[[str], msg.CommandSyntax] = msg.syntax_for,
        group_commands: str = "admins",
        admin: AdminDesk | None = None,
        metrics: Metrics | None = None,
        user_feeds: UserFeeds | None = None,
    ) -> None:
        self.store = store
        self.user_feeds = user_feeds or UserFeeds()
        self.admin = admin
        self.metrics = metrics
        self.catalog = catalog
        self.clock = clock
        self.digest_size = digest_size
        # Replies spell commands the way the asking platform types them (by ChatRef.platform).
        self.syntax = syntax
        self.group_commands = group_commands
        self._handlers: dict[str, Handler] = {
            "start": self._start,
            "help": self._help,
            "subscribe": self._subscribe,
            "unsubscribe": self._unsubscribe,
            "list": self._list,
            "topics": self._topics,
            "digest": self._digest,
            "settings": self._settings,
            **self._feed_handlers(),  # type: ignore[dict-item]
        }

    async def handle(self, request: CommandRequest) -> Reply:
        name = request.name.lower().lstrip("/")
        if self.metrics is not None and request.sent_at is not None:
            lag = (self.clock() - request.sent_at).total_seconds()
            self.metrics.update_lag_seconds.labels(platform=request.chat.platform).observe(
                max(0.0, lag)
            )
        # The operators' admin chats also get the operations reports (elsewhere /status is
        # the subscriber's /list).
        # ``/feeds mine`` there lists the admin chat's own feeds.
        admin = self.admin
        operator_report = name == "status" or (name == "feeds" and not request.args)
        if admin is not None and operator_report and admin.is_admin_chat(request.chat):
            report = admin.status_text() if name == "status" else admin.feeds_text()
            return Reply(await report)
        name = ALIASES.get(name, name)
        cmd = self.syntax(request.chat.platform)
        current = await self.store.get_subscription(request.chat)
        t = translator(current.language if current and current.language else request.language)
        handler = self._handlers.get(name)
        if handler is None:
            help_button = Choice(t.gettext(msg.BUTTON_HELP), "help")
            return Reply(msg.unknown_command(cmd, name, t=t), choices=(help_button,))
        too_many = _too_many_words(cmd, name, request.args, t)
        if too_many is not None:
            return Reply(too_many)
        if (off := self._feeds_off(name, cmd, t)) is not None:
            return off
        if (
            request.chats is not None  # a platform with channels it can look up (Telegram)
            and name in _CHANNEL_COMMANDS
            and request.args
            and is_channel_ref(request.args[0])
        ):
            return await self._for_channel(request, handler, cmd, t)
        refused = await self._refused(request, name, cmd, t)
        if refused is not None:
            return refused
        return await handler(request, current, cmd, t)

    async def chat_removed(self, platform: str, chat_id: str, reason: str) -> None:
        await self.store.deactivate_chat(platform, chat_id, reason, self.clock())

    # --- helpers ----------------------------------------------------------------------------

    def _topic_names(self) -> list[str]:
        return self.catalog.names()

    def _following(self, filters: Sequence[str], t: Translator) -> str:
        return msg.describe_filters(filters, set(self._topic_names()), t=t)

    def _topic_choices(self, exclude: Sequence[str] = ()) -> tuple[Choice, ...]:
        names = [n for n in self._topic_names() if n not in exclude]
        return tuple(Choice(msg.topic_button(n), f"subscribe {n}") for n in names[:_TOPIC_CHOICES])

    async def _save(self, sub: Subscription, previous: Subscription | None) -> Subscription:
        saved = await self.store.save_subscription(sub)
        delivery_changed = previous is not None and (
            previous.mode,
            previous.daily_time,
            previous.timezone,
        ) != (sub.mode, sub.daily_time, sub.timezone)
        if delivery_changed and saved.id is not None:
            due = next_due(saved.mode, saved.daily_time, saved.timezone, self.clock())
            await self.store.reschedule_pending(saved.id, due)
        return saved

    @staticmethod
    def _base(request: CommandRequest, current: Subscription | None) -> Subscription:
        if current is not None:
            return replace(current, title=request.chat_title or current.title)
        return Subscription(chat=request.chat, title=request.chat_title, active=False)

    @staticmethod
    def _delivery(sub: Subscription, t: Translator) -> str:
        return msg.describe_delivery(sub.mode, sub.daily_time, sub.timezone, t=t)

    # --- commands ---------------------------------------------------------------------------

    async def _start(
        self,
        request: CommandRequest,
        current: Subscription | None,
        cmd: msg.CommandSyntax,
        t: Translator,
    ) -> Reply:
        subscribed = current is not None and current.active
        _ = t.gettext
        choices = (
            (Choice(_(msg.BUTTON_LATEST), "digest"), Choice(_(msg.BUTTON_MY_SUBSCRIPTION), "list"))
            if subscribed
            else (
                Choice(_(msg.BUTTON_SUBSCRIBE_ALL), "subscribe"),
                Choice(_(msg.BUTTON_PICK_TOPICS), "topics"),
            )
        )
        return Reply(msg.welcome(cmd, request.chat_title, subscribed, t=t), choices=choices)

    async def _help(
        self,
        request: CommandRequest,
        current: Subscription | None,
        cmd: msg.CommandSyntax,
        t: Translator,
    ) -> Reply:
        return Reply(msg.help_text(cmd, t=t, user_feeds=self.user_feeds.enabled))

    async def _subscribe(
        self,
        request: CommandRequest,
        current: Subscription | None,
        cmd: msg.CommandSyntax,
        t: Translator,
    ) -> Reply:
        base = self._base(request, current)
        delivery = self._delivery(base, t)
        if not request.args:
            await self._save(
                replace(base, filters=(), active=True, deactivated_reason=None), current
            )
            return Reply(
                msg.subscribed_everything(cmd, delivery, t=t), choices=self._topic_choices()
            )
        parse = parse_filters(request.args, self.catalog)
        if not parse.filters:
            return Reply(msg.filters_rejected(cmd, parse, t=t))
        was_active = current is not None and current.active
        narrowed = was_active and not base.filters
        existing = base.filters if was_active else ()
        added = [f for f in parse.filters if f not in existing]
        if len(existing) + len(added) > MAX_FILTERS:
            return Reply(msg.too_many_filters(cmd, len(existing), len(added), t=t))
        filters = (*existing, *added)
        await self._save(
            replace(base, filters=filters, active=True, deactivated_reason=None), current
        )
        following = self._following(filters, t)
        text = msg.subscribed(cmd, parse, following, delivery, narrowed=narrowed, t=t)
        if parse.problems:
            text += "\n" + msg.filters_skipped(parse, t=t)
        return Reply(text, choices=(Choice(t.gettext(msg.BUTTON_LATEST), "digest"),))

    async def _unsubscribe(
        self,
        request: CommandRequest,
        current: Subscription | None,
        cmd: msg.CommandSyntax,
        t: Translator,
    ) -> Reply:
        subscribe_button = (Choice(t.gettext(msg.BUTTON_SUBSCRIBE), "subscribe"),)
        if current is None or not current.active or current.id is None:
            return Reply(msg.not_subscribed(cmd, t=t), choices=subscribe_button)
        words = split_words(request.args)
        if not words or [w.lower() for w in words] == ["all"]:
            dropped = await self._cancel(current.id)
            return Reply(msg.unsubscribed_all(cmd, dropped, t=t))
        if not current.filters:
            hint = " ".join(self._topic_names()[:2]) or "WORD"
            return Reply(msg.unsubscribe_from_everything(cmd, hint, t=t))
        wanted = [self.catalog.normalize(w) for w in words]
        removed = [f for f in current.filters if f in wanted]
        missing = [w for w in dict.fromkeys(wanted) if w not in current.filters]
        remaining = tuple(f for f in current.filters if f not in wanted)
        if not remaining:
            await self._cancel(current.id)
            return Reply(msg.unsubscribed_last(cmd, removed, t=t), choices=subscribe_button)
        await self._save(replace(current, filters=remaining), current)
        following = self._following(remaining, t)
        return Reply(msg.unsubscribed_some(cmd, removed, missing, following, t=t))

    async def _cancel(self, subscription_id: int) -> int:
        """The user unsubscribed: pending cards are cancelled, not failed."""
        return await self.store.deactivate_subscription(
            subscription_id, "unsubscribed by the user", self.clock(), cancel=True
        )

    async def _list(
        self,
        request: CommandRequest,
        current: Subscription | None,
        cmd: msg.CommandSyntax,
        t: Translator,
    ) -> Reply:
        subscribe_button = (Choice(t.gettext(msg.BUTTON_SUBSCRIBE), "subscribe"),)
        if current is None:
            return Reply(msg.not_subscribed(cmd, t=t), choices=subscribe_button)
        text = msg.status(
            cmd,
            self._following(current.filters, t),
            self._delivery(current, t),
            current.timezone,
            current.active,
            current.deactivated_reason,
            t=t,
        )
        return Reply(text, choices=() if current.active else subscribe_button)

    async def _topics(
        self,
        request: CommandRequest,
        current: Subscription | None,
        cmd: msg.CommandSyntax,
        t: Translator,
    ) -> Reply:
        following = current.filters if current is not None and current.active else ()
        return Reply(
            msg.topics_list(cmd, self._topic_names(), following, t=t),
            choices=self._topic_choices(exclude=following),
        )

    async def _digest(
        self,
        request: CommandRequest,
        current: Subscription | None,
        cmd: msg.CommandSyntax,
        t: Translator,
    ) -> Reply:
        if request.args:
            parse = parse_filters(request.args, self.catalog)
            if not parse.filters:
                return Reply(msg.filters_rejected(cmd, parse, t=t))
            filters: tuple[str, ...] = parse.filters
        else:
            filters = current.filters if current is not None and current.active else ()
        viewer = current.id if current is not None else None  # its own feeds' cards too
        recent = await self.store.latest_cards(_DIGEST_SCAN, viewer=viewer)
        cards = self._matching(recent, filters)
        what = self._following(filters, t)
        if not recent:
            return Reply(msg.digest_empty(cmd, what, any_cards=False, t=t))
        if not cards:
            return Reply(
                msg.digest_empty(cmd, what, any_cards=True, t=t),
                choices=self._topic_choices()[:4],
            )
        picked = tuple(cards[: self.digest_size])
        return Reply(msg.digest_header(len(picked), what, t=t), cards=picked)

    def _matching(self, recent: Sequence[StoredCard], filters: Sequence[str]) -> list[Card]:
        """Up to ``digest_size`` of ``recent`` that pass ``filters``, newest first."""
        cards: list[Card] = []
        matches = filters_matcher(self.catalog.names(), filters)
        for stored in recent:
            if matches(stored.card):
                cards.append(stored.card)
                if len(cards) == self.digest_size:
                    break
        return cards

    async def _settings(
        self,
        request: CommandRequest,
        current: Subscription | None,
        cmd: msg.CommandSyntax,
        t: Translator,
    ) -> Reply:
        base = self._base(request, current)
        if not request.args:
            return Reply(self._settings_text(cmd, base, request, t))
        updated = apply_settings(cmd, base, [a for a in request.args if a.strip()], t)
        if isinstance(updated, str):
            return Reply(updated)
        saved = await self._save(updated, current)
        if saved.language != base.language and saved.language is not None:
            return Reply(msg.language_saved(saved.language, t=translator(saved.language)))
        return Reply(
            msg.settings_saved(cmd, self._delivery(saved, t), saved.timezone, saved.active, t=t)
        )

    def _settings_text(
        self, cmd: msg.CommandSyntax, sub: Subscription, request: CommandRequest, t: Translator
    ) -> str:
        next_at = None
        if sub.active and sub.mode != "instant":
            zone = parse_timezone(sub.timezone)
            due = next_due(sub.mode, sub.daily_time, sub.timezone, self.clock())
            if zone is not None:
                next_at = due.astimezone(zone).strftime("%Y-%m-%d %H:%M")
        language = sub.language or language_of(request.language) or "en"
        return msg.settings_show(
            cmd, self._delivery(sub, t), sub.timezone, next_at, language=language, t=t
        )


def _too_many_words(
    cmd: msg.CommandSyntax, name: str, args: Sequence[str], t: Translator
) -> str | None:
    """The reply refusing more words than ``name`` takes, else ``None``; nothing is cut
    silently, since acting on part of what was typed would surprise. A channel named first
    (``/subscribe @channel ...``) is not one of the topics."""
    if args and name in _CHANNEL_COMMANDS and is_channel_ref(args[0]):
        args = args[1:]
    if name in _FILTER_COMMANDS:
        count = len(split_words(args))
        if count > MAX_FILTERS:
            return msg.too_many_words(cmd, name, MAX_FILTERS, count, filters=True, t=t)
        return None
    if len(args) > _MAX_ARGS:
        return msg.too_many_words(cmd, name, _MAX_ARGS, len(args), filters=False, t=t)
    return None
