"""The ``feeds`` table: which feeds exist, when each is due, how its last poll went."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.clock import utcnow
from bot.models import FeedRecord, PollSuccess
from bot.store._sql import SqlBase, chunks, insert_ignore, lease_free, lease_until, log, once
from bot.store.schema import (
    CHAT_ORIGIN,
    UTCDateTime,
    feed_owners_t,
    feeds_t,
    subscriptions_t,
)

__all__ = ["FEED_COLUMNS", "SqlFeeds", "feed_from_row", "write_poll_successes"]


class SqlFeeds(SqlBase):
    async def add_feed(
        self,
        url: str,
        *,
        name: str | None = None,
        topics: Sequence[str] = (),
        summary_mode: str | None = None,
        origin: str | None = None,
    ) -> tuple[FeedRecord, bool]:
        """``(feed, created)``; an existing feed gets the name, topics, summary mode and origin
        given, if any (``origin="file"``: the feeds file manages it from now on; none given:
        a feed added from a chat becomes the operator's, ``"command"``)."""
        now = utcnow()
        async with self.engine.begin() as conn:
            stmt = insert_ignore(self.dialect, feeds_t, ["url"]).values(
                url=url,
                name=name,
                topics=list(topics),
                added_at=now,
                error_count=0,
                initialized=False,
                summary_mode=summary_mode,
                origin=origin or "command",
            )
            created = (await conn.execute(stmt.returning(feeds_t.c.id))).first() is not None
            if not created:
                # The operator adding a feed chats added makes it theirs: it reaches everyone.
                values: dict[str, Any] = {"origin": origin or _ADOPTED}
                if name is not None:
                    values["name"] = name
                if topics:
                    values["topics"] = list(topics)
                if summary_mode is not None:
                    values["summary_mode"] = summary_mode
                await conn.execute(sa.update(feeds_t).where(feeds_t.c.url == url).values(values))
            row = (await conn.execute(sa.select(*FEED_COLUMNS).where(feeds_t.c.url == url))).one()
        return feed_from_row(row), created

    async def add_feeds(
        self, feeds: Sequence[tuple[str, str | None, Sequence[str]]], *, origin: str | None = None
    ) -> int:
        """:meth:`add_feed` for many ``(url, name, topics)`` in one transaction (an OPML import
        of 10,000 feeds took one transaction each); returns how many were new."""
        now = utcnow()
        by_url = {url: (name, list(topics)) for url, name, topics in feeds}
        rows = [
            {"url": url, "name": name, "topics": topics, "added_at": now, "error_count": 0,
             "initialized": False, "origin": origin or "command"}
            for url, (name, topics) in by_url.items()
        ]  # fmt: skip
        created: set[str] = set()
        async with self.engine.begin() as conn:
            for chunk in chunks(rows):
                stmt = insert_ignore(self.dialect, feeds_t, ["url"]).values(list(chunk))
                created.update((await conn.execute(stmt.returning(feeds_t.c.url))).scalars())
            # Feeds already there get what was given, as add_feed does.
            existing = [(u, n, t) for u, (n, t) in by_url.items() if u not in created]
            updates: list[tuple[dict[str, Any], list[dict[str, Any]]]] = [
                ({"name": sa.bindparam("b_name")},
                 [{"b_url": u, "b_name": n} for u, n, _ in existing if n is not None]),
                ({"topics": sa.bindparam("b_topics", type_=sa.JSON())},
                 [{"b_url": u, "b_topics": t} for u, _, t in existing if t]),
                ({"origin": origin or _ADOPTED}, [{"b_url": u} for u, _, _ in existing]),
            ]  # fmt: skip
            for values, params in updates:
                if params:
                    stmt = (
                        sa.update(feeds_t)
                        .where(feeds_t.c.url == sa.bindparam("b_url"))
                        .values(**values)
                    )
                    await conn.execute(stmt, params)
        return len(created)

    async def get_feed(self, url: str) -> FeedRecord | None:
        async with self.engine.connect() as conn:
            row = (await conn.execute(sa.select(*FEED_COLUMNS).where(feeds_t.c.url == url))).first()
        return feed_from_row(row) if row else None

    async def list_feeds(self) -> list[FeedRecord]:
        async with self.engine.connect() as conn:
            rows = (await conn.execute(sa.select(*FEED_COLUMNS).order_by(feeds_t.c.id))).all()
        return [feed_from_row(r) for r in rows]

    async def remove_feed(self, url: str) -> bool:
        async with self.engine.begin() as conn:
            result = await conn.execute(sa.delete(feeds_t).where(feeds_t.c.url == url))
        return bool(result.rowcount)

    async def due_feeds(self, now: datetime) -> list[FeedRecord]:
        stmt = (
            sa.select(*FEED_COLUMNS)
            .where(sa.or_(feeds_t.c.next_poll_at.is_(None), feeds_t.c.next_poll_at <= now))
            .order_by(feeds_t.c.id)
        )
        async with self.engine.connect() as conn:
            rows = (await conn.execute(stmt)).all()
        return [feed_from_row(r) for r in rows]

    async def claim_due_feeds(
        self,
        now: datetime,
        *,
        lease_seconds: float,
        limit: int,
        worker_id: str | None = None,
        dead_before: datetime | None = None,
    ) -> list[FeedRecord]:
        """Lease up to ``limit`` feeds due at ``now`` for this worker, earliest due first.

        A leased feed is polled by this worker alone: the others skip it (``SKIP LOCKED`` on
        PostgreSQL, so a claim never waits for another) until the poll writes its next poll
        time (:meth:`record_poll_success` / :meth:`record_poll_failure`, which end the lease)
        or the lease runs out. One short transaction; the outer WHERE repeats the conditions
        so that PostgreSQL re-checks them on the row version it locks.
        """
        token = str(uuid.uuid4())
        due = sa.and_(
            sa.or_(feeds_t.c.next_poll_at.is_(None), feeds_t.c.next_poll_at <= now),
            lease_free(feeds_t, self.dialect, now, dead_before),
            _has_a_reader(),
        )
        pick = (
            sa.select(feeds_t.c.id)
            .where(due)
            .order_by(feeds_t.c.next_poll_at.asc().nulls_first(), feeds_t.c.id)
            .limit(limit)
        )
        if self.dialect == "postgresql":
            pick = pick.with_for_update(skip_locked=True)
        picked = once(pick, "picked_feeds")
        claim = (
            sa.update(feeds_t)
            .where(feeds_t.c.id.in_(sa.select(picked.c.id)), due)
            .values(
                claimed_until=lease_until(self.dialect, now, lease_seconds),
                claim_token=token,
                claimed_by=worker_id,
            )
            .returning(*FEED_COLUMNS)
        )
        async with self.engine.begin() as conn:
            rows = (await conn.execute(claim)).all()
        feeds = [feed_from_row(r) for r in rows]
        return sorted(feeds, key=lambda f: (f.next_poll_at is not None, f.next_poll_at, f.id))

    async def record_poll_success(
        self,
        feed_id: int,
        *,
        etag: str | None,
        last_modified: str | None,
        ttl_minutes: int | None,
        now: datetime,
        next_poll_at: datetime,
        claim_token: str | None = None,
        body_hash: str | None = None,
    ) -> bool:
        """The poll went through; ends the lease. False (and nothing written) when
        ``claim_token`` no longer holds the feed: another worker took it over."""
        async with self.engine.begin() as conn:
            result = await conn.execute(
                sa.update(feeds_t)
                .where(feeds_t.c.id == feed_id, _holds(claim_token))
                .values(
                    etag=etag,
                    last_modified=last_modified,
                    body_hash=body_hash,
                    ttl_minutes=ttl_minutes,
                    error_count=0,
                    last_error=None,
                    last_polled_at=now,
                    next_poll_at=next_poll_at,
                    initialized=True,
                    **_UNLEASED,
                )
            )
        return _fenced(result.rowcount, feed_id, claim_token, "success")

    async def record_poll_successes(self, polls: Sequence[PollSuccess]) -> None:
        """:meth:`record_poll_success` for many feeds in one transaction: thousands of
        unchanged feeds per cycle cost one commit, not one each. Fenced like it: a feed whose
        lease another worker took is left alone.

        Polls that kept their validators (``validators_changed`` false: a 304, or the same
        body) are written a claim and a ``<ttl>`` at a time, one ``UPDATE ... WHERE id IN``
        each, with the group's latest poll time: the per-row statement cost more than the
        poll. The others (new ETag, new digest) are written row by row (an executemany).
        """
        if not polls:
            return
        async with self.engine.begin() as conn:
            await write_poll_successes(conn, polls)

    async def release_feeds(self, feeds: Sequence[FeedRecord]) -> None:
        """Give back leases of claimed feeds left unpolled (the cycle's deadline passed), so
        that they are due again at once rather than when their leases run out."""
        held = [{"b_id": f.id, "b_token": f.claim_token} for f in feeds if f.claim_token]
        if not held:
            return
        stmt = (
            sa.update(feeds_t)
            .where(
                feeds_t.c.id == sa.bindparam("b_id"),
                feeds_t.c.claim_token == sa.bindparam("b_token", type_=sa.String()),
            )
            .values(**_UNLEASED)
        )
        async with self.engine.begin() as conn:
            await conn.execute(stmt, held)

    async def record_poll_failure(
        self,
        feed_id: int,
        *,
        error: str,
        now: datetime,
        next_poll_at: datetime,
        claim_token: str | None = None,
    ) -> bool:
        """The poll failed; ends the lease. False when ``claim_token`` lost the feed."""
        async with self.engine.begin() as conn:
            result = await conn.execute(
                sa.update(feeds_t)
                .where(feeds_t.c.id == feed_id, _holds(claim_token))
                .values(
                    error_count=feeds_t.c.error_count + 1,
                    last_error=error[:2000],
                    last_polled_at=now,
                    next_poll_at=next_poll_at,
                    **_UNLEASED,
                )
            )
        return _fenced(result.rowcount, feed_id, claim_token, "failure")


# An existing feed the operator adds again keeps its origin, except a chat feed: it becomes
# the operator's ("command") and its cards reach every matching chat.
_ADOPTED = sa.case((feeds_t.c.origin == "chat", "command"), else_=feeds_t.c.origin)
_UNLEASED: dict[str, Any] = {"claimed_until": None, "claim_token": None, "claimed_by": None}

# One poll's success, row by row (record_poll_successes), fenced by the lease's token.
_RECORD_POLL = (
    sa.update(feeds_t)
    .where(
        feeds_t.c.id == sa.bindparam("b_id"),
        sa.or_(
            sa.bindparam("b_token", type_=sa.String()).is_(None),
            feeds_t.c.claim_token == sa.bindparam("b_token", type_=sa.String()),
        ),
    )
    .values(
        etag=sa.bindparam("b_etag"),
        last_modified=sa.bindparam("b_last_modified"),
        body_hash=sa.bindparam("b_body_hash"),
        ttl_minutes=sa.bindparam("b_ttl"),
        error_count=0,
        last_error=None,
        last_polled_at=sa.bindparam("b_at", type_=UTCDateTime()),
        next_poll_at=sa.bindparam("b_next", type_=UTCDateTime()),
        initialized=True,
        **_UNLEASED,
    )
)


# Unchanged polls (validators kept), a group at a time; built once with its id list expanded
# at execution: building it for every group coerced each id in Python, a few percent of an
# unchanged poll. Fenced by the group's lease token, like _RECORD_POLL.
_RECORD_UNCHANGED = (
    sa.update(feeds_t)
    .where(
        feeds_t.c.id.in_(sa.bindparam("b_ids", expanding=True, type_=sa.Integer())),
        sa.or_(
            sa.bindparam("b_token", type_=sa.String()).is_(None),
            feeds_t.c.claim_token == sa.bindparam("b_token", type_=sa.String()),
        ),
    )
    .values(
        ttl_minutes=sa.bindparam("b_ttl", type_=sa.Integer()),
        error_count=0,
        last_error=None,
        last_polled_at=sa.bindparam("b_at", type_=UTCDateTime()),
        next_poll_at=sa.bindparam("b_next", type_=UTCDateTime()),
        initialized=True,
        **_UNLEASED,
    )
)


async def write_poll_successes(conn: AsyncConnection, polls: Sequence[PollSuccess]) -> None:
    """:meth:`SqlFeeds.record_poll_successes` in the caller's transaction."""
    groups: dict[tuple[str | None, int | None], list[PollSuccess]] = {}
    changed = []
    for poll in polls:
        if poll.validators_changed:
            changed.append(poll)
        else:
            groups.setdefault((poll.claim_token, poll.ttl_minutes), []).append(poll)
    for (token, ttl), same in groups.items():
        at = max(p.at for p in same)
        next_poll_at = max(p.next_poll_at for p in same)
        for chunk in chunks([p.feed_id for p in same], 2000):
            await conn.execute(
                _RECORD_UNCHANGED,
                {"b_ids": list(chunk), "b_token": token, "b_ttl": ttl, "b_at": at,
                 "b_next": next_poll_at},
            )  # fmt: skip
    if changed:
        rows = [_poll_row(p) for p in changed]
        for chunk in chunks(rows, 2000):
            await conn.execute(_RECORD_POLL, list(chunk))


def _poll_row(p: PollSuccess) -> dict[str, Any]:
    return {
        "b_id": p.feed_id,
        "b_etag": p.etag,
        "b_last_modified": p.last_modified,
        "b_body_hash": p.body_hash,
        "b_ttl": p.ttl_minutes,
        "b_at": p.at,
        "b_next": p.next_poll_at,
        "b_token": p.claim_token,
    }


def _holds(claim_token: str | None) -> Any:
    """Fencing: a write made under a lease lands only while that lease still holds the feed.
    Writes without a token (``digestbot feeds``, tests) are not fenced."""
    return sa.true() if claim_token is None else feeds_t.c.claim_token == claim_token


def _fenced(rowcount: int | None, feed_id: int, claim_token: str | None, what: str) -> bool:
    if rowcount or claim_token is None:
        return True
    log.warning(
        "feed %d: poll %s not recorded: this worker's lease was taken over (stale claim)",
        feed_id,
        what,
    )
    return False


# A feed record's columns in the order of its fields, read by position: a claim reads
# thousands a cycle, and looking each value up by name cost about a tenth of an unchanged
# poll. The lease's own columns are not read back.
FEED_COLUMNS = tuple(feeds_t.c[name] for name in FeedRecord._fields)


def feed_from_row(row: Any) -> FeedRecord:
    """A row of :data:`FEED_COLUMNS` (in that order) as a record."""
    feed_id, url, name, topics, *rest = row
    return FeedRecord(feed_id, url, name, tuple(topics or ()), *rest)


def _has_a_reader() -> Any:
    """The feed is polled for someone: the operator's feeds always, a feed added from chats
    only while one of its owners is subscribed (a chat that blocked the bot or unsubscribed
    gets nothing from it, so fetching it would only load the publisher). It is due again, and
    claimed on the next cycle, as soon as an owner subscribes again."""
    owner_reads = (
        sa.select(sa.literal(1))
        .select_from(feed_owners_t.join(subscriptions_t))
        .where(feed_owners_t.c.feed_id == feeds_t.c.id, subscriptions_t.c.active.is_(True))
        .exists()
    )
    return sa.or_(feeds_t.c.origin != CHAT_ORIGIN, owner_reads)
