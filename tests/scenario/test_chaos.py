"""Chaos: PostgreSQL goes away in the middle of a burst of really signed Feishu events and comes back.
What the app acked is applied exactly once; what it could not store is refused (not 200), so Feishu
redelivers it; the sweeper finishes what the outage interrupted."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.main import create_app
from bot.runtime import MAX_EVENT_ATTEMPTS, UNFINISHED_AFTER_SECONDS
from scheduler.outbox import LEASE_SECONDS
from storage.db import create_engine, session_factory
from storage.models import Base, InboundEventRecord, OutboxMessage, Project
from tests.scenario.feishu import Tenant, feishu_api, feishu_settings
from tests.tcp_proxy import CuttableProxy

pytestmark = pytest.mark.postgres

BURST = 30
CUT_AFTER = 6  # responses of the first wave before the database goes away


class Clock:
    def __init__(self) -> None:
        self.now = datetime.now(UTC).replace(microsecond=0)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
async def direct(postgres_migrated: str) -> AsyncIterator[AsyncEngine]:
    """The test's own connection to the database (not through the proxy), emptied first."""
    engine = create_engine(postgres_migrated)
    tables = ", ".join(table.name for table in Base.metadata.sorted_tables)
    async with engine.begin() as connection:
        await connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    yield engine
    await engine.dispose()


@pytest.fixture
async def proxy(postgres_migrated: str) -> AsyncIterator[CuttableProxy]:
    url = make_url(postgres_migrated)
    proxy = CuttableProxy(url.host or "127.0.0.1", url.port or 5432)
    await proxy.start()
    yield proxy
    await proxy.cut()


async def test_every_acked_event_is_applied_once_across_a_database_outage(
    direct: AsyncEngine, proxy: CuttableProxy, postgres_migrated: str
) -> None:
    through_proxy = make_url(postgres_migrated).set(host="127.0.0.1", port=proxy.port)
    settings = feishu_settings(direct).model_copy(
        update={"database_url": through_proxy.render_as_string(hide_password=False)}
    )
    clock = Clock()
    async with asyncio.timeout(50), feishu_api() as api:
        app = create_app(settings, clock=clock)
        async with app.router.lifespan_context(app):
            # A failing request is answered 500, as the platform would see it, instead of raising here.
            transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
            async with httpx.AsyncClient(transport=transport, base_url="http://crosstrack.test") as client:
                runtime = app.state.runtime
                tenant = Tenant(client, runtime, api, clock=clock)
                events = [
                    tenant.message_event(f"ou_user_{n}", f"/项目 新建 Chaos {n}", chat=f"oc_chaos_{n}")
                    for n in range(BURST)
                ]
                acked: dict[int, int] = {}  # event -> how many deliveries were answered 200
                refused: set[int] = set()

                async def deliver(n: int) -> int:
                    status = (await tenant.deliver(events[n])).status_code
                    if status == 200:
                        acked[n] = acked.get(n, 0) + 1
                    else:
                        refused.add(n)
                    return status

                # First wave: the database goes away after a few answers, requests still in flight.
                first = [asyncio.create_task(deliver(n)) for n in range(BURST // 2)]
                for answered, done in enumerate(asyncio.as_completed(first), start=1):
                    await done
                    if answered == CUT_AFTER:
                        await proxy.cut()
                # While it is down: nothing can be stored, so nothing is acked.
                assert {await deliver(n) for n in range(BURST // 2, BURST * 2 // 3)} == {500}
                await proxy.start()
                await asyncio.gather(*(deliver(n) for n in range(BURST * 2 // 3, BURST)))
                # Feishu redelivers what was not acked, and (at least once) some of what was.
                for n in sorted(refused):
                    assert await deliver(n) == 200
                await asyncio.gather(*(deliver(n) for n in range(3)))

                assert set(acked) == set(range(BURST))
                assert refused and max(acked.values()) > 1
                await runtime.wait_for_inbound()
                for _ in range(MAX_EVENT_ATTEMPTS):  # retries back off: each sweep finds the due ones
                    clock.now += timedelta(seconds=UNFINISHED_AFTER_SECONDS + LEASE_SECONDS)
                    await runtime.sweep()
                await runtime.settle()

    event_ids = [event["header"]["event_id"] for event in events]
    async with session_factory(direct)() as session:
        projects = dict(
            (await session.execute(select(Project.name, func.count()).group_by(Project.name))).all()
        )
        statuses = dict(
            (
                await session.execute(
                    select(InboundEventRecord.event_id, InboundEventRecord.status).where(
                        InboundEventRecord.platform == "feishu"
                    )
                )
            ).all()
        )
        replies: dict[str, Any] = dict(
            (
                await session.execute(
                    select(OutboxMessage.idempotency_key, OutboxMessage.status).where(
                        OutboxMessage.idempotency_key.like("reply:feishu:%")
                    )
                )
            ).all()
        )
    assert projects == {f"Chaos {n}": 1 for n in range(BURST)}
    assert statuses == dict.fromkeys(event_ids, "done")
    assert replies == {f"reply:feishu:{event_id}:0": "sent" for event_id in event_ids}
    # Each reply reached Feishu; a resend after a lost outcome carries the same dedupe uuid.
    uuids = {body["uuid"] for body in api.sent}
    assert len(uuids) == BURST
    assert {n for n in range(BURST) if any(f"Chaos {n}」" in shown for shown in api.texts())} == set(
        range(BURST)
    )
