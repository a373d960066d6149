"""Pure rules behind /config, /holiday and /leave: setting values, date ranges, the official calendar.

Today is Wednesday 2026-11-25 throughout. chinesecalendar knows 2026 (National Day 10-01..10-07,
make-up workdays Sun 09-20 and Sat 10-10) but not 2027.
"""

from __future__ import annotations

from datetime import date
from types import SimpleNamespace
from typing import Any, cast

import pytest

from bot.commands.parsing import ArgError
from bot.commands.rhythm import parse_day_range
from bot.errors import UserFacingError
from bot.jobs.calendar_notice import years_to_check
from bot.services import calendar, settings
from storage.models import Project

D = date.fromisoformat
TODAY = D("2026-11-25")


def project(**overrides: Any) -> Project:
    """The settings a new project has, as parse_value reads them."""
    values = {"standup_time": "09:30", "standup_cutoff": "11:00", "report_weekday": 4, "report_time": "17:00"}
    return cast(Project, SimpleNamespace(**(values | overrides)))


# --- /config keys and values --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("word", "key"),
    [
        ("standup", "standup"),
        ("站会", "standup"),
        ("站会时间", "standup"),
        ("截止", "standup-cutoff"),
        ("站会截止", "standup-cutoff"),
        ("standup_cutoff", "standup-cutoff"),
        ("Standup-Cutoff", "standup-cutoff"),
        ("站会方式", "standup-mode"),
        ("模式", "standup-mode"),
        ("周报", "report"),
        ("时区", "timezone"),
        ("语言", "locale"),
        ("提醒", "alerts"),
        ("告警", "alerts"),
        ("多维表格", "bitable"),
        ("colour", None),
        ("站", None),
    ],
)
def test_resolve_key(word: str, key: str | None) -> None:
    assert settings.resolve_key(word) == key


@pytest.mark.parametrize(
    ("key", "value", "changes"),
    [
        ("standup", "9:05", {"standup_time": "09:05"}),
        ("standup", "０９：４５", {"standup_time": "09:45"}),
        ("standup", "00:00", {"standup_time": "00:00"}),
        ("standup-cutoff", "23:59", {"standup_cutoff": "23:59"}),
        ("standup-mode", "群聊", {"standup_mode": "group"}),
        ("standup-mode", "DM", {"standup_mode": "dm"}),
        ("standup-mode", "私聊", {"standup_mode": "dm"}),
        ("report", "周四 16:30", {"report_weekday": 3, "report_time": "16:30"}),
        ("report", "monday 9:00", {"report_weekday": 0, "report_time": "09:00"}),
        ("report", "fri17:00", {"report_weekday": 4, "report_time": "17:00"}),
        ("report", "18:00 星期日", {"report_weekday": 6, "report_time": "18:00"}),
        ("report", "15:00", {"report_weekday": 4, "report_time": "15:00"}),  # the day is kept
        ("report", "周一", {"report_weekday": 0, "report_time": "17:00"}),  # the time is kept
        # The report time in any form a clock time is read in, not only HH:MM.
        ("report", "周五 6pm", {"report_weekday": 4, "report_time": "18:00"}),
        ("report", "周五 18:00", {"report_weekday": 4, "report_time": "18:00"}),
        ("report", "Friday 9点半", {"report_weekday": 4, "report_time": "09:30"}),
        ("report", "周五下午6点", {"report_weekday": 4, "report_time": "18:00"}),
        ("report", "6:30 pm sat", {"report_weekday": 5, "report_time": "18:30"}),
        ("report", "sunday 8am", {"report_weekday": 6, "report_time": "08:00"}),
        ("report", "5pm", {"report_weekday": 4, "report_time": "17:00"}),
        ("timezone", "asia/tokyo", {"timezone": "Asia/Tokyo"}),
        ("timezone", "UTC", {"timezone": "UTC"}),
        ("locale", "英文", {"locale": "en"}),
        ("locale", "zh", {"locale": "zh"}),
        ("alerts", "关", {"alerts_enabled": False}),
        ("alerts", "ON", {"alerts_enabled": True}),
        (
            "bitable",
            "bascnAbC123 tblXyZ789",
            {"bitable_app_token": "bascnAbC123", "bitable_table_id": "tblXyZ789"},
        ),
        (
            "bitable",
            "https://acme.feishu.cn/base/bascnAbC123?table=tblXyZ789&view=vewQ1",
            {"bitable_app_token": "bascnAbC123", "bitable_table_id": "tblXyZ789"},
        ),
        ("bitable", "关", {"bitable_app_token": None, "bitable_table_id": None}),
    ],
)
def test_valid_values(key: str, value: str, changes: dict[str, Any]) -> None:
    assert settings.parse_value(key, value, project()) == changes


