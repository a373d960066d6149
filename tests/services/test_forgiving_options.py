"""Command options forgiving in form and strict in meaning, through really signed webhooks on Feishu
and DingTalk, SQLite and PostgreSQL: option words after a space or colon, text stored as typed,
"did you mean" without running the guess, the standup hint, dates and times people type.

The harness clock is 2026-11-25 (a Wednesday) 10:00 in Shanghai.
"""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.models import Project, Risk, Task
from tests.harness import Chat, alternating, chat_runtime
from tests.services.test_input_bounds import make_small_plan, refused


async def task(chat: Chat, code: str) -> Task:
    async with chat.runtime.factory() as session:
        found = await session.scalar(select(Task).where(Task.code == code))
        assert found is not None, code
        return found


async def test_an_option_word_followed_by_a_value_is_the_option(engine: AsyncEngine, platform: str) -> None:
    async with chat_runtime(engine, platform=platform) as chat:
        await make_small_plan(chat)
        reply = await chat.one("alice", "/任务 修改 1.1 截止 12-31")
        assert "12-31" in reply, reply
        edited = await task(chat, "1.1")
        assert (edited.title, edited.due_date) == ("接口", date(2026, 12, 31))

        # A two-word date needs no quotes either (2026-12-31, the harness's year).
        reply = await chat.one("alice", "/任务 修改 1.1 截止 Dec 30")
        assert "12-30" in reply, reply
        assert (await task(chat, "1.1")).due_date == date(2026, 12, 30)
        await chat.one("alice", "/task edit 1.1 due=Dec 31")
        assert (await task(chat, "1.1")).due_date == date(2026, 12, 31)

        await chat.one("alice", "/任务 添加 1.2 联调 截止 12-31")
        await chat.one("alice", "/task add 1.3 review due 12-30")
        await chat.one("alice", "/任务 添加 1.4 测试 开始：12-01 截止: 12-20")
        added = [await task(chat, code) for code in ("1.2", "1.3", "1.4")]
        assert [(t.title, t.start_date, t.due_date) for t in added] == [
            ("联调", None, date(2026, 12, 31)),
            ("review", None, date(2026, 12, 30)),
            ("测试", date(2026, 12, 1), date(2026, 12, 20)),
        ]


@pytest.mark.parametrize(
    "line",
    [
        "/任务 添加 1.2 联调 截止",  # an option word with no value: title word or forgotten date?
        "/任务 修改 1.1 截止",
        "/任务 添加 1.2 联调 截止 下班前",  # a value that is no date
        "/任务 修改 1.1 截止 Dec 32",  # two words that make no date
        "/任务 修改 1.1 截止 Dec",
    ],
)
async def test_an_ambiguous_option_word_is_refused_with_the_usage_line(
    engine: AsyncEngine, platform: str, line: str
) -> None:
    async with chat_runtime(engine, platform=platform) as chat:
        await make_small_plan(chat)
        reply = await refused(chat, line)
        assert "用法：" in reply, reply
        assert (await task(chat, "1.1")).due_date == date(2026, 12, 15)


async def test_a_quoted_title_may_hold_an_option_word(engine: AsyncEngine, platform: str) -> None:
    async with chat_runtime(engine, platform=platform) as chat:
        await make_small_plan(chat)
        await chat.one("alice", "/任务 添加 1.2 「确认 截止 时间」")
        assert (await task(chat, "1.2")).title == "确认 截止 时间"


@pytest.mark.parametrize("line", ["/任务 添加 1.2 @", "/任务 修改 1.1 负责人=@", "/风险 添加 高 @"])
async def test_a_bare_at_is_refused_never_a_title(engine: AsyncEngine, platform: str, line: str) -> None:
    async with chat_runtime(engine, platform=platform) as chat:
        await make_small_plan(chat)
        reply = await refused(chat, line)
        assert "不是 @某人" in reply, reply


