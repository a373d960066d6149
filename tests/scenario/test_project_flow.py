"""A whole project set up and run from a group chat, on Feishu and on DingTalk: every step a really
signed webhook (Feishu's also encrypted) into the full app, every reply read off the fake platform API."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.models import AuditEntry, Member, ProgressUpdate, RaciAssignment, Risk, Task
from tests.harness import chat_runtime

NOW = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai


async def test_team_plans_tracks_and_is_refused_where_it_should_be(
    engine: AsyncEngine, platform: str
) -> None:
    async with chat_runtime(engine, platform=platform, now=NOW) as chat:
        assert "新品发布" in await chat.one("alice", "/项目 新建 新品发布 开始=2026-12-01 结束=2027-03-31")
        await chat.one("alice", "/章程 目标 2027-03-31 前上线，首月 1 万活跃用户")
        await chat.one("alice", "/部门 添加 研发 @bob")
        await chat.one("alice", "/部门 添加 市场 @dave")
        await chat.one("bob", "/成员 添加 @carol 研发")
        await chat.one("alice", "/阶段 添加 1 开发")
        await chat.one("bob", "/任务 添加 1.1 后端接口 @carol 开始=2026-12-01 截止=2026-12-15")
        await chat.one("alice", "/任务 添加 1.2 联调 @carol 开始=2026-12-16 截止=2026-12-20 依赖=1.1")
        raci = await chat.one("alice", "/责任 1.1 R=@carol A=@bob C=@dave I=@dave")
        assert "抱歉" not in raci

        assert "80%" in await chat.one("carol", "/进度 1.1 ８０％ 接口完成，差文档")
        assert "抱歉" in await chat.one("dave", "/进度 1.1 100")
        assert "R1" in await chat.one("dave", "/风险 添加 高 服务器容量不足 mitigation=提前扩容")
        status = await chat.one("alice", "/状态")
        assert "新品发布 · 11-25" in status and "高 1" in status

        async with chat.runtime.factory() as session:
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
            assert roles["A"] == "bob" and roles["R"] == "carol"
            assert {member.platform for member in await session.scalars(select(Member))} == {platform}
            risk = await session.scalar(select(Risk))
            assert risk is not None and risk.level == "high" and risk.mitigation == "提前扩容"
            actors = set(await session.scalars(select(AuditEntry.actor_user_id)))
            assert {"alice", "bob", "carol", "dave"} <= actors