@pytest.mark.parametrize(
    ("key", "value", "error"),
    [
        ("standup", "24:00", "rhythm.config_bad_time"),
        ("standup", "9:60", "rhythm.config_bad_time"),
        ("standup", "11:00", "rhythm.config_cutoff_order"),  # not before the 11:00 cutoff
        ("standup-cutoff", "09:30", "rhythm.config_cutoff_order"),
        ("standup-cutoff", "9:00", "rhythm.config_cutoff_order"),
        ("standup-mode", "email", "rhythm.config_bad_mode"),
        ("report", "周八 17:00", "rhythm.config_bad_report"),
        ("report", "fri 17:00 sat", "rhythm.config_bad_report"),
        ("report", "fri sat", "rhythm.config_bad_report"),
        ("report", "25:00", "rhythm.config_bad_report"),
        ("report", "", "rhythm.config_bad_report"),
        ("report", "周五 6", "rhythm.config_bad_report"),  # a bare number is no time
        ("report", "周五 13pm", "rhythm.config_bad_report"),
        ("report", "friday 6pm 7pm", "rhythm.config_bad_report"),
        ("report", "周五 周六 6pm", "rhythm.config_bad_report"),
        ("timezone", "Mars/Olympus", "rhythm.config_bad_timezone"),
        ("timezone", "../../etc/passwd", "rhythm.config_bad_timezone"),
        ("timezone", "+08:00", "rhythm.config_bad_timezone"),
        ("locale", "fr", "rhythm.config_bad_locale"),
        ("alerts", "maybe", "rhythm.config_bad_switch"),
        ("bitable", "bascnAbC123", "rhythm.config_bad_bitable"),
        ("bitable", "a b c", "rhythm.config_bad_bitable"),
        ("bitable", "bascn/x tbl", "rhythm.config_bad_bitable"),
    ],
)
def test_invalid_values(key: str, value: str, error: str) -> None:
    with pytest.raises(UserFacingError) as raised:
        settings.parse_value(key, value, project())
    assert raised.value.key == error


def test_cutoff_is_checked_against_the_projects_own_standup_time() -> None:
    assert settings.parse_value("standup-cutoff", "10:00", project(standup_time="08:00")) == {
        "standup_cutoff": "10:00"
    }
    with pytest.raises(UserFacingError):
        settings.parse_value("standup", "12:00", project(standup_cutoff="12:00"))


# --- date ranges ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "start", "end", "rest"),
    [
        ("12-01", "2026-12-01", "2026-12-01", ""),
        ("明天", "2026-11-26", "2026-11-26", ""),
        ("12-01..12-03", "2026-12-01", "2026-12-03", ""),
        ("12-01 .. 12-03", "2026-12-01", "2026-12-03", ""),
        ("12-01 到 12-03", "2026-12-01", "2026-12-03", ""),
        ("12-01到12-03", "2026-12-01", "2026-12-03", ""),
        ("12月1日至12月3日", "2026-12-01", "2026-12-03", ""),
        ("12-01~12-03", "2026-12-01", "2026-12-03", ""),
        ("12-01～12-03", "2026-12-01", "2026-12-03", ""),  # full-width tilde
        ("12-01 - 12-03", "2026-12-01", "2026-12-03", ""),
        ("2026-12-01-2026-12-03", "2026-12-01", "2026-12-03", ""),
        ("2026/12/30-2027/1/2", "2026-12-30", "2027-01-02", ""),
        ("12-30..01-02", "2026-12-30", "2027-01-02", ""),  # the year-less end is in the new year
        ("周一到周五", "2026-11-30", "2026-12-04", ""),
        ("2027-02-08..2027-02-14 春节 假期", "2027-02-08", "2027-02-14", "春节 假期"),
        ("12-31 元旦前夕", "2026-12-31", "2026-12-31", "元旦前夕"),
    ],
)
def test_parse_day_range(text: str, start: str, end: str, rest: str) -> None:
    assert parse_day_range(text, today=TODAY) == (D(start), D(end), rest)


def test_backwards_range_and_bad_dates_are_refused() -> None:
    with pytest.raises(UserFacingError) as raised:
        parse_day_range("12-03..12-01", today=TODAY)
    assert raised.value.key == "rhythm.range_backwards"
    for text in ("12-01..", "soon", "12-01-12-03", "2026-13-01"):
        with pytest.raises(ArgError):
            parse_day_range(text, today=TODAY)


# --- the official calendar --------------------------------------------------------------------------------


def test_official_days_name_holidays_and_make_up_workdays() -> None:
    found = calendar.official_days(D("2026-09-19"), D("2026-10-11"))
    holidays = [day.day for day in found if not day.workday]
    make_up = [day.day for day in found if day.workday]
    national = [D(f"2026-10-{n:02d}") for n in range(1, 8)]
    assert holidays == [D("2026-09-25"), D("2026-09-26"), D("2026-09-27"), *national]
    assert make_up == [D("2026-09-20"), D("2026-10-10")]
    assert {calendar.holiday_name(day.name, "zh") for day in found} == {"中秋", "国庆节"}
    assert calendar.holiday_name("National Day", "en") == "National Day"


def test_unknown_years_have_no_official_days() -> None:
    assert calendar.official_days(D("2026-12-20"), D("2027-02-28")) == []
    assert calendar.official_day(D("2027-01-01")) is None


@pytest.mark.parametrize(
    ("today", "years"),
    [
        ("2026-11-30", [2026]),
        ("2026-12-01", [2026, 2027]),
        ("2026-12-31", [2026, 2027]),
        ("2027-01-01", [2027]),
    ],
)
def test_years_to_check(today: str, years: list[int]) -> None:
    assert years_to_check(D(today)) == years
