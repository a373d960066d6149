"""What HTTP-mode DingTalk callbacks may and may not do: the attacks of the security review, performed
with really signed requests against the running app (SQLite and PostgreSQL), the DingTalk APIs faked.

The callback signature covers the timestamp only, so whoever holds a fresh `timestamp`/`sign` pair can
post any body: a pair is single-use, every field read is typed and bounded, a reply route must be the
platform's own session-reply path, and Stream mode (the default) closes the endpoint altogether."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.dingtalk.client import DingTalkClient
from adapters.dingtalk.webhook import MAX_BODY_BYTES, SIGN_SCOPE
from bot.main import create_app
from storage.models import InboundEventRecord, Member, Project, RequestNonce
from tests.fakes.dingtalk_stream import StreamGateway
from tests.scenario.dingtalk import (
    API_DOMAIN,
    APP_KEY,
    APP_SECRET,
    OAPI_DOMAIN,
    ROBOT_CODE,
    Organisation,
    dingtalk_api,
    dingtalk_organisation,
    dingtalk_settings,
)

GROUP_SEND = f"{API_DOMAIN}/v1.0/robot/groupMessages/send"


async def count(org: Organisation, model: type) -> int:
    async with org.runtime.factory() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def stored_nothing(org: Organisation) -> bool:
    await org.runtime.settle()
    return (
        await count(org, InboundEventRecord),
        await count(org, RequestNonce),
        await count(org, Project),
    ) == (
        0,
        0,
        0,
    )


async def post_raw(org: Organisation, raw: bytes, headers: dict[str, str]) -> httpx.Response:
    return await org.client.post("/webhooks/dingtalk", content=raw, headers=headers)


async def test_a_signed_header_pair_is_single_use(engine: AsyncEngine) -> None:
    """The captured pair of a real callback cannot carry another body: no impersonation, no
    self-granted PM, nothing stored; DingTalk's own redelivery of that callback stays a no-op."""
    async with dingtalk_organisation(engine) as org:
        real = org.message("alice", "/项目 新建 真项目", msg_id="msg-real-1")
        captured = org.signed_headers()
        raw = json.dumps(real, ensure_ascii=False).encode()
        assert (await post_raw(org, raw, captured)).status_code == 200
        await org.runtime.settle()

        forged = org.message(
            "alice", "/项目 负责人 @mallory", msg_id="msg-forged-1", mentions={"mallory": "mallory"}
        )
        response = await post_raw(org, json.dumps(forged, ensure_ascii=False).encode(), captured)
        assert response.status_code == 401 and response.json() == {"error": "unauthorized"}

        assert (await post_raw(org, raw, captured)).status_code == 200  # the platform redelivering
        await org.runtime.settle()
        assert await count(org, InboundEventRecord) == 1
        async with org.runtime.factory() as session:
            [nonce] = list(await session.scalars(select(RequestNonce)))
            members = list(await session.scalars(select(Member.platform_user_id)))
        assert (nonce.scope, nonce.owner) == (SIGN_SCOPE, "msg-real-1")
        assert "mallory" not in members
        assert len(org.api.sent) == 1  # the real command's one reply


async def test_a_body_refused_for_its_content_does_not_use_up_the_pair(engine: AsyncEngine) -> None:
    async with dingtalk_organisation(engine) as org:
        headers = org.signed_headers()
        bad = org.message("alice", "/项目 新建 X", conversation="c" * 200)
        assert (await post_raw(org, json.dumps(bad).encode(), headers)).status_code == 400
        assert await stored_nothing(org)
        good = org.message("alice", "/项目 新建 好")
        assert (
            await post_raw(org, json.dumps(good, ensure_ascii=False).encode(), headers)
        ).status_code == 200


# Spliced into the JSON text: nesting deeper than Python's own encoder (or decoder) can follow.
DEEP = "__deeply nested__"


# Each was taken (stored, later failing or misused) or crashed the request (500) before.
INVALID = {
    "conversationId of 200 characters": {"conversationId": "c" * 200},
    "senderStaffId of 200 characters": {"senderStaffId": "u" * 200},
    "senderNick of 300 characters": {"senderNick": "名" * 300},
    "conversationTitle of 300 characters": {"conversationTitle": "群" * 300},
    "senderStaffId not a string": {"senderStaffId": 12345},
    "conversationTitle not a string": {"conversationTitle": {"zh": "群"}},
    "text of 6,000 characters": {"text": {"content": "长" * 6000}},
    "NUL in the text": {"text": {"content": " /项目 新建 a\x00b"}},
    "NUL in the sender": {"senderStaffId": "user\x00123"},
    "1,000 mentioned users": {"atUsers": [{"dingtalkId": f"d{i}", "staffId": f"s{i}"} for i in range(1000)]},
    "mentioned user not an object": {"atUsers": ["someone"]},
    "session webhook expiry a string": {"sessionWebhookExpiredTime": "1690367502152"},
    "deeply nested unknown field": {"extra": DEEP},
}


