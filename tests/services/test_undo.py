"""/undo through really signed webhooks on Feishu and DingTalk, SQLite and PostgreSQL: the last
change of the past 10 minutes is reverted from the audit log, what later work built on is refused
with the reason, a PM may undo anyone's change, nobody else may.

The plan is tests/services/test_plan_commands.py's: alice is the PM, bob heads 研发; frank owns
2.1.1 (12-16..12-20); 2.2 (gina, due 2027-01-20) is after 2.1; 1.2 (erin, 研发) due 12-15.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Column, func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.models import AuditEntry, Base, Member, Milestone, RaciAssignment, StandupReport, Task
from tests.harness import Chat, alternating, chat_runtime
from tests.services.test_plan_commands import build_plan, dependency_codes, fingerprint, said, tasks_by_code

START = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now

    def wait(self, minutes: int) -> None:
        self.now += timedelta(minutes=minutes)


async def task(chat: Chat, code: str) -> Task | None:
    return (await tasks_by_code(chat)).get(code)


async def undos(chat: Chat) -> int:
    async with chat.runtime.factory() as session:
        return int(await session.scalar(select(func.count()).where(AuditEntry.action == "undo")) or 0)


async def test_undo_progress_then_nothing_left(engine: AsyncEngine, platform: str) -> None:
    clock = Clock()
    async with chat_runtime(engine, platform=platform, clock=clock) as chat:
        await build_plan(chat)
        clock.wait(15)  # the plan's own changes are older than the window
        await said(chat, "frank", "/进度 2.1.1 60%")
        clock.wait(3)
        reply = await said(chat, "frank", "/撤销", "↩️ 已撤销 @frank 的上一步（3 分钟前）：")
        assert "• 2.1.1 进度恢复为 0%" in reply, reply
        restored = await task(chat, "2.1.1")
        assert restored is not None and (restored.progress, restored.status) == (0, "not_started")
        assert (await task(chat, "2.1")).progress == 0  # type: ignore[union-attr]

        before = await fingerprint(chat)
        await said(chat, "frank", "/撤销", "最近 10 分钟内没有可以撤销的修改。")
        assert await fingerprint(chat) == before and await undos(chat) == 1


async def test_undo_a_task_edit_a_delete_and_an_add(engine: AsyncEngine, platform: str) -> None:
    async with chat_runtime(engine, platform=platform) as chat:
        await build_plan(chat)
        await said(chat, "alice", "/任务 修改 1.2 标题=设计稿 截止=12-18 依赖=-")
        await said(chat, "alice", "/撤销", "• 1.2 产品设计 恢复到修改前")
        edited = await task(chat, "1.2")
        assert edited is not None and (edited.title, edited.due_date) == ("产品设计", date(2026, 12, 15))
        assert ("1.2", "1.1") in await dependency_codes(chat)

        before = await tasks_by_code(chat)
        await said(chat, "alice", "/任务 删除 2.2")
        await said(chat, "alice", "/撤销", "• 恢复了已删除的 2.2 上线推广")
        back = await task(chat, "2.2")
        assert back is not None and (back.due_date, back.owner_member_id) == (
            date(2027, 1, 20),
            before["2.2"].owner_member_id,
        )
        assert ("2.2", "2.1") in await dependency_codes(chat)
        async with chat.runtime.factory() as session:
            roles = set(
                await session.scalars(select(RaciAssignment.role).where(RaciAssignment.task_id == back.id))
            )
        assert roles == {"R"}

        await said(chat, "alice", "/任务 添加 2.3 素材 截止=12-28")
        await said(chat, "alice", "/undo", "• 删除了刚添加的 2.3 素材")
        assert await task(chat, "2.3") is None


async def test_what_later_work_built_on_is_not_undone(engine: AsyncEngine, platform: str) -> None:
    async with chat_runtime(engine, platform=platform) as chat:
        await build_plan(chat)
        await said(chat, "alice", "/任务 修改 1.2 截止=12-18")
        await chat.say("bob", "/任务 修改 1.2 截止=12-19")  # alice, its I, is told privately
        before = await fingerprint(chat)
        reply = await said(chat, "alice", "/撤销", "不能撤销：1.2 之后又被")
        assert await fingerprint(chat) == before, reply

        await said(chat, "alice", "/任务 添加 2.3 素材 部门=研发")
        await said(chat, "bob", "/任务 添加 2.3.1 文案 @erin", "2.3.1")
        await said(chat, "bob", "/撤销", "• 删除了刚添加的 2.3.1 文案")  # bob's own, nothing on it
        await said(chat, "bob", "/任务 添加 2.3.1 文案 @erin", "2.3.1")
        before = await fingerprint(chat)
        await said(chat, "alice", "/撤销", "不能撤销：之后已有内容建立在 2.3 上")
        assert await fingerprint(chat) == before


async def test_the_window_and_who_may(engine: AsyncEngine, platform: str) -> None:
    clock = Clock()
    async with chat_runtime(engine, platform=platform, clock=clock) as chat:
        await build_plan(chat)
        clock.wait(15)
        await said(chat, "frank", "/进度 2.1.1 30%")
        before = await fingerprint(chat)
        await said(chat, "bob", "/撤销 @frank", "只有项目经理")
        assert await fingerprint(chat) == before
        await said(chat, "alice", "/撤销 @frank", "↩️ 已撤销 @frank 的上一步", "• 2.1.1 进度恢复为 0%")

        await said(chat, "frank", "/进度 2.1.1 40%")
        clock.wait(11)
        await said(chat, "frank", "/撤销", "最近 10 分钟内没有可以撤销的修改。")
        assert (await task(chat, "2.1.1")).progress == 40  # type: ignore[union-attr]


async def test_a_change_without_a_way_back_says_so(engine: AsyncEngine, platform: str) -> None:
    async with chat_runtime(engine, platform=platform) as chat:
        await build_plan(chat)
        await said(chat, "bob", "/站会 昨天：写文档 今天：评审 卡点：无", "✅")
        before = await fingerprint(chat)
        await said(chat, "bob", "/撤销", "上一步（standup.report）不支持撤销")
        assert await fingerprint(chat) == before
        async with chat.runtime.factory() as session:
            assert await session.scalar(select(func.count()).select_from(StandupReport)) == 1


# What a change may touch, without history (risk events, progress updates, the audit log), row ids
# and timestamps (only whether each is set): an undo brings exactly this back. A deleted task comes
# back under a new id, so references to tasks read as codes, to milestones as their numbers and to
# members as their user ids.
STATE_TABLES = (
    "projects",
    "departments",
    "members",
    "tasks",
    "task_dependencies",
    "raci_assignments",
    "blockers",
    "risks",
    "action_items",
    "milestones",
    "milestone_tasks",
    "charter_confirmations",
    "baselines",
    "baseline_items",
    "change_requests",
)


async def state(chat: Chat) -> dict[str, list[tuple[object, ...]]]:
    async with chat.runtime.factory() as session:
        names = {
            "tasks": dict((await session.execute(select(Task.id, Task.code))).all()),
            "members": dict((await session.execute(select(Member.id, Member.platform_user_id))).all()),
            "milestones": dict((await session.execute(select(Milestone.id, Milestone.number))).all()),
        }
        picture = {}
        for name in STATE_TABLES:
            table = Base.metadata.tables[name]
            columns = [c for c in table.columns if c.name != "id"]
            query = select(*columns)
            if name == "blockers":
                query = query.where(table.c.status == "open")

            def read(column: Column[Any], value: object) -> object:
                if column.name.endswith("_at"):
                    return value is not None
                target = next(iter(column.foreign_keys), None)
                named = names.get(target.column.table.name) if target is not None else None
                return named.get(value, value) if named is not None else value

            rows = await session.execute(query)
            picture[name] = sorted(
                (tuple(read(c, v) for c, v in zip(columns, row, strict=True)) for row in rows), key=repr
            )
        return picture


# Each kind of change, with what must be set up first. Undo does not depend on the platform,
# so the kinds alternate between Feishu and DingTalk (each still on both databases).
KINDS: list[tuple[list[tuple[str, str]], str, str, str]] = [
    ([], "frank", "/卡点 2.1.1 等接口文档", "• 撤回了 2.1.1 的卡点"),
    ([("frank", "/卡点 2.1.1 等接口文档")], "frank", "/卡点 解除 2.1.1", "• 2.1.1 的卡点重新打开"),
    ([], "bob", "/风险 添加 高 供应商延期 @bob", "• 删除了刚登记的 R1"),
    ([("bob", "/风险 添加 高 供应商延期 @bob")], "bob", "/风险 R1 已缓解", "• R1 恢复到之前的状态和等级"),
    ([("bob", "/风险 添加 低 供应商延期 @bob")], "erin", "/风险 R1 升级", "• R1 恢复到之前的状态和等级"),
    ([], "alice", "/行动 添加 @bob 12-01 写文档", "• 删除了刚登记的 A1"),
    ([("alice", "/行动 添加 @bob 12-01 写文档")], "bob", "/行动 完成 A1", "• A1 重新打开"),
    (
        [("alice", "/行动 添加 @bob 12-01 写文档")],
        "bob",
        "/行动 修改 A1 内容=写接口文档 截止=12-03 @erin",
        "• 「A1」恢复到修改前",
    ),
    (
        [("alice", "/行动 添加 @bob 12-01 写文档"), ("bob", "/行动 完成 A1")],
        "bob",
        "/行动 重开 A1",
        "• 「A1」恢复到修改前",
    ),
    ([("alice", "/行动 添加 @bob 12-01 写文档")], "bob", "/行动 删除 A1", "• 「A1 写文档」恢复到修改前"),
    (
        [("bob", "/风险 添加 高 供应商延期 @bob")],
        "bob",
        "/风险 修改 R1 等级=低 @carol 描述=供应商延期两周 缓解=备选",
        "• 「R1」恢复到修改前",
    ),
    ([], "alice", "/里程碑 添加 上线 截止=2027-01-25", "• 删除了刚登记的 #2"),
    ([], "alice", "/里程碑 完成 1 强制", "• #1 重新打开"),
    ([], "alice", "/里程碑 修改 1 标题=设计评审 截止=12-22", "• 「#1」恢复到修改前"),
    ([("alice", "/里程碑 完成 1 强制")], "alice", "/里程碑 重开 1", "• 「#1」恢复到修改前"),
    ([], "alice", "/里程碑 删除 1", "• 「#1 设计评审通过」恢复到修改前"),
    ([], "alice", "/章程 目标 先做安卓版", "• 章程恢复到修改前"),
    ([], "bob", "/章程 资源 研发 人力=3人", "• 「研发」恢复到修改前"),
    ([], "alice", "/部门 负责人 运营 @erin", "• 「运营」恢复到修改前"),
    ([], "bob", "/章程 确认", "• 撤回了「研发」的章程确认"),
    ([("bob", "/章程 确认")], "alice", "/章程 目标 先做安卓版", "• 恢复了「研发」的章程确认"),
    ([], "alice", "/基线 设定 首版", "• 删除了基线 1"),
    (
        [("alice", "/责任 2.2 R=运营 A=@carol I=@gina")],
        "alice",
        "/责任 2.2 R=市场,@gina A=@carol C=研发,@dan I=运营,@alice",
        "• 2.2 上线推广 的分工恢复到修改前",
    ),
    (
        [("alice", "/基线 设定 首版"), ("bob", "/任务 修改 1.2 截止=12-18")],
        "alice",
        "/变更 批准 CR-1",
        "• CR-1 恢复为待批准，改动的日期已还原",
    ),
    ([], "alice", "/阶段 修改 1 标题=需求 结束=12-22", "• 1 需求与设计 恢复到修改前"),
    ([], "alice", "/任务 删除 2.1 确认", "• 恢复了已删除的 2.1 后端开发"),
    ([], "alice", "/阶段 删除 2 确认", "• 恢复了已删除的 2 开发与上线"),
    ([("alice", "/行动 添加 @frank 12-01 写文档")], "bob", "/成员 移除 @frank", "• @frank 回到项目"),
    ([], "alice", "/成员 调动 @erin 市场", "• 「@erin」恢复到修改前"),
    ([], "alice", "/部门 改名 运营 客服", "• 「运营」恢复到修改前"),
    ([("alice", "/部门 添加 法务")], "alice", "/部门 删除 法务", "• 「法务」恢复到修改前"),
    ([("alice", "/项目 负责人 @bob")], "alice", "/项目 负责人 移除 @bob", "• 「@bob」恢复到修改前"),
]


@pytest.mark.parametrize(
    ("setup", "user", "change", "restored", "on"),
    alternating(KINDS),
)
async def test_each_kind_of_change_comes_back_exactly(
    engine: AsyncEngine, setup: list[tuple[str, str]], user: str, change: str, restored: str, on: str
) -> None:
    async with chat_runtime(engine, platform=on) as chat:
        await build_plan(chat)
        for who, line in setup:
            await chat.say(who, line)
        before = await state(chat)
        await chat.say(user, change)
        assert await state(chat) != before, change
        await said(chat, user, "/撤销", restored)
        assert await state(chat) == before, change
