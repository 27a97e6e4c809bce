"""The ``seen_entries`` and ``cards`` tables: which feed entries were looked at, and the cards
made from them.

A stored card keeps what delivery, ``/digest`` and matching read (title, summary, key facts,
note, topics ...), not the article text: nothing on the chat side reads it, and parsing 6 KB of
text per card on every claim and every ``/digest`` was most of their cost.
"""

from __future__ import annotations

import functools
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.models import StoredCard
from bot.store._sql import SqlBase, chunks, insert_ignore
from bot.store.chat_feeds import hidden_feed_ids
from bot.store.schema import cards_t, entry_key, seen_entries_t
from digests.models import Card

__all__ = ["ParsedCards", "SqlEntries", "card_data", "insert_entries"]

# Cards parsed from their JSON: /digest reads the same latest few hundred again and again
# (every chat asks for the newest), and parsing them was most of its cost. A stored card never
# changes (rows are inserted, and deleted when old or when their feed goes, never updated),
# whichever worker wrote it. It is known by its id *and* creation time: SQLite hands the
# highest id out again once that row is deleted. 2,000 cards without their text are ~4 MB.
PARSED_CARDS = 2000
CardKey = tuple[int, datetime]  # (cards.id, cards.created_at)


class ParsedCards:
    """A bounded, least-recently-used map of :data:`CardKey` -> :class:`Card`."""

    def __init__(self, size: int = PARSED_CARDS) -> None:
        self.size = size
        self._cards: OrderedDict[CardKey, Card] = OrderedDict()

    def __len__(self) -> int:
        return len(self._cards)

    def get(self, key: CardKey) -> Card | None:
        card = self._cards.get(key)
        if card is not None:
            self._cards.move_to_end(key)
        return card

    def put(self, key: CardKey, card: Card) -> None:
        self._cards[key] = card
        self._cards.move_to_end(key)
        while len(self._cards) > self.size:
            self._cards.popitem(last=False)


def card_data(card: Card) -> dict[str, Any]:
    """The JSON a card is stored as: everything but the article text."""
    data = card.to_dict()
    data.pop("text", None)
    return data


async def insert_entries(
    conn: AsyncConnection,
    dialect: str,
    feed_id: int,
    entries: Sequence[tuple[str, Card | None]],
    now: datetime,
) -> list[StoredCard]:
    """Mark entries seen and store their cards; returns the cards new to the store.

    Insert-or-ignore on (feed, entry): when two workers race on the same feed, only the one
    whose insert lands gets the card back, so only that one queues it.
    """
    by_key: dict[str, tuple[str, Card | None]] = {}
    for entry_id, card in entries:
        by_key.setdefault(entry_key(entry_id), (entry_id, card))
    if not by_key:
        return []
    new_keys: set[str] = set()
    rows = [
        {"feed_id": feed_id, "entry_key": k, "entry_id": e, "seen_at": now}
        for k, (e, _) in by_key.items()
    ]
    insert_seen, insert_card = _inserts(dialect)
    for chunk in chunks(rows):
        new_keys.update((await conn.execute(insert_seen, list(chunk))).scalars())
    stored: list[StoredCard] = []
    for key, (_, card) in by_key.items():
        if key not in new_keys or card is None:
            continue
        row = {
            "feed_id": feed_id,
            "entry_key": key,
            "data": card_data(card),
            "published_at": card.published,
            "created_at": now,
        }
        card_id = (await conn.execute(insert_card, row)).scalar()
        if card_id is not None:
            stored.append(StoredCard(card_id, feed_id, card, now))
    return stored


@functools.cache
def _inserts(dialect: str) -> tuple[Any, Any]:
    """The two inserts of :func:`insert_entries`, built once per dialect: building them cost
    about as much as running them."""
    seen = insert_ignore(dialect, seen_entries_t, ["feed_id", "entry_key"])
    card = insert_ignore(dialect, cards_t, ["feed_id", "entry_key"])
    return seen.returning(seen_entries_t.c.entry_key), card.returning(cards_t.c.id)


