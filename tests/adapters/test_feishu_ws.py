"""Feishu long-connection mode (`CROSSTRACK_FEISHU_MODE=ws`) against a fake server speaking
lark-oapi's protocol: endpoint fetch, protobuf frames, responses, reconnects; events go through the
real runtime, SQL and outbox, and replies through the faked Open API."""

from __future__ import annotations

import asyncio
import base64
import json
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.main import create_app
from bot.runtime import Runtime
from bot.settings import Settings
from storage.models import InboundEventRecord, ProgressUpdate, Project, Task
from tests.fakes.feishu_ws import LongConnectionServer, message_event
from tests.scenario.feishu import TENANT_TOKEN, FeishuApi, feishu_api, feishu_settings
from tests.scenario.feishu_cards import click_payload

APP_ID = "cli_scenario"
APP_SECRET = "scenario-app-secret"


@asynccontextmanager
async def serving_in_ws_mode(
    engine: AsyncEngine,
) -> AsyncIterator[tuple[Runtime, FeishuApi, LongConnectionServer]]:
    """`crosstrack serve` with CROSSTRACK_FEISHU_MODE=ws and no verification token."""
    async with LongConnectionServer(APP_ID, APP_SECRET) as server, feishu_api(server.domain) as api:
        settings = feishu_settings(engine).model_copy(
            update={"feishu_mode": "ws", "feishu_domain": server.domain, "feishu_verification_token": None}
        )
        app = create_app(settings)
        async with app.router.lifespan_context(app):
            yield app.state.runtime, api, server


async def project_names(runtime: Runtime) -> list[str]:
    async with runtime.factory() as session:
        return list(await session.scalars(select(Project.name).order_by(Project.id)))


def long_connection_threads() -> list[threading.Thread]:
    return [thread for thread in threading.enumerate() if thread.name == "feishu-ws"]


async def test_an_event_is_answered_and_applied_once_even_when_redelivered(engine: AsyncEngine) -> None:
    async with serving_in_ws_mode(engine) as (runtime, api, server):
        connection = await server.connection()
        assert server.endpoint_requests == [{"AppID": APP_ID, "AppSecret": APP_SECRET}]
        event = message_event("ou_alice", "/项目 新建 长连接")
        first = await connection.send_event(event)
        again = await connection.send_event(event)  # Feishu delivers at least once
        assert first["code"] == again["code"] == 200
        await runtime.settle()
        assert await project_names(runtime) == ["长连接"]
        async with runtime.factory() as session:
            assert await session.scalar(select(func.count()).select_from(InboundEventRecord)) == 1
        [reply] = api.sent
        assert reply["_path"] == f"/open-apis/im/v1/messages/{event['event']['message']['message_id']}/reply"
        assert reply["_auth"] == f"Bearer {TENANT_TOKEN}"
        assert "长连接" in json.loads(reply["content"])["text"]
    # Shutting the app down closed the connection and ended the client's thread.
    await asyncio.wait_for(connection.closed.wait(), 5)
    assert long_connection_threads() == []


async def test_reconnects_after_the_server_closes_the_connection(engine: AsyncEngine) -> None:
    async with serving_in_ws_mode(engine) as (runtime, api, server):
        first = await server.connection()
        await first.ws.close()
        second = await server.connection()
        assert second.device_id != first.device_id and len(server.endpoint_requests) == 2
        answer = await second.send_event(message_event("ou_alice", "/项目 新建 重连之后"))
        assert answer["code"] == 200
        await runtime.settle()
        assert await project_names(runtime) == ["重连之后"]
        assert len(api.sent) == 1


async def test_an_event_that_is_not_ours_is_answered_and_ignored(engine: AsyncEngine) -> None:
    async with serving_in_ws_mode(engine) as (runtime, api, server):
        connection = await server.connection()
        event = message_event("ou_alice", "/项目 新建 X")
        del event["event"]["message"]["chat_id"]  # malformed: refused by the same parser as webhooks
        assert (await connection.send_event(event))["code"] == 200
        await runtime.settle()
        async with runtime.factory() as session:
            assert await session.scalar(select(func.count()).select_from(InboundEventRecord)) == 0
        assert api.sent == []


def test_ws_mode_needs_no_verification_token_but_http_mode_does() -> None:
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None, feishu_app_id=APP_ID, feishu_app_secret=APP_SECRET, feishu_mode="ws"
    )
    assert settings.feishu_mode == "ws" and settings.feishu_verification_token is None
    with pytest.raises(ValueError, match="CROSSTRACK_FEISHU_VERIFICATION_TOKEN"):
        Settings(_env_file=None, feishu_app_id=APP_ID, feishu_app_secret=APP_SECRET)  # type: ignore[call-arg]


async def test_a_card_click_on_the_long_connection_is_answered_in_the_response_frame(
    engine: AsyncEngine,
) -> None:
    async with serving_in_ws_mode(engine) as (runtime, api, server):
        connection = await server.connection()
        for line in ("/项目 新建 长连接", "/阶段 添加 1 开发", "/任务 添加 1.1 接口 @Alice 截止=2026-12-31"):
            answer = await connection.send_event(
                message_event("ou_alice", line, mentions={"Alice": "ou_alice"})
            )
            assert answer["code"] == 200
            await runtime.settle()
        await connection.send_event(message_event("ou_alice", "/站会"))
        await runtime.settle()
        prompt_index = len(api.sent)  # the fake API numbers its messages om_bot_<n>
        prompt = json.loads(api.sent[-1]["content"])
        assert prompt["header"]["title"]["content"].startswith("☀️ 站会")

        click = click_payload(
            "ou_alice", f"om_bot_{prompt_index}", chat="oc_ws", group=0, button=0, form_value={"g0_t0": "60%"}
        )
        del click["header"]["token"]  # the long connection carries no verification token
        answer = await connection.send_event(click)
        assert answer["code"] == 200
        body = json.loads(base64.b64decode(answer["data"]))
        assert body["toast"]["type"] == "success"
        assert "ou_alice" in body["card"]["data"]["body"]["elements"][0]["content"]
        async with runtime.factory() as session:
            assert await session.scalar(select(Task.progress).where(Task.code == "1.1")) == 60

        # The same click again (a double tap) is answered without applying it twice.
        again = json.loads(base64.b64decode((await connection.send_event(click))["data"]))
        assert again["toast"]["type"] == "info"
        async with runtime.factory() as session:
            assert await session.scalar(select(func.count()).select_from(ProgressUpdate)) == 1
