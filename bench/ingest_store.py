"""The store side of ``bench/ingest.py`` (run it through that script): queueing one card for S
subscriptions, keeping the subscription index up to date after one change, ``/digest`` beside
``/list``, and an OPML import. Each figure beside a baseline measured in the same run."""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402

from bot.commands import CommandCore  # noqa: E402
from bot.filters import TaxonomyCatalog  # noqa: E402
from bot.ports import ChatRef, CommandRequest  # noqa: E402
from bot.store import SqlStore, entry_key, feeds_t, outbox_t, subscriptions_t  # noqa: E402
from bot.store.entries import card_data  # noqa: E402
from bot.store.schema import cards_t  # noqa: E402
from digests.config import CONFIG_DIR  # noqa: E402
from digests.models import Card  # noqa: E402
from digests.topics import Taxonomy  # noqa: E402

# --- queueing --------------------------------------------------------------------------------

WORDS = [w for words in Taxonomy.load(CONFIG_DIR / "topics.toml").topics.values() for w in words]


def random_filters(rng: random.Random) -> list[str]:
    pick = rng.random()
    if pick < 0.05:
        return []
    return rng.sample(WORDS, rng.randint(1, 4))


def bench_card() -> Card:
    return Card(
        title="Central bank holds rates as inflation cools and exports slow",
        url="https://news.example/a", source="Bench News", published=datetime.now(UTC),
        summary=("The central bank kept its interest rate unchanged on Tuesday.",
                 "Economists expect a cut in the spring as the labour market loosens.",
                 "Exporters say tariffs and the strong currency weigh on trade."),
        key_facts=("Inflation fell to 2.4% in November.",), editors_note=None,
        topics=("economy", "trade"), reading_minutes=3,
    )  # fmt: skip


async def seed_subscriptions(store: SqlStore, count: int) -> None:
    rng = random.Random(15)
    # Subscribed over the past 30 days, one after another, as in a deployment.
    start = datetime.now(UTC) - timedelta(days=30)
    step = timedelta(days=30) / max(count, 1)
    rows = [
        {"platform": "telegram", "chat_id": str(n), "filters": random_filters(rng),
         "mode": rng.choice(["instant", "instant", "hourly", "daily"]), "daily_time": "08:00",
         "timezone": rng.choice(["UTC", "Europe/Berlin", "Asia/Tokyo"]), "active": True,
         "created_at": start + n * step, "updated_at": start + n * step}
        for n in range(count)
    ]  # fmt: skip
    async with store.engine.begin() as conn:
        for start in range(0, len(rows), 5000):
            await conn.execute(subscriptions_t.insert(), rows[start : start + 5000])


async def queue_one(store: SqlStore, subs: int, label: str) -> None:
    from bot.matching import SubscriptionIndex
    from bot.schedule import plan_queue_indexed

    await store.upgrade()
    try:
        await seed_subscriptions(store, subs)
        feed, _ = await store.add_feed(f"https://news.example/{uuid.uuid4().hex}.xml")
        names = Taxonomy.load(CONFIG_DIR / "topics.toml").names()
        now = datetime.now(UTC)
        t0 = time.perf_counter()
        index = SubscriptionIndex(names)
        index.add_all(await store.indexed_subscriptions())
        t_index = time.perf_counter() - t0
        figures = []
        for entry in ("cold", "warm"):  # the first card compiles its candidate keywords
            t1 = time.perf_counter()
            async with store.transaction() as tx:
                [stored] = await tx.record_entries(feed.id, [(entry, bench_card())], now)
                t2 = time.perf_counter()
                matched = index.matching(stored.card)
                t_match = time.perf_counter() - t2
                rows = plan_queue_indexed([stored], index.matching, now)
                t3 = time.perf_counter()
                queued = await tx.enqueue(rows, now)
                t_insert = time.perf_counter() - t3
            figures.append((entry, time.perf_counter() - t1, t_match, t_insert))
        distinct = len({tuple(sorted(s.filters)) for s in await store.indexed_subscriptions()})
        async with store.engine.begin() as conn:
            await conn.execute(sa.delete(outbox_t).where(outbox_t.c.card_id == stored.id))
        plain = [
            {"subscription_id": s, "card_id": c, "not_before": nb, "status": "pending",
             "attempts": 0, "created_at": now}
            for s, c, nb in rows
        ]  # fmt: skip
        t4 = time.perf_counter()
        async with store.engine.begin() as conn:
            await conn.execute(sa.insert(outbox_t), plain)
        t_bare = time.perf_counter() - t4
        print(
            f"  {label}: {subs} subscriptions ({distinct} distinct filter sets), "
            f"{len(matched)} matched, {queued} queued; index built from the store in "
            f"{t_index:.3f} s (once per change of subscriptions)"
        )
        for entry, total, t_match, t_insert in figures:
            print(
                f"    {entry} card: queued in {total:.3f} s (matching {t_match:.3f} s, "
                f"outbox insert {t_insert:.3f} s)"
            )
        print(f"    bare SQLAlchemy executemany insert of the same rows: {t_bare:.3f} s")
        await one_change(store, names, args_repeat=5)
    finally:
        async with store.engine.begin() as conn:
            for table in (outbox_t, cards_t, subscriptions_t, feeds_t):
                await conn.execute(sa.delete(table))
        await store.close()


