"""Delivery throughput to Telegram: the real outbox beside a bare PTB loop, same fake server.

Default mode: N cards queued to N chats (one each) in a real SQLite store are sent by
``bot.delivery.Delivery`` through ``TelegramSender`` with pacing switched off; beside it, in the
same run and against the same fake Bot API (a child process, so that it does not share the
client's event loop), a bare ``Bot.send_message`` loop sends the same HTML text to N chats
with the same concurrency. Both are measured with PTB's default HTTPX backend and with
``bot.telegram_request.AiohttpRequest``. Reports messages/s, client CPU seconds per 1,000
messages, and the outbox rate as a share of the bare rate (target: >= 70 %).

``--paced``: pacing on (``--rate``, default the settings' ``DIGESTBOT_GLOBAL_RATE``) against a
fake that answers 429 above 30 messages/s; runs ``--seconds`` (default 60) and prints the
achieved rate (must be within 5 % of the configured one) and the number of 429s (must be 0).

    python bench/delivery.py [--messages 10000] [--concurrency 8] [--repeat 1]
    python bench/delivery.py --paced [--seconds 60] [--rate 25]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from telegram import Bot  # noqa: E402
from telegram.request import BaseRequest, HTTPXRequest  # noqa: E402

from bot.delivery import Delivery, DeliveryPolicy  # noqa: E402
from bot.pacing import Pacer  # noqa: E402
from bot.ports import Sent  # noqa: E402
from bot.settings import Settings  # noqa: E402
from bot.store import SqlStore, subscriptions_t  # noqa: E402
from bot.telegram import CONNECTION_POOL_SIZE  # noqa: E402
from bot.telegram_request import AiohttpRequest  # noqa: E402
from bot.telegram_sender import TelegramSender  # noqa: E402
from tests.telegram.factories import make_card  # noqa: E402
from tests.telegram.fake_bot_api import DEFAULT_TOKEN, fake_bot_api_process  # noqa: E402

BACKENDS: dict[str, Callable[[], BaseRequest]] = {
    "httpx": lambda: HTTPXRequest(connection_pool_size=CONNECTION_POOL_SIZE, pool_timeout=5.0),
    "aiohttp": lambda: AiohttpRequest(connection_pool_size=CONNECTION_POOL_SIZE, pool_timeout=5.0),
}
FIRST_CHAT = 10_000_000


@dataclass
class Run:
    label: str
    messages: int
    seconds: float
    cpu: float

    @property
    def rate(self) -> float:
        return self.messages / self.seconds

    @property
    def cpu_per_1000(self) -> float:
        return self.cpu / self.messages * 1000


def fake_stats(base_url: str) -> dict[str, float]:
    with urllib.request.urlopen(base_url.removesuffix("/bot") + "/_fake/stats") as response:
        return json.loads(response.read())


async def make_store(path: Path, chats: int) -> tuple[SqlStore, int]:
    """A fresh store with ``chats`` subscriptions and one card queued to each."""
    store = SqlStore.from_url(f"sqlite+aiosqlite:///{path}")
    await store.upgrade()
    now = datetime.now(UTC)
    rows = [
        {
            "platform": "telegram",
            "chat_id": str(FIRST_CHAT + n),
            "filters": [],
            "mode": "instant",
            "timezone": "UTC",
            "active": True,
            "created_at": now,
            "updated_at": now,
        }
        for n in range(chats)
    ]
    async with store.engine.begin() as conn:  # setup only: a bulk insert, not timed
        for start in range(0, len(rows), 500):
            await conn.execute(subscriptions_t.insert(), rows[start : start + 500])
    feed, _ = await store.add_feed("https://news.example.org/feed.xml")
    [stored] = await store.record_entries(feed.id, [("bench-1", make_card(1))], now)
    subs = await store.active_subscriptions()
    queued = await store.enqueue([(s.id, stored.id, now) for s in subs if s.id], now)
    return store, queued


async def bare_loop(base_url: str, backend: str, n: int, concurrency: int, text: str) -> Run:
    """The baseline: PTB ``send_message`` to ``n`` chats, ``concurrency`` at a time."""
    async with Bot(DEFAULT_TOKEN, base_url=base_url, request=BACKENDS[backend]()) as bot:
        chats = iter(range(FIRST_CHAT, FIRST_CHAT + n))

        async def worker() -> int:
            sent = 0
            for chat in chats:
                await bot.send_message(chat, text, parse_mode="HTML")
                sent += 1
            return sent

        cpu, t0 = time.process_time(), time.perf_counter()
        counts = await asyncio.gather(*(worker() for _ in range(concurrency)))
        seconds, cpu = time.perf_counter() - t0, time.process_time() - cpu
    return Run(f"bare PTB send_message ({backend})", sum(counts), seconds, cpu)


async def sender_loop(base_url: str, backend: str, n: int, concurrency: int) -> Run:
    """``TelegramSender.render`` + ``send`` with no store: the adapter's own share of the cost."""
    card = make_card(1)
    async with Bot(DEFAULT_TOKEN, base_url=base_url, request=BACKENDS[backend]()) as bot:
        sender = TelegramSender(bot)
        chats = iter(range(FIRST_CHAT, FIRST_CHAT + n))

        async def worker() -> int:
            sent = 0
            for chat in chats:
                [message] = sender.render([card])
                sent += isinstance(await sender.send(str(chat), message), Sent)
            return sent

        cpu, t0 = time.process_time(), time.perf_counter()
        counts = await asyncio.gather(*(worker() for _ in range(concurrency)))
        seconds, cpu = time.perf_counter() - t0, time.process_time() - cpu
    return Run(f"TelegramSender render+send, no store ({backend})", sum(counts), seconds, cpu)


