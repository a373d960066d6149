"""Prometheus metrics: one registry per app (not prometheus_client's global one), so tests and
several apps in one process never share counts, and `GET /metrics` (text format, no auth: bind it
behind the firewall) shows this process's figures plus the outbox depth read at scrape time.

Labels are bounded: platforms, outcomes, job names and the commands' canonical names; never user
text or ids."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, MutableMapping
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime
from time import perf_counter
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.models import OutboxMessage

if TYPE_CHECKING:
    from scheduler.runner import JobOutcome

log = logging.getLogger(__name__)

# Webhook acks must stay well inside Feishu's 3 s; processing and delivery take longer.
_ACK_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0)
_WORK_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
_DELIVERY_BUCKETS = (0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0, 3600.0)

NO_COMMAND = "none"  # an event that ran no command (not understood, not for us, a welcome)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.inbound_events = Counter(
            "crosstrack_inbound_events",
            "Inbound events by platform and outcome: accepted, duplicate, rejected (refused request),"
            " processed, failed (a processing attempt raised; retried twice, then apologised for).",
            ["platform", "outcome"],
            registry=r,
        )
        self.webhook_ack_seconds = Histogram(
            "crosstrack_webhook_ack_seconds",
            "Time to answer a webhook request.",
            ["platform"],
            buckets=_ACK_BUCKETS,
            registry=r,
        )
        self.command_seconds = Histogram(
            "crosstrack_command_seconds",
            "Time to process one inbound event, by the command's canonical name.",
            ["command"],
            buckets=_WORK_BUCKETS,
            registry=r,
        )
        self.outbox_pending = Gauge(
            "crosstrack_outbox_pending", "Outbox messages not yet sent (read at scrape time).", registry=r
        )
        self.sends = Counter(
            "crosstrack_outbox_sends",
            "Send attempts by platform and outcome: sent, retry, failed.",
            ["platform", "outcome"],
            registry=r,
        )
        self.retries = Counter(
            "crosstrack_outbox_retries",
            "Sends that failed and will be tried again (rate limits, 5xx, transport errors), by platform.",
            ["platform"],
            registry=r,
        )
        self.queued_to_sent_seconds = Histogram(
            "crosstrack_outbox_queued_to_sent_seconds",
            "Time from queueing a message to its delivery.",
            ["platform"],
            buckets=_DELIVERY_BUCKETS,
            registry=r,
        )
        self.scheduler_leader = Gauge(
            "crosstrack_scheduler_leader", "1 while this process leads the scheduler.", registry=r
        )
        self.job_runs = Counter(
            "crosstrack_job_runs",
            "Job runs by job and outcome: done, failed, skipped (already ran that business day).",
            ["job", "outcome"],
            registry=r,
        )
        self.job_seconds = Histogram(
            "crosstrack_job_seconds",
            "Time of one job run for one project.",
            ["job"],
            buckets=_WORK_BUCKETS,
            registry=r,
        )
        self.listener_connected = Gauge(
            "crosstrack_listener_connected",
            "1 while a listener's connection (DingTalk Stream, Feishu long connection) is open.",
            ["listener"],
            registry=r,
        )

    def observe_send(self, platform: str, outcome: str, queued_at: datetime, now: datetime) -> None:
        """One outbox send attempt: its outcome, and for a delivery the time since it was queued."""
        self.sends.labels(platform, outcome).inc()
        if outcome == "sent":
            self.queued_to_sent_seconds.labels(platform).observe(max(0.0, (now - queued_at).total_seconds()))
        elif outcome == "retry":
            self.retries.labels(platform).inc()

    def observe_job(self, outcome: JobOutcome, seconds: float) -> None:
        """One job run for one project: counted, timed and logged (a run already done that business
        day, which every tick of its window finds, only at DEBUG)."""
        self.job_runs.labels(outcome.job, outcome.status).inc()
        self.job_seconds.labels(outcome.job).observe(seconds)
        log.log(
            logging.DEBUG if outcome.status == "skipped" else logging.INFO,
            "job %s for project %s on %s: %s, %.3f s",
            outcome.job,
            outcome.project_id,
            outcome.business_date,
            outcome.status,
            seconds,
            extra={
                "job": outcome.job,
                "project": outcome.project_id,
                "business_date": outcome.business_date.isoformat(),
                "outcome": outcome.status,
                "duration_ms": round(seconds * 1000, 1),
            },
        )


# -- the command an event ran: set by the dispatcher, read by whoever processes the event --------


@dataclass
class EventTrace:
    """One inbound event's processing: what the structured log line and the metrics report."""

    started: float = field(default_factory=perf_counter)
    platform: str = "unknown"
    event_id: str = ""
    command: str = NO_COMMAND
    project_id: int | None = None

    def finish(self, metrics: Metrics, outcome: str) -> None:
        seconds = perf_counter() - self.started
        metrics.inbound_events.labels(self.platform, outcome).inc()
        metrics.command_seconds.labels(self.command).observe(seconds)
        log.info(
            "inbound %s event %s: %s, command %s, %.3f s",
            self.platform,
            self.event_id,
            outcome,
            self.command,
            seconds,
            extra={
                "event_id": self.event_id,
                "platform": self.platform,
                "project": self.project_id,
                "command": self.command,
                "outcome": outcome,
                "duration_ms": round(seconds * 1000, 1),
            },
        )


_trace: ContextVar[EventTrace | None] = ContextVar("crosstrack_event_trace", default=None)


def start_trace() -> EventTrace:
    """Begin tracing the current task's event (the dispatcher then names its command)."""
    trace = EventTrace()
    _trace.set(trace)
    return trace


def note_command(name: str, project_id: int | None) -> None:
    trace = _trace.get()
    if trace is not None:
        trace.command, trace.project_id = name, project_id


# -- HTTP --------------------------------------------------------------------------------------

ASGIApp = Callable[[MutableMapping[str, Any], Any, Any], Awaitable[None]]


class WebhookMetricsMiddleware:
    """Times every answer on /webhooks/<platform>/... and counts refused ones (4xx) as rejected
    events: here rather than in each route, so every webhook is covered the same way."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: MutableMapping[str, Any], receive: Any, send: Any) -> None:
        parts = scope.get("path", "").split("/") if scope["type"] == "http" else []
        if len(parts) < 3 or parts[1] != "webhooks":
            await self.app(scope, receive, send)
            return
        platform = parts[2]
        started = perf_counter()
        status = 500

        async def send_and_watch(message: MutableMapping[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                self.metrics.webhook_ack_seconds.labels(platform).observe(perf_counter() - started)
            await send(message)

        await self.app(scope, receive, send_and_watch)
        if status in (400, 401, 403):
            self.metrics.inbound_events.labels(platform, "rejected").inc()


def build_router(metrics: Metrics, factory: async_sessionmaker[AsyncSession]) -> APIRouter:
    router = APIRouter(tags=["operations"])

    @router.get("/metrics", summary="Prometheus metrics (no auth: keep it behind the firewall)")
    async def scrape() -> Response:
        async with factory() as session:
            pending = await session.scalar(
                select(func.count()).select_from(OutboxMessage).where(OutboxMessage.status == "pending")
            )
        metrics.outbox_pending.set(pending or 0)
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    return router
