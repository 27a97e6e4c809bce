"""The platform-neutral command core: every chat command is answered here, once.

Public API::

    core = CommandCore(store, catalog, *, clock=utcnow, digest_size=5, syntax=syntax_for)
    reply = await core.handle(CommandRequest(chat=ChatRef("telegram", "42"), name="subscribe",
                                             args=("economy",)))
    parse_command_line("/subscribe economy trade", chat) -> CommandRequest | None

``store`` is a :class:`bot.store.SubscriptionStore`, ``catalog`` a
:class:`bot.filters.TopicCatalog`. Command names (aliases in brackets): ``start``, ``help``,
``subscribe`` (``sub``, ``follow``), ``unsubscribe`` (``unsub``, ``stop``, ``unfollow``),
``list`` (``status``, ``mysubs``), ``topics``, ``digest`` (``now``, ``latest``), ``settings``.
Unknown commands get a pointer to ``help``. Replies are written by :mod:`bot.messages`, with
commands spelled the way the asking platform types them (``syntax``, by the chat's platform).
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace
from datetime import datetime

from bot import messages as msg
from bot.clock import utcnow
from bot.filters import MAX_FILTERS, TopicCatalog, parse_filters, split_words
from bot.matching import filters_matcher
from bot.metrics import Metrics
from bot.models import StoredCard
from bot.ports import AdminDesk, ChatRef, Choice, CommandRequest, Reply
from bot.schedule import (
    example_zone,
    next_due,
    parse_daily_time,
    parse_timezone,
    timezone_region,
)
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
_DIGEST_SCAN = 200  # recent cards looked at to find up to ``digest_size`` matching ones
_DIGEST_FIRST = 20  # read first: usually enough, and 10x cheaper than reading the 200


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
    )


Handler = Callable[[CommandRequest, "Subscription | None", msg.CommandSyntax], Awaitable[Reply]]


class CommandCore:
    """Implements :class:`bot.ports.CommandHandler`."""

    def __init__(
        self,
        store: SubscriptionStore,
        catalog: TopicCatalog,
        *,
        clock: Callable[[], datetime] = utcnow,
        digest_size: int = 5,
        syntax: Callable[[str], msg.CommandSyntax] = msg.syntax_for,
        admin: AdminDesk | None = None,
        metrics: Metrics | None = None,
    ) -> None:
        self.store = store
        self.admin = admin
        self.metrics = metrics
        self.catalog = catalog
        self.clock = clock
        self.digest_size = digest_size
        # Replies spell commands the way the asking platform types them (by ChatRef.platform).
        self.syntax = syntax
        self._handlers: dict[str, Handler] = {
            "start": self._start,
            "help": self._help,
            "subscribe": self._subscribe,
            "unsubscribe": self._unsubscribe,
            "list": self._list,
            "topics": self._topics,
            "digest": self._digest,
            "settings": self._settings,
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
        admin = self.admin
        if admin is not None and name in ("status", "feeds") and admin.is_admin_chat(request.chat):
            report = admin.status_text() if name == "status" else admin.feeds_text()
            return Reply(await report)
        cmd = self.syntax(request.chat.platform)
        name = ALIASES.get(name, name)
        handler = self._handlers.get(name)
        if handler is None:
            return Reply(msg.unknown_command(cmd, name), choices=(Choice(msg.BUTTON_HELP, "help"),))
        too_many = _too_many_words(cmd, name, request.args)
        if too_many is not None:
            return Reply(too_many)
        current = await self.store.get_subscription(request.chat)
        return await handler(request, current, cmd)

    # --- helpers ----------------------------------------------------------------------------

    def _topic_names(self) -> list[str]:
        return self.catalog.names()

    def _following(self, filters: Sequence[str]) -> str:
        return msg.describe_filters(filters, set(self._topic_names()))

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

    # --- commands ---------------------------------------------------------------------------

    async def _start(
        self, request: CommandRequest, current: Subscription | None, cmd: msg.CommandSyntax
    ) -> Reply:
        subscribed = current is not None and current.active
        choices = (
            (Choice(msg.BUTTON_LATEST, "digest"), Choice(msg.BUTTON_MY_SUBSCRIPTION, "list"))
            if subscribed
            else (
                Choice(msg.BUTTON_SUBSCRIBE_ALL, "subscribe"),
                Choice(msg.BUTTON_PICK_TOPICS, "topics"),
            )
        )
        return Reply(msg.welcome(cmd, request.chat_title, subscribed), choices=(*choices,))

    async def _help(
        self, request: CommandRequest, current: Subscription | None, cmd: msg.CommandSyntax
    ) -> Reply:
        return Reply(msg.help_text(cmd))

    async def _subscribe(
        self, request: CommandRequest, current: Subscription | None, cmd: msg.CommandSyntax
    ) -> Reply:
        base = self._base(request, current)
        delivery = msg.describe_delivery(base.mode, base.daily_time, base.timezone)
        if not request.args:
            await self._save(
                replace(base, filters=(), active=True, deactivated_reason=None), current
            )
            return Reply(msg.subscribed_everything(cmd, delivery), choices=self._topic_choices())
        parse = parse_filters(request.args, self.catalog)
        if not parse.filters:
            return Reply(msg.filters_rejected(cmd, parse))
        was_active = current is not None and current.active
        narrowed = was_active and not base.filters
        existing = base.filters if was_active else ()
        added = [f for f in parse.filters if f not in existing]
        if len(existing) + len(added) > MAX_FILTERS:
            return Reply(msg.too_many_filters(cmd, len(existing), len(added)))
        filters = (*existing, *added)
        await self._save(
            replace(base, filters=filters, active=True, deactivated_reason=None), current
        )
        text = msg.subscribed(cmd, parse, self._following(filters), delivery, narrowed=narrowed)
        if parse.problems:
            text += "\n" + msg.filters_skipped(parse)
        return Reply(text, choices=(Choice(msg.BUTTON_LATEST, "digest"),))

    async def _unsubscribe(
        self, request: CommandRequest, current: Subscription | None, cmd: msg.CommandSyntax
    ) -> Reply:
        if current is None or not current.active or current.id is None:
            return Reply(
                msg.not_subscribed(cmd), choices=(Choice(msg.BUTTON_SUBSCRIBE, "subscribe"),)
            )
        words = split_words(request.args)
        if not words or [w.lower() for w in words] == ["all"]:
            dropped = await self.store.deactivate_subscription(
                current.id, "unsubscribed by the user", self.clock(), cancel=True
            )
            return Reply(msg.unsubscribed_all(cmd, dropped))
        if not current.filters:
            hint = " ".join(self._topic_names()[:2]) or "WORD"
            return Reply(msg.unsubscribe_from_everything(cmd, hint))
        wanted = [self.catalog.normalize(w) for w in words]
        removed = [f for f in current.filters if f in wanted]
        missing = [w for w in dict.fromkeys(wanted) if w not in current.filters]
        remaining = tuple(f for f in current.filters if f not in wanted)
        if not remaining:
            await self.store.deactivate_subscription(
                current.id, "unsubscribed by the user", self.clock(), cancel=True
            )
            return Reply(
                msg.unsubscribed_last(cmd, removed),
                choices=(Choice(msg.BUTTON_SUBSCRIBE, "subscribe"),),
            )
        await self._save(replace(current, filters=remaining), current)
        return Reply(msg.unsubscribed_some(cmd, removed, missing, self._following(remaining)))

    async def _list(
        self, request: CommandRequest, current: Subscription | None, cmd: msg.CommandSyntax
    ) -> Reply:
        if current is None:
            return Reply(
                msg.not_subscribed(cmd), choices=(Choice(msg.BUTTON_SUBSCRIBE, "subscribe"),)
            )
        text = msg.status(
            cmd,
            self._following(current.filters),
            msg.describe_delivery(current.mode, current.daily_time, current.timezone),
            current.timezone,
            current.active,
            current.deactivated_reason,
        )
        choices = () if current.active else (Choice(msg.BUTTON_SUBSCRIBE, "subscribe"),)
        return Reply(text, choices=choices)

    async def _topics(
        self, request: CommandRequest, current: Subscription | None, cmd: msg.CommandSyntax
    ) -> Reply:
        following = current.filters if current is not None and current.active else ()
        return Reply(
            msg.topics_list(cmd, self._topic_names(), following),
            choices=self._topic_choices(exclude=following),
        )

    async def _digest(
        self, request: CommandRequest, current: Subscription | None, cmd: msg.CommandSyntax
    ) -> Reply:
        if request.args:
            parse = parse_filters(request.args, self.catalog)
            if not parse.filters:
                return Reply(msg.filters_rejected(cmd, parse))
            filters: tuple[str, ...] = parse.filters
        else:
            filters = current.filters if current is not None and current.active else ()
        recent = await self.store.latest_cards(_DIGEST_FIRST)
        cards = self._matching(recent, filters)
        if len(cards) < self.digest_size and len(recent) == _DIGEST_FIRST:
            recent = await self.store.latest_cards(_DIGEST_SCAN)
            cards = self._matching(recent, filters)
        what = self._following(filters)
        if not recent:
            return Reply(msg.digest_empty(cmd, what, any_cards=False))
        if not cards:
            return Reply(
                msg.digest_empty(cmd, what, any_cards=True), choices=self._topic_choices()[:4]
            )
        picked = tuple(cards[: self.digest_size])
        return Reply(msg.digest_header(len(picked), what), cards=picked)

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
        self, request: CommandRequest, current: Subscription | None, cmd: msg.CommandSyntax
    ) -> Reply:
        base = self._base(request, current)
        if not request.args:
            return Reply(self._settings_text(cmd, base))
        updated = self._apply_settings(cmd, base, [a for a in request.args if a.strip()])
        if isinstance(updated, str):
            return Reply(updated)
        saved = await self._save(updated, current)
        return Reply(
            msg.settings_saved(
                cmd,
                msg.describe_delivery(saved.mode, saved.daily_time, saved.timezone),
                saved.timezone,
                saved.active,
            )
        )

    def _settings_text(self, cmd: msg.CommandSyntax, sub: Subscription) -> str:
        delivery = msg.describe_delivery(sub.mode, sub.daily_time, sub.timezone)
        next_at = None
        if sub.active and sub.mode != "instant":
            zone = parse_timezone(sub.timezone)
            due = next_due(sub.mode, sub.daily_time, sub.timezone, self.clock())
            if zone is not None:
                next_at = due.astimezone(zone).strftime("%Y-%m-%d %H:%M")
        return msg.settings_show(cmd, delivery, sub.timezone, next_at)

    @staticmethod
    def _apply_settings(
        cmd: msg.CommandSyntax, sub: Subscription, args: list[str]
    ) -> Subscription | str:
        """The subscription with ``args`` applied, or the message saying what is wrong."""
        word, rest = args[0].lower(), args[1:]
        if word in ("instant", "hourly"):
            if rest:
                return msg.settings_too_many(cmd, args)
            return replace(sub, mode=word)
        if word in ("timezone", "tz", "zone"):
            if not rest:
                return msg.settings_missing_timezone(cmd)
            if len(rest) > 1:
                return msg.settings_too_many(cmd, args)
            return _with_timezone(cmd, sub, rest[0])
        if word == "daily":
            if len(rest) > 2:
                return msg.settings_too_many(cmd, args)
            daily = parse_daily_time(rest[0]) if rest else (sub.daily_time or "08:00")
            if daily is None:
                return msg.settings_bad_time(cmd, rest[0])
            updated = replace(sub, mode="daily", daily_time=daily)
            return _with_timezone(cmd, updated, rest[1]) if len(rest) == 2 else updated
        return msg.settings_bad_mode(cmd, args[0])


def _too_many_words(cmd: msg.CommandSyntax, name: str, args: Sequence[str]) -> str | None:
    """The reply refusing more words than ``name`` takes, else ``None``; nothing is cut
    silently, since acting on part of what was typed would surprise."""
    if name in _FILTER_COMMANDS:
        count = len(split_words(args))
        if count > MAX_FILTERS:
            return msg.too_many_words(cmd, name, MAX_FILTERS, count, "topics and keywords")
        return None
    if len(args) > _MAX_ARGS:
        return msg.too_many_words(cmd, name, _MAX_ARGS, len(args), "words")
    return None


def _with_timezone(cmd: msg.CommandSyntax, sub: Subscription, name: str) -> Subscription | str:
    zone = parse_timezone(name)
    if zone is None:
        region = timezone_region(name)
        if region is not None:
            return msg.settings_timezone_region(cmd, region, example_zone(region))
        return msg.settings_bad_timezone(cmd, name)
    return replace(sub, timezone=zone.key)
