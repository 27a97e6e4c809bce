"""When is something due? Pure functions over plain data: a subscriber's next digest
(:func:`next_due`), which subscriptions a new card is queued for and when (:func:`plan_queue`),
and how long to back off after failures (:func:`exponential_backoff`).

``instant``: now. ``hourly``: the next full hour in the subscriber's timezone (it matters for
zones that are 30 or 45 minutes off UTC). ``daily``: the next ``HH:MM`` wall-clock time in the
subscriber's timezone. Across DST: a time that does not exist that day (spring forward) moves
forward by the gap (02:30 -> 03:30); a time that happens twice (fall back) is due the first time.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Iterable, Sequence
from datetime import UTC, datetime, time, timedelta
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from bot.matching import IndexedSubscription
from bot.models import MODES, QueueRow, StoredCard, Subscription
from digests.models import Card

__all__ = [
    "MODES",
    "example_zone",
    "exponential_backoff",
    "next_due",
    "parse_daily_time",
    "parse_timezone",
    "plan_queue",
    "plan_queue_indexed",
    "timezone_region",
]
_HHMM = re.compile(r"^([01]?\d|2[0-3])[:.h]?([0-5]\d)$")


def parse_daily_time(text: str) -> str | None:
    """``"7:30"``, ``"07:30"``, ``"0730"``, ``"7h30"`` -> ``"07:30"``; ``None`` when invalid."""
    match = _HHMM.match(text.strip())
    if not match:
        return None
    return f"{int(match.group(1)):02d}:{match.group(2)}"


MAX_TIMEZONE_LENGTH = 64  # the longest IANA name is 32 characters


def parse_timezone(name: str) -> ZoneInfo | None:
    """An IANA zone (``Europe/Berlin``, any case) or ``None`` when unknown.

    Only names of the installed zone list are looked up: ``ZoneInfo`` reads a file named after
    its argument, and ``Europe`` (a directory), a name past the file system's limit or one
    with a NUL raise ``OSError`` or ``ValueError`` instead of "not found".
    """
    cleaned = name.strip()
    if not cleaned or len(cleaned) > MAX_TIMEZONE_LENGTH:
        return None
    # People type "europe/berlin" or "utc"; the zone files are case-sensitive.
    canonical = _zones_by_folded_name().get(cleaned.casefold())
    if canonical is None:
        return None
    try:
        return ZoneInfo(canonical)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return None


def timezone_region(name: str) -> str | None:
    """``Europe`` for ``europe``: a region of the zone list, which is not a zone by itself."""
    folded = name.strip().casefold()
    if not folded or len(folded) > MAX_TIMEZONE_LENGTH:
        return None
    for zone in _zones_by_folded_name().values():
        region, slash, _ = zone.rpartition("/")
        if slash and region.casefold() == folded:
            return region
    return None


_EXAMPLE_ZONES = {"Europe": "Europe/Berlin", "America": "America/New_York", "Asia": "Asia/Tokyo"}


def example_zone(region: str) -> str:
    """A zone of ``region`` to show as an example (``Europe/Berlin`` for ``Europe``)."""
    if region in _EXAMPLE_ZONES:
        return _EXAMPLE_ZONES[region]
    prefix = region + "/"
    zones = sorted(z for z in _zones_by_folded_name().values() if z.startswith(prefix))
    return zones[0] if zones else "Europe/Berlin"


@cache
def _zones_by_folded_name() -> dict[str, str]:
    return {name.casefold(): name for name in available_timezones()}


def next_due(mode: str, daily_time: str | None, tz: str, now: datetime) -> datetime:
    """The UTC time at or after ``now`` when a digest in ``mode`` is next due."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    now = now.astimezone(UTC)
    if mode == "instant":
        return now
    zone = parse_timezone(tz) or ZoneInfo("UTC")
    local = now.astimezone(zone)
    if mode == "hourly":
        return _next_hour(local)
    if mode == "daily":
        hhmm = parse_daily_time(daily_time or "") or "08:00"
        return _next_daily(local, zone, time(int(hhmm[:2]), int(hhmm[3:])))
    raise ValueError(f"unknown delivery mode {mode!r}")


def _next_hour(local: datetime) -> datetime:
    top = local.replace(minute=0, second=0, microsecond=0)
    if top == local:
        return local.astimezone(UTC)
    # Add in UTC: one real hour later, whatever the wall clock does across DST.
    return (top.astimezone(UTC) + timedelta(hours=1)).astimezone(UTC)


def _next_daily(local: datetime, zone: ZoneInfo, at: time) -> datetime:
    now_utc = local.astimezone(UTC)
    for days in range(3):
        day = local.date() + timedelta(days=days)
        candidate = _wall_clock_to_utc(datetime.combine(day, at), zone)
        if candidate >= now_utc:
            return candidate
    raise AssertionError("unreachable: a daily time recurs within two days")


def _wall_clock_to_utc(naive: datetime, zone: ZoneInfo) -> datetime:
    # fold=0 picks the first of two repeated wall times; for a wall time inside a spring-forward
    # gap it applies the offset from before the gap, which lands "gap" later on the new clock:
    # exactly the forward shift we want.
    return naive.replace(tzinfo=zone, fold=0).astimezone(UTC)


def plan_queue(
    cards: Sequence[StoredCard],
    subscriptions: Iterable[Subscription],
    matches: Callable[[Card, Sequence[str]], bool],
    now: datetime,
) -> list[QueueRow]:
    """``(subscription_id, card_id, not_before)`` for every active subscription a card matches;
    ``not_before`` is the subscription's next digest time (:func:`next_due`)."""
    planned: list[QueueRow] = []
    for sub in subscriptions:
        if not sub.active or sub.id is None:
            continue
        due = next_due(sub.mode, sub.daily_time, sub.timezone, now)
        for stored in cards:
            if not sub.filters or matches(stored.card, sub.filters):
                planned.append((sub.id, stored.id, due))
    return planned


def plan_queue_indexed(
    cards: Sequence[StoredCard],
    matching: Callable[[Card], Sequence[IndexedSubscription]],
    now: datetime,
    *,
    platforms: Collection[str] | None = None,
    audience: Collection[int] | None = None,
) -> list[QueueRow]:
    """:func:`plan_queue` over an index: ``matching(card)`` gives the subscriptions a card
    matches (:meth:`bot.matching.SubscriptionIndex.matching`); ``platforms``, when given,
    keeps only subscriptions there, and ``audience`` only those subscription ids (a feed
    added from chats reaches its owners only; ``None``: an operator's feed, everyone). The
    due time is worked out once per distinct schedule, not once per subscription (a card can
    match tens of thousands of them)."""
    due: dict[tuple[str, str | None, str], datetime] = {}
    planned: list[QueueRow] = []
    for stored in cards:
        for sub in matching(stored.card):
            if platforms is not None and sub.platform not in platforms:
                continue
            if audience is not None and sub.id not in audience:
                continue
            schedule = (sub.mode, sub.daily_time, sub.timezone)
            at = due.get(schedule)
            if at is None:
                at = due[schedule] = next_due(sub.mode, sub.daily_time, sub.timezone, now)
            planned.append((sub.id, stored.id, at))
    return planned


def exponential_backoff(base: float, exponent: int, cap: float) -> float:
    """``base x 2^exponent`` seconds, at most ``cap``: the wait after repeated failures (a
    feed's failed polls, an item's failed sends). The exponent is bounded so that something
    failing for months cannot overflow."""
    return float(min(cap, base * (2 ** min(max(0, exponent), 30))))