@pytest.mark.parametrize("fields", INVALID.values(), ids=INVALID.keys())
async def test_malformed_signed_messages_are_refused_with_nothing_stored(
    engine: AsyncEngine, fields: dict[str, Any]
) -> None:
    async with dingtalk_organisation(engine) as org:
        payload = {**org.message("user123", "/项目 新建 坏"), **fields}
        raw = json.dumps(payload, ensure_ascii=False).replace(f'"{DEEP}"', "[" * 5000 + "]" * 5000)
        response = await post_raw(org, raw.encode(), org.signed_headers())
        assert response.status_code == 400 and response.json() == {"error": "bad request"}
        assert await stored_nothing(org)
        assert org.api.sent == []


async def test_an_oversized_body_is_refused_unread(engine: AsyncEngine) -> None:
    async with dingtalk_organisation(engine) as org:
        payload = {**org.message("user123", "/项目 新建 大"), "padding": "x" * MAX_BODY_BYTES}
        response = await post_raw(org, json.dumps(payload).encode(), org.signed_headers())
        assert response.status_code == 413
        assert await stored_nothing(org)


FORGED_ROUTES = {
    "another oapi path (a custom robot)": f"{OAPI_DOMAIN}/robot/send?access_token=attacker",
    "an extra query parameter": f"{OAPI_DOMAIN}/robot/sendBySession?session=abc&access_token=attacker",
    "a fragment": f"{OAPI_DOMAIN}/robot/sendBySession?session=abc#x",
    "a dot segment": f"{OAPI_DOMAIN}/robot/sendBySession/../send?session=abc",
    "userinfo": OAPI_DOMAIN.replace("https://", "https://attacker@") + "/robot/sendBySession?session=abc",
    "a longer host": f"{OAPI_DOMAIN}.attacker.test/robot/sendBySession?session=abc",
    "no session": f"{OAPI_DOMAIN}/robot/sendBySession",
}


@pytest.mark.parametrize("url", FORGED_ROUTES.values(), ids=FORGED_ROUTES.keys())
async def test_only_the_session_reply_path_is_a_reply_route(engine: AsyncEngine, url: str) -> None:
    async with dingtalk_organisation(engine) as org:
        payload = {
            **org.message("user123", "/项目 新建 路由", conversation="cid-route"),
            "sessionWebhook": url,
        }
        assert (await org.deliver(payload)).status_code == 200
        await org.runtime.settle()
        [reply] = org.api.sent
        assert reply["_url"] == GROUP_SEND and reply["openConversationId"] == "cid-route"


async def test_a_session_webhook_expiring_in_days_is_not_used(engine: AsyncEngine) -> None:
    async with dingtalk_organisation(engine) as org:
        in_a_week = org.now_ms() + 7 * 24 * 3600 * 1000
        payload = org.message("user123", "/项目 新建 久", webhook_expires_ms=in_a_week)
        assert (await org.deliver(payload)).status_code == 200
        await org.runtime.settle()
        [reply] = org.api.sent
        assert reply["_url"] == GROUP_SEND


async def test_a_flood_of_conversations_keeps_only_the_newest_reply_routes(engine: AsyncEngine) -> None:
    settings = dingtalk_settings(engine)
    client = DingTalkClient(
        API_DOMAIN, APP_KEY, APP_SECRET, ROBOT_CODE, oapi_domain=OAPI_DOMAIN, max_routes=3
    )
    async with dingtalk_api() as api:
        app = create_app(settings, senders={"dingtalk": client})
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://crosstrack.test") as http:
                org = Organisation(http, app.state.runtime, api)
                conversations = [f"cid-flood-{index}" for index in range(8)]
                for conversation in conversations:
                    response = await org.deliver(org.message("user123", "/帮助", conversation=conversation))
                    assert response.status_code == 200
                await org.runtime.settle()
    # Memory stays bounded: the newest three conversations' routes are kept (the others' replies
    # go through the OpenAPI).
    assert list(client._routes) == conversations[-3:]


async def test_stream_mode_is_the_default_and_closes_the_http_endpoint(engine: AsyncEngine) -> None:
    settings = dingtalk_settings(engine).model_copy(update={"dingtalk_mode": "stream"})
    assert type(settings).model_fields["dingtalk_mode"].default == "stream"
    async with dingtalk_api() as api, StreamGateway(APP_KEY, APP_SECRET) as gateway:
        gateway.install(api.router, API_DOMAIN)
        app = create_app(settings)
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://crosstrack.test") as http:
                org = Organisation(http, app.state.runtime, api)
                response = await org.deliver(org.message("user123", "/项目 新建 HTTP"))
                assert response.status_code == 404 and "Stream" in response.json()["error"]
                assert await stored_nothing(org)
