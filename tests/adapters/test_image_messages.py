"""A picture through the outbox (real tables), the real platform clients and the fake platform APIs:
uploaded first (Feishu `im/v1/images`, DingTalk `media/upload`), then sent as an image message that
names the upload; the same picture to a second chat is not uploaded again; a retry after a failed
send reuses the outbox row's key; a custom group robot, which cannot post pictures, gets the words."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime

import httpx
from PIL import Image as PILImage
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.codec import reply_from_json, reply_to_json
from adapters.dingtalk.client import DingTalkClient
from adapters.dingtalk.robot_webhook import body_of as robot_body
from adapters.feishu.client import FeishuClient
from adapters.models import Card, Image, OutboundMessage
from scheduler.outbox import OutboxWorker
from storage import idempotency
from storage.db import session_factory, unit_of_work
from tests.scenario import dingtalk, feishu

T0 = datetime(2026, 12, 7, 2, 0, tzinfo=UTC)


def png(color: str) -> bytes:
    buffer = io.BytesIO()
    PILImage.new("RGB", (8, 4), color).save(buffer, format="PNG")
    return buffer.getvalue()


async def queue(engine: AsyncEngine, platform: str, key: str, chat: str, picture: Image) -> None:
    async with unit_of_work(session_factory(engine)) as session:
        await idempotency.enqueue(
            session,
            idempotency_key=key,
            platform=platform,
            chat_id=chat,
            payload={"content": reply_to_json(picture)},
            now=T0,
        )


def test_a_picture_survives_the_outbox_codec() -> None:
    picture = Image(png("red"), "甘特图：新品发布")
    assert reply_from_json(reply_to_json(picture)) == picture
    card = Card("周报", "总体 40%", images=(picture, Image(png("blue"), "燃尽图")))
    assert reply_from_json(json.loads(json.dumps(reply_to_json(card)))) == card


async def test_feishu_uploads_once_then_sends_image_messages(engine: AsyncEngine) -> None:
    picture = Image(png("blue"), "甘特图")
    async with feishu.feishu_api() as api:
        client = FeishuClient(feishu.DOMAIN, "cli_app", "app-secret")
        worker = OutboxWorker(session_factory(engine), {"feishu": client}, lambda: T0)
        await queue(engine, "feishu", "k1", "oc_team", picture)
        await queue(engine, "feishu", "k2", "oc_other", picture)
        assert await worker.send_due() == 2
        await client.aclose()
    assert list(api.images.values()) == [picture.png]  # one upload for both chats
    [image_key] = api.images
    assert [(body["receive_id"], body["msg_type"], body["content"]) for body in api.sent] == [
        ("oc_team", "image", f'{{"image_key":"{image_key}"}}'),
        ("oc_other", "image", f'{{"image_key":"{image_key}"}}'),
    ]
    assert all(body["uuid"] for body in api.sent)  # the outbox key still dedupes the send


async def test_dingtalk_uploads_media_then_sends_sample_image_msg(engine: AsyncEngine) -> None:
    picture = Image(png("green"), "燃尽图")
    async with dingtalk.dingtalk_api() as api:
        client = DingTalkClient(
            dingtalk.API_DOMAIN, "key", "secret", dingtalk.ROBOT_CODE, oapi_domain=dingtalk.OAPI_DOMAIN
        )
        worker = OutboxWorker(session_factory(engine), {"dingtalk": client}, lambda: T0)
        await queue(engine, "dingtalk", "k1", "cidTeam==", picture)
        await queue(engine, "dingtalk", "k2", "cidOther==", picture)
        assert await worker.send_due() == 2
        await client.aclose()
    [(media_id, uploaded)] = api.images.items()
    assert uploaded == picture.png
    assert [(body["openConversationId"], body["msgKey"], body["msgParam"]) for body in api.sent] == [
        ("cidTeam==", "sampleImageMsg", f'{{"photoURL":"{media_id}"}}'),
        ("cidOther==", "sampleImageMsg", f'{{"photoURL":"{media_id}"}}'),
    ]


async def test_a_failed_upload_is_retried_and_nothing_is_posted_meanwhile(engine: AsyncEngine) -> None:
    picture = Image(png("black"), "甘特图")
    async with feishu.feishu_api() as api:
        route = api.router.routes["upload_image"]
        side_effect = route.side_effect
        route.side_effect = [httpx.Response(500, json={"code": 1, "msg": "busy"}), side_effect]
        client = FeishuClient(feishu.DOMAIN, "cli_app", "app-secret")
        now = [T0]
        worker = OutboxWorker(session_factory(engine), {"feishu": client}, lambda: now[0])
        await queue(engine, "feishu", "k1", "oc_team", picture)
        await worker.send_due()
        assert api.sent == [] and api.images == {}
        now[0] = T0.replace(hour=3)  # past the backoff
        assert await worker.send_due() == 1
        await client.aclose()
    assert [body["msg_type"] for body in api.sent] == ["image"] and len(api.images) == 1


def test_a_custom_group_robot_gets_the_words_instead() -> None:
    message = OutboundMessage("dingtalk", "robot", Image(png("red"), "甘特图：新品发布"), "k1")
    body = robot_body(message)
    assert body["msgtype"] == "text" and body["text"]["content"] == "🖼 甘特图：新品发布"
    card = Card("周报", "总体 40%", images=(Image(png("red"), "甘特图"), Image(png("blue"), "燃尽图")))
    body = robot_body(OutboundMessage("dingtalk", "robot", card, "k2"))
    assert body["markdown"]["text"].endswith("总体 40%\n\n🖼 甘特图\n🖼 燃尽图")
