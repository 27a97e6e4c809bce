"""A chat whose paced digest would outlast the lease stops in time and hands the rest back, so
no other worker can take over items that are still being sent; the rest goes out next round,
each card once."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bot.delivery import DeliveryPolicy
from bot.ports import ChatRef, OutgoingMessage, SendResult
from bot.store import Subscription
from tests.bot.conftest import open_app
from tests.bot.fakes import TRADE_BODY, FakeClock, FakeSender, FeedSite, Item


class SlowSender(FakeSender):
    def __init__(self, clock: FakeClock, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.clock = clock

    async def send(self, chat_id: str, message: OutgoingMessage) -> SendResult:
        self.clock.advance(seconds=0.05)  # as if paced: 3 s per message to a Telegram group
        return await super().send(chat_id, message)


async def test_long_digest_is_split_across_leases(tmp_path: Path) -> None:
    site, clock = FeedSite(), FakeClock()
    sender = SlowSender(clock, cards_per_message=1)
    policy = DeliveryPolicy(lease_seconds=0.2)  # stop taking new messages after 0.1 s
    async with open_app(tmp_path, sender, clock, site.transport, delivery_policy=policy) as app:
        await app.store.save_subscription(Subscription(chat=ChatRef("fake", "-100group")))
        await app.store.add_feed(site.add("a.example"))
        await app.run_once()
        titles = [f"Trade piece {n}" for n in range(6)]
        site.add(
            "a.example",
            *(Item(guid=f"g{n}", title=t, body=TRADE_BODY) for n, t in enumerate(titles)),
        )
        claims = 0
        real_claim = app.store.claim_due

        async def counting_claim(*args: object, **kwargs: object) -> object:
            nonlocal claims
            claims += 1
            return await real_claim(*args, **kwargs)  # type: ignore[arg-type]

        app.store.claim_due = counting_claim  # type: ignore[method-assign]
        clock.advance(minutes=11)
        report = await app.run_once()
    assert report.delivery.sent == 6
    assert sorted(sender.titles_for("-100group")) == sorted(titles)  # each once
    assert claims >= 3  # several leases, none of them outlived
