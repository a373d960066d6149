"""Malformed events and card clicks on Feishu's long connection: one log line each, answered, and
nothing stored; the connection goes on serving."""

from __future__ import annotations

import base64
import json
import logging

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.models import InboundEventRecord, OutboxMessage
from tests.adapters.test_feishu_ws import project_names, serving_in_ws_mode
from tests.fakes.feishu_ws import message_event
from tests.scenario.feishu_cards import click_payload


async def test_malformed_events_and_clicks_are_logged_and_dropped(
    engine: AsyncEngine, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    async with serving_in_ws_mode(engine) as (runtime, api, server):
        connection = await server.connection()
        long_chat = message_event("ou_alice", "/项目 新建 X", chat="oc_" + "x" * 200)
        nul_sender = message_event("ou_alice", "/项目 新建 Y")
        nul_sender["event"]["sender"]["sender_id"]["open_id"] = "ou_\x00"
        for event in (long_chat, nul_sender):
            assert (await connection.send_event(event))["code"] == 200

        click = click_payload("ou_alice", "om_bot_1", chat="oc_" + "x" * 200, group=0, button=0)
        del click["header"]["token"]
        answer = await connection.send_event(click)
        assert answer["code"] == 200 and json.loads(base64.b64decode(answer["data"])) == {}

        await runtime.settle()
        async with runtime.factory() as session:
            for model in (InboundEventRecord, OutboxMessage):
                assert await session.scalar(select(func.count()).select_from(model)) == 0
        assert api.sent == []
        dropped = [r.getMessage() for r in caplog.records if "long connection" in r.getMessage()]
        assert len(dropped) == 3 and all("ignored: malformed" in line for line in dropped), dropped

        # Still serving.
        assert (await connection.send_event(message_event("ou_alice", "/项目 新建 之后")))["code"] == 200
        await runtime.settle()
        assert await project_names(runtime) == ["之后"]
