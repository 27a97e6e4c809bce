"""``digestbot status``: what an operator checks first. Feeds (failing ones named), active
subscriptions per platform and the outbox, read from the store the worker uses; then the
workers (heartbeats), the leases each holds and who holds the update lock.

Exit code 1 when a feed is failing or items failed to send, so a cron job or a health check
can alert on it.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta

from bot.clock import utcnow
from bot.models import FeedRecord, Subscription, WorkerRecord
from bot.settings import Settings
from bot.store import open_store


def format_status(
    feeds: Sequence[FeedRecord], subscriptions: Sequence[Subscription], outbox: Mapping[str, int]
) -> tuple[str, bool]:
    """The report, and whether anything needs the operator's attention."""
    failing = [f for f in feeds if f.error_count]
    never = [f for f in feeds if f.last_polled_at is None and not f.error_count]
    lines = [
        f"feeds: {len(feeds)} ({len(feeds) - len(failing) - len(never)} ok, "
        f"{len(failing)} failing, {len(never)} not polled yet)"
    ]
    lines += [f"  FAILING x{f.error_count}: {f.url}: {f.last_error}" for f in failing]
    per_platform = Counter(s.chat.platform for s in subscriptions)
    platforms = ", ".join(f"{n} on {p}" for p, n in sorted(per_platform.items())) or "none"
    lines.append(f"active subscriptions: {len(subscriptions)} ({platforms})")
    lines.append(
        f"outbox: {outbox.get('pending', 0)} pending, {outbox.get('sent', 0)} sent, "
        f"{outbox.get('failed', 0)} failed"
    )
    if outbox.get("failed", 0):
        lines.append("  failed sends are logged by the worker with their reason")
    return "\n".join(lines), bool(failing or outbox.get("failed", 0))


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


async def _status(settings: Settings) -> int:
    async with open_store(settings.database_url) as store:
        feeds = await store.list_feeds()
        subscriptions = await store.active_subscriptions()
        outbox = await store.outbox_counts()
        workers = await store.list_workers()
        leases = await store.lease_counts(utcnow())
    text, attention = format_status(feeds, subscriptions, outbox)
    print(text)
    print(format_workers(workers, leases, utcnow(), 3 * settings.heartbeat_seconds))
    return 1 if attention else 0


def main_status(settings: Settings) -> int:
    return asyncio.run(_status(settings))
