"""Alerts to the operators' admin chats (``DIGESTBOT_ADMIN_CHATS``).

Conditions are observed after each poll cycle (:func:`observe`, pure): a feed failing for
longer than a threshold, a platform rejecting the bot token, the oldest due outbox item waiting
longer than a threshold, a worker that started after a crash. :func:`decide` (pure) turns
observations and what was told before into at most one message per condition per hour: one
when a condition starts to hold (past its threshold), one when it ends, never a repeat while it
holds. :class:`Alerts` does the I/O: it reads and saves the conditions in the store and queues
the messages through the outbox, so they are paced, retried and never lost like any card.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Protocol

from bot import messages as msg
from bot.metrics import Metrics
from bot.models import AlertState, ChatRef, FeedRecord
from digests.models import Card

__all__ = [
    "AlertMessage",
    "AlertThresholds",
    "Alerts",
    "Observation",
    "decide",
    "observe",
]

log = logging.getLogger(__name__)

MIN_GAP = timedelta(hours=1)


@dataclass(frozen=True, slots=True)
class AlertThresholds:
    feed_failing: timedelta = timedelta(hours=6)
    outbox_age: timedelta = timedelta(minutes=30)


@dataclass(frozen=True, slots=True)
class Observation:
    key: str
    kind: str
    active: bool
    detail: str = ""
    after: timedelta = timedelta(0)  # how long it must hold before it is worth a message
    event: bool = False  # a one-off (a crash): told once, no "it ended" message


@dataclass(frozen=True, slots=True)
class AlertMessage:
    key: str
    kind: str
    ended: bool  # False: the condition holds; True: it is over
    detail: str


def observe(
    feeds: Iterable[FeedRecord],
    paused_platforms: Mapping[str, str],
    outbox: Mapping[str, tuple[int, float | None]],
    thresholds: AlertThresholds,
    *,
    platforms: Iterable[str] = (),
) -> list[Observation]:
    """The conditions as they are now (no crash event: :class:`Alerts` adds it at start)."""
    found = [
        Observation(
            f"feed:{f.url}",
            "feed_failing",
            f.error_count > 0,
            f"{f.name or f.url}: {f.last_error or 'failing'}",
            thresholds.feed_failing,
        )
        for f in feeds
    ]
    for platform in sorted({*platforms, *paused_platforms}):
        reason = paused_platforms.get(platform)
        found.append(
            Observation(f"token:{platform}", "token_rejected", reason is not None, reason or "")
        )
    limit = thresholds.outbox_age.total_seconds()
    for platform, (pending, oldest) in sorted(outbox.items()):
        stuck = oldest is not None and oldest >= limit
        detail = f"{pending} pending, oldest waiting {int((oldest or 0) // 60)} min"
        found.append(Observation(f"outbox:{platform}", "outbox_stuck", stuck, detail))
    return found


def decide(
    observations: Sequence[Observation],
    states: Mapping[str, AlertState],
    now: datetime,
    min_gap: timedelta = MIN_GAP,
) -> tuple[list[AlertMessage], list[AlertState], list[str]]:
    """``(messages to send, states to save, keys to forget)``.

    A condition that stops being observed (a removed feed) is forgotten without a message.
    """
    messages: list[AlertMessage] = []
    saved: list[AlertState] = []
    seen = set()
    for obs in observations:
        seen.add(obs.key)
        prev = states.get(obs.key) or AlertState(obs.key, obs.kind)
        may_send = prev.last_sent_at is None or now - prev.last_sent_at >= min_gap
        state = replace(prev, kind=obs.kind, detail=obs.detail or prev.detail)
        if obs.active:
            since = prev.since if prev.active and prev.since else now
            state = replace(state, active=True, since=since)
            if not prev.notified and now - since >= obs.after and may_send:
                messages.append(AlertMessage(obs.key, obs.kind, False, obs.detail))
                state = replace(state, notified=not obs.event, last_sent_at=now)
        else:
            state = replace(state, active=False, since=None)
            if prev.notified and may_send:
                messages.append(AlertMessage(obs.key, obs.kind, True, prev.detail or ""))
                state = replace(state, notified=False, last_sent_at=now)
        if state != prev:
            saved.append(state)
    forget = [key for key in states if key not in seen and not key.startswith("worker:")]
    return messages, saved, forget


class AlertStore(Protocol):
    async def alert_states(self) -> dict[str, AlertState]: ...

    async def save_alert_states(
        self, states: Iterable[AlertState], *, drop: Sequence[str] = ()
    ) -> None: ...

    async def queue_alert(self, chats: Sequence[ChatRef], card: Card, now: datetime) -> int: ...


def alert_card(message: AlertMessage) -> Card:
    """An alert as a card of no feed: title and one line, rendered like any card."""
    return Card(
        title=msg.alert_title(message.kind, ended=message.ended),
        url="",
        source="digestbot",
        published=None,
        summary=(msg.alert_text(message.kind, message.detail, ended=message.ended),),
        key_facts=(),
        editors_note=None,
        topics=(),
        reading_minutes=0,
    )


class Alerts:
    def __init__(
        self,
        store: AlertStore,
        chats: Sequence[ChatRef],
        *,
        thresholds: AlertThresholds | None = None,
        metrics: Metrics | None = None,
    ) -> None:
        self.store = store
        self.chats = list(chats)
        self.thresholds = thresholds or AlertThresholds()
        self.metrics = metrics or Metrics()

    async def check(self, observations: Sequence[Observation], now: datetime) -> int:
        """Decide, queue what is to be told, save the states; returns messages queued."""
        states = await self.store.alert_states()
        messages, saved, forget = decide(observations, states, now)
        queued = 0
        for message in messages:
            # The admin chats' words, not only the key: "alert: worker:vm: vm" said little.
            log.warning(
                "%s (%s): %s",
                msg.alert_title(message.kind, ended=message.ended),
                message.key,
                msg.alert_text(message.kind, message.detail, ended=message.ended),
            )
            if self.chats:
                queued += await self.store.queue_alert(self.chats, alert_card(message), now)
            self.metrics.alerts_sent.labels(kind=message.kind).inc()
        if saved or forget:
            await self.store.save_alert_states(saved, drop=forget)
        return queued

    async def worker_started(self, name: str, now: datetime) -> None:
        """Mark this worker running; when it already was (no clean stop was recorded), it
        crashed: tell the admin chats once."""
        key = f"worker:{name}"
        states = await self.store.alert_states()
        prev = states.get(key)
        if prev is not None and prev.active:
            crash = Observation(key, "worker_crashed", True, name, event=True)
            await self.check([crash], now)
            states = await self.store.alert_states()
            prev = states.get(key)
        base = prev or AlertState(key, "worker_crashed")
        await self.store.save_alert_states([replace(base, active=True, since=now, detail=name)])

    async def worker_stopped(self, name: str) -> None:
        key = f"worker:{name}"
        states = await self.store.alert_states()
        base = states.get(key) or AlertState(key, "worker_crashed")
        await self.store.save_alert_states([replace(base, active=False, since=None)])
