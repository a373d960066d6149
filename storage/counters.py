"""Fixed-window counters in `rate_counters`, shared by every process on one database."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import RateCounter


async def count_hit(session: AsyncSession, *, scope: str, key: str, window_start: datetime) -> int:
    """Count one hit on (scope, key) in the window starting at `window_start`; the count so far.

    One statement (INSERT ... ON CONFLICT DO UPDATE ... RETURNING), so simultaneous hits from any
    number of replicas each get their own number."""
    module = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    insert = module.insert(RateCounter).values(scope=scope, key=key, window_start=window_start, count=1)
    statement = insert.on_conflict_do_update(
        index_elements=[RateCounter.scope, RateCounter.key, RateCounter.window_start],
        set_={"count": RateCounter.count + 1},
    ).returning(RateCounter.count)
    return int((await session.execute(statement)).scalar_one())
