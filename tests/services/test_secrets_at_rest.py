"""Secrets at rest, on SQLite and PostgreSQL: a custom robot's webhook URL (its access_token or hook
id) and signing secret, bound with `/config webhook` through really signed Feishu and DingTalk
deliveries, are stored encrypted under CROSSTRACK_SECRET_KEY, the stored command keeps them masked
once handled, and once the webhook is removed they are in no column of any table."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.jobs.prune import Housekeeping, prune
from bot.settings import Settings
from storage.models import AuditEntry, Base, InboundEventRecord, OutboxMessage, ReportWebhook
from storage.secretbox import SecretBox, new_key
from tests.harness import Chat, chat_runtime
from tests.scenario import SECRET_KEY
from tests.scenario.dingtalk import OAPI_DOMAIN
from tests.scenario.feishu import DOMAIN

NOW = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)
TOKEN = "a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90"
DINGTALK_SECRET = "SEC0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcd"
HOOK_ID = "2c6a3c4e-8f7b-4d5e-9a1b-0c2d3e4f5a6b"
FEISHU_SECRET = "qLkU7mZ2nP4rS8tV1wX3yA"


def robot(platform: str) -> tuple[str, str, str]:
    """(webhook URL, its credential part, signing secret) of a custom robot on `platform`'s hosts."""
    if platform == "dingtalk":
        return f"{OAPI_DOMAIN}/robot/send?access_token={TOKEN}", TOKEN, DINGTALK_SECRET
    return f"{DOMAIN}/open-apis/bot/v2/hook/{HOOK_ID}", HOOK_ID, FEISHU_SECRET


async def found_in_database(chat: Chat, *needles: str) -> list[str]:
    """`table.column` of every value, in every table, that contains one of `needles` (JSON as text)."""
    places = []
    async with chat.runtime.factory() as s:
        for table in Base.metadata.sorted_tables:
            for row in (await s.execute(select(table))).mappings():
                for column, value in row.items():
                    text = (
                        json.dumps(value, ensure_ascii=False)
                        if isinstance(value, dict | list)
                        else str(value)
                    )
                    if any(needle in text for needle in needles):
                        places.append(f"{table.name}.{column}")
    return places


async def count(chat: Chat, model: Any) -> int:
    async with chat.runtime.factory() as s:
        return int(await s.scalar(select(func.count()).select_from(model)) or 0)


async def test_a_removed_webhook_leaves_its_credentials_in_no_table(
    engine: AsyncEngine, platform: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)  # what `crosstrack serve` logs
    url, credential, secret = robot(platform)
    async with chat_runtime(engine, platform=platform, now=NOW) as chat:
        await chat.say("alice", "/项目 新建 新品发布")
        await chat.say("alice", "/成员 添加 @bob")
        # Refused (bob is not a PM): the secret he typed is not kept either.
        assert "只有项目经理" in (await chat.one("bob", f"/设置 群机器人 {url} {secret}"))
        added = await chat.one("alice", f"/设置 群机器人 {url} {secret}")
        assert added.startswith("✅ 已添加")
        # Bound: stored encrypted, and the stored command masked.
        assert await found_in_database(chat, credential, secret) == []
        async with chat.runtime.factory() as s:
            texts = [event.payload.get("text", "") for event in await s.scalars(select(InboundEventRecord))]
        assert any("群机器人" in text and "[redacted]" in text for text in texts), texts

        assert await chat.one("alice", "/设置 群机器人 关") == "✅ 已移除 1 个群机器人，周报不再发到那里。"
        assert await count(chat, ReportWebhook) == 0
        assert await found_in_database(chat, credential, secret) == []
        # The audit log still says who added and removed which (masked) webhook.
        async with chat.runtime.factory() as s:
            actions = list(
                await s.scalars(select(AuditEntry.action).where(AuditEntry.entity == "report_webhook"))
            )
        assert actions == ["project.webhook_add", "project.webhook_remove"]
    assert caplog.records and credential not in caplog.text and secret not in caplog.text


async def test_without_a_key_binding_is_refused_naming_the_setting_and_the_rest_works(
    engine: AsyncEngine,
) -> None:
    url, credential, secret = robot("feishu")
    async with chat_runtime(engine, platform="feishu", now=NOW, secret_key=None) as chat:
        await chat.say("alice", "/项目 新建 新品发布")
        audited = await count(chat, AuditEntry)
        refused = await chat.one("alice", f"/设置 群机器人 {url} {secret}")
        assert "CROSSTRACK_SECRET_KEY" in refused and "暂时不能设置群机器人" in refused
        assert await count(chat, ReportWebhook) == 0 and await count(chat, AuditEntry) == audited
        assert await found_in_database(chat, credential, secret) == []
        assert (await chat.one("alice", "/设置 群机器人")).startswith("还没有群机器人")
        assert "已添加" in await chat.one("alice", "/阶段 添加 1 开发")


async def test_an_old_key_still_reads_and_housekeeping_reencrypts_under_the_new_one(
    engine: AsyncEngine,
) -> None:
    url, _, secret = robot("feishu")
    async with chat_runtime(engine, platform="feishu", now=NOW) as chat:
        await chat.say("alice", "/项目 新建 新品发布")
        await chat.say("alice", f"/设置 群机器人 {url} {secret}")
    rotated = new_key()
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None, database_url="sqlite://", secret_key=rotated, secret_keys_old=f" {SECRET_KEY} ,"
    )
    box = settings.secret_box()
    assert box is not None
    async with chat_runtime(engine, platform="feishu", now=NOW, secret_key=rotated) as chat:
        done = await prune(chat.runtime.factory, Housekeeping.from_settings(settings), NOW)
        assert done["report_webhooks re-encrypted"] == 1
        async with chat.runtime.factory() as s:
            webhook = await s.scalar(select(ReportWebhook))
            assert webhook is not None
            only_new = SecretBox([rotated])
            assert (only_new.open(webhook.url_sealed), only_new.open(webhook.secret_sealed)) == (url, secret)
        # Found again under the new key: the same secret is "no change".
        assert "没有变化" in await chat.one("alice", f"/设置 群机器人 {url} {secret}")
        assert (await prune(chat.runtime.factory, Housekeeping.from_settings(settings), NOW))[
            "report_webhooks re-encrypted"
        ] == 0
        assert await count(chat, OutboxMessage) > 0