async def one_change(store: SqlStore, names: list[str], args_repeat: int) -> None:
    """One subscription changed (``/subscribe`` with new words), then the next card matched:
    the index updated in place (bot.subscription_sync) beside rebuilt from the store."""
    from bot.models import Subscription
    from bot.subscription_sync import LiveIndex

    live = LiveIndex(store, names)
    await live.current()  # built once, as at the worker's start
    card = bench_card()
    rng = random.Random(7)
    in_place, rebuilt = [], []
    for n in range(args_repeat):
        chat = ChatRef("telegram", str(rng.randrange(1000)))
        await store.save_subscription(Subscription(chat, filters=("tariff", f"word{n}")))
        t = time.perf_counter()
        index = await live.current()
        index.matching(card)
        in_place.append(time.perf_counter() - t)
        t = time.perf_counter()
        fresh = LiveIndex(store, names)
        (await fresh.current()).matching(card)
        rebuilt.append(time.perf_counter() - t)
        assert [s.id for s in index.matching(card)] == [s.id for s in fresh._index.matching(card)]  # type: ignore[union-attr]
    a, b = statistics.median(in_place), statistics.median(rebuilt)
    print(
        f"    one subscription changed, then the next card matched ({args_repeat} runs, "
        f"median): index updated in place {a * 1000:.1f} ms; rebuilt from the store "
        f"{b * 1000:.0f} ms ({b / a:.0f}x); in-place updates {live.updates}, rebuilds "
        f"{live.rebuilds}"
    )


async def queue(args: argparse.Namespace) -> None:
    print("queueing one card:")
    with tempfile.TemporaryDirectory() as tmp:
        store = SqlStore.from_url(f"sqlite+aiosqlite:///{tmp}/q.sqlite3")
        await queue_one(store, args.subs, "SQLite")
    if args.postgres:
        schema = f"bench_{uuid.uuid4().hex[:8]}"
        from sqlalchemy.ext.asyncio import create_async_engine

        admin = create_async_engine(args.postgres)
        async with admin.begin() as conn:
            await conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
        try:
            engine = create_async_engine(
                args.postgres, connect_args={"server_settings": {"search_path": schema}}
            )
            await queue_one(SqlStore(engine), args.subs, "PostgreSQL")
        finally:
            async with admin.begin() as conn:
                await conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
            await admin.dispose()


# --- /digest ---------------------------------------------------------------------------------


async def digest(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        store = SqlStore.from_url(f"sqlite+aiosqlite:///{tmp}/d.sqlite3")
        await store.upgrade()
        now = datetime.now(UTC)
        feed, _ = await store.add_feed("https://news.example/feed.xml")
        card = card_data(bench_card())
        if args.with_text:
            card["text"] = "x " * 3000  # what a card stored before text was dropped carries
        async with store.engine.begin() as conn:
            await conn.execute(
                sa.insert(cards_t),
                [{"feed_id": feed.id, "entry_key": entry_key(str(n)), "data": card,
                  "published_at": now, "created_at": now} for n in range(args.cards)],
            )  # fmt: skip
        catalog = TaxonomyCatalog(Taxonomy.load(CONFIG_DIR / "topics.toml"))
        core = CommandCore(store, catalog)
        chat = ChatRef("telegram", "1")
        await core.handle(CommandRequest(chat, "subscribe", ("tariff", "harbour", "chip",
                                                              "vaccine", "drought")))  # fmt: skip

        # The three requests take turns, so that the machine's noise falls on all alike.
        requests = {
            "digest": CommandRequest(chat, "digest", ()),
            "list": CommandRequest(chat, "list", ()),
            "none": CommandRequest(
                chat, "digest", ("volcano", "glacier", "opera", "rugby", "satellite")
            ),
        }
        times: dict[str, list[float]] = {name: [] for name in requests}
        for _ in range(args.repeat):
            for name, request in requests.items():
                t = time.perf_counter()
                await core.handle(request)
                times[name].append((time.perf_counter() - t) * 1000)
        d, li, none = (statistics.median(times[name]) for name in requests)
        print(
            f"/digest (5 keyword filters) over {args.cards} stored cards: {d:.1f} ms median; "
            f"/list: {li:.1f} ms ({d / li:.1f}x); /digest with 5 keywords no card has "
            f"(reads the 200 latest): {none:.1f} ms ({none / li:.1f}x)"
        )
        await store.close()


# --- OPML import -----------------------------------------------------------------------------


async def opml(args: argparse.Namespace) -> None:
    from bot.feeds_cli import _import

    body = "".join(
        f'<outline type="rss" text="Feed {n}" xmlUrl="https://n{n}.example/feed.xml" '
        f'category="economy"/>'
        for n in range(args.feeds)
    )
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "feeds.opml"
        path.write_text(f'<?xml version="1.0"?><opml version="2.0"><body>{body}</body></opml>')
        store = SqlStore.from_url(f"sqlite+aiosqlite:///{tmp}/o.sqlite3")
        await store.upgrade()
        t = time.perf_counter()
        await _import(store, str(path))
        ours = time.perf_counter() - t
        now = datetime.now(UTC)
        rows = [
            {"url": f"https://b{n}.example/feed.xml", "name": f"Feed {n}", "topics": ["economy"],
             "added_at": now, "error_count": 0, "initialized": False}
            for n in range(args.feeds)
        ]  # fmt: skip
        t = time.perf_counter()
        async with store.engine.begin() as conn:
            await conn.execute(sa.insert(feeds_t), rows)
        bare = time.perf_counter() - t
        await store.close()
    print(
        f"OPML import of {args.feeds} feeds (parse + URL checks + store): {ours:.2f} s; "
        f"bare executemany insert of the same rows: {bare:.2f} s"
    )
