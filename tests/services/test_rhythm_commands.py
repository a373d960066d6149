"""/config, /holiday, /workday and /leave end to end (real runtime, real SQL) on SQLite and PostgreSQL.

The harness clock is Wednesday 2026-11-25 10:00 in Shanghai. chinesecalendar knows 2026 (National
Day 10-01..10-07) but not 2027, where Monday to Friday is assumed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.services import calendar, leave
from storage.models import AuditEntry, CalendarOverride, Leave, Member, Project
from tests.harness import Chat, alternating, chat_runtime

NOW = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)
D = date.fromisoformat
SETTINGS = (
    "standup_time",
    "standup_cutoff",
    "standup_mode",
    "report_weekday",
    "report_time",
    "timezone",
    "locale",
    "alerts_enabled",
    "bitable_app_token",
    "bitable_table_id",
    "updated_at",
)


@dataclass(frozen=True)
class Team:
    project_id: int


async def make_team(chat: Chat, *, english: bool = False) -> Team:
    """alice is the PM; dave heads 研发 where bob works; erin heads 市场 where carol works."""
    await chat.say("alice", "/project new Launch" if english else "/项目 新建 新品发布")
    for line in (
        "/部门 添加 研发 @dave",
        "/部门 添加 市场 @erin",
        "/成员 添加 @bob 研发",
        "/成员 添加 @carol 市场",
    ):
        await chat.say("alice", line)
    async with chat.runtime.factory() as s:
        project = await s.scalar(select(Project))
        assert project is not None
        return Team(project.id)


async def project_settings(chat: Chat) -> dict[str, Any]:
    async with chat.runtime.factory() as s:
        project = await s.scalar(select(Project))
        assert project is not None
        return {field: getattr(project, field) for field in SETTINGS}


async def audit_actions(chat: Chat) -> list[str]:
    async with chat.runtime.factory() as s:
        return list(await s.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))


async def member_id(chat: Chat, user: str) -> int:
    async with chat.runtime.factory() as s:
        found = await s.scalar(select(Member.id).where(Member.platform_user_id == user))
        assert found is not None
        return found


# --- /config ----------------------------------------------------------------------------------------


async def test_config_alone_lists_the_settings_to_anyone(engine: AsyncEngine, platform: str) -> None:
    async with chat_runtime(engine, platform=platform, now=NOW) as chat:
        await make_team(chat)
        card = await chat.one("bob", "/设置")
        assert card.splitlines() == [
            "【⚙️ 「新品发布」的设置】",
            "站会 09:30",
            "站会截止 11:00",
            "站会方式 私聊（逐人提醒）",
            "周报 周五 17:00",
            "时区 Asia/Shanghai",
            "语言 中文",
            "提醒 开",
            "加入 自动（群里的人第一次操作时加为成员）",
            "多维表格 未设置",
            "",
            "修改：/设置 <项> <值>，如 /设置 站会 10:00（项目经理）",
        ]
        one = await chat.one("bob", "/设置 周报")
        assert one == "周报 周五 17:00\n修改：/设置 周报 周五 17:00"


@pytest.mark.parametrize(
    ("line", "changes", "reply", "on"),
    alternating(
        [
            ("/设置 站会 9:45", {"standup_time": "09:45"}, "✅ 站会：09:30 → 09:45"),
            ("/设置 站会时间 10:00", {"standup_time": "10:00"}, "✅ 站会：09:30 → 10:00"),
            ("/config standup-cutoff 11:30", {"standup_cutoff": "11:30"}, "✅ 站会截止：11:00 → 11:30"),
            ("/设置 站会截止 12:00", {"standup_cutoff": "12:00"}, "✅ 站会截止：11:00 → 12:00"),
            (
                "/设置 站会方式 群聊",
                {"standup_mode": "group"},
                "✅ 站会方式：私聊（逐人提醒） → 群聊（群里一条）",
            ),
            (
                "/设置 模式 group",
                {"standup_mode": "group"},
                "✅ 站会方式：私聊（逐人提醒） → 群聊（群里一条）",
            ),
            (
                "/设置 周报 周四 16:30",
                {"report_weekday": 3, "report_time": "16:30"},
                "✅ 周报：周五 17:00 → 周四 16:30",
            ),
            ("/config report mon 09:00", {"report_weekday": 0, "report_time": "09:00"}, "周一 09:00"),
            ("/config report 周四 6pm", {"report_weekday": 3, "report_time": "18:00"}, "→ 周四 18:00"),
            ("/设置 周报 周四 18:00", {"report_weekday": 3, "report_time": "18:00"}, "→ 周四 18:00"),
            ("/设置 周报 Thursday 9点半", {"report_weekday": 3, "report_time": "09:30"}, "→ 周四 09:30"),
            ("/设置 时区 asia/tokyo", {"timezone": "Asia/Tokyo"}, "✅ 时区：Asia/Shanghai → Asia/Tokyo"),
            ("/设置 提醒 关", {"alerts_enabled": False}, "✅ 提醒：开 → 关"),
            ("/设置 告警 off", {"alerts_enabled": False}, "✅ 提醒：开 → 关"),
            (
                "/设置 多维表格 bascnAbC123 tblXyZ789",
                {"bitable_app_token": "bascnAbC123", "bitable_table_id": "tblXyZ789"},
                "✅ 多维表格：未设置 → bascnAbC123 tblXyZ789",
            ),
            ("/设置 语言 英文", {"locale": "en"}, "✅ locale: Chinese (zh) → English (en)"),
        ]
    ),
)
async def test_every_setting_can_be_changed_by_a_pm(
    engine: AsyncEngine, line: str, changes: dict[str, Any], reply: str, on: str
) -> None:
    async with chat_runtime(engine, platform=on, now=NOW) as chat:
        await make_team(chat)
        before = await project_settings(chat)
        assert reply in await chat.one("alice", line)
        after = await project_settings(chat)
        assert after == before | changes | {"updated_at": NOW}
        async with chat.runtime.factory() as s:
            entry = await s.scalar(select(AuditEntry).where(AuditEntry.action == "project.config"))
            assert entry is not None and entry.entity == "project" and entry.actor_user_id == "alice"
            assert entry.after == changes
            assert entry.before == {field: before[field] for field in changes}


async def test_invalid_values_and_unknown_keys_change_nothing(engine: AsyncEngine, platform: str) -> None:
    async with chat_runtime(engine, platform=platform, now=NOW) as chat:
        await make_team(chat)
        before = await project_settings(chat)
        audited = await audit_actions(chat)
        refusals = {
            "/设置 站会 25:00": "时间「25:00」不对",
            "/设置 站会 11:30": "站会截止（11:00）必须晚于站会时间（11:30）",
            "/设置 截止 09:00": "站会截止（09:00）必须晚于站会时间（09:30）",
            "/设置 站会方式 邮件": "站会方式「邮件」应为 私聊",
            "/设置 周报 周八 17:00": "周报时间「周八 17:00」不对",
            "/设置 周报 周五 6": "周报时间「周五 6」不对",
            "/config report friday 6pm 7pm": "周报时间「friday 6pm 7pm」不对",
            "/设置 时区 Mars/Olympus": "时区「Mars/Olympus」不对",
            "/设置 语言 法语": "语言「法语」应为 中文 或 英文",
            "/设置 提醒 也许": "「也许」应为 开 或 关",
            "/设置 多维表格 onlyone": "请写 /设置 多维表格 <app_token> <table_id>",
            "/设置 颜色 红": (
                "没有设置项「颜色」。\n"
                "用法：/设置 [项 值]，项：站会 站会截止 站会方式 周报 时区 语言 提醒 加入 多维表格"
            ),
        }
        for line, expected in refusals.items():
            assert expected in await chat.one("alice", line), line
        assert await project_settings(chat) == before
        assert await audit_actions(chat) == audited


async def test_only_a_pm_may_change_settings(engine: AsyncEngine, platform: str) -> None:
    async with chat_runtime(engine, platform=platform, now=NOW) as chat:
        await make_team(chat)
        before = await project_settings(chat)
        assert await chat.one("dave", "/设置 站会 10:00") == "抱歉，只有项目经理可以这样做。"
        assert await chat.one("zoe", "/config locale en") == "抱歉，只有项目经理可以这样做。"
        assert await project_settings(chat) == before


async def test_same_value_is_a_polite_no_op(engine: AsyncEngine, platform: str) -> None:
    async with chat_runtime(engine, platform=platform, now=NOW) as chat:
        await make_team(chat)
        audited = await audit_actions(chat)
        assert await chat.one("alice", "/设置 周报 fri 17:00") == "周报已经是 周五 17:00，没有变化。"
        assert await audit_actions(chat) == audited


async def test_locale_switch_answers_in_the_new_language_at_once(engine: AsyncEngine, platform: str) -> None:
    async with chat_runtime(engine, platform=platform, now=NOW) as chat:
        await make_team(chat)
        assert await chat.one("alice", "/设置 语言 en") == "✅ locale: Chinese (zh) → English (en)"
        card = await chat.one("bob", "/config")
        assert card.startswith("【⚙️ Settings of 新品发布】\nstandup 09:30\nstandup-cutoff 11:00")
        assert "Sorry, only a project manager" in await chat.one("bob", "/设置 语言 中文")
        assert await chat.one("alice", "/config locale 中文") == "✅ 语言：英文 → 中文"


# --- /holiday, /workday, /holidays ------------------------------------------------------------------------


async def work_calendar(chat: Chat, team: Team) -> calendar.WorkCalendar:
    async with chat.runtime.factory() as s:
        return await calendar.for_project(s, team.project_id)


async def overrides(chat: Chat) -> list[tuple[date, str, str]]:
    async with chat.runtime.factory() as s:
        rows = await s.execute(
            select(CalendarOverride.day, CalendarOverride.kind, CalendarOverride.name).order_by(
                CalendarOverride.day
            )
        )
        return [tuple(row) for row in rows]  # type: ignore[misc]


async def test_holiday_and_workday_overrides_change_the_working_calendar(
    engine: AsyncEngine, platform: str
) -> None:
    async with chat_runtime(engine, platform=platform, now=NOW) as chat:
        team = await make_team(chat)
        assert (await work_calendar(chat, team)).is_workday(D("2026-12-31"))
        added = await chat.one("alice", "/假期 添加 2026-12-31 元旦前夕")
        assert added == "✅ 12-31 周四 放假「元旦前夕」，1 个工作日改为休息。"
        made_up = await chat.one("alice", "/调休 添加 12-26")
        assert made_up == "✅ 12-26 周六 调休上班，1 天改为工作日。"
        cal = await work_calendar(chat, team)
        assert not cal.is_workday(D("2026-12-31")) and cal.is_workday(D("2026-12-26"))
        assert (
            cal.workdays_between(D("2026-12-21"), D("2026-12-31")) == 9
        )  # 9 weekdays, 12-31 off, Saturday 12-26 on
        assert await overrides(chat) == [
            (D("2026-12-26"), "workday", ""),
            (D("2026-12-31"), "holiday", "元旦前夕"),
        ]
        assert (await audit_actions(chat))[-2:] == ["calendar.add", "calendar.add"]

        # Switching a day of the project's to the other kind updates it; removing restores the official day.
        assert "1 天改为工作日" in await chat.one("alice", "/workday add 2026-12-31")
        assert (await overrides(chat))[1] == (D("2026-12-31"), "workday", "")
        assert (await audit_actions(chat))[-1] == "calendar.update"
        assert "删除了" in await chat.one("alice", "/调休 删除 12-26")
        assert (await audit_actions(chat))[-1] == "calendar.remove"
        assert not (await work_calendar(chat, team)).is_workday(D("2026-12-26"))
        assert (
            await chat.one("alice", "/调休 删除 12-26")
            == "12-26 周六 没有本项目添加的调休上班日。发送 /假期列表 查看。"
        )


async def test_adding_a_day_that_already_is_one_is_a_polite_note(engine: AsyncEngine, platform: str) -> None:
    async with chat_runtime(engine, platform=platform, now=NOW) as chat:
        await make_team(chat)
        await chat.say("alice", "/假期 添加 12-31")
        audited = await audit_actions(chat)
        assert (
            await chat.one("alice", "/假期 添加 2026-10-01")
            == "10-01 周四 本来就是休息日（国庆节），不用添加。"
        )
        assert await chat.one("alice", "/假期 添加 11-28") == "11-28 周六 本来就是休息日，不用添加。"
        assert await chat.one("alice", "/假期 添加 12-31 again") == "12-31 周四 本来就是休息日，不用添加。"
        assert (
            await chat.one("alice", "/调休 添加 2026-10-10")
            == "10-10 周六 本来就是工作日（国庆节），不用添加。"
        )
        assert await audit_actions(chat) == audited
        official = await chat.one("alice", "/假期 删除 2026-10-01")
        assert official == "10-01 周四 是法定假期（国庆节），不能删除。这天要上班的话：/调休 添加 2026-10-01"


async def test_a_holiday_range_stores_the_working_days_it_takes_off(
    engine: AsyncEngine, platform: str
) -> None:
    async with chat_runtime(engine, platform=platform, now=NOW, locale="en") as chat:
        team = await make_team(chat, english=True)
        # 2027 is unknown to the library: Monday to Friday, so the weekend needs no override.
        reply = await chat.one("alice", "/holiday add 2027-02-08..2027-02-14 Spring Festival")
        assert reply == (
            '✅ Holiday "Spring Festival": 2027-02-08 Mon to 2027-02-14 Sun (7 days). '
            "Working days now off: 5."
        )
        assert [day for day, _, _ in await overrides(chat)] == [D(f"2027-02-{n:02d}") for n in range(8, 13)]
        assert (await work_calendar(chat, team)).workdays_between(D("2027-02-08"), D("2027-02-19")) == 5
        assert "Removed 2 project holidays" in await chat.one(
            "alice", "/holiday remove 2027-02-11 - 2027-02-12"
        )
        assert len(await overrides(chat)) == 3
        assert "At most 31 days" in await chat.one("alice", "/holiday add 2027-01-01..2027-03-01")
        assert "before the start date" in await chat.one("alice", "/holiday add 2027-02-08..2027-02-01")
        assert "I can't read the date" in await chat.one("alice", "/holiday add someday")
        assert len(await overrides(chat)) == 3


async def test_calendar_changes_are_for_pms_only(engine: AsyncEngine, platform: str) -> None:
    async with chat_runtime(engine, platform=platform, now=NOW) as chat:
        await make_team(chat)
        await chat.say("alice", "/假期 添加 12-31")
        audited = await audit_actions(chat)
        for line in ("/假期 添加 12-30", "/假期 删除 12-31", "/调休 添加 12-26", "/调休 删除 12-26"):
            assert await chat.one("dave", line) == "抱歉，只有项目经理可以这样做。", line
        assert await overrides(chat) == [(D("2026-12-31"), "holiday", "")]
        assert await audit_actions(chat) == audited


async def test_holidays_lists_own_days_official_days_and_unknown_years(
    engine: AsyncEngine, platform: str
) -> None:
    async with chat_runtime(engine, platform=platform, now=datetime(2026, 9, 15, 2, 0, tzinfo=UTC)) as chat:
        await make_team(chat)
        await chat.say("alice", "/假期 添加 09-18 团建")
        await chat.say("alice", "/假期 添加 09-01")  # past: not listed
        await chat.say("alice", "/假期 添加 10-12..10-13 秋游")
        card = await chat.one("bob", "/假期列表")
        assert card.splitlines() == [
            "【📅 工作日历】",
            "本项目的调整",
            "🌴 09-18 周五 休息 · 团建",
            "🌴 10-12 周一 至 10-13 周二（2 天） 休息 · 秋游",
            "",
            "法定节假日（60 天内）",
            "💼 09-20 周日 国庆节调休上班",
            "🏮 09-25 周五 至 09-27 周日（3 天） 中秋放假",
            "🏮 10-01 周四 至 10-07 周三（7 天） 国庆节放假",
            "💼 10-10 周六 国庆节调休上班",
        ]
        assert (await chat.one("alice", "/假期")).endswith(
            "添加：/假期 添加 <日期>..<日期> [名称]，/调休 添加 <日期>"
        )
    async with chat_runtime(engine, platform=platform, now=datetime(2026, 12, 10, 2, 0, tzinfo=UTC)) as chat:
        card = await chat.one("bob", "/假期列表")
        assert "法定节假日（60 天内）\n无\n⚠️ 还没有 2027 年的法定节假日，暂按周一到周五上班计算。" in card


# --- /leave -------------------------------------------------------------------------------------------------


async def leaves(chat: Chat) -> list[tuple[str, date, date]]:
    async with chat.runtime.factory() as s:
        rows = await s.execute(
            select(Member.platform_user_id, Leave.start_date, Leave.end_date)
            .join(Member, Member.id == Leave.member_id)
            .order_by(Leave.start_date)
        )
        return [tuple(row) for row in rows]  # type: ignore[misc]


async def on_leave(chat: Chat, team: Team, day: str) -> set[int]:
    async with chat.runtime.factory() as s:
        return await leave.members_on_leave(s, team.project_id, D(day))


async def test_leave_for_yourself_in_every_range_form(engine: AsyncEngine, platform: str) -> None:
    async with chat_runtime(engine, platform=platform, now=NOW) as chat:
        team = await make_team(chat)
        bob = await member_id(chat, "bob")
        reply = await chat.one("bob", "/请假 12-01..12-03")
        assert reply == "✅ @bob 请假 12-01 周二 至 12-03 周四（3 天），期间不会收到站会提醒，也不算缺席。"
        assert await on_leave(chat, team, "2026-12-02") == {bob}
        assert await on_leave(chat, team, "2026-12-04") == set()
        assert (await audit_actions(chat))[-1] == "leave.add"
        for line in (
            "/请假 2026-12-10-2026-12-11",
            "/leave 12-14 到 12-15",
            "/请假 12-17~12-18",
            "请假 明天",
        ):
            assert "✅ @carol 请假" in await chat.one("carol", line), line
        assert await leaves(chat) == [
            ("carol", D("2026-11-26"), D("2026-11-26")),
            ("bob", D("2026-12-01"), D("2026-12-03")),
            ("carol", D("2026-12-10"), D("2026-12-11")),
            ("carol", D("2026-12-14"), D("2026-12-15")),
            ("carol", D("2026-12-17"), D("2026-12-18")),
        ]
        assert await on_leave(chat, team, "2026-11-26") == {await member_id(chat, "carol")}


async def test_overlapping_or_touching_leave_merges(engine: AsyncEngine, platform: str) -> None:
    async with chat_runtime(engine, platform=platform, now=NOW) as chat:
        await make_team(chat)
        await chat.say("bob", "/请假 12-01..12-03")
        await chat.say("bob", "/请假 12-08..12-09")
        merged = await chat.one("bob", "/请假 12-04..12-08")  # touches the first, overlaps the second
        assert merged == "✅ @bob 的请假已与原有请假合并为 12-01 周二 至 12-09 周三（9 天）。"
        assert await leaves(chat) == [("bob", D("2026-12-01"), D("2026-12-09"))]
        audited = await audit_actions(chat)
        assert audited[-2:] == ["leave.remove", "leave.update"]
        assert (
            await chat.one("bob", "/请假 12-02")
            == "@bob 已经在 12-01 周二 至 12-09 周三（9 天） 请假了，没有变化。"
        )
        assert await audit_actions(chat) == audited
        await chat.say("bob", "/请假 12-14..12-15")
        assert "合并为 12-11 周五 至 12-15 周二（5 天）" in await chat.one("bob", "/请假 12-11..12-13")
        assert await leaves(chat) == [
            ("bob", D("2026-12-01"), D("2026-12-09")),  # 12-10 apart: not merged
            ("bob", D("2026-12-11"), D("2026-12-15")),
        ]


async def test_leave_for_someone_else_needs_a_pm_or_their_head(engine: AsyncEngine, platform: str) -> None:
    async with chat_runtime(engine, platform=platform, now=NOW) as chat:
        team = await make_team(chat)
        assert "✅ @bob 请假 12-01" in await chat.one("alice", "/请假 @bob 12-01")  # PM
        assert "✅ @bob 请假 12-07" in await chat.one("dave", "/请假 @bob 12-07")  # bob's head
        refusal = "抱歉，只有项目经理或其部门负责人可以这样做。"
        assert await chat.one("erin", "/请假 @bob 12-10") == refusal  # heads another department
        assert await chat.one("carol", "/请假 @bob 12-10") == refusal
        assert await chat.one("erin", "/请假 @zoe 12-10") == refusal
        assert await chat.one("alice", "/请假 @zoe 12-10") == "@zoe 不是本项目成员。"
        assert "一次只能替一个人请假" in await chat.one("alice", "/请假 @bob @carol 12-10")
        assert "看不懂「后天」" in await chat.one("bob", "/请假 明天 后天")
        assert "结束日期 2026-12-01 早于开始日期 2026-12-03" in await chat.one("bob", "/请假 12-03..12-01")
        assert await leaves(chat) == [
            ("bob", D("2026-12-01"), D("2026-12-01")),
            ("bob", D("2026-12-07"), D("2026-12-07")),
        ]
        bob = await member_id(chat, "bob")
        async with chat.runtime.factory() as s:
            authors = list(await s.scalars(select(Leave.created_by_member_id).order_by(Leave.start_date)))
        assert authors == [await member_id(chat, "alice"), await member_id(chat, "dave")]
        assert await on_leave(chat, team, "2026-12-07") == {bob}


async def test_cancel_removes_or_shortens_the_leave(engine: AsyncEngine, platform: str) -> None:
    async with chat_runtime(engine, platform=platform, now=NOW) as chat:
        team = await make_team(chat)
        await chat.say("bob", "/请假 11-23..11-27")  # came back early
        await chat.say("bob", "/请假 12-07..12-08")
        shortened = await chat.one("bob", "/请假 取消 今天")
        assert shortened == (
            "✅ @bob 的请假从 11-25 周三 起取消，现在是 11-23 周一 至 11-24 周二（2 天）"
            "（原为 11-23 周一 至 11-27 周五（5 天））。"
        )
        assert await on_leave(chat, team, "2026-11-24") == {await member_id(chat, "bob")}
        assert await on_leave(chat, team, "2026-11-25") == set()
        assert (
            await chat.one("bob", "/请假 取消 12-07")
            == "✅ 已取消 @bob 12-07 周一 至 12-08 周二（2 天） 的请假。"
        )
        assert await chat.one("bob", "/请假 取消 12-07") == "2026-12-07 没有请假记录。发送 /请假列表 查看。"
        assert (
            await chat.one("carol", "/请假 取消 @bob 11-23") == "抱歉，只有项目经理或其部门负责人可以这样做。"
        )
        assert await leaves(chat) == [("bob", D("2026-11-23"), D("2026-11-24"))]
        assert (await audit_actions(chat))[-2:] == ["leave.update", "leave.remove"]


async def test_leaves_lists_current_and_upcoming(engine: AsyncEngine, platform: str) -> None:
    async with chat_runtime(engine, platform=platform, now=NOW, locale="en") as chat:
        await make_team(chat, english=True)
        assert await chat.one("bob", "/leaves") == "Nobody is on leave. To record yours: /leave <date>"
        await chat.say("bob", "/leave 11-20..11-24")  # over
        await chat.say("carol", "/leave 11-24..11-26")
        await chat.say("alice", "/leave @bob 2027-01-04")
        card = await chat.one("dave", "/leaves")
        assert card.splitlines() == [
            "【🌴 Leave (2)】",
            "@carol 11-24 Tue to 11-26 Thu (3 days) · on leave now",
            "@bob 2027-01-04 Mon",
        ]
