"""The 1:1 context hijack, through the really signed webhook on Feishu and DingTalk (issue 8, item 6).

Mallory creates a project named like Bob's real one and adds Bob. Bob's next 1:1 command must still
act on his own project, and say which; `/project use <name>` with a name two of his projects share
is refused with the choices and changes nothing.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.models import Member, Project, Task, UserContext
from tests.harness import Chat, chat_runtime


async def progress(chat: Chat) -> dict[tuple[str, str], int]:
    """Task 1.1's progress in each project, by (project id, project name)."""
    async with chat.runtime.factory() as session:
        rows = await session.execute(
            select(Project.id, Project.name, Task.progress).join(Task, Task.project_id == Project.id)
        )
        return {(str(project_id), name): value for project_id, name, value in rows}


async def contexts(chat: Chat) -> list[tuple[str, int]]:
    async with chat.runtime.factory() as session:
        rows = await session.execute(select(UserContext.user_id, UserContext.project_id))
        return sorted((user, project) for user, project in rows)


async def test_being_added_to_a_look_alike_project_does_not_move_the_1_1_chat(
    engine: AsyncEngine, platform: str
) -> None:
    async with chat_runtime(engine, platform=platform) as chat:
        await chat.say("alice", "/项目 新建 新品发布", chat="team")
        await chat.say("alice", "/阶段 添加 1 开发", chat="team")
        await chat.say("alice", "/任务 添加 1.1 接口 @bob", chat="team")

        await chat.say("mallory", "/项目 新建 新品发布", chat="evil")
        await chat.say("mallory", "/阶段 添加 1 开发", chat="evil")
        await chat.say("mallory", "/任务 添加 1.1 接口 @bob", chat="evil")

        reply = await chat.one("bob", "/进度 1.1 50% 联调", chat="bob-dm", chat_type="p2p")
        assert await progress(chat) == {("1", "新品发布"): 50, ("2", "新品发布"): 0}
        assert reply.startswith("〔新品发布 · 编号 1〕"), reply

        # The name is ambiguous among Bob's projects: refused with the choices, nothing changed.
        before = await contexts(chat)
        choice = await chat.one("bob", "/项目 切换 新品发布", chat="bob-dm", chat_type="p2p")
        assert "编号 1：新品发布（项目经理：" in choice and "编号 2：新品发布（项目经理：" in choice
        assert await contexts(chat) == before

        # By id it works, and the answers now name the other project.
        assert (await chat.one("bob", "/项目 切换 2", chat="bob-dm", chat_type="p2p")).startswith(
            "〔新品发布 · 编号 2〕"
        )
        assert await contexts(chat) == sorted([*(c for c in before if c[0] != "bob"), ("bob", 2)])


async def test_several_projects_and_no_choice_yet_asks_to_choose(engine: AsyncEngine, platform: str) -> None:
    async with chat_runtime(engine, platform=platform) as chat:
        await chat.say("alice", "/项目 新建 新品发布", chat="team")
        await chat.say("mallory", "/项目 新建 新品发布", chat="evil")
        async with chat.runtime.factory() as session, session.begin():
            # Joined both before 1:1 chats remembered a choice (nothing pinned it).
            joined = datetime(2026, 11, 1, tzinfo=UTC)
            for project_id in (1, 2):
                session.add(
                    Member(
                        project_id=project_id,
                        platform=chat.platform,
                        platform_user_id="bob",
                        created_at=joined,
                    )
                )
        reply = await chat.one("bob", "/风险 添加 高 容量不足", chat="bob-dm", chat_type="p2p")
        assert "/项目 切换" in reply and "编号 1：新品发布" in reply and "编号 2：新品发布" in reply
        async with chat.runtime.factory() as session:
            assert (
                await session.scalar(
                    select(func.count()).select_from(UserContext).where(UserContext.user_id == "bob")
                )
                == 0
            )
