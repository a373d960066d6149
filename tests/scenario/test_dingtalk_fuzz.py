"""A few hundred generated DingTalk callbacks (seeded, so a failure replays) into the running app:
signed and unsigned, valid and mutated sample bodies. None may give a 5xx or hang, a refused one
stores nothing, and no stored one fails later."""

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import Mapping
from typing import Any

import httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.models import InboundEventRecord, RequestNonce
from tests.scenario.dingtalk import APP_SECRET, Organisation, dingtalk_organisation

REQUESTS = 300
SECONDS_PER_REQUEST = 5.0
FIELDS = (
    "msgId",
    "msgtype",
    "conversationId",
    "conversationType",
    "conversationTitle",
    "senderStaffId",
    "senderId",
    "senderNick",
    "chatbotUserId",
    "robotCode",
    "isInAtList",
    "atUsers",
    "text",
    "content",
    "createAt",
    "sessionWebhook",
    "sessionWebhookExpiredTime",
)
TEXTS = ("/帮助", "/项目 新建 模糊", "/状态", "hello", "/进度 1.1 50%", "", "  ", "@某人 /任务列表")
ODD_STRINGS = ("", " ", "\x00", "a\x00b", "😀" * 50, "\u202e反转", "名" * 129, "x" * 5001, "\ud800", "1" * 40)
ODD_VALUES: tuple[Any, ...] = (
    None,
    True,
    0,
    -1,
    10**30,
    -(10**30),
    1.5,
    1e308,
    [],
    {},
    [1, 2, 3],
    {"content": 5},
    {"richText": [{"text": 5}]},
    [{"dingtalkId": 1}],
    [{"staffId": "s" * 200}],
    "1",
    "2",
)
# Spliced into the JSON text: nesting deeper than Python's own encoder (or decoder) can follow.
DEEP = "__deep__"


def mutate(rng: random.Random, payload: dict[str, Any]) -> dict[str, Any]:
    for _ in range(rng.randint(1, 3)):
        field = rng.choice(FIELDS)
        roll = rng.random()
        if roll < 0.2:
            payload.pop(field, None)
        elif roll < 0.5:
            payload[field] = rng.choice(ODD_STRINGS)
        elif roll < 0.85:
            payload[field] = rng.choice(ODD_VALUES)
        elif roll < 0.95:
            payload[field] = DEEP
        else:
            payload["text"] = {"content": rng.choice(ODD_STRINGS)}
    return payload


def body(rng: random.Random, org: Organisation) -> bytes:
    roll = rng.random()
    payload = org.message(
        f"user{rng.randint(1, 5)}", rng.choice(TEXTS), conversation=f"cid-{rng.randint(1, 3)}"
    )
    if roll < 0.05:
        return rng.choice([b"", b"null", b"[]", b'"text"', b"{", b"\xff\xfe{}", b"{" * 100_000])
    if roll < 0.35:  # valid
        if rng.random() < 0.2:
            payload["msgId"] = f"msg-repeat-{rng.randint(1, 3)}"
        return json.dumps(payload, ensure_ascii=False).encode()
    text = json.dumps(mutate(rng, payload), ensure_ascii=rng.random() < 0.5)
    return text.replace(f'"{DEEP}"', "[" * 3000 + "]" * 3000).encode("utf-8", "surrogatepass")


def headers(rng: random.Random, org: Organisation, used: list[dict[str, str]]) -> Mapping[str, str | bytes]:
    roll = rng.random()
    if roll < 0.7:
        signed = org.signed_headers()
        used.append(signed)
        return signed
    if roll < 0.78 and used:
        return rng.choice(used)  # a pair used before, perhaps by another body
    if roll < 0.84:
        return {"content-type": "application/json"}
    if roll < 0.9:
        return org.signed_headers(secret=APP_SECRET + "x")
    if roll < 0.95:
        return org.signed_headers(timestamp_ms=org.now_ms() - 3 * 3600 * 1000)
    stamp = rng.choice(["", "abc", "９９", "1" * 30, "-5", str(10**20)])
    sign = rng.choice(["", "=", "签名" * 20])
    # As bytes: a header is not always ASCII on the wire.
    return {"content-type": "application/json", "timestamp": stamp.encode(), "sign": sign.encode()}


async def stored(org: Organisation) -> tuple[int, int]:
    async with org.runtime.factory() as session:
        events = await session.scalar(select(func.count()).select_from(InboundEventRecord))
        nonces = await session.scalar(select(func.count()).select_from(RequestNonce))
    return int(events or 0), int(nonces or 0)


async def test_generated_callbacks_never_break_the_service(engine: AsyncEngine) -> None:
    rng = random.Random(8)
    statuses: dict[int, int] = {}
    async with dingtalk_organisation(engine) as org:
        used: list[dict[str, str]] = []
        for index in range(REQUESTS):
            raw, sent_headers = body(rng, org), headers(rng, org, used)
            before = await stored(org)
            response: httpx.Response = await asyncio.wait_for(
                org.client.post("/webhooks/dingtalk", content=raw, headers=sent_headers), SECONDS_PER_REQUEST
            )
            statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
            after = await stored(org)
            context = f"request {index}: {response.status_code} for {raw[:200]!r}"
            assert response.status_code in (200, 400, 401, 413), context
            if response.status_code == 200:
                assert after[0] - before[0] in (0, 1) and after[1] - before[1] in (0, 1), context
            else:
                assert after == before, context
        await asyncio.wait_for(org.runtime.settle(), 30)
        async with org.runtime.factory() as session:
            statuses_stored = set(await session.scalars(select(InboundEventRecord.status)))
    assert statuses_stored <= {"done"}
    # The generator reaches every outcome, so the run means something.
    assert set(statuses) == {200, 400, 401, 413}, statuses
