"""An overdue task set up by signed Feishu webhooks alerts its owner, then escalates by the RACI on
later days: the daily risk scan runs at frozen dates and its private messages reach the fake Feishu
API addressed by open_id."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import time_machine
from sqlalchemy.ext.asyncio import AsyncEngine

from scheduler.jobs import JOBS_BY_NAME
from scheduler.runner import JobRunner
from tests.scenario.feishu import FeishuApi, feishu_tenant

ALICE, BOB, CAROL, DAVE = "ou_alice", "ou_bob", "ou_carol", "ou_dave"
PEOPLE = {"Bob": BOB, "Carol": CAROL, "Dave": DAVE}
TZ = ZoneInfo("Asia/Shanghai")


def at(day: str) -> datetime:
    return datetime.fromisoformat(f"{day}T11:30:00").replace(tzinfo=TZ)


def sent_messages(api: FeishuApi, already: int) -> list[tuple[str, str, str]]:
    """(receive_id_type, receive_id, card text) of each message sent after the first `already`."""
    calls = [call for call in api.router.calls if call.request.url.path == "/open-apis/im/v1/messages"]
    found = []
    for call in calls[already:]:
        body = json.loads(call.request.content)
        card = json.loads(body["content"])
        text = card["header"]["title"]["content"] + "\n" + card["body"]["elements"][0]["content"]
        found.append((call.request.url.params["receive_id_type"], body["receive_id"], text))
    return found


async def test_overdue_task_alerts_the_owner_then_a_and_head_then_the_pm(engine: AsyncEngine) -> None:
    with time_machine.travel(datetime(2026, 11, 25, 10, 0, tzinfo=TZ), tick=True) as clock:
        await _scenario(engine, clock)


async def _scenario(engine: AsyncEngine, clock: time_machine.Traveller) -> None:
    async with feishu_tenant(engine) as feishu:
        for line in (
            "/项目 新建 新品发布 开始=2026-11-23 结束=2027-03-31",
            "/部门 添加 研发 @Bob",
            "/成员 添加 @Carol 研发",
            "/阶段 添加 1 开发",
            "/任务 添加 1.1 后端接口 @Carol 开始=2026-11-23 截止=2026-12-02",
            "/责任 1.1 R=@Carol A=@Dave",
            # Later work keeps 1.1 off the critical path: its alerts escalate by the RACI over workdays.
            "/任务 添加 1.9 验收 开始=2026-12-21 截止=2027-01-29",
        ):
            replies = await feishu.say(
                ALICE, line, mentions={n: i for n, i in PEOPLE.items() if f"@{n}" in line}
            )
            assert len(replies) == 1 and "抱歉" not in replies[0], replies

        runner = JobRunner(feishu.runtime.factory, lambda: datetime.now(UTC))
        seen = len([c for c in feishu.api.router.calls if c.request.url.path == "/open-apis/im/v1/messages"])

        async def scan(day: str) -> list[tuple[str, str, str]]:
            nonlocal seen
            clock.move_to(at(day))
            outcomes = await runner.run_job(JOBS_BY_NAME["risk-scan"], at=at(day))
            assert [o.status for o in outcomes] == ["done"]
            await feishu.runtime.settle()
            messages = sent_messages(feishu.api, seen)
            seen += len(messages)
            return messages

        def private(messages: list[tuple[str, str, str]]) -> dict[str, str]:
            return {target: text for kind, target, text in messages if kind == "open_id"}

        def groups(messages: list[tuple[str, str, str]]) -> list[str]:
            return [target for kind, target, _ in messages if kind == "chat_id"]

        day0 = await scan("2026-12-03")  # Thursday, the first workday after the due date
        assert set(private(day0)) == {CAROL}
        assert "1.1 后端接口 已逾期 1 个工作日" in private(day0)[CAROL]
        assert "/完成 1.1" in private(day0)[CAROL]
        assert groups(day0) == ["oc_team"]

        assert await scan("2026-12-04") == []  # not worse, not escalated yet: silence

        day2 = await scan("2026-12-07")  # Monday, 2 workdays unresolved
        assert set(private(day2)) == {CAROL, DAVE, BOB}
        assert f"<at id={CAROL}></at>" in private(day2)[DAVE]  # the A is asked to follow up with the R
        assert groups(day2) == ["oc_team"]

        day4 = await scan("2026-12-09")  # Wednesday, 4 workdays unresolved
        assert set(private(day4)) == {CAROL, DAVE, BOB, ALICE}
        assert "4 个工作日未解决" in private(day4)[ALICE]
