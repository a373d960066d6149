"""Fixed-window counters shared by every process on the database (rate_counters)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.db import unit_of_work
from storage.idempotency import upsertable_insert
from storage.models import RateCounter

# Windows older than this are deleted as new ones open (the longest limit is a minute).
KEEP = timedelta(hours=1)


async def count_hit(session: AsyncSession, *, scope: str, key: str, window_start: datetime) -> int:
    """Add one to the window's counter, creating it at 1; returns the new count. One statement
    (INSERT ... ON CONFLICT DO UPDATE ... RETURNING), so concurrent hits never lose a count."""
    statement = (
        upsertable_insert(session, RateCounter)
        .values(scope=scope, key=key, window_start=window_start, count=1)
        .on_conflict_do_update(
            index_elements=[RateCounter.scope, RateCounter.key, RateCounter.window_start],
            set_={"count": RateCounter.count + 1},
        )
        .returning(RateCounter.count)
    )
    count = (await session.execute(statement)).scalar_one()
    if count == 1:
        await session.execute(
            delete(RateCounter).where(
                RateCounter.scope == scope, RateCounter.window_start < window_start - KEEP
            )
        )
    return count


class RateCounters:
    """adapters.ratelimit.CounterStore on the database: one short transaction per hit."""

    def __init__(self, factory: async_sessionmaker[AsyncSession]) -> None:
        self._factory = factory

    async def hit(self, scope: str, key: str, window_start: float) -> int:
        async with unit_of_work(self._factory) as session:
            return await count_hit(
                session, scope=scope, key=key, window_start=datetime.fromtimestamp(window_start, UTC)
            )
