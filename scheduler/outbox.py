"""The outbox sender: delivers queued messages, several chats at once but one message at a time per
chat and in id order, retrying what is retryable with jittered backoff.

A message is claimed by one atomic UPDATE that counts the attempt and pushes its next attempt a
short lease into the future, renewed while the send is in flight (a heartbeat); it is sent outside
any transaction and the outcome written after. So senders in several processes (PostgreSQL, or
SQLite on one host) never send one message twice at once, a slow send keeps its claim, no database
connection waits on the platform, and a crash mid-send delays the message by at most the lease: it is
then sent again under the same idempotency key (Feishu dedupes it; DingTalk has no such key, so
there it may show twice). A pending message not yet due (backing off, or leased) holds back the
later ones to its chat."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import random
from collections.abc import Callable, Collection, Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import exists, func, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import aliased

from adapters.base import Sender, SendError
from adapters.codec import reply_from_json
from adapters.models import OutboundMessage
from bot.metrics import Metrics
from storage.db import unit_of_work
from storage.models import OutboxMessage

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
MAX_BACKOFF_SECONDS = 300.0
FIRST_BACKOFF_SECONDS = 0.25
# A dead sender's messages are taken over this soon; a live one renews its claims every
# RENEW_EVERY_SECONDS, so a renewal may fail (or come late) twice before it loses one.
LEASE_SECONDS = 20.0
RENEW_EVERY_SECONDS = LEASE_SECONDS / 4
SEND_TIMEOUT_SECONDS = 90.0

ChatKey = tuple[str, str]  # (platform, chat_id)


def backoff_seconds(attempts: int, rng: random.Random) -> float:
    """Exponential backoff with jitter: about 0.25 s, 0.5 s, 1 s ... capped at five minutes. The first
    retry is quick because most 5xx and dropped connections are momentary, and a message held back
    also holds back the later ones to its chat."""
    ceiling = min(MAX_BACKOFF_SECONDS, FIRST_BACKOFF_SECONDS * 2.0 ** (attempts - 1))
    return rng.uniform(ceiling / 2, ceiling)


class OutboxWorker:
    def __init__(
        self,
        factory: async_sessionmaker[AsyncSession],
        senders: Mapping[str, Sender],
        clock: Callable[[], datetime],
        *,
        batch_size: int = 200,
        # As many sends at once as Feishu allows a second: when a window of its limits opens, the
        # messages waiting for it are already claimed and go out together.
        concurrency: int = 50,
        idle_seconds: float = 5.0,
        rng: random.Random | None = None,
        metrics: Metrics | None = None,
    ) -> None:
        self.metrics = metrics or Metrics()
        self._factory = factory
        self._senders = senders
        self._clock = clock
        self._batch_size = batch_size
        self._idle_seconds = idle_seconds
        self._rng = rng or random.Random()
        self._slots = asyncio.Semaphore(concurrency)  # sends in flight
        self._max_chats = concurrency * 4  # chats with a sending task (each waits for a slot per message)
        self._chats: dict[ChatKey, asyncio.Task[int]] = {}
        self._picking = asyncio.Lock()  # the run loop and send_due() must not both start one chat
        self._closing = False
        self._wakeup = asyncio.Event()
        self._claims: dict[int, int] = {}  # row id -> attempt number of the messages we are sending
        self._heartbeat: asyncio.Task[None] | None = None
        self._all_released = asyncio.Event()

    def wake(self) -> None:
        self._wakeup.set()

    async def run(self, stop: asyncio.Event) -> None:
        """Send until `stop` is set; between messages, sleeps until woken or the next one is due."""
        while not stop.is_set():
            self._wakeup.clear()  # before looking: a wake-up from now on is not lost
            try:
                if await self._start_due():
                    continue  # more chats may be due than were picked
                delay = await self._seconds_to_next_due()
            except Exception:
                log.exception("outbox pass failed; retrying after a pause")
                delay = self._idle_seconds
            wakeup = asyncio.create_task(self._wakeup.wait())
            stopping = asyncio.create_task(stop.wait())
            await asyncio.wait({wakeup, stopping}, timeout=delay, return_when="FIRST_COMPLETED")
            wakeup.cancel()
            stopping.cancel()
        # Finish the sends in flight and record their outcome; the rest stays due for the next start.
        self._closing = True
        await self._wait_for_chats()
        self._closing = False

    async def send_due(self) -> int:
        """Send what is due now (one batch) and wait until none of this worker's sends is in flight;
        returns how many messages were handled, 0 when nothing was due. Tests and the shell use this."""
        handled = await self._wait_for_chats()  # the run loop's, if it is running too
        await self._start_due()
        return handled + await self._wait_for_chats()

    async def deliver(self, ids: Collection[int], *, wait_seconds: float) -> dict[int, str]:
        """Send these messages now, even if queued for later, waiting out retries until each is sent
        or failed or `wait_seconds` pass (what is left stays queued); returns their statuses by id.

        Other due messages go out too: a message may not overtake an earlier one to its chat."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + wait_seconds
        now = self._clock()
        async with unit_of_work(self._factory) as session:
            await session.execute(
                update(OutboxMessage)
                .where(
                    OutboxMessage.id.in_(ids),
                    OutboxMessage.status == "pending",
                    OutboxMessage.attempts == 0,
                    OutboxMessage.next_attempt_at > now,
                )
                .values(next_attempt_at=now)
            )
        while True:
            handled = await self.send_due()
            async with self._factory() as session:
                query = select(OutboxMessage.id, OutboxMessage.status).where(OutboxMessage.id.in_(ids))
                statuses: dict[int, str] = {row_id: status for row_id, status in await session.execute(query)}
            left = deadline - loop.time()
            if "pending" not in statuses.values() or left <= 0:
                return statuses
            if not handled:
                await asyncio.sleep(min(await self._seconds_to_next_due(), left))

    # -- picking -----------------------------------------------------------------------------------

    async def _start_due(self) -> int:
        """Start a sending task for each chat with a message due; returns how many messages."""
        async with self._picking:
            return await self._start_due_locked()

    async def _start_due_locked(self) -> int:
        room = self._max_chats - len(self._chats)
        if room <= 0:
            return 0
        now = self._clock()
        earlier = aliased(OutboxMessage)
        held_back = exists().where(
            earlier.status == "pending",
            earlier.platform == OutboxMessage.platform,
            earlier.chat_id == OutboxMessage.chat_id,
            earlier.id < OutboxMessage.id,
            earlier.next_attempt_at > now,
        )
        query = (
            select(OutboxMessage.id, OutboxMessage.platform, OutboxMessage.chat_id)
            .where(OutboxMessage.status == "pending", OutboxMessage.next_attempt_at <= now, ~held_back)
            .order_by(OutboxMessage.id)
            .limit(self._batch_size)
        )
        if self._chats:  # chat ids are unique enough across platforms to skip on the id alone
            query = query.where(OutboxMessage.chat_id.not_in([chat for _, chat in self._chats]))
        async with self._factory() as session:
            rows = (await session.execute(query)).all()
        by_chat: dict[ChatKey, list[int]] = {}
        for row_id, platform, chat_id in rows:
            key = (platform, chat_id)
            if key in by_chat or len(by_chat) < room:
                by_chat.setdefault(key, []).append(row_id)
        for key, ids in by_chat.items():
            task = asyncio.create_task(self._send_chat(ids))
            self._chats[key] = task
            task.add_done_callback(functools.partial(self._chat_done, key))
        return sum(len(ids) for ids in by_chat.values())

    def _chat_done(self, key: ChatKey, _: asyncio.Task[int]) -> None:
        self._chats.pop(key, None)
        self._wakeup.set()  # the chat may have more, and there is room for another

    async def _wait_for_chats(self) -> int:
        handled = 0
        while self._chats:
            done, _ = await asyncio.wait(set(self._chats.values()))
            handled += sum(task.result() for task in done)
        return handled

    async def _seconds_to_next_due(self) -> float:
        """Until the earliest message backing off (or leased) becomes due, at most the idle time."""
        now = self._clock()
        async with self._factory() as session:
            due = await session.scalar(
                select(func.min(OutboxMessage.next_attempt_at)).where(
                    OutboxMessage.status == "pending", OutboxMessage.next_attempt_at > now
                )
            )
        if due is None:
            return self._idle_seconds
        return min(self._idle_seconds, max(0.0, (due - now).total_seconds()))

    # -- sending -----------------------------------------------------------------------------------

    async def _send_chat(self, ids: list[int]) -> int:
        """Send one chat's messages in order; stops at the first that must wait (or that another
        sender has), so none overtakes it. Returns how many were attempted."""
        attempted = 0
        try:
            for row_id in ids:
                if self._closing:
                    break
                async with self._slots:
                    outcome = await self._send_one(row_id)
                if outcome is None:
                    break
                attempted += 1
                if outcome == "retry":
                    break
        except Exception:  # the database, most likely: claimed messages are retried after the lease
            log.exception("outbox: sending to a chat failed")
        return attempted

    async def _send_one(self, row_id: int) -> str | None:
        """Claim, send and record one message: "sent", "failed", "retry", or None if not claimed."""
        now = self._clock()
        async with unit_of_work(self._factory) as session:
            claimed = (
                await session.execute(
                    update(OutboxMessage)
                    .where(
                        OutboxMessage.id == row_id,
                        OutboxMessage.status == "pending",
                        OutboxMessage.next_attempt_at <= now,
                    )
                    .values(
                        attempts=OutboxMessage.attempts + 1,
                        next_attempt_at=now + timedelta(seconds=LEASE_SECONDS),
                    )
                    .returning(
                        OutboxMessage.attempts,
                        OutboxMessage.platform,
                        OutboxMessage.chat_id,
                        OutboxMessage.reply_to,
                        OutboxMessage.payload,
                        OutboxMessage.idempotency_key,
                        OutboxMessage.created_at,
                    )
                )
            ).one_or_none()
        if claimed is None:
            return None
        attempts, platform, chat_id, reply_to, payload, key, queued_at = claimed
        message = OutboundMessage(
            platform=platform,
            chat_id=chat_id,
            content=reply_from_json(payload["content"]),
            idempotency_key=key,
            reply_to=reply_to,
            extra=payload.get("extra", {}),
        )
        self._hold(row_id, attempts)  # renewed by the heartbeat until the outcome is written
        try:
            try:
                platform_message_id = await self._send(message)
            except SendError as error:
                outcome, values = self._failure(key, attempts, error)
            else:
                outcome = "sent"
                values = {
                    "status": "sent",
                    "sent_at": self._clock(),
                    "last_error": None,
                    "platform_message_id": platform_message_id,
                }
            if values.get("status") in ("sent", "failed"):
                values.update(_without_sealed(payload))
            async with unit_of_work(self._factory) as session:
                # Only while the claim is still ours (a later claim counted another attempt).
                await session.execute(
                    update(OutboxMessage)
                    .where(OutboxMessage.id == row_id, OutboxMessage.attempts == attempts)
                    .values(**values)
                )
            self.metrics.observe_send(platform, outcome, queued_at, self._clock())
            return outcome
        finally:
            self._release(row_id)

    # -- leases ------------------------------------------------------------------------------------

    def _hold(self, row_id: int, attempts: int) -> None:
        self._claims[row_id] = attempts
        self._all_released.clear()
        if self._heartbeat is None or self._heartbeat.done():
            self._heartbeat = asyncio.create_task(self._renew_while_sending())

    def _release(self, row_id: int) -> None:
        self._claims.pop(row_id, None)
        if not self._claims:
            self._all_released.set()

    async def _renew_while_sending(self) -> None:
        while self._claims:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._all_released.wait(), RENEW_EVERY_SECONDS)
            if self._claims:
                await self.renew_leases()

    async def renew_leases(self) -> int:
        """Push the lease of every message this worker is sending a full lease ahead, while the claim
        is still ours (the heartbeat calls this); returns how many were renewed. Never raises."""
        claims = list(self._claims.items())
        if not claims:
            return 0
        try:
            async with unit_of_work(self._factory) as session:
                renewed = await session.execute(
                    update(OutboxMessage)
                    .where(
                        tuple_(OutboxMessage.id, OutboxMessage.attempts).in_(claims),
                        OutboxMessage.status == "pending",
                    )
                    .values(next_attempt_at=self._clock() + timedelta(seconds=LEASE_SECONDS))
                )
        except Exception as error:
            log.warning("outbox: renewing %d leases failed: %r", len(claims), error)
            return 0
        return int(getattr(renewed, "rowcount", 0))

    async def _send(self, message: OutboundMessage) -> str:
        sender = self._senders.get(message.platform)
        if sender is None:
            raise SendError(f"no sender configured for platform {message.platform!r}", retryable=False)
        try:
            async with asyncio.timeout(SEND_TIMEOUT_SECONDS):
                return await sender.send(message)
        except SendError:
            raise
        except TimeoutError as error:
            raise SendError(f"no answer within {SEND_TIMEOUT_SECONDS:.0f}s", retryable=True) from error
        except Exception as error:  # a bug or an unmapped transport fault: keep the message, retry
            log.exception("outbox %s: unexpected send failure", message.idempotency_key)
            raise SendError(repr(error), retryable=True) from error

    def _failure(self, key: str, attempts: int, error: SendError) -> tuple[str, dict[str, object]]:
        last_error = str(error)[:2000]
        if not error.retryable or attempts >= MAX_ATTEMPTS:
            log.error("outbox %s gave up after %d attempts: %s", key, attempts, error)
            return "failed", {"status": "failed", "last_error": last_error}
        delay = error.retry_after if error.retry_after is not None else backoff_seconds(attempts, self._rng)
        log.warning("outbox %s retry in %.1fs: %s", key, delay, error)
        retry_at = self._clock() + timedelta(seconds=delay)
        return "retry", {"next_attempt_at": retry_at, "last_error": last_error}


def _without_sealed(payload: dict[str, Any]) -> dict[str, object]:
    """The row's new payload without its `sealed_*` extras (a report webhook's encrypted URL and
    secret), which a row sent or given up on never needs again; nothing when it has none."""
    extra = payload.get("extra", {})
    if not any(key.startswith("sealed_") for key in extra):
        return {}
    kept = {key: value for key, value in extra.items() if not key.startswith("sealed_")}
    return {"payload": {**payload, "extra": kept}}
