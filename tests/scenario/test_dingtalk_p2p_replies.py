"""Replies in a DingTalk 1:1 chat when the message's session webhook cannot be used: it has expired,
or this process never saw it (a restart, another replica). groupMessages/send cannot reach a 1:1
conversation, so the reply must go to the sender by oToMessages/batchSend."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.dingtalk.client import DingTalkClient
from adapters.models import OutboundMessage, Text
from storage.models import OutboxMessage
from tests.scenario.dingtalk import (
    ACCESS_TOKEN,
    API_DOMAIN,
    APP_KEY,
    APP_SECRET,
    ROBOT_CODE,
    Organisation,
    dingtalk_api,
    dingtalk_organisation,
)

NOW = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)
BATCH_SEND = f"{API_DOMAIN}/v1.0/robot/oToMessages/batchSend"
GROUP_SEND = f"{API_DOMAIN}/v1.0/robot/groupMessages/send"


async def reply_row(org: Organisation) -> OutboxMessage:
    async with org.runtime.factory() as session:
        [row] = list(await session.scalars(select(OutboxMessage)))
        return row


async def test_an_expired_webhook_in_a_1_to_1_chat_replies_to_the_sender_by_batch_send(
    engine: AsyncEngine,
) -> None:
    async with dingtalk_organisation(engine) as org:
        expired = org.now_ms() - 60_000
        payload = org.message(
            "staff042", "/我的任务", conversation="cid-dm-042", chat_type="p2p", webhook_expires_ms=expired
        )
        assert (await org.deliver(payload)).status_code == 200
        await org.runtime.settle()

        [sent] = org.api.sent
        assert sent["_url"] == BATCH_SEND and sent["_token"] == ACCESS_TOKEN
        assert sent["userIds"] == ["staff042"] and sent["robotCode"] == ROBOT_CODE
        assert "openConversationId" not in sent
        assert json.loads(sent["msgParam"])["content"].startswith("你还不在任何项目里")
        row = await reply_row(org)
        assert (row.status, row.chat_id, row.payload["extra"]) == (
            "sent",
            "cid-dm-042",
            {"chat_type": "p2p", "user": "staff042"},
        )


async def test_a_fresh_webhook_in_a_1_to_1_chat_is_still_used(engine: AsyncEngine) -> None:
    async with dingtalk_organisation(engine) as org:
        payload = org.message("staff042", "/我的任务", conversation="cid-dm-042", chat_type="p2p")
        assert (await org.deliver(payload)).status_code == 200
        await org.runtime.settle()
        [sent] = org.api.sent
        assert sent["_url"] == payload["sessionWebhook"]
        assert sent["text"]["content"].startswith("你还不在任何项目里")


async def test_a_group_reply_without_its_webhook_still_goes_to_the_group(engine: AsyncEngine) -> None:
    async with dingtalk_organisation(engine) as org:
        payload = org.message("staff042", "/项目 新建 新品发布", webhook_expires_ms=org.now_ms() - 60_000)
        assert (await org.deliver(payload)).status_code == 200
        await org.runtime.settle()
        [sent] = org.api.sent
        assert sent["_url"] == GROUP_SEND and sent["openConversationId"] == "cid-team"
        assert "userIds" not in sent
        assert "extra" not in (await reply_row(org)).payload


async def test_after_a_restart_a_queued_1_to_1_reply_goes_to_the_sender() -> None:
    """A process that never saw the message (no session webhook in memory) sends the queued row."""
    client = DingTalkClient(API_DOMAIN, APP_KEY, APP_SECRET, ROBOT_CODE, now=lambda: NOW)
    reply: dict[str, Any] = {
        "platform": "dingtalk",
        "chat_id": "cid-dm-042",
        "content": Text("✅ 已记录"),
        "idempotency_key": "reply:dingtalk:msg1:0",
        "reply_to": "msg1",
    }
    try:
        async with dingtalk_api() as api:
            await client.send(OutboundMessage(**reply, extra={"chat_type": "p2p", "user": "staff042"}))
            await client.send(OutboundMessage(**reply))  # a group reply stays in the conversation
        to_person, to_group = api.sent
        assert (to_person["_url"], to_person["userIds"]) == (BATCH_SEND, ["staff042"])
        assert (to_group["_url"], to_group["openConversationId"]) == (GROUP_SEND, "cid-dm-042")
        assert json.loads(to_person["msgParam"]) == {"content": "✅ 已记录"}
    finally:
        await client.aclose()


async def test_the_reply_route_is_recorded_only_for_1_to_1_chats(engine: AsyncEngine) -> None:
    """The shared runtime writes the 1:1 hint on every platform; Feishu replies by message id anyway."""
    async with dingtalk_organisation(engine) as org:
        group = org.message("staff042", "/项目 新建 甲")
        dm = org.message("staff042", "/帮助", conversation="cid-dm-042", chat_type="p2p")
        for payload in (group, dm):
            assert (await org.deliver(payload)).status_code == 200
            await org.runtime.settle()
        async with org.runtime.factory() as session:
            rows = list(await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))
        assert [(row.chat_id, row.payload.get("extra")) for row in rows] == [
            ("cid-team", None),
            ("cid-dm-042", {"chat_type": "p2p", "user": "staff042"}),
        ]
