"""The daily standup on Feishu, every inbound step a signed, encrypted webhook: the prompt reaches each
person privately by open_id, a free-text reply in the 1:1 chat updates the task, and the summary in
the group names who reported and @mentions who is missing."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import time_machine
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from scheduler.jobs import JOBS_BY_NAME
from scheduler.runner import JobRunner
from storage.models import StandupReport, Task
from tests.scenario.feishu import FeishuApi, feishu_tenant

ALICE, CAROL, DAVE = "ou_alice", "ou_carol", "ou_dave"
PEOPLE = {"Carol": CAROL, "Dave": DAVE}
TZ = ZoneInfo("Asia/Shanghai")


def at(time: str) -> datetime:
    return datetime.fromisoformat(f"2026-11-25T{time}").replace(tzinfo=TZ)


def sent_messages(api: FeishuApi, already: int) -> list[tuple[str, str, str]]:
    """(receive_id_type, receive_id, card text) of each new message after the first `already` (replies
    to a message use another endpoint), sorted: the outbox sends to different chats concurrently."""
    calls = [call for call in api.router.calls if call.request.url.path == "/open-apis/im/v1/messages"]
    found = []
    for call in calls[already:]:
        body = json.loads(call.request.content)
        card = json.loads(body["content"])
        text = card["header"]["title"]["content"] + "\n" + card["body"]["elements"][0]["content"]
        found.append((call.request.url.params["receive_id_type"], body["receive_id"], text))
    return sorted(found)


async def test_prompt_reply_and_summary_through_feishu(engine: AsyncEngine) -> None:
    with time_machine.travel(at("09:00"), tick=True) as clock:
        async with feishu_tenant(engine) as feishu:
            for line in (
                "/项目 新建 新品发布 开始=2026-11-23 结束=2027-03-31",
                "/阶段 添加 1 开发",
                "/任务 添加 1.1 后端接口 @Carol 截止=2026-12-15",
                "/任务 添加 1.2 前端页面 @Dave 截止=2026-12-20",
            ):
                replies = await feishu.say(
                    ALICE, line, mentions={n: i for n, i in PEOPLE.items() if f"@{n}" in line}
                )
                assert len(replies) == 1 and "抱歉" not in replies[0], replies
            runner = JobRunner(feishu.runtime.factory, lambda: datetime.now(UTC))
            seen = 0

            async def run(job: str, time: str) -> list[tuple[str, str, str]]:
                nonlocal seen
                clock.move_to(at(time))
                outcomes = await runner.run_job(JOBS_BY_NAME[job], at=at(time))
                assert [outcome.status for outcome in outcomes] == ["done"]
                await feishu.runtime.settle()
                messages = sent_messages(feishu.api, seen)
                seen += len(messages)
                return messages

            prompts = await run("standup-prompt", "09:30")
            assert [(kind, target) for kind, target, _ in prompts] == [("open_id", CAROL), ("open_id", DAVE)]
            carol_prompt = dict((target, text) for _, target, text in prompts)[CAROL]
            assert carol_prompt.startswith(
                "☀️ 站会 · 11-25\n你有 1 个未完成的任务：\n• 1.1 后端接口 · 0% · 截止 12-15"
            )
            assert "1️⃣ 昨天做了什么" in carol_prompt and "前端页面" not in carol_prompt
            assert await run("standup-prompt", "09:35") == []

            clock.move_to(at("09:45"))
            feishu.api.sent.clear()
            [answer] = await feishu.say(
                CAROL, "昨天：1.1 接口写完 ６０％\n今天：联调\n卡点：无", chat="oc_p2p_carol", chat_type="p2p"
            )
            assert answer.startswith(
                "〔新品发布 · 编号 1〕✅ 已记录你 11-25 的站会\n"
                "昨天：1.1 接口写完 60%\n今天：联调\n卡点：无\n"
            )
            assert "📈 1.1 后端接口 0% → 60%" in answer
            async with feishu.runtime.factory() as session:
                task = await session.scalar(select(Task).where(Task.code == "1.1"))
                assert task is not None and task.progress == 60
                assert await session.scalar(select(StandupReport.business_date)) == at("09:45").date()

            summary = await run("standup-summary", "11:00")
            assert [(kind, target) for kind, target, _ in summary] == [("chat_id", "oc_team")]
            assert summary[0][2] == "\n".join(
                [
                    "📋 站会小结 · 11-25",
                    f"✅ 已汇报 1/2：<at id={CAROL}></at>",
                    "📈 进度更新：",
                    "• 1.1 后端接口 0% → 60%",
                    f"❓ 未汇报 1 人：<at id={DAVE}></at>",
                    "请私聊我补上今天的站会。",
                ]
            )
            assert await run("standup-summary", "11:30") == []
