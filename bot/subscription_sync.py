"""The poller's subscription index kept up to date in place: a subscribe, an unsubscribe or a
settings change re-reads that subscription's row, not all 100,000.

What changed is found two ways, because subscriptions are written by this process (the command
core, through the same store) and by others (other workers, ``digestbot`` commands):

* the store remembers the ids it wrote (:meth:`take_subscription_changes`): exact, whatever
  the timestamps say;
* rows whose ``updated_at`` is at or after the newest one seen at the last look, less
  ``SKEW`` (clocks of other workers), are read again: re-indexing a row is idempotent, so the
  overlap costs a few rows, never a wrong answer.

The table's fingerprint (newest id and ``updated_at``, two index look-ups) says whether anything
changed at all, so an idle cycle costs one small query. A full rebuild still happens at start,
every ``rebuild_every`` seconds (a write that set no ``updated_at``, or one stamped by a clock
more than ``SKEW`` behind, is picked up then), and whenever the index's size disagrees with the
active count (compared after an update, at most every ``check_every`` seconds: a scan). Right
after a bulk write (thousands of subscriptions stamped within ``SKEW`` of each other) the first
update re-reads them all once.

Public API::

    live = LiveIndex(store, topic_names)
    index = await live.current()      # SubscriptionIndex; live.rebuilds / live.updates count
"""

from __future__ import annotations

import time
from collections.abc import Callable, Collection
from datetime import datetime, timedelta
from typing import Any

from bot.matching import SubscriptionIndex
from bot.ports import SubscriptionSource

__all__ = ["LiveIndex", "SubscriptionSource"]

SKEW = timedelta(seconds=30)
REBUILD_EVERY = 3600.0
CHECK_EVERY = 300.0  # the active count (a scan) is compared at most this often


def _newest_update(fingerprint: tuple[Any, ...] | None) -> datetime | None:
    return None if fingerprint is None else fingerprint[1]


class LiveIndex:
    def __init__(
        self,
        store: SubscriptionSource,
        topic_names: Collection[str],
        *,
        rebuild_every: float = REBUILD_EVERY,
        check_every: float = CHECK_EVERY,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._store = store
        self._topic_names = tuple(topic_names)
        self._rebuild_every = rebuild_every
        self._check_every = check_every
        self._monotonic = monotonic
        self._index: SubscriptionIndex | None = None
        self._fingerprint: tuple[Any, ...] | None = None
        self._built_at = 0.0
        self._checked_at = 0.0
        self._pending: set[int] = set()  # written here, not yet applied (kept if a read fails)
        self.rebuilds = 0
        self.updates = 0

    async def current(self) -> SubscriptionIndex:
        """The index as the store is now (a query or two when nothing changed)."""
        self._pending |= self._store.take_subscription_changes()
        changed = set(self._pending)
        fingerprint = tuple(await self._store.subscriptions_fingerprint())
        index = self._index
        if index is None or self._monotonic() - self._built_at >= self._rebuild_every:
            return await self._rebuild(fingerprint)
        if not changed and fingerprint == self._fingerprint:
            return index
        newest = _newest_update(self._fingerprint)
        since = None if newest is None else newest - SKEW
        active, inactive = await self._store.changed_subscriptions(changed, since)
        for sub in active:
            index.add(sub)  # replaces what was indexed under its id
        for sub_id in inactive:
            index.remove(sub_id)
        self._pending -= changed
        self._fingerprint = fingerprint
        self.updates += 1
        if self._monotonic() - self._checked_at >= self._check_every:
            self._checked_at = self._monotonic()
            if len(index) != await self._store.active_subscription_count():
                # A change no timestamp shows (or one made between the two reads): start over.
                return await self._rebuild(fingerprint)
        return index

    async def _rebuild(self, fingerprint: tuple[Any, ...]) -> SubscriptionIndex:
        index = SubscriptionIndex(self._topic_names)
        index.add_all(await self._store.indexed_subscriptions())
        self._index, self._fingerprint = index, fingerprint
        self._pending.clear()
        self._built_at = self._checked_at = self._monotonic()
        self.rebuilds += 1
        return index
