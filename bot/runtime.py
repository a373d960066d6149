"""The running service: claims inbound events, processes them in tracked background tasks, and
feeds the outbox worker. One transaction per inbound event."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.base import Sender
from adapters.codec import event_from_json, event_to_json, reply_to_json
from adapters.models import InboundEvent, InboundMessage, Reply, Text
from bot.commands.registry import Registry
from bot.dispatcher import Defaults, dispatch
from bot.metrics import Metrics, start_trace
from bot.render.i18n import t
from bot.services.integrations import WebhookHosts
from bot.settings import Settings
from scheduler.outbox import OutboxWorker
from storage import idempotency
from storage.db import session_factory, unit_of_work
from storage.models import InboundEventRecord

log = logging.getLogger(__name__)

MAX_EVENT_ATTEMPTS = 3


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
            webhook_hosts=WebhookHosts().with_domains(
                dingtalk_oapi=settings.dingtalk_oapi_domain, feishu=settings.feishu_domain
            ),
        )
        self.metrics = Metrics()
        self.outbox = OutboxWorker(self.factory, self.senders, clock, metrics=self.metrics)
        self._tasks: set[asyncio.Task[Any]] = set()
        self._outbox_task: asyncio.Task[None] | None = None
        self._stop = asyncio.Event()

    # -- lifecycle -------------------------------------------------------------------------------

    async def start(self, *, run_outbox: bool = True) -> None:
        self._stop.clear()
        await self.recover()
        if run_outbox:
            self._outbox_task = asyncio.create_task(self.outbox.run(self._stop))

    async def stop(self) -> None:
        self._stop.set()
        self.outbox.wake()
        running = {*self._tasks, *([self._outbox_task] if self._outbox_task else [])}
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

    async def settle(self) -> None:
        """Wait for inbound processing and deliver everything due (tests and the shell use this)."""
        while self._tasks:
            await asyncio.wait(set(self._tasks))
        while await self.outbox.send_due():
            pass

    # -- inbound ---------------------------------------------------------------------------------

    async def accept(self, events: Sequence[InboundEvent]) -> None:
        """Claim each event durably, then process it in the background; redeliveries are dropped here."""
        for event in events:
            message_id = event.message_id if isinstance(event, InboundMessage) else None
            async with unit_of_work(self.factory) as session:
                record_id = await idempotency.claim_event(
                    session,
                    platform=event.platform,
                    event_id=event.event_id,
                    message_id=message_id,
                    payload=event_to_json(event),
                    now=self.clock(),
                )
            outcome = "accepted" if record_id is not None else "duplicate"
            self.metrics.inbound_events.labels(event.platform, outcome).inc()
            if record_id is None:
                log.info("duplicate %s event %s ignored", event.platform, event.event_id)
                continue
            self.spawn(self.process(record_id))

    async def recover(self) -> None:
        """Process events claimed before a crash or restart but never finished."""
        async with self.factory() as session:
            pending = list(
                await session.scalars(
                    select(InboundEventRecord.id)
                    .where(InboundEventRecord.status == "pending")
                    .order_by(InboundEventRecord.id)
                )
            )
        for record_id in pending:
            await self.process(record_id)

    async def process(self, record_id: int) -> None:
        trace = start_trace()
        try:
            async with unit_of_work(self.factory) as session:
                record = await session.scalar(
                    select(InboundEventRecord)
                    .where(InboundEventRecord.id == record_id, InboundEventRecord.status == "pending")
                    .with_for_update()
                )
                if record is None:
                    return
                event = event_from_json(record.payload)
                trace.platform, trace.event_id = event.platform, event.event_id
                now = self.clock()
                replies = await dispatch(
                    session, event, registry=self.registry, defaults=self.defaults, now=now
                )
                await self.enqueue_replies(session, event, replies, now)
                record.status = "done"
                record.attempts += 1
                record.processed_at = now
        except Exception as error:
            log.exception("processing inbound event %s failed", record_id)
            await self._record_failure(record_id, error)
            trace.finish(self.metrics, "failed")
        else:
            trace.finish(self.metrics, "processed")
        self.outbox.wake()

    async def _record_failure(self, record_id: int, error: Exception) -> None:
        async with unit_of_work(self.factory) as session:
            record = await session.get(InboundEventRecord, record_id)
            if record is None:
                return
            record.attempts += 1
            record.error = repr(error)[:2000]
            if record.attempts < MAX_EVENT_ATTEMPTS:
                # Stays pending (recover() picks it up after a restart) and is retried shortly.
                self.spawn(self._retry_later(record_id, delay=self.retry_delay_seconds * 2**record.attempts))
                return
            record.status = "failed"
            event = event_from_json(record.payload)
            await self.enqueue_replies(
                session, event, [Text(t(self.defaults.locale, "error.internal"))], self.clock()
            )

    async def _retry_later(self, record_id: int, delay: float) -> None:
        await asyncio.sleep(delay)
        await self.process(record_id)

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
