"""Housekeeping, once a day for the whole instance: rows that only served to process, deliver or
dedupe something are deleted once older than CROSSTRACK_RETENTION_DAYS (handled inbound events,
card click claims among them; sent and long-failed outbox rows; job runs), expired request nonces
and finished rate-limit windows at once. The audit log, weekly report snapshots, shared-table rows
and alert state are kept. Stored secrets still under an old key are re-encrypted under the current one.

Deletes go in batches of `batch_size` rows, one short transaction each, so a large backlog never
holds a long transaction or lock. Everything here is idempotent: a second run finds nothing to do.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, delete, or_, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.services import integrations
from bot.settings import Settings
from storage.db import unit_of_work
from storage.models import (
    InboundEventRecord,
    JobRun,
    OutboxMessage,
    PendingImport,
    RateCounter,
    RequestNonce,
)
from storage.secretbox import SecretBox

# The longest window of any shared rate counter: a window that started before this is over.
RATE_WINDOW_MAX = timedelta(days=1)


@dataclass(frozen=True)
class Housekeeping:
    """The instance-wide settings of housekeeping."""

    retention_days: int
    timezone: str  # the daily run is due at a local time of CROSSTRACK_TIMEZONE
    box: SecretBox | None  # re-encrypts stored secrets under the current key
    batch_size: int = 1000

    @classmethod
    def from_settings(cls, settings: Settings) -> Housekeeping:
        return cls(settings.retention_days, settings.timezone, settings.secret_box())


async def prune(
    factory: async_sessionmaker[AsyncSession], housekeeping: Housekeeping, now: datetime
) -> dict[str, int]:
    """Delete what is past keeping; returns how many rows went, per table (and bindings re-encrypted)."""
    cutoff = now - timedelta(days=housekeeping.retention_days)
    batch = housekeeping.batch_size
    deleted = {
        # Pending events are still to be processed, whatever their age.
        "inbound_events": await _delete(
            factory,
            (InboundEventRecord.id,),
            InboundEventRecord.status != "pending",
            InboundEventRecord.received_at < cutoff,
            batch=batch,
        ),
        "outbox": await _delete(
            factory,
            (OutboxMessage.id,),
            or_(
                (OutboxMessage.status == "sent") & (OutboxMessage.sent_at < cutoff),
                (OutboxMessage.status == "failed") & (OutboxMessage.created_at < cutoff),
            ),
            batch=batch,
        ),
        "job_runs": await _delete(factory, (JobRun.id,), JobRun.started_at < cutoff, batch=batch),
        "request_nonces": await _delete(
            factory, (RequestNonce.scope, RequestNonce.nonce), RequestNonce.expires_at < now, batch=batch
        ),
        "pending_imports": await _delete(
            factory, (PendingImport.id,), PendingImport.expires_at < now, batch=batch
        ),
        "rate_counters": await _delete(
            factory,
            (RateCounter.scope, RateCounter.key, RateCounter.window_start),
            RateCounter.window_start < now - RATE_WINDOW_MAX,
            batch=batch,
        ),
    }
    if housekeeping.box is not None:
        async with unit_of_work(factory) as session:
            resealed = await integrations.reseal(session, housekeeping.box, now)
        deleted["report_webhooks re-encrypted"] = resealed
    return deleted


async def _delete(
    factory: async_sessionmaker[AsyncSession],
    key: tuple[Any, ...],
    *conditions: ColumnElement[bool],
    batch: int,
) -> int:
    """Delete the rows matching `conditions`, `batch` at a time (chosen by primary `key`)."""
    table = key[0].class_
    total = 0
    while True:
        chosen = select(*key).where(*conditions).limit(batch)
        which = key[0].in_(chosen) if len(key) == 1 else tuple_(*key).in_(chosen)
        async with unit_of_work(factory) as session:
            result = await session.execute(
                delete(table).where(which).execution_options(synchronize_session=False)
            )
        count: int = result.rowcount  # type: ignore[attr-defined]
        total += count
        if count < batch:
            return total
