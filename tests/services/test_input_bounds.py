"""Bounded input through really signed webhooks on Feishu and DingTalk, SQLite and PostgreSQL: far
dates, over-long texts, ids beyond 32 bits, over-long codes and control characters are refused (or
cleaned) politely, and a refusal stores nothing at all. Also the JSON API's parameters: 4xx, never 500.

The harness clock is 2026-11-25 10:00 in Shanghai.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.models import Base, InboundEventRecord, Project, RateCounter, Risk, Task
from tests.harness import Chat, chat_runtime
from tests.services.test_api import AUTH, api_client, make_project

NOW = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)
# Everything a command could have written; inbound events and the outbox record the exchange itself.
_BOOKKEEPING = {"inbound_events", "outbox", "user_contexts", "rate_counters", "request_nonces"}


async def row_counts(chat: Chat) -> dict[str, int]:
    async with chat.runtime.factory() as session:
        return {
            table.name: int(await session.scalar(select(func.count()).select_from(table)) or 0)
            for table in Base.metadata.sorted_tables
            if table.name not in _BOOKKEEPING
        }


async def make_small_plan(chat: Chat) -> None:
    for line in (
        "/项目 新建 新品发布",
        "/阶段 添加 1 开发",
        "/任务 添加 1.1 接口 截止=12-15",
        "/风险 添加 高 容量不足",
        "/行动 添加 @alice 12-01 写文档",
        "/里程碑 添加 上线 截止=12-20",
    ):
        [reply] = await chat.say("alice", line)
        assert "用法" not in reply and "出错" not in reply, (line, reply)


async def refused(chat: Chat, line: str) -> str:
    """Send `line` as alice and return the one reply, asserting that nothing changed and that the
    event was processed (not failed into an apology)."""
    before = await row_counts(chat)
    [reply] = await chat.say("alice", line)
    assert await row_counts(chat) == before, line
    assert "出错" not in reply, reply
    async with chat.runtime.factory() as session:
        failed = await session.scalar(
            select(func.count()).select_from(InboundEventRecord).where(InboundEventRecord.status == "failed")
        )
    assert failed == 0
    return reply


FAR_DATES = [
    "/任务 添加 1.2 联调 截止=9999-12-31",
    "/任务 添加 1.2 联调 开始=2000-01-01",
    "/任务 修改 1.1 截止=2040-01-01",
    "/阶段 添加 2 测试 结束=9999-12-31",
    "/里程碑 添加 发布 截止=2099-01-01",
    "/行动 添加 @alice 9999-12-31 写文档",
    "/章程 结束 9999-12-31",
    "/假期 添加 2099-10-01..2099-10-03 国庆",
    "/假期 添加 12-01..2099-12-03",
    "/调休 添加 2099-09-26",
    "/请假 2099-01-01",
    "/周报 1990-01-01",
]


async def test_dates_beyond_ten_years_are_refused_with_the_usage_line(
    engine: AsyncEngine, platform: str
) -> None:
    async with chat_runtime(engine, platform=platform) as chat:
        await make_small_plan(chat)
        for line in FAR_DATES:
            reply = await refused(chat, line)
            assert "10 年以内" in reply and "用法：" in reply, (line, reply)


OUT_OF_RANGE = [
    ("/里程碑 完成 99999999999", "99999999999"),
    ("/风险 R99999999999 关闭", "99999999999"),
    ("/行动 完成 A99999999999", "A99999999999"),
    ("/项目 切换 99999999999", "99999999999"),
    ("/任务 添加 1.123456789012345678901234567890 超长编号", "1.123456789012345678901234567890"),
    ("/行动 添加 @alice 12-01 写文档 会议=" + "周会" * 120, "最多 100 字"),
    ("/风险 添加 高 " + "容" * 501, "最多 500 字"),
    ("/风险 添加 高 容量不足 缓解=" + "扩" * 501, "最多 500 字"),
    ("/风险 R1 已缓解 " + "扩" * 501, "最多 500 字"),
    ("/任务 添加 1.2 " + "联" * 101, "最多 100 字"),
    ("/任务 修改 1.1 标题=" + "联" * 101, "最多 100 字"),
    ("/进度 1.1 50% " + "注" * 501, "最多 500 字"),
    ("/完成 1.1 " + "注" * 501, "最多 500 字"),
    ("/卡点 1.1 " + "卡" * 501, "最多 500 字"),
    ("/行动 添加 @alice 12-01 " + "写" * 501, "最多 500 字"),
    ("/站会 " + "昨天写代码 " * 400, "最多 2000 字"),
    ("/部门 添加 " + "部" * 101, "最多 100 字"),
    ("/章程 背景 " + "背" * 2001, "最多 2000 字"),
]


@pytest.mark.parametrize(("line", "expected"), OUT_OF_RANGE, ids=[line[:24] for line, _ in OUT_OF_RANGE])
async def test_values_beyond_their_columns_are_refused_politely(
    engine: AsyncEngine, platform: str, line: str, expected: str
) -> None:
    async with chat_runtime(engine, platform=platform) as chat:
        await make_small_plan(chat)
        reply = await refused(chat, line)
        assert expected in reply, reply


async def test_control_characters_are_removed_before_storing(engine: AsyncEngine, platform: str) -> None:
    async with chat_runtime(engine, platform=platform) as chat:
        await make_small_plan(chat)
        # NUL never gets this far: the platforms' payload models refuse it (400, nothing stored; see
        # tests/scenario/test_*_malformed.py); other control characters are dropped by the parser.
        [reply] = await chat.say("alice", "/风险 添加 高 服务器\x1b容量\x07不足")
        assert "R2" in reply, reply
        async with chat.runtime.factory() as session:
            stored = await session.scalar(select(Risk.description).where(Risk.number == 2))
        assert stored == "服务器容量不足"


async def test_api_parameters_beyond_range_answer_4xx(engine: AsyncEngine, database_url: str) -> None:
    project_id = await make_project(engine)
    async with api_client(database_url) as client:
        for path in (
            "/api/projects/99999999999",
            "/api/projects/99999999999/audit",
            "/api/projects/99999999999/reports",
            f"/api/projects/{project_id}/audit?before_id=99999999999",
            f"/api/projects/{project_id}/reports/99999-01-01",
            f"/api/projects/{project_id}/reports/9999-12-31",
            f"/api/projects/{project_id}/reports/0001-01-01",
        ):
            response = await client.get(path, headers=AUTH)
            assert response.status_code == 422, (path, response.text)
        response = await client.get(f"/api/projects/{project_id}/reports/2026-11-25", headers=AUTH)
        assert response.status_code == 404


async def test_a_member_sending_too_fast_is_told_once_and_nothing_runs(
    engine: AsyncEngine, platform: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CROSSTRACK_COMMAND_RATE_LIMIT")  # the default: 20 a minute
    async with chat_runtime(engine, platform=platform) as chat:
        await make_small_plan(chat)  # 6 commands
        for number in range(14):
            [reply] = await chat.say("alice", f"/风险 添加 低 第{number}个")
            assert "太快" not in reply, reply
        before = await row_counts(chat)
        [slow_down] = await chat.say("alice", "/风险 添加 低 第21个")
        assert "每分钟最多 20 条命令" in slow_down
        assert await chat.say("alice", "/风险 添加 低 第22个") == []  # told once per window
        assert await row_counts(chat) == before
        # Others are not affected, and the counter is per user and per minute.
        [reply] = await chat.say("bob", "/状态")
        assert "太快" not in reply
        async with chat.runtime.factory() as session:
            [(count,)] = (
                await session.execute(select(RateCounter.count).where(RateCounter.key == f"{platform}:alice"))
            ).all()
        assert count == 22


async def test_long_lists_are_paged(engine: AsyncEngine, platform: str) -> None:
    async with chat_runtime(engine, platform=platform) as chat:
        await make_small_plan(chat)
        async with chat.runtime.factory() as session, session.begin():
            project = await session.scalar(select(Project))
            assert project is not None
            for code in range(2, 101):
                session.add(
                    Task(
                        project_id=project.id,
                        code=str(code),
                        title=f"阶段{code}",
                        created_at=NOW,
                        updated_at=NOW,
                    )
                )
        # 1 + 1.1 + 99 more phases: 101 lines, 30 a page.
        [first] = await chat.say("alice", "/任务列表")
        assert "第 1/4 页，发送 /任务列表 2 看下一页。" in first
        assert "1.1 接口" in first and "阶段31" not in first
        [second] = await chat.say("alice", "/任务列表 2")
        assert "阶段31" in second and "第 2/4 页" in second
        [last] = await chat.say("alice", "/任务列表 4")
        assert "第 4/4 页（最后一页）" in last and "阶段100" in last
        assert await chat.say("alice", "/任务列表 9") == ["没有第 9 页，一共 4 页。"]
