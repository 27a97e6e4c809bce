"""Alert states saved by several workers at once (they start together and save the same
``worker:<host>`` alert): one statement per row that inserts or updates, never a key clash."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from bot.models import AlertState
from bot.store import SqlStore
from tests.bot.test_bot_store import any_store  # noqa: F401  (fixture)

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


async def test_the_same_alert_saved_at_once_by_many_workers(any_store: SqlStore) -> None:  # noqa: F811
    states = [
        AlertState("worker:vm", "worker_crashed", active=True, since=NOW, detail=f"try {n}")
        for n in range(8)
    ]
    await asyncio.gather(*(any_store.save_alert_states([s]) for s in states))
    saved = await any_store.alert_states()
    assert list(saved) == ["worker:vm"]
    assert saved["worker:vm"].active and saved["worker:vm"].detail in {s.detail for s in states}


async def test_saving_updates_and_drops(any_store: SqlStore) -> None:  # noqa: F811
    await any_store.save_alert_states([AlertState("feed:a", "feed_failing", active=True)])
    await any_store.save_alert_states(
        [AlertState("feed:a", "feed_failing", active=False, notified=True)], drop=["feed:b"]
    )
    [state] = (await any_store.alert_states()).values()
    assert (state.active, state.notified) == (False, True)
    await any_store.save_alert_states([], drop=["feed:a"])
    assert await any_store.alert_states() == {}