async def test_titles_notes_and_risks_are_stored_as_typed(engine: AsyncEngine, platform: str) -> None:
    async with chat_runtime(engine, platform=platform) as chat:
        await make_small_plan(chat)
        await chat.one("alice", "/任务 添加 １.２ ＡＰＩ　联调（二期） 截止＝１２-３０")
        added = await task(chat, "1.2")
        assert (added.title, added.due_date) == ("ＡＰＩ　联调（二期）", date(2026, 12, 30))
        await chat.one("alice", "/任务 修改 1.1 标题：接口（Ｖ２）")
        assert (await task(chat, "1.1")).title == "接口（Ｖ２）"
        await chat.one("alice", "/风险 添加 高 容量（峰值×２） 缓解：扩容，限流")
        async with chat.runtime.factory() as session:
            risk = await session.scalar(select(Risk).order_by(Risk.id.desc()))
        assert risk is not None
        assert (risk.description, risk.mitigation) == ("容量（峰值×２）", "扩容，限流")


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("/进读 1.1 50%", "/进度"),
        ("/progres 1.1 50%", "/progress"),
        ("/项目 归档", "/项目 新建"),
    ],
)
async def test_an_unknown_command_gets_a_suggestion_and_nothing_runs(
    engine: AsyncEngine, platform: str, line: str, expected: str
) -> None:
    async with chat_runtime(engine, platform=platform) as chat:
        await make_small_plan(chat)
        reply = await refused(chat, line)
        assert expected in reply, reply
        assert (await task(chat, "1.1")).progress == 0


async def test_a_standup_typed_without_the_command_gets_a_hint(engine: AsyncEngine, platform: str) -> None:
    async with chat_runtime(engine, platform=platform) as chat:
        await make_small_plan(chat)
        reply = await refused(chat, "昨天：写接口 今天：联调 卡点：无")
        assert "要记录站会，请写 /站会" in reply, reply
        await chat.one("alice", "/config language en")
        reply = await refused(chat, "yesterday: api today: tests blockers: none")
        assert "To record a standup write /standup" in reply, reply


@pytest.mark.parametrize(
    ("typed", "due"),
    [
        ("Dec 31", date(2026, 12, 31)),
        ("next friday", date(2026, 12, 4)),
        ("20261228", date(2026, 12, 28)),
        ("昨天", date(2026, 11, 24)),
    ],
)
async def test_dates_people_type(engine: AsyncEngine, platform: str, typed: str, due: date) -> None:
    async with chat_runtime(engine, platform=platform) as chat:
        await make_small_plan(chat)
        await chat.one("alice", f'/任务 修改 1.1 截止="{typed}"')
        assert (await task(chat, "1.1")).due_date == due


@pytest.mark.parametrize(
    ("line", "field", "value", "on"),
    alternating(
        [
            ("/设置 站会 8点半", "standup_time", "08:30"),
            ("/设置 站会 9点半", "standup_time", "09:30"),
            ("/设置 站会 8am", "standup_time", "08:00"),
            ("/设置 站会 08:15", "standup_time", "08:15"),
            ("/设置 站会截止 下午6点", "standup_cutoff", "18:00"),
            ("/设置 站会截止 6pm", "standup_cutoff", "18:00"),
            ("/设置 站会截止 18:00", "standup_cutoff", "18:00"),
            ("/设置 时区 北京", "timezone", "Asia/Shanghai"),
            ("/设置 时区 Beijing", "timezone", "Asia/Shanghai"),
            ("/设置 时区 上海", "timezone", "Asia/Shanghai"),
        ]
    ),
)
async def test_times_and_city_time_zones(
    engine: AsyncEngine, line: str, field: str, value: str, on: str
) -> None:
    async with chat_runtime(engine, platform=on) as chat:
        await make_small_plan(chat)
        # Start from another value, so that the default can not pass for the parsed one.
        if field == "timezone":
            await chat.one("alice", "/设置 时区 Asia/Tokyo")
        elif field == "standup_time":
            await chat.one("alice", "/设置 站会 07:00")
        await chat.one("alice", line)
        async with chat.runtime.factory() as session:
            project = await session.scalar(select(Project))
        assert getattr(project, field) == value


async def test_a_department_name_close_to_one_gets_a_suggestion(engine: AsyncEngine, platform: str) -> None:
    async with chat_runtime(engine, platform=platform) as chat:
        await make_small_plan(chat)
        await chat.one("alice", "/部门 添加 研发部")
        reply = await refused(chat, "/任务 修改 1.1 部门 研发")
        assert "「研发部」" in reply, reply
        assert (await task(chat, "1.1")).department_id is None