async def outbox_run(
    base_url: str, backend: str, n: int, concurrency: int, *, pacer: Pacer
) -> tuple[Run, int]:
    with tempfile.TemporaryDirectory() as tmp:
        store, queued = await make_store(Path(tmp) / "bench.sqlite3", n)
        try:
            async with Bot(DEFAULT_TOKEN, base_url=base_url, request=BACKENDS[backend]()) as bot:
                delivery = Delivery(
                    store,
                    {"telegram": TelegramSender(bot)},
                    pacer=pacer,
                    policy=DeliveryPolicy(concurrency=concurrency),
                )
                cpu, t0 = time.process_time(), time.perf_counter()
                report = await delivery.run()
                seconds, cpu = time.perf_counter() - t0, time.process_time() - cpu
        finally:
            await store.close()
    if report.messages != queued:
        print(f"  !! outbox sent {report.messages} of {queued}: {report}")
    return Run(f"outbox + TelegramSender ({backend})", report.messages, seconds, cpu), queued


def show(run: Run) -> None:
    print(
        f"  {run.label:50s} {run.messages:6d} msgs {run.seconds:7.2f} s "
        f"{run.rate:8.1f} msg/s  {run.cpu_per_1000:6.2f} CPU s/1000 msgs"
    )


async def throughput(args: argparse.Namespace) -> None:
    text = TelegramSender(Bot(DEFAULT_TOKEN)).render([make_card(1)])[0].payload["text"]
    results: dict[tuple[str, str], list[Run]] = {}
    with fake_bot_api_process(record=False) as base_url:
        for round_ in range(1, args.repeat + 1):
            print(f"round {round_}/{args.repeat}")
            for backend in args.backends:
                bare = await bare_loop(base_url, backend, args.messages, args.concurrency, text)
                show(bare)
                alone = await sender_loop(base_url, backend, args.messages, args.concurrency)
                show(alone)
                outbox, _ = await outbox_run(
                    base_url, backend, args.messages, args.concurrency, pacer=Pacer(enabled=False)
                )
                show(outbox)
                results.setdefault((backend, "bare"), []).append(bare)
                results.setdefault((backend, "outbox"), []).append(outbox)
                results.setdefault((backend, "sender"), []).append(alone)
        stats = fake_stats(base_url)
    print(f"fake server answered {int(stats['sent'])} sendMessage, {int(stats['errors'])} errors")
    print(f"medians over {args.repeat} round(s), concurrency {args.concurrency}:")
    for backend in args.backends:
        bare_rate = statistics.median(r.rate for r in results[(backend, "bare")])
        outbox_rate = statistics.median(r.rate for r in results[(backend, "outbox")])
        sender_rate = statistics.median(r.rate for r in results[(backend, "sender")])
        bare_cpu = statistics.median(r.cpu_per_1000 for r in results[(backend, "bare")])
        outbox_cpu = statistics.median(r.cpu_per_1000 for r in results[(backend, "outbox")])
        sender_cpu = statistics.median(r.cpu_per_1000 for r in results[(backend, "sender")])
        print(
            f"  {backend:8s} bare {bare_rate:7.1f} msg/s ({bare_cpu:.2f} CPU s/1000) | "
            f"outbox {outbox_rate:7.1f} msg/s ({outbox_cpu:.2f} CPU s/1000) | "
            f"outbox/bare {outbox_rate / bare_rate:6.1%} (target >= 70%) | "
            f"sender alone/bare {sender_rate / bare_rate:6.1%} "
            f"({sender_cpu:.2f} CPU s/1000)"
        )


