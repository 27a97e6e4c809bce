"""``digestbot status``: what an operator checks first, from the store the worker uses.

Feeds (failing ones named with their error), active subscriptions per platform, the outbox,
and the deliveries that failed in the last ``DIGESTBOT_STATUS_WINDOW_HOURS`` (24 by default)
with their reasons grouped. Exit code 1 only for a problem that holds now, so a cron job or a
health check can alert on it: a failing feed, a platform rejecting the bot token, or an outbox
whose oldest due item has waited longer than ``DIGESTBOT_ALERT_OUTBOX_MINUTES``. A chat that
blocked the bot last week, or cards cancelled by an unsubscribe, are history, not problems.
Then the workers (heartbeats), the leases each holds and who holds the update lock. ``--json``
prints the same as one JSON object.
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from bot.clock import utcnow
from bot.models import FeedRecord, Subscription, WorkerRecord
from bot.settings import Settings
from bot.store import SqlStore, open_store

__all__ = [
    "StatusExtras",
    "feed_error",
    "format_status",
    "format_workers",
    "gather_extras",
    "main_status",
    "status_json",
]


@dataclass(frozen=True, slots=True)
class StatusExtras:
    """What ``status`` shows beyond feeds, subscriptions and outbox counts."""

    failures: Sequence[tuple[str, str, int]] = ()  # (outcome, reason, items) in the window
    outbox_by_platform: Mapping[str, tuple[int, float | None]] = field(default_factory=dict)
    tokens_rejected: Mapping[str, str] = field(default_factory=dict)  # platform -> reason
    stuck_after_seconds: float = 1800.0
    window_hours: float = 24.0


def feed_error(feed: FeedRecord) -> str:
    """The feed's last error without its URL repeated in front."""
    error = feed.last_error or "failing"
    prefix = f"{feed.url}: "
    return error[len(prefix) :] if error.startswith(prefix) else error


def _problems(
    feeds: Sequence[FeedRecord], extras: StatusExtras
) -> tuple[list[FeedRecord], list[str]]:
    failing = [f for f in feeds if f.error_count]
    stuck = [
        f"{platform}: oldest due card waiting {int((oldest or 0) // 60)} min ({pending} pending)"
        for platform, (pending, oldest) in sorted(extras.outbox_by_platform.items())
        if oldest is not None and oldest >= extras.stuck_after_seconds
    ]
    return failing, stuck


def format_status(
    feeds: Sequence[FeedRecord],
    subscriptions: Sequence[Subscription],
    outbox: Mapping[str, int],
    extras: StatusExtras | None = None,
) -> tuple[str, bool]:
    """The report, and whether something needs the operator's attention now."""
    extras = extras or StatusExtras()
    failing, stuck = _problems(feeds, extras)
    never = [f for f in feeds if f.last_polled_at is None and not f.error_count]
    lines = [
        f"feeds: {len(feeds)} ({len(feeds) - len(failing) - len(never)} ok, "
        f"{len(failing)} failing, {len(never)} not polled yet)"
    ]
    lines += [f"  FAILING x{f.error_count}: {f.url}: {feed_error(f)}" for f in failing]
    per_platform = Counter(s.chat.platform for s in subscriptions)
    platforms = ", ".join(f"{n} on {p}" for p, n in sorted(per_platform.items())) or "none"
    lines.append(f"active subscriptions: {len(subscriptions)} ({platforms})")
    counts = f"{outbox.get('pending', 0)} pending, {outbox.get('sent', 0)} sent, "
    counts += f"{outbox.get('failed', 0)} failed"
    if outbox.get("cancelled"):
        counts += f", {outbox['cancelled']} cancelled by unsubscribes"
    lines.append(f"outbox: {counts}")
    lines += [f"  STUCK {line}" for line in stuck]
    lines += [f"  TOKEN REJECTED {p}: {why}" for p, why in sorted(extras.tokens_rejected.items())]
    window = f"{extras.window_hours:g} h"
    if extras.failures:
        lines.append(f"not delivered in the last {window}:")
        lines += [f"  {n} x {reason or outcome}" for outcome, reason, n in extras.failures]
    else:
        lines.append(f"not delivered in the last {window}: nothing")
    return "\n".join(lines), bool(failing or stuck or extras.tokens_rejected)


