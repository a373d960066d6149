"""Who may run a command is declared once, where it is registered, and the dispatcher enforces it
before the handler reads a word: through signed webhooks on both platforms, SQLite and PostgreSQL,
every command declared for PMs (or PMs and heads, or heads) refuses everyone else in the words of
its declaration, and nothing changes."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.models import Reply
from bot.commands.all import build_registry
from bot.commands.context import CommandContext
from bot.commands.registry import Registry, Router
from bot.permissions import RULES, undeclared
from bot.render.i18n import t
from storage.models import AuditEntry, Member
from tests.harness import chat_runtime
from tests.services.test_plan_commands import fingerprint

NOW = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)
# Arguments that would parse for many commands: the refusal must come before any of them is read.
ARGS = ("", " 研发 1 x @alice")


def refusal(locale: str, who: str) -> str:
    return t(locale, "error.permission", who=t(locale, RULES[who].denied or who))


async def test_commands_for_pms_and_heads_refuse_everyone_else_before_reading_arguments(
    engine: AsyncEngine, platform: str
) -> None:
    restricted = [
        spec
        for router in build_registry().routers
        for spec in router.commands
        if spec.who in ("who.pm", "who.pm_or_head", "who.head")
    ]
    assert len(restricted) >= 20  # the bulk of the plan's commands
    async with chat_runtime(engine, platform=platform, now=NOW) as chat:
        await chat.say("alice", "/项目 新建 新品发布")
        await chat.say("alice", "/部门 添加 研发 @bob")
        await chat.say("alice", "/成员 添加 @zoe")
        before = await fingerprint(chat)
        async with chat.runtime.factory() as session:
            audited = await session.scalar(select(func.count()).select_from(AuditEntry))
        for spec in restricted:
            # bob heads 研发: a command for PMs or heads admits him (the object decides later).
            people = ("zoe", "bob") if spec.who == "who.pm" else ("zoe",)
            for user in people:
                for args in ARGS:
                    reply = await chat.one(user, f"/{spec.aliases[0]}{args}")
                    assert reply == refusal("zh", spec.who), (spec.name, user, args, reply)
        assert await fingerprint(chat) == before
        async with chat.runtime.factory() as session:
            assert await session.scalar(select(func.count()).select_from(AuditEntry)) == audited


async def test_a_rule_about_ones_own_things_never_enrols_a_stranger(
    engine: AsyncEngine, platform: str
) -> None:
    """/progress, /action done, /risk edit act on one's own task or item: someone who is not a
    member yet is refused as such, and writing it does not make them one (under `join auto`)."""
    async with chat_runtime(engine, platform=platform, now=NOW, locale="en") as chat:
        await chat.say("alice", "/project new Launch")
        await chat.say("alice", "/phase add 1 Build")
        await chat.say("alice", "/task add 1.1 API @alice")
        await chat.say("alice", "/risk add high capacity")
        await chat.say("alice", "/action add @alice tomorrow book the room")
        for line, who in (
            ("/progress 1.1 50%", "who.updater"),
            ("/action done A1", "who.action_owner"),
            ("/risk edit R1 level=low", "who.risk_owner"),
        ):
            assert await chat.one("zoe", line) == refusal("en", who), line
        async with chat.runtime.factory() as session:
            assert await session.scalar(select(Member).where(Member.platform_user_id == "zoe")) is None


def test_every_command_names_a_rule_with_words_in_both_languages() -> None:
    registry = build_registry()
    assert undeclared(registry) == []
    for router in registry.routers:
        for spec in router.commands:
            for locale in ("zh", "en"):
                assert t(locale, spec.who) != spec.who, spec.name
                assert refusal(locale, spec.who).startswith(("抱歉", "Sorry")), spec.name


def test_a_command_declaring_an_unknown_rule_is_caught_when_the_registry_is_built() -> None:
    router = Router("stray", title="help.section.basics")

    @router.command("stray", usage="usage.help", summary="summary.help", who="who.nobody")
    async def stray(ctx: CommandContext, args: str) -> list[Reply]:
        return []

    assert undeclared(Registry().include_routers(router)) == ["stray"]
