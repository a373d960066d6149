"""Really signed DingTalk robot callbacks (HTTP mode) into the running app; the DingTalk APIs are faked."""

from __future__ import annotations

import time

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.main import create_app
from bot.settings import Settings
from storage.models import InboundEventRecord, Project
from tests.scenario.dingtalk import (
    ACCESS_TOKEN,
    API_DOMAIN,
    ROBOT_CODE,
    Organisation,
    dingtalk_organisation,
)


async def count(org: Organisation, model: type) -> int:
    async with org.runtime.factory() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def project_names(org: Organisation) -> list[str]:
    async with org.runtime.factory() as session:
        return list(await session.scalars(select(Project.name)))


async def test_command_is_applied_and_replied_on_the_session_webhook(engine: AsyncEngine) -> None:
    async with dingtalk_organisation(engine) as org:
        payload = org.message("user123", "/项目 新建 新品发布")
        started = time.perf_counter()
        response = await org.deliver(payload)
        assert response.status_code == 200 and response.json() == {}
        assert time.perf_counter() - started < 3
        await org.runtime.settle()
        assert await project_names(org) == ["新品发布"]
        [reply] = org.api.sent
        assert reply["_url"] == payload["sessionWebhook"]
        assert reply["msgtype"] == "text" and "新品发布" in reply["text"]["content"]


@pytest.mark.parametrize("forgery", ["sign", "stale"])
async def test_forged_or_stale_callbacks_are_rejected_and_never_processed(
    engine: AsyncEngine, forgery: str
) -> None:
    async with dingtalk_organisation(engine) as org:
        payload = org.message("mallory", "/项目 新建 Evil")
        if forgery == "sign":
            response = await org.deliver(payload, secret="not-the-app-secret")
        else:
            response = await org.deliver(payload, timestamp_ms=int(time.time() * 1000) - 2 * 3600 * 1000)
        assert response.status_code == 401
        await org.runtime.settle()
        assert await count(org, InboundEventRecord) == 0
        assert await count(org, Project) == 0
        assert org.api.sent == []


async def test_malformed_body_is_a_bad_request(engine: AsyncEngine) -> None:
    async with dingtalk_organisation(engine) as org:
        payload = org.message("user123", "/项目 新建 X")
        del payload["msgId"]
        assert (await org.deliver(payload)).status_code == 400
        response = await org.client.post(
            "/webhooks/dingtalk", content=b"not json", headers=org.signed_headers()
        )
        assert response.status_code == 400
        await org.runtime.settle()
        assert await count(org, InboundEventRecord) == 0


async def test_the_same_msg_id_twice_is_applied_once(engine: AsyncEngine) -> None:
    async with dingtalk_organisation(engine) as org:
        payload = org.message("user123", "/项目 新建 只一次", msg_id="msg-dup-1")
        assert (await org.deliver(payload)).status_code == 200
        assert (await org.deliver(payload)).status_code == 200
        await org.runtime.settle()
        assert await project_names(org) == ["只一次"]
        assert len(org.api.sent) == 1


async def test_expired_session_webhook_falls_back_to_group_send(engine: AsyncEngine) -> None:
    async with dingtalk_organisation(engine) as org:
        expired = int(time.time() * 1000) - 60_000
        payload = org.message(
            "user123", "/项目 新建 回退", conversation="cid-fallback", webhook_expires_ms=expired
        )
        assert (await org.deliver(payload)).status_code == 200
        await org.runtime.settle()
        [reply] = org.api.sent
        assert reply["_url"] == f"{API_DOMAIN}/v1.0/robot/groupMessages/send"
        assert reply["_token"] == ACCESS_TOKEN
        assert reply["robotCode"] == ROBOT_CODE and reply["openConversationId"] == "cid-fallback"
        assert reply["msgKey"] == "sampleText" and "回退" in org.api.texts()[0]


async def test_not_configured_answers_503(engine: AsyncEngine) -> None:
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None, database_url=engine.url.render_as_string(hide_password=False)
    )
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://crosstrack.test") as client:
            response = await client.post("/webhooks/dingtalk", json={})
    assert response.status_code == 503 and "CROSSTRACK_DINGTALK_APP_KEY" in response.json()["error"]


@pytest.mark.parametrize("missing", ["dingtalk_app_secret", "dingtalk_robot_code"])
def test_enabled_dingtalk_needs_secret_and_robot_code(missing: str) -> None:
    values = {
        "dingtalk_app_key": "ding-key",
        "dingtalk_app_secret": "real-secret-value",
        "dingtalk_robot_code": "ding-robot",
        missing: "changeme",
    }
    with pytest.raises(ValueError, match=f"CROSSTRACK_{missing.upper()}"):
        Settings(_env_file=None, **values)  # type: ignore[call-arg]
