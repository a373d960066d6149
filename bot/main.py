"""The composition root: builds the FastAPI app, the scheduler and the outbox sender from settings,
platform adapters and the runtime.

Process shapes: `crosstrack serve` = API + inbound processing + scheduler + outbox sender (the
default, one process); `serve --no-scheduler` = the same without the scheduler (API replicas: they
still send their own replies); `crosstrack scheduler` = scheduler + outbox sender, no HTTP. Any
number of each may run against one PostgreSQL: one scheduler leads, and senders claim messages
one by one."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from datetime import datetime

from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from adapters.base import Sender
from adapters.dingtalk import client as dingtalk_limits
from adapters.dingtalk import notable
from adapters.dingtalk import webhook as dingtalk_webhook
from adapters.dingtalk.client import DingTalkClient
from adapters.dingtalk.robot_webhook import DingTalkRobotWebhook
from adapters.feishu import card_actions as feishu_card_actions
from adapters.feishu import client as feishu_limits
from adapters.feishu import webhook as feishu_webhook
from adapters.feishu.bitable import build_tables
from adapters.feishu.bot_webhook import FeishuBotWebhook
from adapters.feishu.client import FeishuClient
from adapters.listeners import Listeners, build_listeners
from adapters.ratelimit import CounterStore, SharedBudget
from bot import api, dashboard, docs, health, metrics
from bot.card_clicks import CardClicks
from bot.commands.all import build_registry
from bot.http_limits import HttpLimits, RequestLimits
from bot.jobs.prune import Housekeeping
from bot.runtime import Runtime, utcnow
from bot.settings import Settings, get_settings
from scheduler.leader import leadership_for
from scheduler.outbox import OutboxWorker
from scheduler.runner import JobRunner
from scheduler.service import LEADER_CHECK_SECONDS, SchedulerService
from storage.counters import RateCounters
from storage.db import create_engine, database_answers, is_sqlite, session_factory
from storage.secretbox import opener

log = logging.getLogger(__name__)


APP_PLATFORMS = ("feishu", "dingtalk")


def enabled_platforms(senders: Mapping[str, Sender]) -> str:
    """The chat apps configured, for the start-up log (custom group robots are always available)."""
    return ", ".join(name for name in APP_PLATFORMS if name in senders) or "none"


def shared_counters(settings: Settings, factory: async_sessionmaker[AsyncSession]) -> CounterStore | None:
    """The store of the send budgets all processes share: PostgreSQL's rate_counters. None on SQLite,
    which serves one host and usually one process, and whose single writer would make every send
    wait for a write (the per-process limiters apply)."""
    return None if is_sqlite(settings.database_url) else RateCounters(factory)


def build_senders(settings: Settings, counters: CounterStore | None = None) -> dict[str, Sender]:
    """The platforms' senders; with `counters`, each app's send budget is shared by every process
    on the database (the per-chat limits stay per process: one sender at a time sends to a chat)."""
    # Report-only groups' custom robot webhooks need no app credentials: always available (their
    # stored credentials need CROSSTRACK_SECRET_KEY to be decrypted).
    unseal = opener(settings.secret_box())
    senders: dict[str, Sender] = {
        DingTalkRobotWebhook.platform: DingTalkRobotWebhook(unseal=unseal),
        FeishuBotWebhook.platform: FeishuBotWebhook(unseal=unseal),
    }
    if settings.feishu_enabled:
        assert settings.feishu_app_id and settings.feishu_app_secret
        app_id = settings.feishu_app_id
        budget = (
            SharedBudget(counters, f"feishu:{app_id}", feishu_limits.APP_SEND_LIMITS) if counters else None
        )
        senders["feishu"] = FeishuClient(
            settings.feishu_domain,
            app_id,
            settings.feishu_app_secret.get_secret_value(),
            limiter=feishu_limits.send_limiter(budget=budget),
        )
    if settings.dingtalk_enabled:
        assert settings.dingtalk_app_key and settings.dingtalk_app_secret and settings.dingtalk_robot_code
        app_key = settings.dingtalk_app_key
        # Keyed: each robot send API has its own 20 calls/s per app.
        per_api = (
            SharedBudget(counters, f"dingtalk:{app_key}", dingtalk_limits.API_LIMITS, keyed=True)
            if counters
            else None
        )
        senders["dingtalk"] = DingTalkClient(
            settings.dingtalk_api_domain,
            settings.dingtalk_app_key,
            settings.dingtalk_app_secret.get_secret_value(),
            settings.dingtalk_robot_code,
            oapi_domain=settings.dingtalk_oapi_domain,
            limiter=dingtalk_limits.send_limiter(budget=per_api),
        )
    return senders


def build_job_runner(
    factory: async_sessionmaker[AsyncSession],
    clock: Callable[[], datetime],
    outbox: OutboxWorker,
    senders: Mapping[str, Sender],
    housekeeping: Housekeeping | None = None,
) -> JobRunner:
    """Jobs queue their messages for `outbox` (and wake it), and write shared tables through the
    platforms' senders; with `housekeeping`, the instance jobs (prune) run too."""
    tables = {**build_tables(senders), **notable.build_tables(senders)}
    return JobRunner(
        factory,
        clock,
        on_queued=outbox.wake,
        tables=tables,
        housekeeping=housekeeping,
        metrics=outbox.metrics,
    )


def build_scheduler(
    settings: Settings,
    factory: async_sessionmaker[AsyncSession],
    clock: Callable[[], datetime],
    outbox: OutboxWorker,
    senders: Mapping[str, Sender],
    *,
    leader_check_seconds: float = LEADER_CHECK_SECONDS,
) -> SchedulerService:
    return SchedulerService(
        build_job_runner(factory, clock, outbox, senders, Housekeeping.from_settings(settings)),
        leadership_for(settings.database_url),
        leader_check_seconds=leader_check_seconds,
    )