async def paced(args: argparse.Namespace) -> None:
    rate = args.rate or Settings(_env_file=None).global_rate  # type: ignore[call-arg]
    n = int(rate * args.seconds * 1.5) + 50  # more than can go out: the run is cut by time
    with fake_bot_api_process(record=False, global_rate=30) as base_url:
        with tempfile.TemporaryDirectory() as tmp:
            store, _ = await make_store(Path(tmp) / "paced.sqlite3", n)
            try:
                request = BACKENDS[args.backends[-1]]()
                async with Bot(DEFAULT_TOKEN, base_url=base_url, request=request) as bot:
                    delivery = Delivery(
                        store,
                        {"telegram": TelegramSender(bot)},
                        pacer=Pacer(rate=rate, enabled=True),
                        policy=DeliveryPolicy(concurrency=args.concurrency),
                    )
                    loop = asyncio.get_running_loop()
                    loop.call_later(args.seconds, delivery.request_stop)
                    t0 = time.perf_counter()
                    report = await delivery.run()
                    elapsed = time.perf_counter() - t0
            finally:
                await store.close()
        stats = fake_stats(base_url)
    span = (stats["last_sent_at"] or 0) - (stats["first_sent_at"] or 0)
    # n messages span n-1 intervals; the first ones may go as a burst of the pacer's allowance.
    server_rate = (stats["sent"] - 1) / span if span > 0 else 0.0
    client_rate = report.messages / elapsed
    off = abs(server_rate - rate) / rate
    print(
        f"paced: configured {rate:.1f} msg/s for {args.seconds:.0f} s, backend "
        f"{args.backends[-1]}, concurrency {args.concurrency}\n"
        f"  sent {report.messages} messages in {elapsed:.2f} s -> {client_rate:.2f} msg/s "
        f"(client); {server_rate:.2f} msg/s between first and last arrival at the server "
        f"({off:.1%} off the configured rate, limit 5%)\n"
        f"  429 answers from the fake (30 msg/s limit): {int(stats['rate_limited'])}; "
        f"delivery report: {report}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--concurrency", type=int, default=DeliveryPolicy().concurrency)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument(
        "--backend", dest="backends", action="append", choices=sorted(BACKENDS), default=None
    )
    parser.add_argument("--paced", action="store_true")
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--rate", type=float, default=None)
    args = parser.parse_args()
    args.backends = args.backends or ["httpx", "aiohttp"]
    asyncio.run(paced(args) if args.paced else throughput(args))


if __name__ == "__main__":
    main()
