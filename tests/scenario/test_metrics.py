"""GET /metrics after real traffic: signed Feishu webhooks (a command, its redelivery, a forged one),
the replies' delivery and a scheduled job, all through the app built by create_app; the scrape is
parsed with prometheus_client's own parser."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.codec import reply_to_json
from adapters.models import Text
from bot.main import create_app
from storage import idempotency
from storage.db import unit_of_work
from storage.models import InboundEventRecord
from tests.scenario.feishu import Tenant, feishu_api, feishu_settings

NOW = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)  # a Wednesday, 10:00 in Shanghai: standup prompts are due


async def scrape(client: httpx.AsyncClient) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    response = await client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def value(samples: dict[tuple[str, frozenset[tuple[str, str]]], float], name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


async def test_metrics_follow_webhooks_sends_and_jobs(engine: AsyncEngine) -> None:
    async with feishu_api() as api:
        app = create_app(feishu_settings(engine), clock=lambda: NOW, scheduler=True)
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://crosstrack.test") as client:
                tenant = Tenant(client, app.state.runtime, api, clock=lambda: NOW)
                event = tenant.message_event("ou_alice", "/项目 新建 新品发布")
                assert (await tenant.deliver(event)).status_code == 200
                assert (await tenant.deliver(event)).status_code == 200  # Feishu redelivers
                await tenant.runtime.settle()
                await tenant.say("ou_alice", "/任务 添加 1 后端接口 @bob", mentions={"bob": "ou_bob"})

                async with tenant.runtime.factory() as session:
                    events_before = await session.scalar(select(func.count()).select_from(InboundEventRecord))
                raw, headers = tenant.signed(tenant.message_event("ou_mallory", "/项目 信息"))
                headers["X-Lark-Signature"] = "0" * 64
                forged = await client.post("/webhooks/feishu/events", content=raw, headers=headers)
                assert forged.status_code == 401
                async with tenant.runtime.factory() as session:
                    assert (
                        await session.scalar(select(func.count()).select_from(InboundEventRecord))
                        == events_before
                    )

                # The leader's take-over tick may have run the prompt already; either way it runs once.
                service = app.state.scheduler
                assert await service.check_leadership()
                for _ in range(2):
                    await service.tick()

                await tenant.runtime.settle()
                # A message queued for later (e.g. backing off) counts in the depth, read at scrape time.
                async with unit_of_work(tenant.runtime.factory) as session:
                    await idempotency.enqueue(
                        session,
                        idempotency_key="later",
                        platform="feishu",
                        chat_id="oc_team",
                        payload={"content": reply_to_json(Text("later"))},
                        now=NOW + timedelta(hours=1),
                    )
                samples = await scrape(client)

    inbound = "crosstrack_inbound_events_total"
    assert value(samples, inbound, platform="feishu", outcome="accepted") == 2
    assert value(samples, inbound, platform="feishu", outcome="duplicate") == 1
    assert value(samples, inbound, platform="feishu", outcome="processed") == 2
    assert value(samples, inbound, platform="feishu", outcome="rejected") == 1
    assert value(samples, inbound, platform="feishu", outcome="failed") == 0
    # Every webhook answer is timed, the forged one included.
    assert value(samples, "crosstrack_webhook_ack_seconds_count", platform="feishu") == 4
    assert value(samples, "crosstrack_command_seconds_count", command="project new") == 1
    assert value(samples, "crosstrack_command_seconds_count", command="task add") == 1
    assert not any("alice" in str(labels) or "新品" in str(labels) for _, labels in samples)

    assert value(samples, "crosstrack_scheduler_leader") == 1
    assert value(samples, "crosstrack_job_runs_total", job="standup-prompt", outcome="done") == 1
    skipped = value(samples, "crosstrack_job_runs_total", job="standup-prompt", outcome="skipped")
    assert skipped >= 1
    assert value(samples, "crosstrack_job_seconds_count", job="standup-prompt") == 1 + skipped

    # Every delivery is counted and timed (say() took the two replies off the fake).
    sent = value(samples, "crosstrack_outbox_sends_total", platform="feishu", outcome="sent")
    assert sent == len(api.sent) + 2
    assert value(samples, "crosstrack_outbox_queued_to_sent_seconds_count", platform="feishu") == sent
    assert value(samples, "crosstrack_outbox_pending") == 1


async def test_each_app_counts_only_its_own_traffic(engine: AsyncEngine) -> None:
    """A registry per app: a second app in the same process starts from zero."""
    async with feishu_api():
        first = create_app(feishu_settings(engine))
        second = create_app(feishu_settings(engine))
        first.state.runtime.metrics.inbound_events.labels("feishu", "accepted").inc()
        for app, expected in ((first, 1), (second, 0)):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://crosstrack.test") as client:
                samples = await scrape(client)
            assert (
                value(samples, "crosstrack_inbound_events_total", platform="feishu", outcome="accepted")
                == expected
            )
