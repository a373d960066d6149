"""Who may act, said aloud: the project's join policy (`/config join auto|closed`) and /help's
"who may" for each subcommand, end to end through signed webhooks on both platforms, on SQLite
and PostgreSQL."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.commands.all import build_registry
from bot.commands.help import explain, family
from bot.render.i18n import t
from storage.models import AuditEntry, Member, Project, Risk, StandupReport
from tests.harness import Chat, chat_runtime

NOW = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)
README = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")


async def counts(chat: Chat) -> tuple[int, int, int]:
    async with chat.runtime.factory() as session:
        return (
            await session.scalar(select(func.count()).select_from(Member)) or 0,
            await session.scalar(select(func.count()).select_from(Risk)) or 0,
            await session.scalar(select(func.count()).select_from(AuditEntry)) or 0,
        )


async def is_member(chat: Chat, user: str) -> bool:
    async with chat.runtime.factory() as session:
        return await session.scalar(select(Member).where(Member.platform_user_id == user)) is not None


async def test_auto_adds_a_non_member_who_logs_a_risk_and_says_so(engine: AsyncEngine, platform: str) -> None:
    async with chat_runtime(engine, platform=platform, now=NOW) as chat:
        await chat.say("alice", "/项目 新建 新品发布")
        assert "加入 自动" in (await chat.one("alice", "/设置")).replace("**", "")
        replies = await chat.say("zoe", "/风险 添加 高 服务器容量不足")
        assert "R1" in replies[0]
        assert replies[-1] == "ℹ️ 已把你加入项目成员。"
        assert await is_member(chat, "zoe")
        async with chat.runtime.factory() as session:
            risk = await session.scalar(select(Risk))
            zoe = await session.scalar(select(Member).where(Member.platform_user_id == "zoe"))
            assert risk is not None and zoe is not None and risk.owner_member_id == zoe.id
        # A member now: said once only.
        assert "ℹ️" not in "".join(await chat.say("zoe", "/风险 添加 低 文档滞后"))


async def test_closed_refuses_a_non_member_naming_the_pms_and_stores_nothing(
    engine: AsyncEngine, platform: str
) -> None:
    async with chat_runtime(engine, platform=platform, now=NOW, locale="en") as chat:
        await chat.say("alice", "/project new Launch")
        await chat.say("alice", "/project pm @bob")
        reply = await chat.one("alice", "/config join closed")
        assert reply.startswith("✅ join: auto") and reply.endswith("closed (project managers add members)")
        before = await counts(chat)

        for line in ("/risk add high capacity", "/standup 2.1 80%", "/action add @alice fri write docs"):
            refusal = await chat.one("zoe", line)
            assert refusal.startswith("Sorry, this project does not add members by itself"), refusal
            assert "(@alice, @bob)" in refusal and "/member add @you" in refusal
        assert await counts(chat) == before
        assert not await is_member(chat, "zoe")
        async with chat.runtime.factory() as session:
            assert await session.scalar(select(func.count()).select_from(StandupReport)) == 0

        # Added by a PM, the same person may act.
        await chat.say("alice", "/member add @zoe")
        assert "R1" in await chat.one("zoe", "/risk add high capacity")


async def test_only_a_pm_may_change_the_policy_and_a_bad_value_is_refused(
    engine: AsyncEngine, platform: str
) -> None:
    async with chat_runtime(engine, platform=platform, now=NOW) as chat:
        await chat.say("alice", "/项目 新建 新品发布")
        await chat.say("alice", "/成员 添加 @bob")
        assert "项目经理" in await chat.one("bob", "/设置 加入 关闭")
        assert "应为 自动 或 关闭" in await chat.one("alice", "/设置 加入 随便")
        async with chat.runtime.factory() as session:
            assert await session.scalar(select(Project.join_policy)) == "auto"


async def test_closed_survives_a_restart(engine: AsyncEngine, platform: str) -> None:
    async with chat_runtime(engine, platform=platform, now=NOW) as chat:
        await chat.say("alice", "/项目 新建 新品发布")
        assert (await chat.one("alice", "/设置 加入 关闭")).startswith("✅ 加入：自动")
    # A new process, later (a DingTalk timestamp/sign pair is single-use across restarts too).
    async with chat_runtime(engine, platform=platform, now=NOW + timedelta(minutes=5)) as chat:
        assert "加入 关闭（由项目经理添加成员）" in (await chat.one("carol", "/设置")).replace("**", "")
        refusal = await chat.one("carol", "/风险 添加 高 容量不足")
        assert refusal == "抱歉，本项目不自动加入成员：请项目经理（@alice）发 /成员 添加 @你 把你加入后再试。"
        assert not await is_member(chat, "carol")
        async with chat.runtime.factory() as session:
            assert await session.scalar(select(func.count()).select_from(Risk)) == 0


async def test_help_on_a_group_word_shows_who_may_run_each_subcommand(
    engine: AsyncEngine, platform: str
) -> None:
    async with chat_runtime(engine, platform=platform, now=NOW) as chat:
        await chat.say("alice", "/项目 新建 新品发布")
        assert (await chat.one("bob", "/帮助 阶段")).endswith("谁可以用：项目经理")
        shown = await chat.one("bob", "/帮助 风险")
        assert "谁可以用：风险负责人或项目经理；升级" in shown and "谁可以用：项目成员" in shown


def _readme_who() -> dict[str, str]:
    """The README command table: English usage -> its "who may" column."""
    rows = {}
    for line in README.splitlines():
        if line.startswith("| `/"):
            cells = [cell.strip() for cell in re.split(r"(?<!\\)\|", line)[1:-1]]
            rows[cells[0].strip("`").replace("\\|", "|")] = cells[2]
    return rows


def test_readme_who_may_column_says_what_help_says() -> None:
    """Every listed command's "Who may" line in /help is its README row's "who may" column."""
    registry, rows = build_registry(), _readme_who()
    disagreements = {}
    for router in registry.routers:
        for spec in router.commands:
            if not spec.listed:
                continue
            usage = t("en", spec.usage_key)
            [help_text] = [explain(one, "en") for one in family(registry, spec.name) if one is spec]
            said = help_text.rsplit("\nWho may: ", 1)[1]
            if rows.get(usage) != said:
                disagreements[usage] = (rows.get(usage), said)
    assert disagreements == {}
