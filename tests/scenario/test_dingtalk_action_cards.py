"""Buttons on DingTalk: a private prompt or alert is an action card whose buttons are dtmd links that
send the command as the person who taps; the tap arrives as their 1:1 message (signed callback) and
is applied like a typed command. Group cards stay markdown: the robot hears only @-messages there."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import time_machine
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from scheduler.jobs import JOBS_BY_NAME
from scheduler.runner import JobRunner
from storage.models import StandupReport, Task
from tests.scenario.dingtalk import Organisation, dingtalk_organisation

TZ = ZoneInfo("Asia/Shanghai")
PEOPLE = {"Carol": "carol"}
SETUP = (
    "/项目 新建 新品发布 开始=2026-11-23 结束=2027-03-31",
    "/阶段 添加 1 开发",
    "/任务 添加 1.1 后端接口 @Carol 开始=2026-11-23 截止=2026-12-02",
    # Later work keeps 1.1 off the critical path: an overdue 1.1 is the owner's alone at first.
    "/任务 添加 1.9 验收 开始=2026-12-21 截止=2027-01-29",
)


def local(day: str, time: str) -> datetime:
    return datetime.fromisoformat(f"{day}T{time}").replace(tzinfo=TZ)


def command_of(url: str) -> str:
    """What tapping a dtmd://dingtalkclient/sendMessage link sends."""
    parts = urlsplit(url)
    assert (parts.scheme, parts.netloc, parts.path) == ("dtmd", "dingtalkclient", "/sendMessage")
    [command] = parse_qs(parts.query)["content"]
    return command


def text_of(body: dict[str, Any]) -> str:
    """A sent message's text, whichever way it went (session webhook or OpenAPI)."""
    if "msgParam" in body:
        param = json.loads(body["msgParam"])
        return str(param.get("content") or param["text"])
    fields = body[body["msgtype"]]
    return str(fields.get("content") or fields["text"])


async def say(org: Organisation, sender: str, text: str, **options: Any) -> list[dict[str, Any]]:
    already = len(org.api.sent)
    response = await org.deliver(org.message(sender, text, **options))
    assert response.status_code == 200, response.text
    await org.runtime.settle()
    return org.api.sent[already:]


async def run(
    org: Organisation, clock: time_machine.Traveller, job: str, at: datetime
) -> list[dict[str, Any]]:
    """Run a job at `at`; the private messages it sent (by the 1:1 send API)."""
    clock.move_to(at)
    already = len(org.api.sent)
    outcomes = await JobRunner(org.runtime.factory, lambda: datetime.now(UTC)).run_job(
        JOBS_BY_NAME[job], at=at
    )
    assert [outcome.status for outcome in outcomes] == ["done"]
    await org.runtime.settle()
    return [
        body for body in org.api.sent[already:] if body["_url"].endswith("/v1.0/robot/oToMessages/batchSend")
    ]


async def test_private_cards_are_action_cards_and_a_tap_applies_the_command(engine: AsyncEngine) -> None:
    with time_machine.travel(local("2026-11-25", "09:00"), tick=True) as clock:
        async with dingtalk_organisation(engine) as org:
            for line in SETUP:
                mentions = {name: staff for name, staff in PEOPLE.items() if f"@{name}" in line}
                [reply] = await say(org, "alice", line, mentions=mentions)
                assert "抱歉" not in text_of(reply), reply

            # The standup prompt: its one tappable answer is a button; the % form cannot be one.
            [prompt] = await run(org, clock, "standup-prompt", local("2026-11-25", "09:30"))
            assert prompt["userIds"] == ["carol"] and prompt["msgKey"] == "sampleActionCard"
            param = json.loads(prompt["msgParam"])
            assert param["title"] == "☀️ 站会 · 11-25" and param["text"].startswith(
                "### ☀️ 站会 · 11-25\n\n你有 1 个"
            )
            assert param["singleTitle"] == "👍 按计划，无卡点"
            tapped = command_of(param["singleURL"])
            assert tapped == "/站会 按计划进行；卡点：无"

            [answer] = await say(org, "carol", tapped, chat_type="p2p", conversation="cid-p2p-carol")
            assert text_of(answer).startswith("〔新品发布 · 编号 1〕✅ 已记录你 11-25 的站会")
            async with org.runtime.factory() as session:
                report = await session.scalar(select(StandupReport))
                assert report is not None and report.parsed["no_blocker"] is True

            # The overdue alert: "done" is a button; what needs input is a line saying what to type.
            [alert] = await run(org, clock, "risk-scan", local("2026-12-03", "11:30"))
            assert alert["userIds"] == ["carol"] and alert["msgKey"] == "sampleActionCard"
            param = json.loads(alert["msgParam"])
            assert param["singleTitle"] == "✅ 完成"
            assert param["text"].endswith("⛔ 卡住了：发送 /卡点 1.1 <原因>")
            [done] = await say(
                org, "carol", command_of(param["singleURL"]), chat_type="p2p", conversation="cid-p2p-carol"
            )
            assert "1.1 后端接口" in text_of(done) and "100%" in text_of(done)
            async with org.runtime.factory() as session:
                assert await session.scalar(select(Task.status).where(Task.code == "1.1")) == "done"


async def test_cards_in_a_group_stay_markdown(engine: AsyncEngine) -> None:
    with time_machine.travel(local("2026-11-25", "09:00"), tick=True):
        async with dingtalk_organisation(engine) as org:
            for line in SETUP:
                mentions = {name: staff for name, staff in PEOPLE.items() if f"@{name}" in line}
                await say(org, "alice", line, mentions=mentions)
            [prompt] = await say(org, "carol", "/站会")  # answered in the group
            assert prompt["msgtype"] == "markdown"
            assert prompt["markdown"]["text"].startswith("### ☀️ 站会 · 11-25")
            assert "dtmd://" not in json.dumps(prompt)
