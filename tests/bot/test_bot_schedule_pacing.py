"""Pure decisions: when a digest is due, how long to wait before a message, feed back-off."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.delivery import DeliveryPolicy, backoff_delay
from bot.pacing import Pacer, chat_slot, gcra_reserve
from bot.poller import next_poll_after_failure, next_poll_after_success
from bot.schedule import next_due, parse_daily_time, parse_timezone


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


@pytest.mark.parametrize(
    ("mode", "daily", "tz", "now", "due"),
    [
        ("instant", None, "UTC", utc(2026, 3, 2, 9, 17), utc(2026, 3, 2, 9, 17)),
        ("hourly", None, "UTC", utc(2026, 3, 2, 9, 17), utc(2026, 3, 2, 10, 0)),
        ("hourly", None, "UTC", utc(2026, 3, 2, 10, 0), utc(2026, 3, 2, 10, 0)),
        ("hourly", None, "UTC", utc(2026, 12, 31, 23, 59), utc(2027, 1, 1, 0, 0)),
        # India is UTC+5:30: its full hours fall on UTC half hours.
        ("hourly", None, "Asia/Kolkata", utc(2026, 3, 2, 9, 17), utc(2026, 3, 2, 9, 30)),
        ("daily", "08:00", "UTC", utc(2026, 3, 2, 7, 59), utc(2026, 3, 2, 8, 0)),
        ("daily", "08:00", "UTC", utc(2026, 3, 2, 8, 0), utc(2026, 3, 2, 8, 0)),
        ("daily", "08:00", "UTC", utc(2026, 3, 2, 8, 1), utc(2026, 3, 3, 8, 0)),
        # Berlin in winter is UTC+1, in summer UTC+2.
        ("daily", "07:30", "Europe/Berlin", utc(2026, 1, 10, 12), utc(2026, 1, 11, 6, 30)),
        ("daily", "07:30", "Europe/Berlin", utc(2026, 7, 10, 12), utc(2026, 7, 11, 5, 30)),
        # Across the spring-forward night (29 Mar 2026, 02:00 -> 03:00 in Berlin).
        ("daily", "07:30", "Europe/Berlin", utc(2026, 3, 28, 12), utc(2026, 3, 29, 5, 30)),
        # 02:30 does not exist that night: it moves forward by the gap, to 03:30 CEST.
        ("daily", "02:30", "Europe/Berlin", utc(2026, 3, 28, 12), utc(2026, 3, 29, 1, 30)),
        # 02:30 happens twice on 25 Oct 2026 (fall back): the first one, still CEST.
        ("daily", "02:30", "Europe/Berlin", utc(2026, 10, 24, 12), utc(2026, 10, 25, 0, 30)),
        # New York, spring forward on 8 Mar 2026.
        ("daily", "09:00", "America/New_York", utc(2026, 3, 7, 15), utc(2026, 3, 8, 13, 0)),
        # Hourly across the fall-back hour: one real hour, whatever the wall clock says.
        ("hourly", None, "Europe/Berlin", utc(2026, 10, 25, 0, 40), utc(2026, 10, 25, 1, 0)),
        # No time given: 08:00; an unknown zone: UTC.
        ("daily", None, "UTC", utc(2026, 3, 2, 9), utc(2026, 3, 3, 8)),
        ("daily", "08:00", "Nowhere/City", utc(2026, 3, 2, 9), utc(2026, 3, 3, 8)),
    ],
)
def test_next_due(mode: str, daily: str | None, tz: str, now: datetime, due: datetime) -> None:
    assert next_due(mode, daily, tz, now) == due


def test_next_due_refuses_naive_time_and_unknown_mode() -> None:
    with pytest.raises(ValueError):
        next_due("instant", None, "UTC", datetime(2026, 1, 1))
    with pytest.raises(ValueError):
        next_due("weekly", None, "UTC", utc(2026, 1, 1))


@pytest.mark.parametrize(
    ("text", "parsed"),
    [
        ("7:30", "07:30"),
        ("07:30", "07:30"),
        ("0730", "07:30"),
        ("7h30", "07:30"),
        ("23:59", "23:59"),
        ("00:00", "00:00"),
        ("24:00", None),
        ("7:60", None),
        ("", None),
        ("seven", None),
        ("7", None),
    ],
)
def test_parse_daily_time(text: str, parsed: str | None) -> None:
    assert parse_daily_time(text) == parsed


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("Europe/Berlin", "Europe/Berlin"),
        ("europe/berlin", "Europe/Berlin"),
        ("UTC", "UTC"),
        ("utc", "UTC"),
        ("Mars/Base", None),
        ("../etc/passwd", None),
        ("", None),
    ],
)
def test_parse_timezone(text: str, key: str | None) -> None:
    zone = parse_timezone(text)
    assert (zone.key if zone else None) == key


@pytest.mark.parametrize(
    ("tat", "at", "rate", "burst", "new_tat", "start"),
    [
        (0.0, 10.0, 2.0, 1, 10.5, 10.0),  # idle: go now, next slot in 1/rate
        (10.5, 10.0, 2.0, 1, 11.0, 10.5),  # busy: wait for the slot
        (10.5, 10.0, 2.0, 2, 11.0, 10.0),  # a burst of 2 lets the second go at once
        (11.0, 10.0, 2.0, 2, 11.5, 10.5),  # the third waits
        (5.0, 10.0, 0.0, 1, 5.0, 10.0),  # rate 0: no global limit
    ],
)
def test_gcra_reserve(
    tat: float, at: float, rate: float, burst: int, new_tat: float, start: float
) -> None:
    assert gcra_reserve(tat, at, rate, burst) == (new_tat, start)


@pytest.mark.parametrize(
    ("next_free", "at", "interval", "start", "after"),
    [
        (None, 5.0, 3.0, 5.0, 8.0),
        (8.0, 6.0, 3.0, 8.0, 11.0),
        (4.0, 6.0, 3.0, 6.0, 9.0),
        (None, 1.0, 0.0, 1.0, 1.0),
    ],
)
def test_chat_slot(
    next_free: float | None, at: float, interval: float, start: float, after: float
) -> None:
    assert chat_slot(next_free, at, interval) == (start, after)


def test_pacer_combines_chat_interval_and_global_rate() -> None:
    now = [100.0]
    pacer = Pacer(rate=10.0, burst=1, clock=lambda: now[0])
    assert pacer.reserve("group", 3.0) == 0.0  # booked
    assert pacer.reserve("group", 3.0) == 3.0  # a Telegram group: one message per 3 s
    # Another chat is held only by the global rate (10/s), not by the group's interval.
    assert pacer.reserve("dm", 0.0) == pytest.approx(0.1)
    now[0] = 100.1
    assert pacer.reserve("dm", 0.0) == 0.0
    assert pacer.reserve("group", 3.0) == pytest.approx(2.9)
    now[0] = 103.0
    assert pacer.reserve("group", 3.0) == 0.0
    assert Pacer(enabled=False).reserve("group", 3.0) == 0.0


def test_pacer_burst_then_rate() -> None:
    now = [0.0]
    pacer = Pacer(rate=4.0, burst=3, clock=lambda: now[0])
    assert [pacer.reserve(f"chat{i}", 0.0) for i in range(3)] == [0.0, 0.0, 0.0]
    assert pacer.reserve("chat3", 0.0) == pytest.approx(0.25)


@pytest.mark.parametrize(
    ("attempts", "delay"), [(0, 5.0), (1, 10.0), (3, 40.0), (10, 3600.0), (40, 3600.0)]
)
def test_delivery_backoff(attempts: int, delay: float) -> None:
    assert backoff_delay(attempts, DeliveryPolicy()) == delay


NOW = utc(2026, 3, 2, 9)


@pytest.mark.parametrize(
    ("interval", "ttl", "after"),
    [
        (600, None, timedelta(minutes=10)),
        (600, 5, timedelta(minutes=10)),
        (600, 60, timedelta(hours=1)),
    ],
)
def test_feed_ttl_is_honoured(interval: int, ttl: int | None, after: timedelta) -> None:
    assert next_poll_after_success(NOW, interval, ttl) == NOW + after


@pytest.mark.parametrize(
    ("errors", "after"),
    [
        (1, timedelta(minutes=10)),
        (2, timedelta(minutes=20)),
        (3, timedelta(minutes=40)),
        (10, timedelta(hours=6)),
        (60, timedelta(hours=6)),
    ],
)
def test_feed_failure_backoff(errors: int, after: timedelta) -> None:
    assert next_poll_after_failure(NOW, 600, errors) == NOW + after