def status_json(
    feeds: Sequence[FeedRecord],
    subscriptions: Sequence[Subscription],
    outbox: Mapping[str, int],
    extras: StatusExtras,
) -> dict[str, Any]:
    failing, stuck = _problems(feeds, extras)

    def when(value: datetime | None) -> str | None:
        return value.isoformat() if value else None

    return {
        "ok": not (failing or stuck or extras.tokens_rejected),
        "feeds": [
            {
                "url": f.url,
                "name": f.name,
                "error_count": f.error_count,
                "last_error": feed_error(f) if f.error_count else None,
                "last_polled_at": when(f.last_polled_at),
                "next_poll_at": when(f.next_poll_at),
                "origin": f.origin,
            }
            for f in feeds
        ],
        "subscriptions": dict(Counter(s.chat.platform for s in subscriptions)),
        "outbox": dict(outbox),
        "outbox_by_platform": {
            p: {"pending": n, "oldest_due_seconds": age}
            for p, (n, age) in extras.outbox_by_platform.items()
        },
        "tokens_rejected": dict(extras.tokens_rejected),
        "stuck": stuck,
        "failures": [
            {"outcome": outcome, "reason": reason, "items": n}
            for outcome, reason, n in extras.failures
        ],
        "window_hours": extras.window_hours,
    }


async def gather_extras(store: SqlStore, settings: Settings, now: datetime) -> StatusExtras:
    return StatusExtras(
        failures=await store.recent_failures(now - timedelta(hours=settings.status_window_hours)),
        outbox_by_platform=await store.outbox_by_platform(now),
        tokens_rejected={
            key.split(":", 1)[1]: state.detail or "rejected"
            for key, state in (await store.alert_states()).items()
            if key.startswith("token:") and state.active
        },
        stuck_after_seconds=settings.alert_outbox_minutes * 60,
        window_hours=settings.status_window_hours,
    )


def format_workers(
    workers: Sequence[WorkerRecord],
    leases: Mapping[str, tuple[int, int]],
    now: datetime,
    dead_after: float,
) -> str:
    """Live workers (heartbeat within ``dead_after`` seconds), what each does and holds, and
    who holds the update lock; workers whose heartbeat stopped are named as dead."""
    live = [w for w in workers if now - w.seen_at <= timedelta(seconds=dead_after)]
    lines = [
        f"workers: {len(live)} live"
        + (f", {len(workers) - len(live)} dead" if len(workers) > len(live) else "")
    ]
    for w in workers:
        age = max(0, int((now - w.seen_at).total_seconds()))
        feeds, chats = leases.get(w.id, (0, 0))
        state = f"seen {age} s ago" if w in live else f"DEAD (no heartbeat for {age} s)"
        lock = ", holds the update lock" if w.holds_updates and w in live else ""
        lines.append(
            f"  {w.id} ({','.join(w.roles)}): {state}, leases {feeds} feed(s) {chats} chat(s){lock}"
        )
    holders = [w.id for w in live if w.holds_updates]
    lines.append(f"update lock (Telegram long polling): {', '.join(holders) or 'nobody'}")
    return "\n".join(lines)


async def _status(settings: Settings, as_json: bool) -> int:
    async with open_store(settings.database_url) as store:
        feeds = await store.list_feeds()
        subscriptions = await store.active_subscriptions()
        outbox = await store.outbox_counts()
        extras = await gather_extras(store, settings, utcnow())
        workers = await store.list_workers()
        leases = await store.lease_counts(utcnow())
        clock = await store.leases_clock(utcnow())  # heartbeats are on this clock
    dead_after = 3 * settings.heartbeat_seconds
    if as_json:
        data = status_json(feeds, subscriptions, outbox, extras)
        data["workers"] = [
            {
                "id": w.id,
                "roles": list(w.roles),
                "live": clock - w.seen_at <= timedelta(seconds=dead_after),
                "holds_updates": w.holds_updates,
                "seen_at": w.seen_at.isoformat(),
                "leases": dict(zip(("feeds", "chats"), leases.get(w.id, (0, 0)), strict=True)),
            }
            for w in workers
        ]
        print(json.dumps(data, indent=2, ensure_ascii=False))
        return 0 if data["ok"] else 1
    text, attention = format_status(feeds, subscriptions, outbox, extras)
    print(text)
    print(format_workers(workers, leases, clock, dead_after))
    return 1 if attention else 0


def main_status(settings: Settings, *, as_json: bool = False) -> int:
    return asyncio.run(_status(settings, as_json))
