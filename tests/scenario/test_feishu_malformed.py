"""Authentic but malformed Feishu deliveries, really signed and encrypted, into the running app: each
is answered 400 and leaves nothing in the database (no claimed event, no card claim, no reply)."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.models import InboundEventRecord, OutboxMessage, Project
from tests.scenario.feishu import Tenant, feishu_tenant
from tests.scenario.feishu_cards import card_tenant, click_payload

Mutation = Callable[[dict[str, Any]], None]


async def stored(tenant: Tenant) -> tuple[int, int, int]:
    """Claimed events (card claims included), outbox rows, projects."""
    async with tenant.runtime.factory() as session:
        counts = [
            await session.scalar(select(func.count()).select_from(model))
            for model in (InboundEventRecord, OutboxMessage, Project)
        ]
    return (int(counts[0] or 0), int(counts[1] or 0), int(counts[2] or 0))


def message(mutate: Mutation) -> Mutation:
    return lambda event: mutate(event["event"]["message"])


MESSAGE_ATTACKS: dict[str, Mutation] = {
    "chat_id longer than its column": message(lambda m: m.update(chat_id="oc_" + "x" * 200)),
    "chat_id not a string": message(lambda m: m.update(chat_id=12345)),
    "message_id longer than its column": message(lambda m: m.update(message_id="om_" + "x" * 200)),
    "NUL in chat_id": message(lambda m: m.update(chat_id="oc_team\x00")),
    "NUL in the text": message(lambda m: m.update(content=json.dumps({"text": "/项目 新建 a\x00b"}))),
    "content nested 100,000 deep": message(lambda m: m.update(content="[" * 100_000)),
    "text of 20,000 characters": message(lambda m: m.update(content=json.dumps({"text": "x" * 20_000}))),
    "text not a string": message(lambda m: m.update(content=json.dumps({"text": ["/项目 新建 x"]}))),
    "mention name longer than its column": message(
        lambda m: m["mentions"].append({"key": "@_user_9", "id": {"open_id": "ou_x"}, "name": "n" * 300})
    ),
    "a thousand mentions": message(
        lambda m: m.update(
            mentions=[{"key": f"@_user_{i}", "id": {"open_id": f"ou_{i}"}} for i in range(1000)]
        )
    ),
    "create_time past year 9999": message(lambda m: m.update(create_time="9" * 15)),
    "create_time not a number": message(lambda m: m.update(create_time="soon")),
    "sender open_id a number": lambda e: e["event"]["sender"]["sender_id"].update(open_id=10**30),
    "event_id longer than its column": lambda e: e["header"].update(event_id="e" * 129),
    "header create_time a huge number": lambda e: e["header"].update(create_time=10**40),
    "event missing": lambda e: e.pop("event"),
}


@pytest.mark.parametrize("attack", MESSAGE_ATTACKS)
async def test_a_signed_message_event_that_does_not_fit_is_a_400_and_stores_nothing(
    engine: AsyncEngine, attack: str
) -> None:
    async with feishu_tenant(engine) as tenant:
        event = tenant.message_event("ou_alice", "/项目 新建 新品发布")
        MESSAGE_ATTACKS[attack](event)
        response = await tenant.deliver(event)
        assert response.status_code == 400, response.text
        await tenant.runtime.settle()
        assert await stored(tenant) == (0, 0, 0)
        # The service is unharmed: the next good event is processed.
        assert len(await tenant.say("ou_alice", "/项目 新建 新品发布")) == 1
        assert await stored(tenant) == (1, 1, 1)


def _with(plaintext: bytes, old: bytes, new: bytes) -> bytes:
    assert old in plaintext
    return plaintext.replace(old, new, 1)


RAW_ATTACKS: dict[str, Callable[[bytes], bytes]] = {
    "invalid UTF-8": lambda raw: _with(raw, b"oc_team", b"oc_\xff\xfeteam"),
    "lone surrogate escape": lambda raw: _with(raw, b"oc_team", b"oc_\\ud800team"),
    "nested 100,000 deep": lambda raw: _with(raw, b'"oc_team"', b"[" * 100_000 + b"]" * 100_000),
    "a number of 5,000 digits": lambda raw: _with(raw, b'"oc_team"', b"9" * 5_000),
    "not JSON": lambda raw: raw[: len(raw) // 2],
    "a JSON array": lambda raw: b"[" + raw + b"]",
}


@pytest.mark.parametrize("attack", RAW_ATTACKS)
async def test_a_signed_body_that_is_not_readable_json_is_a_400_and_stores_nothing(
    engine: AsyncEngine, attack: str
) -> None:
    async with feishu_tenant(engine) as tenant:
        event = tenant.message_event("ou_alice", "/项目 新建 新品发布", chat="oc_team")
        plaintext = RAW_ATTACKS[attack](json.dumps(event, ensure_ascii=False).encode())
        raw, headers = tenant.sealed(plaintext)
        response = await tenant.client.post("/webhooks/feishu/events", content=raw, headers=headers)
        assert response.status_code == 400, response.text
        await tenant.runtime.settle()
        assert await stored(tenant) == (0, 0, 0)


async def test_unsigned_mode_refuses_a_malformed_event_too(engine: AsyncEngine) -> None:
    async with feishu_tenant(engine, unsigned=True) as tenant:
        event = tenant.message_event("ou_alice", "/项目 新建 新品发布", chat="oc_" + "x" * 200)
        assert (await tenant.deliver(event)).status_code == 400
        await tenant.runtime.settle()
        assert await stored(tenant) == (0, 0, 0)


async def test_a_bot_added_event_with_an_oversized_chat_name_is_refused(engine: AsyncEngine) -> None:
    async with feishu_tenant(engine) as tenant:
        event = tenant.message_event("ou_alice", "x")
        event["header"]["event_type"] = "im.chat.member.bot.added_v1"
        event["event"] = {"chat_id": "oc_new", "name": "群" * 201, "operator_id": {"open_id": "ou_alice"}}
        assert (await tenant.deliver(event)).status_code == 400
        event["event"]["name"] = "群" * 200
        assert (await tenant.deliver(event)).status_code == 200
        await tenant.runtime.settle()
        assert (await stored(tenant))[0] == 1


async def test_the_signature_is_checked_before_the_body_is_parsed(
    engine: AsyncEngine, caplog: pytest.LogCaptureFixture
) -> None:
    async with feishu_tenant(engine) as tenant:
        _, headers = tenant.signed(tenant.message_event("ou_mallory", "/项目 新建 Evil"))
        caplog.set_level(logging.WARNING, logger="adapters.feishu.webhook")
        # A forged request whose body would cost the parser (or break it) is refused on its signature.
        for body in (b"[" * 100_000, b"\xff not json", b'{"encrypt": 42}'):
            response = await tenant.client.post("/webhooks/feishu/events", content=body, headers=headers)
            assert response.status_code == 401
        reasons = [record.getMessage() for record in caplog.records if "rejected" in record.getMessage()]
        assert reasons == ["rejected Feishu webhook: bad signature"] * 3
        assert await stored(tenant) == (0, 0, 0)


def click(mutate: Mutation) -> Mutation:
    return lambda payload: mutate(payload["event"])


CARD_ATTACKS: dict[str, Mutation] = {
    "open_chat_id longer than its column": click(
        lambda e: e["context"].update(open_chat_id="oc_" + "x" * 200)
    ),
    "open_message_id with a NUL": click(lambda e: e["context"].update(open_message_id="om_bot_1\x00")),
    "operator open_id a list": click(lambda e: e["operator"].update(open_id=["ou_alice"])),
    "form value with a NUL": click(lambda e: e["action"].update(form_value={"g0_t0": "60%\x00"})),
    "form value of 10,000 characters": click(
        lambda e: e["action"].update(form_value={"g0_t0": "9" * 10_000})
    ),
    "form value an object": click(lambda e: e["action"].update(form_value={"g0_t0": {"a": 1}})),
    "create_time past year 9999": lambda p: p["header"].update(create_time="9" * 15),
    "context missing": click(lambda e: e.pop("context")),
}


@pytest.mark.parametrize("attack", CARD_ATTACKS)
async def test_a_signed_card_click_that_does_not_fit_is_a_400_and_stores_nothing(
    engine: AsyncEngine, attack: str
) -> None:
    async with card_tenant(engine) as bot:
        payload = click_payload("ou_alice", "om_bot_1", chat="oc_team", group=0, button=0)
        CARD_ATTACKS[attack](payload)
        response = await bot.post(payload)
        assert response.status_code == 400, response.text
        await bot.tenant.runtime.settle()
        assert await stored(bot.tenant) == (0, 0, 0)