# Which of one feed's entry keys are seen already (the keys bound as one expanding list).
_SEEN_KEYS = sa.select(seen_entries_t.c.entry_key).where(
    seen_entries_t.c.feed_id == sa.bindparam("feed_id"),
    seen_entries_t.c.entry_key.in_(sa.bindparam("keys", expanding=True)),
)


@functools.cache
def _latest_statements(one_feed: bool) -> tuple[sa.Select[Any], sa.Select[Any]]:
    """``latest_cards``' two queries (dated cards, then undated ones), built once: building
    them took about as long as running them. Parameters: ``limit``, ``viewer``, ``feed_id``."""
    base = sa.select(cards_t.c.id, cards_t.c.feed_id, cards_t.c.created_at).where(
        # Cards of no feed are alerts to admin chats (bot.alerts), never news.
        cards_t.c.feed_id == sa.bindparam("feed_id")
        if one_feed
        else cards_t.c.feed_id.is_not(None),
        cards_t.c.feed_id.not_in(hidden_feed_ids(sa.bindparam("viewer"))),
    )
    limit: sa.BindParameter[int] = sa.bindparam("limit", type_=sa.Integer)
    dated = (
        base.where(cards_t.c.published_at.is_not(None))
        .order_by(cards_t.c.published_at.desc(), cards_t.c.id.desc())
        .limit(limit)
    )
    undated = base.where(cards_t.c.published_at.is_(None)).order_by(cards_t.c.id.desc())
    return dated, undated.limit(limit)


class SqlEntries(SqlBase):
    async def unseen_entry_ids(self, feed_id: int, entry_ids: Iterable[str]) -> set[str]:
        by_key = {entry_key(e): e for e in entry_ids}
        if not by_key:
            return set()
        seen: set[str] = set()
        async with self.engine.connect() as conn:
            for chunk in chunks(list(by_key)):
                params = {"feed_id": feed_id, "keys": list(chunk)}
                seen.update((await conn.execute(_SEEN_KEYS, params)).scalars())
        return {entry for key, entry in by_key.items() if key not in seen}

    async def record_entries(
        self, feed_id: int, entries: Sequence[tuple[str, Card | None]], now: datetime
    ) -> list[StoredCard]:
        """:func:`insert_entries` in a transaction of its own (nothing to queue with them)."""
        async with self.engine.begin() as conn:
            return await insert_entries(conn, self.dialect, feed_id, entries, now)

    async def latest_cards(
        self, limit: int, *, feed_id: int | None = None, viewer: int | None = None
    ) -> list[StoredCard]:
        """The ``limit`` newest cards: by publication date when known, newest first, then the
        undated ones newest first. Two index walks (``ix_cards_published_at_id``) that stop at
        the limit; one query sorting every stored card took tens of milliseconds at 10,000.
        Cards of feeds added from chats are left out, except those of the chat feeds the
        subscription ``viewer`` owns."""
        dated, undated = _latest_statements(feed_id is not None)
        params = {"feed_id": feed_id, "viewer": viewer if viewer is not None else -1}
        async with self.engine.connect() as conn:
            rows = list((await conn.execute(dated, {**params, "limit": limit})).all())
            if len(rows) < limit:
                more = {**params, "limit": limit - len(rows)}
                rows.extend((await conn.execute(undated, more)).all())
            # The ids first, then the JSON of only those not parsed yet (see ParsedCards).
            cards: dict[int, Card] = {}
            missing: dict[int, CardKey] = {}
            for card_id, _, created_at in rows:
                card = self.parsed_cards.get((card_id, created_at))
                if card is None:
                    missing[card_id] = (card_id, created_at)
                else:
                    cards[card_id] = card
            for chunk in chunks(list(missing)):
                query = sa.select(cards_t.c.id, cards_t.c.data).where(cards_t.c.id.in_(chunk))
                for card_id, data in await conn.execute(query):
                    cards[card_id] = Card.from_dict(data)
                    self.parsed_cards.put(missing[card_id], cards[card_id])
        # A card deleted between the two reads (cleanup of old cards) is left out.
        return [StoredCard(i, f, cards[i], at) for i, f, at in rows if i in cards]
