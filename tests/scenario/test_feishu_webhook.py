"""Really signed and encrypted Feishu deliveries into the running app; the Feishu API is faked."""

from __future__ import annotations

import asyncio
import json
import time

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.feishu.crypto import encrypt
from storage.models import InboundEventRecord, OutboxMessage, Project
from tests.samples import load
from tests.scenario.feishu import ENCRYPT_KEY, TENANT_TOKEN, VERIFICATION_TOKEN, feishu_tenant


async def count(tenant, model) -> int:  # type: ignore[no-untyped-def]
    async with tenant.runtime.factory() as session:
        return int(await session.scalar(select(func.count()).select_from(model)))


async def test_url_verification_plain_is_answered_at_once(engine: AsyncEngine) -> None:
    async with feishu_tenant(engine, unsigned=True) as tenant:
        challenge = {**load("feishu", "url_verification_plain"), "token": VERIFICATION_TOKEN}
        response = await tenant.client.post("/webhooks/feishu/events", json=challenge)
        assert response.status_code == 200
        assert response.json() == {"challenge": "ajls384kdjxxxx"}


async def test_url_verification_encrypted_is_answered(engine: AsyncEngine) -> None:
    async with feishu_tenant(engine) as tenant:
        plain = {**load("feishu", "url_verification_plain"), "token": VERIFICATION_TOKEN}
        body = {"encrypt": encrypt(ENCRYPT_KEY, json.dumps(plain))}
        response = await tenant.client.post("/webhooks/feishu/events", json=body)
        assert response.json() == {"challenge": "ajls384kdjxxxx"}
        wrong = {"encrypt": encrypt(ENCRYPT_KEY, json.dumps({**plain, "token": "forged"}))}
        assert (await tenant.client.post("/webhooks/feishu/events", json=wrong)).status_code == 401


async def test_command_is_processed_and_replied_through_the_open_api(engine: AsyncEngine) -> None:
    async with feishu_tenant(engine) as tenant:
        event = tenant.message_event("ou_alice", "/项目 新建 新品发布")
        started = time.perf_counter()
        response = await tenant.deliver(event)
        assert response.status_code == 200 and response.json() == {}
        assert time.perf_counter() - started < 3  # acknowledged well inside Feishu's 3 s
        await tenant.runtime.settle()
        [reply] = tenant.api.sent
        assert reply["_path"] == f"/open-apis/im/v1/messages/{event['event']['message']['message_id']}/reply"
        assert reply["_auth"] == f"Bearer {TENANT_TOKEN}"
        assert reply["msg_type"] == "text" and "新品发布" in json.loads(reply["content"])["text"]
        assert len(reply["uuid"]) <= 50
        async with tenant.runtime.factory() as session:
            project = await session.scalar(select(Project))
            assert project is not None and project.name == "新品发布"


async def test_forged_signature_is_rejected_and_never_processed(engine: AsyncEngine) -> None:
    async with feishu_tenant(engine) as tenant:
        raw, headers = tenant.signed(tenant.message_event("ou_mallory", "/项目 新建 Evil"))
        headers["X-Lark-Signature"] = "0" * 64
        response = await tenant.client.post("/webhooks/feishu/events", content=raw, headers=headers)
        assert response.status_code == 401
        await tenant.runtime.settle()
        assert await count(tenant, InboundEventRecord) == 0
        assert await count(tenant, Project) == 0
        assert tenant.api.sent == []


async def test_stale_timestamp_is_rejected(engine: AsyncEngine) -> None:
    async with feishu_tenant(engine) as tenant:
        event = tenant.message_event("ou_alice", "/项目 新建 Replay")
        response = await tenant.deliver(event, timestamp=int(time.time()) - 3600)
        assert response.status_code == 401
        await tenant.runtime.settle()
        assert await count(tenant, InboundEventRecord) == 0


async def test_wrong_verification_token_is_rejected(engine: AsyncEngine) -> None:
    async with feishu_tenant(engine) as tenant:
        event = tenant.message_event("ou_alice", "/项目 新建 X")
        event["header"]["token"] = "not-ours"
        assert (await tenant.deliver(event)).status_code == 401


