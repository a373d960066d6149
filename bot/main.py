"""The composition root: builds the FastAPI app from settings, platform adapters and the runtime."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from datetime import datetime

from fastapi import FastAPI

from adapters.base import Sender
from adapters.feishu import webhook as feishu_webhook
from adapters.feishu.client import FeishuClient
from bot import api
from bot.commands.all import build_registry
from bot.runtime import Runtime, utcnow
from bot.settings import Settings, get_settings
from storage.db import create_engine

log = logging.getLogger(__name__)


def build_senders(settings: Settings) -> dict[str, Sender]:
    senders: dict[str, Sender] = {}
    if settings.feishu_enabled:
        assert settings.feishu_app_id and settings.feishu_app_secret
        senders["feishu"] = FeishuClient(
            settings.feishu_domain, settings.feishu_app_id, settings.feishu_app_secret
        )
    return senders


def create_app(
    settings: Settings | None = None,
    *,
    senders: Mapping[str, Sender] | None = None,
    clock: Callable[[], datetime] = utcnow,
) -> FastAPI:
    settings = settings or get_settings()
    engine = create_engine(settings.database_url)
    runtime = Runtime(
        settings,
        engine,
        build_registry(),
        senders if senders is not None else build_senders(settings),
        clock=clock,
    )
    feishu = runtime.senders.get("feishu")
    feishu_client = feishu if isinstance(feishu, FeishuClient) else None

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        enabled = ", ".join(sorted(runtime.senders)) or "none"
        log.info("crosstrack starting; platforms enabled: %s", enabled)
        if not runtime.senders:
            log.warning("no platform credentials set: webhook endpoints answer 503; try `crosstrack shell`")
        if feishu_client is not None:
            await feishu_client.bot_open_id()
        await runtime.start()
        try:
            yield
        finally:
            await runtime.stop()
            await engine.dispose()

    app = FastAPI(title="crosstrack", version="0.1.0", lifespan=lifespan)
    app.state.runtime = runtime
    app.include_router(api.build_router(settings, runtime.factory))
    app.include_router(feishu_webhook.build_router(settings, feishu_client, runtime.accept, clock))
    return app
