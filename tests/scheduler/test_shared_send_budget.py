"""One Feishu send budget for every process, on SQLite and PostgreSQL: two outbox senders (as in two
replicas: each its own FeishuClient and limiter) drain one outbox into a fake Feishu that counts the
arrivals of each second, and together they stay within the app's 50 messages a second.

Time is a fake clock shared by both limiters and the fake platform: waiting for room moves it on."""

from __future__ import annotations

import asyncio
import json
import math
from collections import Counter
from datetime import UTC, datetime

import httpx
import respx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.codec import reply_to_json
from adapters.feishu.client import APP_SEND_LIMITS, FeishuClient, send_limiter
from adapters.models import Text
from adapters.ratelimit import SharedBudget
from scheduler.outbox import OutboxWorker
from storage import idempotency
from storage.counters import RateCounters
from storage.db import session_factory, unit_of_work
from storage.models import OutboxMessage, RateCounter
from tests.samples import load

BASE = "https://feishu.test"
NOW = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)
MESSAGES = 160  # to as many chats: the per-chat limit plays no part


class FakeTime:
    """A wall clock that only moves when someone sleeps on it. Sleeps overlap (two tasks sleeping a
    second from the same time wake one second later, not two), and a sleeper first lets the tasks
    that can run do so: a call already let through reaches the platform before time moves on."""

    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        wake = self.now + seconds
        for _ in range(20):
            await asyncio.sleep(0)
        self.now = max(self.now, wake)


async def test_two_senders_share_one_app_budget(engine: AsyncEngine) -> None:
    factory = session_factory(engine)
    async with unit_of_work(factory) as session:
        for n in range(MESSAGES):
            await idempotency.enqueue(
                session,
                idempotency_key=f"m{n}",
                platform="feishu",
                chat_id=f"oc_{n}",
                payload={"content": reply_to_json(Text(f"hello {n}"))},
                now=NOW,
            )

    fake = FakeTime()
    arrivals: list[tuple[float, str, str | None]] = []  # (when, uuid, which sender's token)

    def arrive(request: httpx.Request) -> httpx.Response:
        arrivals.append((fake(), json.loads(request.content)["uuid"], request.headers["authorization"]))
        return httpx.Response(200, json={"code": 0, "msg": "success", "data": {"message_id": "om_x"}})

    counters = RateCounters(factory)
    with respx.mock(base_url=BASE, assert_all_called=False) as api:
        api.post("/open-apis/auth/v3/tenant_access_token/internal").mock(
            side_effect=lambda request: httpx.Response(
                200,
                json={
                    **load("feishu", "tenant_access_token_internal_response"),
                    # Which replica sent a message shows in its token.
                    "tenant_access_token": f"t-{json.loads(request.content)['app_secret']}",
                },
            )
        )
        api.post("/open-apis/im/v1/messages").mock(side_effect=arrive)
        workers = []
        for replica in ("one", "two"):
            budget = SharedBudget(counters, "feishu:cli_a", APP_SEND_LIMITS, clock=fake, sleep=fake.sleep)
            client = FeishuClient(
                BASE,
                "cli_a",
                f"secret-{replica}",
                clock=fake,
                limiter=send_limiter(clock=fake, sleep=fake.sleep, budget=budget),
            )
            # Fewer sends in flight than in production: SQLite's one writer is shared by both here.
            workers.append(OutboxWorker(factory, {"feishu": client}, lambda: NOW, concurrency=10))
        while sum(await asyncio.gather(*(worker.send_due() for worker in workers))):
            pass

    per_second = Counter(math.floor(when) for when, _, _ in arrivals)
    assert max(per_second.values()) <= APP_SEND_LIMITS[0].calls
    assert sorted(uuid for _, uuid, _ in arrivals) == sorted(set(uuid for _, uuid, _ in arrivals))
    assert len(arrivals) == MESSAGES
    by_replica = Counter(token for _, _, token in arrivals)
    assert set(by_replica) == {"Bearer t-secret-one", "Bearer t-secret-two"}  # both really sent
    async with factory() as session:
        assert (
            await session.scalar(
                select(func.count()).select_from(OutboxMessage).where(OutboxMessage.status == "sent")
            )
            == MESSAGES
        )
        # The counters of the budget are in the shared table (one row per window in use).
        assert await session.scalar(select(func.count()).select_from(RateCounter)) > 0
