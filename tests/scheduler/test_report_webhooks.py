"""The weekly report to report-only groups, on SQLite and PostgreSQL: the weekly-report job at Friday
2026-11-27 17:00 in Shanghai queues the card for each bound custom robot webhook, and the outbox
sender posts it signed (respx at https://dingtalk-oapi.test and https://feishu.test), once a day,
split when large, retried or given up as the robot's answer says."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import pytest
import respx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.dingtalk.robot_webhook import DingTalkRobotWebhook
from adapters.feishu.bot_webhook import FeishuBotWebhook
from adapters.models import Card
from adapters.shell import ShellSender
from adapters.split import json_escaped_size, split_lines
from bot.jobs import report_webhooks
from bot.jobs.context import JobContext
from bot.services import calendar, integrations
from scheduler.jobs import JOBS_BY_NAME
from scheduler.outbox import OutboxWorker
from scheduler.runner import JobRunner
from storage.models import Member, OutboxMessage, Project, ReportWebhook, Task
from storage.secretbox import SecretBox
from tests.harness import Chat, chat_runtime
from tests.samples import load
from tests.scenario import SECRET_KEY

NOW = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)  # Friday 17:00 in Shanghai
WEEKLY = JOBS_BY_NAME["weekly-report"]
TOKEN = "a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90"
DINGTALK_URL = f"https://dingtalk-oapi.test/robot/send?access_token={TOKEN}"
DINGTALK_SECRET = "SEC0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcd"
FEISHU_URL = "https://feishu.test/open-apis/bot/v2/hook/2c6a3c4e-8f7b-4d5e-9a1b-0c2d3e4f5a6b"
FEISHU_SECRET = "qLkU7mZ2nP4rS8tV1wX3yA"
BOX = SecretBox([SECRET_KEY])


@dataclass
class Setup:
    chat: Chat
    outbox: OutboxWorker
    api: respx.MockRouter
    project_id: int
    hooks: dict[str, int]  # platform -> binding id


@pytest.fixture
async def setup(engine: AsyncEngine) -> AsyncIterator[Setup]:
    senders = {
        "dingtalk-webhook": DingTalkRobotWebhook(unseal=BOX.open, now=lambda: NOW),
        "feishu-webhook": FeishuBotWebhook(unseal=BOX.open, now=lambda: NOW),
        "shell": ShellSender(),
    }
    with respx.mock(assert_all_called=False) as api:
        api.post(url__startswith=DINGTALK_URL, name="dingtalk").respond(
            json=load("dingtalk", "custom_robot_send_success_response")
        )
        api.post(FEISHU_URL, name="feishu").respond(
            json=load("feishu", "custom_bot_webhook_success_response")
        )
        async with chat_runtime(engine, now=NOW) as chat:
            await chat.say("alice", "/项目 新建 新品发布")
            async with chat.runtime.factory() as s, s.begin():
                project = await s.scalar(select(Project))
                assert project is not None
                bob = Member(
                    project_id=project.id,
                    platform="shell",
                    platform_user_id="bob",
                    display_name="王博",
                    created_at=NOW,
                )
                s.add(bob)
                await s.flush()
                # Late since Monday, so the report's "needs attention" part mentions its owner.
                s.add(
                    Task(
                        project_id=project.id,
                        code="1",
                        title="接口联调",
                        start_date=date(2026, 11, 16),
                        due_date=date(2026, 11, 23),
                        progress=30,
                        status="in_progress",
                        owner_member_id=bob.id,
                        created_at=NOW,
                        updated_at=NOW,
                    )
                )
                hooks = {}
                for platform, url, secret in (
                    ("dingtalk-webhook", DINGTALK_URL, DINGTALK_SECRET),
                    ("feishu-webhook", FEISHU_URL, FEISHU_SECRET),
                ):
                    hook = ReportWebhook(
                        project_id=project.id,
                        platform=platform,
                        url_digest=BOX.digest(url),
                        url_sealed=BOX.seal(url),
                        url_shown=integrations.masked_url(url),
                        secret_sealed=BOX.seal(secret),
                        created_at=NOW,
                        updated_at=NOW,
                    )
                    s.add(hook)
                    await s.flush()
                    hooks[platform] = hook.id
                pid = project.id
            outbox = OutboxWorker(chat.runtime.factory, senders, lambda: NOW)
            yield Setup(chat, outbox, api, pid, hooks)
    for sender in senders.values():
        close = getattr(sender, "aclose", None)
        if close is not None:
            await close()


async def run_weekly(setup: Setup) -> None:
    runner = JobRunner(setup.chat.runtime.factory, lambda: NOW, jobs=[WEEKLY])
    [outcome] = await runner.run_job(WEEKLY, at=NOW, project_id=setup.project_id)
    assert outcome.status == "done"
    await setup.outbox.send_due()


async def webhook_rows(setup: Setup) -> list[OutboxMessage]:
    async with setup.chat.runtime.factory() as s:
        rows = await s.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.platform.in_(["dingtalk-webhook", "feishu-webhook"]))
            .order_by(OutboxMessage.id)
        )
        return list(rows)


def hmac_b64(key: bytes, message: bytes) -> str:
    return base64.b64encode(hmac.new(key, message, hashlib.sha256).digest()).decode()


async def test_each_webhook_gets_the_report_signed_once_a_day(setup: Setup) -> None:
    await run_weekly(setup)
    rows = await webhook_rows(setup)
    pid, dingtalk_id, feishu_id = (
        setup.project_id,
        setup.hooks["dingtalk-webhook"],
        setup.hooks["feishu-webhook"],
    )
    key = f"weekly-report:{pid}:chat:webhook:{{}}:2026-11-27"
    assert [(row.platform, row.chat_id, row.idempotency_key, row.status) for row in rows] == [
        ("dingtalk-webhook", f"webhook:{dingtalk_id}", key.format(dingtalk_id), "sent"),
        ("feishu-webhook", f"webhook:{feishu_id}", key.format(feishu_id), "sent"),
    ]
    # Queued with the binding's encrypted credentials, which a sent row keeps no longer.
    assert [row.payload["extra"] for row in rows] == [{"to": "chat", "project": str(pid)}] * 2

    # DingTalk: markdown, signed in the query with the millisecond timestamp.
    request = setup.api["dingtalk"].calls[0].request
    stamp = str(int(NOW.timestamp()) * 1000)
    assert request.url.params["access_token"] == TOKEN and request.url.params["timestamp"] == stamp
    expected = hmac_b64(DINGTALK_SECRET.encode(), f"{stamp}\n{DINGTALK_SECRET}".encode())
    assert request.url.params["sign"] == expected
    body = json.loads(request.content)
    title = body["markdown"]["title"]
    assert body["msgtype"] == "markdown" and "新品发布" in title
    text = body["markdown"]["text"]
    # The group reads names: robots cannot @ people outside their group, ids mean nothing there.
    assert "王博" in text and "<at:" not in text and "@bob" not in text
    # A custom robot cannot post pictures: the report's Gantt chart and burndown are lines of words.
    pictures = "\n\n🖼 新品发布 的甘特图\n🖼 新品发布 的燃尽图"
    assert text.endswith(pictures)

    # Feishu: the same card, signed in the body with the second timestamp.
    body = json.loads(setup.api["feishu"].calls[0].request.content)
    stamp = str(int(NOW.timestamp()))
    assert body["timestamp"] == stamp
    assert body["sign"] == hmac_b64(f"{stamp}\n{FEISHU_SECRET}".encode(), b"")
    assert body["msg_type"] == "interactive" and body["card"]["header"]["title"]["content"] == title
    assert "王博" in body["card"]["body"]["elements"][0]["content"]
    assert body["card"]["body"]["elements"][0]["content"].endswith(pictures)
    assert [element["tag"] for element in body["card"]["body"]["elements"]] == ["markdown"]

    await run_weekly(setup)  # an operator's rerun the same day posts nothing again
    assert len(await webhook_rows(setup)) == 2
    assert setup.api["dingtalk"].call_count == 1 and setup.api["feishu"].call_count == 1


async def test_a_throttled_robot_waits_ten_minutes_and_a_refused_one_is_shown_to_pms(setup: Setup) -> None:
    setup.api["dingtalk"].respond(json=load("dingtalk", "custom_robot_error_rate_limit_130101.observed"))
    setup.api["feishu"].respond(json=load("feishu", "custom_bot_webhook_sign_fail_19021"))
    await run_weekly(setup)
    dingtalk, feishu = await webhook_rows(setup)
    assert dingtalk.status == "pending" and dingtalk.next_attempt_at == NOW + timedelta(seconds=600)
    assert "130101" in (dingtalk.last_error or "")
    assert feishu.status == "failed" and "19021" in (feishu.last_error or "")
    assert setup.api["feishu"].call_count == 1  # not retried
    # The PMs see it in the list of group robots.
    listing = await setup.chat.one("alice", "/设置 群机器人")
    assert (
        "1. 钉钉群机器人 dingtalk-oapi.test/robot/send?access_token=a1b2…8f90 · 11-27 17:00 待发送" in listing
    )
    failed = "2. 飞书群机器人 feishu.test/…/hook/2c6a…5a6b · 11-27 17:00 发送失败："
    assert failed + "custom bot: HTTP 200, code 19021" in listing


async def test_a_long_report_goes_in_parts_each_under_the_robots_limit(setup: Setup) -> None:
    body = "\n".join(f"- 任务 {n}：{'很长的说明' * 20}" for n in range(300))  # ~90 KB
    async with setup.chat.runtime.factory() as s, s.begin():
        project = await s.get(Project, setup.project_id)
        assert project is not None
        cal = await calendar.for_project(s, project.id)
        ctx = JobContext(s, "weekly-report", project, NOW, date(2026, 11, 27), cal)
        await report_webhooks.post(ctx, Card("周报", body, color="green"))
    await setup.outbox.send_due()
    rows = [row for row in await webhook_rows(setup) if row.platform == "dingtalk-webhook"]
    parts = len(rows)
    assert parts >= 6
    key = f"weekly-report:{setup.project_id}:chat:webhook:{setup.hooks['dingtalk-webhook']}:2026-11-27"
    assert [row.idempotency_key for row in rows] == [key] + [f"{key}:part{n}" for n in range(2, parts + 1)]
    sent = [json.loads(call.request.content)["markdown"] for call in setup.api["dingtalk"].calls]
    assert [part["title"] for part in sent] == [f"周报 ({n}/{parts})" for n in range(1, parts + 1)]
    assert "\n".join(part["text"].split("\n\n", 1)[1] for part in sent) == body  # nothing lost, in order
    sizes = [len(call.request.content) for call in [*setup.api["dingtalk"].calls, *setup.api["feishu"].calls]]
    assert max(sizes) < 20_000 and all(row.status == "sent" for row in await webhook_rows(setup))


def test_split_body_cuts_between_lines_and_inside_overlong_ones() -> None:
    assert split_lines("a\nb\nc", 4, json_escaped_size) == ["a\nb", "c"]
    line = "长" * 10  # 30 bytes
    assert split_lines(line, 9, json_escaped_size) == ["长长长", "长长长", "长长长", "长"]
    quoted = 'say "hi"'  # quotes take two bytes escaped
    assert split_lines(quoted, 8, json_escaped_size) == ['say "hi', '"']
