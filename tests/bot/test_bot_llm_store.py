"""The store's side of LLM summaries: the shared cache and the per-feed summary mode."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.store import SqlStore
from digests.llm_cache import CachedSummary


async def test_summaries_are_shared_through_the_store(store: SqlStore, db_url: str) -> None:
    assert await store.get_summary("k1") is None
    accepted = CachedSummary(("One.", "Two."), "accepted", "h", "tiny", "summary-v1:abcd")
    await store.put_summary("k1", accepted)
    await store.put_summary("k2", CachedSummary(None, "invented_name", "h2", "tiny", "v"))
    # A second writer of the same key (another worker) keeps the first answer.
    await store.put_summary("k1", CachedSummary(("Other.",), "accepted", "h", "tiny", "v"))
    assert await store.count_summaries_since(datetime.now(UTC) - timedelta(hours=1)) == 2
    assert await store.count_summaries_since(datetime.now(UTC) + timedelta(minutes=1)) == 0
    other = SqlStore.from_url(db_url)  # another process: a restart, another worker
    try:
        assert await other.get_summary("k1") == CachedSummary(("One.", "Two."), "accepted")
        assert await other.get_summary("k2") == CachedSummary(None, "invented_name")
    finally:
        await other.close()


async def test_feeds_keep_their_summary_mode(store: SqlStore) -> None:
    feed, _ = await store.add_feed("https://a.example/feed")
    assert feed.summary_mode is None  # the settings' default
    changed, _ = await store.add_feed("https://a.example/feed", summary_mode="extractive")
    assert changed.summary_mode == "extractive"
    kept, _ = await store.add_feed("https://a.example/feed", name="A")
    assert kept.summary_mode == "extractive"
    assert [f.summary_mode for f in await store.due_feeds(kept.added_at)] == ["extractive"]