async def run_scheduler(
    settings: Settings,
    stop: asyncio.Event,
    *,
    senders: Mapping[str, Sender] | None = None,
    clock: Callable[[], datetime] = utcnow,
    leader_check_seconds: float = LEADER_CHECK_SECONDS,
) -> None:
    """`crosstrack scheduler`: the scheduler and the outbox sender, until `stop` is set."""
    engine = create_engine(settings.database_url)
    factory = session_factory(engine)
    senders = senders if senders is not None else build_senders(settings, shared_counters(settings, factory))
    outbox = OutboxWorker(factory, senders, clock)
    service = build_scheduler(
        settings, factory, clock, outbox, senders, leader_check_seconds=leader_check_seconds
    )
    log.info("crosstrack scheduler starting; platforms enabled: %s", enabled_platforms(senders))
    sending = asyncio.create_task(outbox.run(stop))
    await service.start()
    try:
        await stop.wait()
    finally:
        await service.stop()
        stop.set()
        await sending
        for sender in senders.values():
            close = getattr(sender, "aclose", None)
            if close is not None:
                await close()
        await engine.dispose()


def readiness_checks(
    engine: AsyncEngine, listeners: Listeners, service: SchedulerService | None
) -> dict[str, health.Check]:
    """What /readyz asks: the database, each connection the settings open, the scheduler if it runs."""

    async def database() -> bool:
        return await database_answers(engine)

    def connection(name: str) -> health.Check:
        async def up() -> bool:
            return listeners.connections()[name]

        return up

    async def scheduler() -> bool:
        assert service is not None
        return service.leadership_known

    checks: dict[str, health.Check] = {"database": database}
    checks.update({name: connection(name) for name in listeners.connections()})
    if service is not None:
        checks["scheduler"] = scheduler
    return checks


def create_app(
    settings: Settings | None = None,
    *,
    senders: Mapping[str, Sender] | None = None,
    clock: Callable[[], datetime] = utcnow,
    scheduler: bool = False,
    leader_check_seconds: float = LEADER_CHECK_SECONDS,
) -> FastAPI:
    """The web app; with `scheduler`, it runs the job scheduler too (`crosstrack serve` does)."""
    settings = settings or get_settings()
    engine = create_engine(settings.database_url)
    runtime = Runtime(
        settings,
        engine,
        build_registry(),
        senders
        if senders is not None
        else build_senders(settings, shared_counters(settings, session_factory(engine))),
        clock=clock,
    )
    feishu = runtime.senders.get("feishu")
    feishu_client = feishu if isinstance(feishu, FeishuClient) else None
    dingtalk = runtime.senders.get("dingtalk")
    dingtalk_client = dingtalk if isinstance(dingtalk, DingTalkClient) else None
    clicks = CardClicks(runtime)
    # DingTalk Stream / Feishu long connection, when the settings choose them over webhooks.
    listeners = build_listeners(
        settings,
        feishu=feishu_client,
        dingtalk=dingtalk_client,
        accept=runtime.accept,
        clock=clock,
        handle_click=clicks.handle,
        metrics=runtime.metrics,
    )
    service = (
        build_scheduler(
            settings,
            runtime.factory,
            clock,
            runtime.outbox,
            runtime.senders,
            leader_check_seconds=leader_check_seconds,
        )
        if scheduler
        else None
    )

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        enabled = enabled_platforms(runtime.senders)
        scheduling = "on" if service is not None else "off (--no-scheduler)"
        log.info("crosstrack starting; platforms enabled: %s; scheduler %s", enabled, scheduling)
        if feishu_client is None and dingtalk_client is None:
            log.warning("no platform credentials set: webhook endpoints answer 503; try `crosstrack shell`")
        feishu_webhook.warn_if_unsigned(settings)
        if feishu_client is not None:
            await feishu_client.bot_open_id()
        await runtime.start()
        listeners.start()
        if service is not None:
            await service.start()
        try:
            yield
        finally:
            await listeners.stop()  # no new inbound events while the rest shuts down
            if service is not None:
                await service.stop()  # first: a job's messages are queued before the sender stops
            await runtime.stop()
            await engine.dispose()

    # /docs is served from local files (bot/docs.py); FastAPI's own pages load them from CDNs.
    app = FastAPI(title="crosstrack", version="0.1.0", lifespan=lifespan, docs_url=None, redoc_url=None)
    docs.install(app)
    app.state.runtime = runtime
    app.state.scheduler = service
    app.state.listeners = listeners
    app.include_router(api.build_router(settings, runtime.factory, clock))
    app.include_router(dashboard.build_router(settings, runtime.factory, clock))
    app.include_router(health.build_router(readiness_checks(engine, listeners, service)))
    limits = HttpLimits(
        settings.max_body_bytes, settings.max_concurrent_requests, settings.body_timeout_seconds
    )
    app.state.http_limits = limits
    app.add_middleware(RequestLimits, limits=limits)
    app.include_router(metrics.build_router(runtime.metrics, runtime.factory))
    app.add_middleware(metrics.WebhookMetricsMiddleware, metrics=runtime.metrics)
    app.include_router(feishu_webhook.build_router(settings, feishu_client, runtime.accept, clock))
    app.state.card_clicks = clicks
    app.include_router(feishu_card_actions.build_router(settings, feishu_client, clicks.handle, clock))
    app.include_router(dingtalk_webhook.build_router(settings, dingtalk_client, runtime.accept, clock))
    return app
