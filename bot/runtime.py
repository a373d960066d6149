"""The running service: claims inbound events, processes them in tracked background tasks, and
feeds the outbox worker. One transaction per inbound event.

An event is acked once claimed, so it must be processed even when its first try cannot be: a failed
try is retried at its `next_attempt_at`, and a sweeper (every `inbound_sweep_seconds`, in every
process) picks up pending events that are due or were left unfinished (their process died, or the
database failed both the try and its bookkeeping). Any number of sweepers may run: `process` locks the
row and applies it only while it is still pending."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.base import RequestNonce, Sender, WebhookRejected
from adapters.codec import event_from_json, event_to_json, reply_to_json
from adapters.models import InboundEvent, InboundMessage, Reply, Text
from bot.commands.registry import Registry
from bot.dispatcher import Defaults, dispatch, redacted
from bot.metrics import Metrics, start_trace
from bot.render.i18n import t
from bot.services.dashboard import Links
from bot.services.integrations import WebhookHosts
from bot.settings import Settings
from scheduler.outbox import OutboxWorker
from storage import idempotency
from storage.db import session_factory, unit_of_work
from storage.models import InboundEventRecord

log = logging.getLogger(__name__)

MAX_EVENT_ATTEMPTS = 3
# A pending event with no retry scheduled is swept once this old: its own background task has had
# time to finish, so it died with its process or failed during a database outage.
UNFINISHED_AFTER_SECONDS = 30.0
SWEEP_BATCH = 200
# Woken for a retry at most this often, so a retry whose bookkeeping keeps failing cannot spin.
MIN_SWEEP_SECONDS = 1.0
# What decoding a stored payload raises when it is not an event: no retry can fix that.
UNDECODABLE = (KeyError, TypeError, ValueError, AttributeError)


def utcnow() -> datetime:
    return datetime.now(UTC)


class Runtime:
    def __init__(
        self,
        settings: Settings,
        engine: AsyncEngine,
        registry: Registry,
        senders: Mapping[str, Sender],
        *,
        clock: Callable[[], datetime] = utcnow,
        retry_delay_seconds: float = 2.0,
    ) -> None:
        self.settings = settings
        self.engine = engine
        self.factory = session_factory(engine)
        self.registry = registry
        self.senders = dict(senders)
        self.clock = clock
        self.retry_delay_seconds = retry_delay_seconds
        self.defaults = Defaults(
            timezone=settings.timezone,
            locale=settings.locale,
            command_rate_limit=settings.command_rate_limit,
            webhook_hosts=WebhookHosts().with_domains(
                dingtalk_oapi=settings.dingtalk_oapi_domain, feishu=settings.feishu_domain
            ),
            secret_box=settings.secret_box(),
            dashboard=Links.from_settings(settings),
        )
        self.metrics = Metrics()
        self.outbox = OutboxWorker(self.factory, self.senders, clock, metrics=self.metrics)
        self._tasks: set[asyncio.Task[Any]] = set()
        self._outbox_task: asyncio.Task[None] | None = None
        self._sweeper_task: asyncio.Task[None] | None = None
        self._sweep_wakeup = asyncio.Event()  # a retry was scheduled (or we are stopping): look again
        self._stop = asyncio.Event()

    # -- lifecycle -------------------------------------------------------------------------------

    async def start(self, *, run_outbox: bool = True) -> None:
        self._stop.clear()
        # In the background: the app serves at once, and no backlog, however bad, can stop it starting.
        self.spawn(self.recover())
        self._sweeper_task = asyncio.create_task(self._sweep_periodically())
        if run_outbox:
            self._outbox_task = asyncio.create_task(self.outbox.run(self._stop))

    async def stop(self) -> None:
        self._stop.set()
        self._sweep_wakeup.set()
        self.outbox.wake()
        loops = [task for task in (self._outbox_task, self._sweeper_task) if task is not None]
        running = {*self._tasks, *loops}
        if running:
            await asyncio.wait(running, timeout=10)
        for sender in self.senders.values():
            close = getattr(sender, "aclose", None)
            if close is not None:
                await close()

    def spawn(self, coroutine: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        """Run in the background, keeping a reference so the task is neither lost nor collected."""
        task = asyncio.create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def wait_for_inbound(self) -> None:
        """Wait until no inbound event is being processed in the background."""
        while self._tasks:
            await asyncio.wait(set(self._tasks))

    async def settle(self) -> None:
        """Wait for inbound processing and deliver everything due (tests and the shell use this)."""
        await self.wait_for_inbound()
        while await self.outbox.send_due():
            pass

    # -- inbound ---------------------------------------------------------------------------------

    async def accept(self, events: Sequence[InboundEvent], *, nonce: RequestNonce | None = None) -> None:
        """Claim the events durably in one transaction, then process each in the background;
        redeliveries are dropped here. A `nonce` is claimed in the same transaction: one that another
        owner holds refuses the request (WebhookRejected, 401) with nothing stored."""
        claimed: list[int] = []
        async with unit_of_work(self.factory) as session:
            if nonce is not None and not await idempotency.claim_nonce(
                session, scope=nonce.scope, nonce=nonce.nonce, owner=nonce.owner, expires_at=nonce.expires_at
            ):
                raise WebhookRejected(f"{nonce.scope} nonce already used by another event")
            for event in events:
                record_id = await idempotency.claim_event(
                    session,
                    platform=event.platform,
                    event_id=event.event_id,
                    message_id=event.message_id if isinstance(event, InboundMessage) else None,
                    payload=event_to_json(event),
                    now=self.clock(),
                )
                outcome = "accepted" if record_id is not None else "duplicate"
                self.metrics.inbound_events.labels(event.platform, outcome).inc()
                if record_id is None:
                    log.info("duplicate %s event %s ignored", event.platform, event.event_id)
                else:
                    claimed.append(record_id)
        for record_id in claimed:
            self.spawn(self.process(record_id))

    async def recover(self) -> None:
        """Process the events claimed before a crash or restart but never finished (retries not yet
        due wait for the sweeper)."""
        await self.sweep(include_recent=True)

    async def sweep(self, *, include_recent: bool = False) -> int:
        """Process, one by one in arrival order, the pending events that are due: retries whose time
        has come, and events nobody finished (received over UNFINISHED_AFTER_SECONDS ago, or at any
        time with `include_recent`). Returns how many were tried; never raises."""
        now = self.clock()
        received_before = now if include_recent else now - timedelta(seconds=UNFINISHED_AFTER_SECONDS)
        due = or_(
            InboundEventRecord.next_attempt_at <= now,
            and_(
                InboundEventRecord.next_attempt_at.is_(None),
                InboundEventRecord.received_at <= received_before,
            ),
        )
        tried = 0
        after = 0  # walk by id, so an event that fails again is not retried within one sweep
        while not self._stop.is_set():
            try:
                async with self.factory() as session:
                    batch = list(
                        await session.scalars(
                            select(InboundEventRecord.id)
                            .where(InboundEventRecord.status == "pending", InboundEventRecord.id > after, due)
                            .order_by(InboundEventRecord.id)
                            .limit(SWEEP_BATCH)
                        )
                    )
            except Exception as error:
                log.warning("inbound sweep could not read pending events: %r", error)
                break
            for record_id in batch:
                if self._stop.is_set():
                    return tried
                await self.process(record_id)
                tried += 1
            if len(batch) < SWEEP_BATCH:
                break
            after = batch[-1]
        return tried

    async def _sweep_periodically(self) -> None:
        while not self._stop.is_set():
            self._sweep_wakeup.clear()
            try:
                await asyncio.wait_for(self._sweep_wakeup.wait(), await self._seconds_to_next_sweep())
            except TimeoutError:
                await self.sweep()

    async def _seconds_to_next_sweep(self) -> float:
        """The sweep interval, or less when a scheduled retry comes due sooner."""
        interval = self.settings.inbound_sweep_seconds
        now = self.clock()
        try:
            async with self.factory() as session:
                next_retry = await session.scalar(
                    select(func.min(InboundEventRecord.next_attempt_at)).where(
                        InboundEventRecord.status == "pending", InboundEventRecord.next_attempt_at > now
                    )
                )
        except Exception as error:
            log.warning("inbound sweeper could not look for retries: %r", error)
            return interval
        if next_retry is None:
            return interval
        return min(interval, max(MIN_SWEEP_SECONDS, (next_retry - now).total_seconds()))

    async def process(self, record_id: int) -> None:
        """Apply one claimed event, once whoever tries: its row is locked (one that another
        transaction holds is skipped: that one is on it) and must still be pending. Never raises: a
        failure is recorded for a retry, and if even that fails the event stays pending for the sweeper."""
        trace = start_trace()
        outcome: str | None = "processed"  # None: someone else has it, nothing to report
        try:
            async with unit_of_work(self.factory) as session:
                record = await session.scalar(
                    select(InboundEventRecord)
                    .where(InboundEventRecord.id == record_id, InboundEventRecord.status == "pending")
                    .with_for_update(skip_locked=True)
                )
                if record is None:
                    outcome = None
                    return
                now = self.clock()
                record.attempts += 1
                try:
                    event = event_from_json(record.payload)
                except UNDECODABLE as error:
                    log.error("inbound event %s cannot be decoded; given up: %r", record_id, error)
                    outcome = "failed"
                    record.status = "failed"
                    record.error = repr(error)[:2000]
                    return
                trace.platform, trace.event_id = event.platform, event.event_id
                replies = await dispatch(
                    session, event, registry=self.registry, defaults=self.defaults, now=now
                )
                await self.enqueue_replies(session, event, replies, now)
                # Credentials in the command (a webhook secret) are not kept past this transaction.
                record.payload = event_to_json(redacted(event, self.registry))
                record.status = "done"
                record.processed_at = now
        except Exception as error:
            log.exception("processing inbound event %s failed", record_id)
            await self._record_failure(record_id, error)
            outcome = "failed"
        finally:
            if outcome is not None:
                trace.finish(self.metrics, outcome)
            self.outbox.wake()

    async def _record_failure(self, record_id: int, error: Exception) -> None:
        """Count the failed try and schedule the next one, backing off; after the last, give up with a
        polite apology. Never raises (see `process`)."""
        try:
            async with unit_of_work(self.factory) as session:
                record = await session.scalar(
                    select(InboundEventRecord)
                    .where(InboundEventRecord.id == record_id, InboundEventRecord.status == "pending")
                    .with_for_update()
                )
                if record is None:  # another process has applied it meanwhile
                    return
                now = self.clock()
                record.attempts += 1
                record.error = repr(error)[:2000]
                if record.attempts < MAX_EVENT_ATTEMPTS:
                    delay = self.retry_delay_seconds * 2**record.attempts
                    record.next_attempt_at = now + timedelta(seconds=delay)
                else:
                    record.status = "failed"
                    await self._apologise(session, record, now)
        except Exception as failure:
            log.error(
                "inbound event %s: recording its failure failed too, left pending for the sweeper: %r",
                record_id,
                failure,
            )
            return
        self._sweep_wakeup.set()

    async def _apologise(self, session: Any, record: InboundEventRecord, now: datetime) -> None:
        """Queue the apology in a savepoint: a payload the outbox cannot take either (an oversized
        chat id, say) costs the apology, not the record that the event failed. The stored command
        loses its credentials as a processed one does."""
        record_id = record.id
        try:
            async with session.begin_nested():
                event = event_from_json(record.payload)
                record.payload = event_to_json(redacted(event, self.registry))
                await self.enqueue_replies(
                    session, event, [Text(t(self.defaults.locale, "error.internal"))], now
                )
        except Exception as error:
            log.error("inbound event %s failed for good; no apology could be queued: %r", record_id, error)

    async def enqueue_replies(
        self,
        session: Any,
        event: InboundEvent,
        replies: Sequence[Reply],
        now: datetime,
        *,
        reply_to: str | None = None,
    ) -> None:
        """Queue the replies to `event`, in its chat, as replies to `reply_to` (default: the message
        itself), keyed by the event so a reprocessed event never replies twice."""
        if reply_to is None and isinstance(event, InboundMessage):
            reply_to = event.message_id
        payload: dict[str, Any] = {}
        if isinstance(event, InboundMessage) and event.chat.chat_type == "p2p":
            # Who a 1:1 chat is with: a platform that cannot post to the chat itself (DingTalk, once
            # the message's reply route is gone) sends the reply to this person instead.
            payload["extra"] = {"chat_type": "p2p", "user": event.sender.user_id}
        for index, reply in enumerate(replies):
            await idempotency.enqueue(
                session,
                idempotency_key=f"reply:{event.platform}:{event.event_id}:{index}",
                platform=event.platform,
                chat_id=event.chat.chat_id,
                reply_to=reply_to,
                payload={"content": reply_to_json(reply), **payload},
                now=now,
            )
