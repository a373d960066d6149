"""CROSSTRACK_FEISHU_ALLOW_UNSIGNED: the one way to run Feishu's HTTP mode without an encrypt key."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.main import create_app
from storage.models import Project
from tests.scenario.feishu import feishu_api, feishu_settings, feishu_tenant


async def test_every_start_warns_that_requests_are_unsigned(
    engine: AsyncEngine, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    async with feishu_api():
        for settings in (feishu_settings(engine, unsigned=True), feishu_settings(engine)):
            app = create_app(settings)
            for _ in range(2):
                async with app.router.lifespan_context(app):
                    pass
    warnings = [record for record in caplog.records if "ALLOW_UNSIGNED" in record.getMessage()]
    assert len(warnings) == 2 and all(record.levelno == logging.WARNING for record in warnings)


async def test_unsigned_events_are_processed_when_allowed(engine: AsyncEngine) -> None:
    async with feishu_tenant(engine, unsigned=True) as tenant:
        assert tenant.encrypt_key is None
        [reply] = await tenant.say("ou_alice", "/项目 新建 明文")
        assert "明文" in reply
        forged = tenant.message_event("ou_mallory", "/项目 新建 Evil")
        forged["header"]["token"] = "guessed"
        assert (await tenant.deliver(forged)).status_code == 401
        await tenant.runtime.settle()
        async with tenant.runtime.factory() as session:
            assert await session.scalar(select(func.count()).select_from(Project)) == 1
