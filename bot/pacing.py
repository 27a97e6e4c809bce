"""How long to wait before the next message: per chat and across all chats.

Two limits, both decided by pure functions over plain numbers (times in seconds on a monotonic
clock) so they can be table-tested:

* per chat: at least ``min_interval`` seconds between two messages to the same chat
  (``ChatSender.min_interval``; Telegram: groups 3 s, private chats 1 s; Slack: 1 s);
* global: ``rate`` messages per second across all chats, with a small burst allowance. This is
  the generic cell rate algorithm (GCRA), a token bucket kept as one number, the "theoretical
  arrival time" of the next message.

:class:`Pacer` keeps that state for the delivery loop: ``reserve`` either books the message
for now (returns 0) or says how long to wait before asking again, so concurrent per-chat
senders never overrun the global rate and a slow chat never holds back the others.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["Pacer", "chat_slot", "gcra_reserve"]


def gcra_reserve(tat: float, at: float, rate: float, burst: int) -> tuple[float, float]:
    """Book one message at time ``at`` against a global limit.

    Returns ``(new_tat, start)``: when the message may go (``start >= at``) and the new state.
    ``burst`` messages may go back to back; after that, one every ``1/rate`` seconds.
    """
    if rate <= 0:
        return tat, at
    interval = 1.0 / rate
    tolerance = interval * max(0, burst - 1)
    tat = max(tat, at)
    start = max(at, tat - tolerance)
    return tat + interval, start


def chat_slot(next_free: float | None, at: float, min_interval: float) -> tuple[float, float]:
    """Book one message to a chat: returns ``(start, next_free)``."""
    start = at if next_free is None else max(at, next_free)
    return start, start + max(0.0, min_interval)


@dataclass
class Pacer:
    """Reservations against both limits; ``enabled=False`` (the benchmark) never waits."""

    rate: float = 25.0
    burst: int = 5
    enabled: bool = True
    clock: Callable[[], float] = time.monotonic

    def __post_init__(self) -> None:
        self._tat = 0.0
        self._chats: dict[str, float] = {}

    def reserve(self, chat_key: str, min_interval: float) -> float:
        """Try to book a message to ``chat_key`` now.

        Returns 0.0 when booked (send now), else the seconds to wait before asking again;
        nothing is booked then, so a chat waiting for its own interval never holds back the
        global rate for the others.
        """
        if not self.enabled:
            return 0.0
        now = self.clock()
        chat_start, _ = chat_slot(self._chats.get(chat_key), now, min_interval)
        if chat_start > now:
            return chat_start - now
        new_tat, start = gcra_reserve(self._tat, now, self.rate, self.burst)
        if start > now:
            return start - now
        self._tat = new_tat
        self._chats[chat_key] = now + max(0.0, min_interval)
        return 0.0

    def book(self, chat_key: str, min_interval: float) -> None:
        """A message to ``chat_key`` goes now (booked elsewhere against the global rate)."""
        self._chats[chat_key] = self.clock() + max(0.0, min_interval)

    def next_free_in(self, chat_key: str) -> float:
        """Seconds until ``chat_key`` may get its next message (0: now)."""
        next_free = self._chats.get(chat_key)
        return 0.0 if next_free is None else max(0.0, next_free - self.clock())

    def forget(self, chat_key: str) -> None:
        self._chats.pop(chat_key, None)