async def test_redelivery_and_simultaneous_duplicates_apply_once(engine: AsyncEngine) -> None:
    async with feishu_tenant(engine) as tenant:
        event = tenant.message_event("ou_alice", "/项目 新建 Once")
        # The same delivery twice at the same moment, then Feishu's retry later.
        first, second = await asyncio.gather(tenant.deliver(event), tenant.deliver(event))
        assert first.status_code == second.status_code == 200
        assert (await tenant.deliver(event)).status_code == 200
        # A different event id carrying the same message (Feishu's at-least-once delivery).
        again = tenant.message_event(
            "ou_alice", "/项目 新建 Once", message_id=event["event"]["message"]["message_id"]
        )
        assert (await tenant.deliver(again)).status_code == 200
        await tenant.runtime.settle()
        assert await count(tenant, Project) == 1
        assert await count(tenant, InboundEventRecord) == 1
        assert await count(tenant, OutboxMessage) == 1
        assert len(tenant.api.sent) == 1


async def test_bot_added_to_chat_gets_a_welcome_card(engine: AsyncEngine) -> None:
    async with feishu_tenant(engine) as tenant:
        event = load("feishu", "im_chat_member_bot_added_v1")
        event["header"]["token"] = VERIFICATION_TOKEN
        assert (await tenant.deliver(event)).status_code == 200
        await tenant.runtime.settle()
        [card] = tenant.api.sent
        assert card["msg_type"] == "interactive"
        assert card["_target"] == event["event"]["chat_id"]
        assert "/项目 新建" in json.loads(card["content"])["body"]["elements"][0]["content"]


async def test_messages_from_bots_and_images_are_handled_quietly(engine: AsyncEngine) -> None:
    async with feishu_tenant(engine) as tenant:
        assert await tenant.say("ou_other_bot", "/项目 新建 X", sender_type="app") == []
        image = tenant.message_event("ou_alice", "x")
        image["event"]["message"].update(message_type="image", content=json.dumps({"image_key": "img_v2_1"}))
        assert (await tenant.deliver(image)).status_code == 200
        await tenant.runtime.settle()
        [hint] = tenant.api.take()
        assert "文字" in hint


async def test_not_configured_platform_answers_503(engine: AsyncEngine) -> None:
    import httpx

    from bot.main import create_app
    from bot.settings import Settings

    app = create_app(Settings(_env_file=None, database_url=engine.url.render_as_string(hide_password=False)))  # type: ignore[call-arg]
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        response = await client.post("/webhooks/feishu/events", json={"challenge": "x"})
    assert response.status_code == 503 and "CROSSTRACK_FEISHU_APP_ID" in response.json()["error"]


async def test_rate_limited_reply_is_retried_with_the_same_uuid(engine: AsyncEngine) -> None:
    import httpx

    async with feishu_tenant(engine) as tenant:
        limited = load("feishu", "rate_limit_error_99991400_http")
        attempts: list[dict[str, str]] = []

        def reply(request: httpx.Request, mid: str) -> httpx.Response:
            attempts.append(json.loads(request.content))
            if len(attempts) == 1:  # Feishu says: wait until the window resets (0 s here)
                return httpx.Response(429, json=limited["body"], headers={"x-ogw-ratelimit-reset": "0"})
            return httpx.Response(200, json={"code": 0, "data": {"message_id": "om_ok"}})

        tenant.api.router.post(path__regex=r"/open-apis/im/v1/messages/(?P<mid>[^/]+)/reply").mock(
            side_effect=reply
        )
        await tenant.deliver(tenant.message_event("ou_alice", "/项目 新建 Retry"))
        await tenant.runtime.settle()
        assert len(attempts) == 2 and attempts[0]["uuid"] == attempts[1]["uuid"]
        async with tenant.runtime.factory() as session:
            row = await session.scalar(select(OutboxMessage))
            assert row is not None and row.status == "sent" and row.attempts == 2
