"""``digestbot status``: what an operator checks first. Feeds (failing ones named), active
subscriptions per platform and the outbox, read from the store the worker uses.

Exit code 1 when a feed is failing or items failed to send, so a cron job or a health check
can alert on it.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Mapping, Sequence

from bot.models import FeedRecord, Subscription
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


async def _status(settings: Settings) -> int:
    async with open_store(settings.database_url) as store:
        feeds = await store.list_feeds()
        subscriptions = await store.active_subscriptions()
        outbox = await store.outbox_counts()
    text, attention = format_status(feeds, subscriptions, outbox)
    print(text)
    return 1 if attention else 0


def main_status(settings: Settings) -> int:
    return asyncio.run(_status(settings))
