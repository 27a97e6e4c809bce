"""The ``llm_summaries`` table: model summaries shared by restarts and workers
(:class:`digests.llm.SummaryCache`)."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from bot.clock import utcnow
from bot.store._sql import SqlBase, insert_ignore
from bot.store.schema import llm_summaries_t
from digests.llm_cache import CachedSummary

__all__ = ["SqlSummaries"]


class SqlSummaries(SqlBase):
    async def get_summary(self, key: str) -> CachedSummary | None:
        stmt = sa.select(llm_summaries_t.c.summary, llm_summaries_t.c.outcome).where(
            llm_summaries_t.c.key == key
        )
        async with self.engine.connect() as conn:
            row = (await conn.execute(stmt)).first()
        if row is None:
            return None
        summary, outcome = row
        return CachedSummary(tuple(summary) if summary else None, outcome)

    async def put_summary(self, key: str, entry: CachedSummary) -> None:
        """Keep the first answer when two workers race on one article (both paid; one is kept)."""
        stmt = insert_ignore(self.dialect, llm_summaries_t, ["key"]).values(
            key=key,
            content_hash=entry.content_hash,
            model=entry.model[:200],
            prompt_version=entry.prompt_version[:100],
            summary=list(entry.summary) if entry.summary else None,
            outcome=entry.outcome[:30],
            created_at=utcnow(),
        )
        async with self.engine.begin() as conn:
            await conn.execute(stmt)

    async def count_summaries_since(self, since: datetime) -> int:
        stmt = sa.select(sa.func.count()).where(llm_summaries_t.c.created_at >= since)
        async with self.engine.connect() as conn:
            return int((await conn.execute(stmt)).scalar_one())
