from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.models import AuditEntry, ChatBinding, Member, Project
from tests.harness import chat_runtime


async def test_project_new_binds_chat_and_makes_sender_pm(engine: AsyncEngine, platform: str) -> None:
    async with chat_runtime(engine, platform=platform) as chat:
        reply = await chat.one("alice", "/项目 新建 新品发布 开始=12-01 结束=2027-03-31")
        assert "新品发布" in reply and "项目经理" in reply
        async with chat.runtime.factory() as session:
            project = await session.scalar(select(Project))
            assert project is not None and project.name == "新品发布"
            assert project.start_date is not None and project.start_date.isoformat() == "2026-12-01"
            binding = await session.scalar(select(ChatBinding))
            assert binding is not None and binding.chat_id == "team" and binding.is_default
            pm = await session.scalar(select(Member))
            assert pm is not None and pm.platform_user_id == "alice" and pm.role == "pm"
            actions = set(await session.scalars(select(AuditEntry.action)))
            assert {"project.create", "chat.bind", "member.add"} <= actions


async def test_second_project_in_same_chat_is_refused_and_changes_nothing(
    engine: AsyncEngine, platform: str
) -> None:
    async with chat_runtime(engine, platform=platform, locale="en") as chat:
        await chat.say("alice", "/project new Alpha")
        reply = await chat.one("bob", "/project new Beta")
        assert "already linked" in reply
        async with chat.runtime.factory() as session:
            assert await session.scalar(select(func.count()).select_from(Project)) == 1


async def test_bind_requires_pm_of_target_project(engine: AsyncEngine, platform: str) -> None:
    async with chat_runtime(engine, platform=platform, locale="en") as chat:
        await chat.say("alice", "/project new Alpha")
        refused = await chat.one("bob", "/project bind 1", chat="marketing")
        assert "Sorry, only a project manager" in refused
        bound = await chat.one("alice", "/project bind Alpha", chat="marketing")
        assert "linked to project" in bound
        info = await chat.one("bob", "/project info", chat="marketing")
        assert "Alpha" in info and "Chats 2" in info


async def test_unknown_command_and_unbound_chat_get_helpful_answers(
    engine: AsyncEngine, platform: str
) -> None:
    async with chat_runtime(engine, platform=platform) as chat:
        assert "/帮助" in await chat.one("alice", "/frobnicate")
        assert "/项目 新建" in await chat.one("alice", "/项目 信息")
        help_card = await chat.one("alice", "帮助")
        assert "/项目 新建" in help_card or "项目 新建" in help_card
