"""A whole project set up and run from a Feishu group, every step a signed, encrypted webhook."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import time_machine
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.models import AuditEntry, Member, ProgressUpdate, RaciAssignment, Risk, Task
from tests.scenario.feishu import feishu_tenant

ALICE, BOB, CAROL, DAVE = "ou_alice", "ou_bob", "ou_carol", "ou_dave"
PEOPLE = {"Bob": BOB, "Carol": CAROL, "Dave": DAVE}


@time_machine.travel(datetime(2026, 11, 25, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai")), tick=True)
async def test_team_plans_tracks_and_is_refused_where_it_should_be(engine: AsyncEngine) -> None:
    async with feishu_tenant(engine) as feishu:

        async def say(sender: str, text: str) -> str:
            replies = await feishu.say(
                sender, text, mentions={n: i for n, i in PEOPLE.items() if f"@{n}" in text}
            )
            assert len(replies) == 1, replies
            return replies[0]

        assert "新品发布" in await say(ALICE, "/项目 新建 新品发布 开始=2026-12-01 结束=2027-03-31")
        await say(ALICE, "/章程 目标 2027-03-31 前上线，首月 1 万活跃用户")
        await say(ALICE, "/部门 添加 研发 @Bob")
        await say(ALICE, "/部门 添加 市场 @Dave")
        await say(BOB, "/成员 添加 @Carol 研发")
        await say(ALICE, "/阶段 添加 1 开发")
        await say(BOB, "/任务 添加 1.1 后端接口 @Carol 开始=2026-12-01 截止=2026-12-15")
        await say(ALICE, "/任务 添加 1.2 联调 @Carol 开始=2026-12-16 截止=2026-12-20 依赖=1.1")
        await say(ALICE, "/责任 1.1 R=@Carol A=@Bob C=@Dave I=@Dave")

        updated = await say(CAROL, "/进度 1.1 ８０％ 接口完成，差文档")
        assert "80%" in updated
        refused = await say(DAVE, "/进度 1.1 100")
        assert "抱歉" in refused
        risk = await say(DAVE, "/风险 添加 高 服务器容量不足 mitigation=提前扩容")
        assert "R1" in risk
        status = await say(ALICE, "/状态")
        assert "新品发布 · 11-25" in status and "高 1" in status

        async with feishu.runtime.factory() as session:
            task = await session.scalar(select(Task).where(Task.code == "1.1"))
            assert task is not None and task.progress == 80 and task.status == "in_progress"
            assert await session.scalar(select(func.count()).select_from(ProgressUpdate)) == 1
            phase = await session.scalar(select(Task).where(Task.code == "1"))
            assert phase is not None and 0 < phase.progress < 80
            roles = dict(
                (
                    await session.execute(select(RaciAssignment.role, Member.platform_user_id).join(Member))
                ).all()
            )
            assert roles["A"] == BOB and roles["R"] == CAROL
            risk_row = await session.scalar(select(Risk))
            assert risk_row is not None and risk_row.level == "high" and risk_row.mitigation == "提前扩容"
            actors = set(await session.scalars(select(AuditEntry.actor_user_id)))
            assert {ALICE, BOB, CAROL, DAVE} <= actors
