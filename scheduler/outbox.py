"""The outbox sender: delivers queued messages, retrying what is retryable with jittered backoff."""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from adapters.base import Sender, SendError
from adapters.codec import reply_from_json
from adapters.models import OutboundMessage
from storage.db import unit_of_work
from storage.models import OutboxMessage

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
MAX_BACKOFF_SECONDS = 300.0


def backoff_seconds(attempts: int, rng: random.Random) -> float:
    """Exponential backoff with full jitter: 1 s, 2 s, 4 s ... capped at five minutes."""
    ceiling = min(MAX_BACKOFF_SECONDS, 2.0 ** (attempts - 1))
    return rng.uniform(ceiling / 2, ceiling)


class OutboxWorker:
    def __init__(
        self,
        factory: async_sessionmaker[AsyncSession],
        senders: Mapping[str, Sender],
        clock: Callable[[], datetime],
        *,
        batch_size: int = 50,
        idle_seconds: float = 5.0,
        rng: random.Random | None = None,
    ) -> None:
        self._factory = factory
        self._senders = senders
        self._clock = clock
        self._batch_size = batch_size
        self._idle_seconds = idle_seconds
        self._rng = rng or random.Random()
        self._wakeup = asyncio.Event()
        # One pass at a time per process: SQLite has no SKIP LOCKED, so overlapping passes could
        # both pick the same row.
        self._pass_lock = asyncio.Lock()

    def wake(self) -> None:
        self._wakeup.set()

    async def run(self, stop: asyncio.Event) -> None:
        """Send until `stop` is set; sleeps until woken or the next poll when nothing is due."""
        while not stop.is_set():
            try:
                sent = await self.send_due()
            except Exception:
                log.exception("outbox pass failed; retrying after a pause")
                sent = 0
            if sent:
                continue
            self._wakeup.clear()
            wakeup = asyncio.create_task(self._wakeup.wait())
            stopping = asyncio.create_task(stop.wait())
            await asyncio.wait({wakeup, stopping}, timeout=self._idle_seconds, return_when="FIRST_COMPLETED")
            wakeup.cancel()
            stopping.cancel()

    async def send_due(self) -> int:
        """One pass over the messages due now; returns how many were attempted."""
        async with self._pass_lock:
            return await self._send_due()

    async def _send_due(self) -> int:
        async with self._factory() as session:
            ids = list(
                await session.scalars(
                    select(OutboxMessage.id)
                    .where(OutboxMessage.status == "pending", OutboxMessage.next_attempt_at <= self._clock())
                    .order_by(OutboxMessage.id)
                    .limit(self._batch_size)
                )
            )
        for row_id in ids:
            await self._send_one(row_id)
        return len(ids)

    async def _send_one(self, row_id: int) -> None:
        async with unit_of_work(self._factory) as session:
            # SKIP LOCKED: another sender already has it; on SQLite (one writer) this is a plain select.
            row = await session.scalar(
                select(OutboxMessage)
                .where(OutboxMessage.id == row_id, OutboxMessage.status == "pending")
                .with_for_update(skip_locked=True)
            )
            if row is None:
                return
            sender = self._senders.get(row.platform)
            row.attempts += 1
            if sender is None:
                row.status = "failed"
                row.last_error = f"no sender configured for platform {row.platform!r}"
                log.error("outbox %s: %s", row.idempotency_key, row.last_error)
                return
            message = OutboundMessage(
                platform=row.platform,
                chat_id=row.chat_id,
                content=reply_from_json(row.payload["content"]),
                idempotency_key=row.idempotency_key,
                reply_to=row.reply_to,
                extra=row.payload.get("extra", {}),
            )
            try:
                row.platform_message_id = await sender.send(message)
            except SendError as error:
                self._record_failure(row, error)
                return
            except Exception as error:  # a bug or an unmapped transport fault: keep the message, retry
                log.exception("outbox %s: unexpected send failure", row.idempotency_key)
                self._record_failure(row, SendError(repr(error), retryable=True))
                return
            row.status = "sent"
            row.sent_at = self._clock()
            row.last_error = None

    def _record_failure(self, row: OutboxMessage, error: SendError) -> None:
        row.last_error = str(error)[:2000]
        if not error.retryable or row.attempts >= MAX_ATTEMPTS:
            row.status = "failed"
            log.error("outbox %s gave up after %d attempts: %s", row.idempotency_key, row.attempts, error)
            return
        delay = (
            error.retry_after if error.retry_after is not None else backoff_seconds(row.attempts, self._rng)
        )
        row.next_attempt_at = self._clock() + timedelta(seconds=delay)
        log.warning("outbox %s retry in %.1fs: %s", row.idempotency_key, delay, error)
