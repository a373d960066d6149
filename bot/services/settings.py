"""Per-project settings changed with /config: the standup and report rhythm, timezone, language,
alerts and the shared tables (report webhooks: bot.services.integrations). Values are validated
here; the handler only formats.

Parsing is pure (`parse_value`); `set_value` applies one change to the Project row and audits it.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from types import MappingProxyType
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from sqlalchemy.ext.asyncio import AsyncSession

from bot.errors import UserFacingError
from bot.services import audit, integrations
from bot.services.audit import Actor
from storage.models import Project

KEYS: tuple[str, ...] = (
    "standup",
    "standup-cutoff",
    "standup-mode",
    "report",
    "timezone",
    "locale",
    "alerts",
    "join",
    "bitable",
)

_KEY_ALIASES: Mapping[str, tuple[str, ...]] = {
    "standup": ("standup", "standup-time", "站会", "站会时间"),
    "standup-cutoff": ("standup-cutoff", "cutoff", "截止", "站会截止", "截止时间"),
    "standup-mode": ("standup-mode", "mode", "站会方式", "模式", "站会模式"),
    "report": ("report", "report-time", "周报", "周报时间"),
    "timezone": ("timezone", "tz", "时区"),
    "locale": ("locale", "language", "lang", "语言"),
    "alerts": ("alerts", "alert", "提醒", "告警", "预警"),
    "join": ("join", "joining", "加入", "加入方式", "入组"),
    "bitable": ("bitable", "table", "多维表格"),
    # Shown in the settings card only once set (see bot.commands.rhythm).
    "aitable": ("aitable", "ai-table", "notable", "ai表格", "钉钉ai表格", "钉钉表格"),
    # Not a Project column: handled by bot.commands.integrations.
    "webhook": ("webhook", "webhooks", "robot", "群机器人", "机器人", "自定义机器人"),
}
KEY_BY_ALIAS: Mapping[str, str] = MappingProxyType(
    {alias: key for key, aliases in _KEY_ALIASES.items() for alias in aliases}
)

# The Project columns behind each key, for display, audit and "nothing changed" checks.
FIELDS: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "standup": ("standup_time",),
        "standup-cutoff": ("standup_cutoff",),
        "standup-mode": ("standup_mode",),
        "report": ("report_weekday", "report_time"),
        "timezone": ("timezone",),
        "locale": ("locale",),
        "alerts": ("alerts_enabled",),
        "join": ("join_policy",),
        "bitable": ("bitable_app_token", "bitable_table_id"),
        "aitable": ("aitable_base_id", "aitable_sheet_id", "aitable_operator_id"),
    }
)

_MODES = MappingProxyType(
    {
        **dict.fromkeys(("dm", "private", "私聊", "单聊", "逐人"), "dm"),
        **dict.fromkeys(("group", "群聊", "群", "群里"), "group"),
    }
)
_LOCALES = MappingProxyType(
    {
        **dict.fromkeys(("zh", "zh-cn", "cn", "chinese", "中文", "简体中文", "汉语"), "zh"),
        **dict.fromkeys(("en", "en-us", "english", "英文", "英语"), "en"),
    }
)
_SWITCHES = MappingProxyType(
    {
        **dict.fromkeys(("on", "yes", "true", "开", "开启", "打开", "启用"), True),
        **dict.fromkeys(("off", "no", "false", "关", "关闭", "停用"), False),
    }
)
_JOIN_POLICIES = MappingProxyType(
    {
        **dict.fromkeys(("auto", "open", "自动", "开放", "开"), "auto"),
        **dict.fromkeys(("closed", "close", "manual", "关闭", "关", "手动"), "closed"),
    }
)
_CLEAR = integrations.CLEAR_WORDS
WEEKDAYS: Mapping[str, int] = MappingProxyType(
    {
        name: number
        for number, names in enumerate(
            (
                ("mon", "monday", "周一", "星期一", "礼拜一"),
                ("tue", "tues", "tuesday", "周二", "星期二", "礼拜二"),
                ("wed", "wednesday", "周三", "星期三", "礼拜三"),
                ("thu", "thur", "thurs", "thursday", "周四", "星期四", "礼拜四"),
                ("fri", "friday", "周五", "星期五", "礼拜五"),
                ("sat", "saturday", "周六", "星期六", "礼拜六"),
                ("sun", "sunday", "周日", "周天", "星期日", "星期天", "礼拜日", "礼拜天"),
            )
        )
        for name in names
    }
)

_TABLE_ID = re.compile(r"[A-Za-z0-9_-]{1,128}")
# A Bitable link: https://<tenant>.feishu.cn/base/<app_token>?table=<table_id>&view=...
_BITABLE_URL = re.compile(
    r"https?://\S+/base/(?P<app>[A-Za-z0-9_-]+)\S*?[?&]table=(?P<table>[A-Za-z0-9_-]+)\S*"
)


def normalize(value: str) -> str:
    """Full-width `０９：３０` as ASCII, whitespace runs as one space (text straight from a chat)."""
    return " ".join(unicodedata.normalize("NFKC", value).split())


def resolve_key(word: str) -> str | None:
    """The canonical key for `word` (`站会`, `standup_cutoff`, `Timezone` ...), None if unknown."""
    return KEY_BY_ALIAS.get(normalize(word).lower().replace("_", "-"))


_CLOCK = re.compile(r"(?P<h>[0-9]{1,2})(?::(?P<m>[0-9]{2}))?(?P<ampm>am|pm)?")
_CN_CLOCK = re.compile(
    r"(?P<part>上午|早上|中午|下午|晚上)?(?P<h>[0-9]{1,2})点(?:(?P<half>半)|(?P<m>[0-9]{1,2})分?)?"
)
_AFTERNOON = ("下午", "晚上", "中午")


def read_clock_time(value: str) -> tuple[int, int] | None:
    """(hour, minute) for `18:00`, `9:30`, `6pm`, `6:30am`, `9点`, `9点半`, `9点15(分)`, `下午6点`
    (full-width digits too); None for anything else or an impossible time."""
    text = normalize(value).lower().replace(" ", "")
    if match := _CLOCK.fullmatch(text):
        hour, minute, ampm = int(match["h"]), int(match["m"] or 0), match["ampm"]
        if match["m"] is None and ampm is None:
            return None  # a bare number is no time
        if ampm is not None:
            if not 1 <= hour <= 12:
                return None
            hour = hour % 12 + (12 if ampm == "pm" else 0)
    elif match := _CN_CLOCK.fullmatch(text):
        hour, minute = int(match["h"]), 30 if match["half"] else int(match["m"] or 0)
        if match["part"] in _AFTERNOON and 1 <= hour < 12:
            hour += 12
    else:
        return None
    return (hour, minute) if hour < 24 and minute < 60 else None


def parse_time(value: str) -> str:
    """`9:30`, `09:30`, `０９：３０`, `6pm`, `9点半`, `下午6点` -> "HH:MM" (see `read_clock_time`);
    anything outside 00:00..23:59 is refused."""
    clock = read_clock_time(value)
    if clock is None:
        raise UserFacingError("rhythm.config_bad_time", value=value)
    return _hhmm(clock)


def _hhmm(clock: tuple[int, int]) -> str:
    return f"{clock[0]:02d}:{clock[1]:02d}"


@lru_cache(maxsize=1)
def _zones_by_lower_name() -> dict[str, str]:
    return {name.lower(): name for name in available_timezones()}


# City names people type for the zone they mean, beyond the IANA names.
_ZONE_NICKNAMES: Mapping[str, str] = MappingProxyType(
    dict.fromkeys(("北京", "上海", "beijing", "shanghai", "中国", "china", "北京时间"), "Asia/Shanghai")
)


def parse_timezone(value: str) -> str:
    """An IANA zone name, matched case-insensitively and returned in its canonical spelling, or a
    city nickname (`北京`, `上海`, `Beijing` -> Asia/Shanghai)."""
    key = normalize(value).lower()
    name = _ZONE_NICKNAMES.get(key) or _zones_by_lower_name().get(key)
    if name is None:
        raise UserFacingError("rhythm.config_bad_timezone", value=value)
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise UserFacingError("rhythm.config_bad_timezone", value=value) from None
    return name


# Longest first, so "friday" is not read as "fri" followed by "day".
_WEEKDAY_WORDS = sorted(WEEKDAYS, key=len, reverse=True)


def _split_weekday(text: str) -> tuple[int | None, str]:
    """(weekday, the rest) for a day word leading or ending `text` (spaces optional: "周五18:00",
    "6pm fri"); (None, text) when there is none."""
    lowered = text.lower()
    for word in _WEEKDAY_WORDS:
        if lowered.startswith(word):
            return WEEKDAYS[word], text[len(word) :].strip()
        if lowered.endswith(word):
            return WEEKDAYS[word], text[: -len(word)].strip()
    return None, text


def _parse_report(value: str, project: Project) -> dict[str, Any]:
    # "周五 17:00", "17:00 fri", "周五 6pm", "Friday 9点半" or just one of the two: at most one day
    # and one time, in any of the forms `read_clock_time` reads.
    day, rest = _split_weekday(value)
    clock = read_clock_time(rest) if rest else None
    if (day is None and clock is None) or (rest and clock is None):
        raise UserFacingError("rhythm.config_bad_report", value=value)
    time = None if clock is None else _hhmm(clock)
    return {
        "report_weekday": project.report_weekday if day is None else day,
        "report_time": project.report_time if time is None else time,
    }


def _parse_bitable(value: str) -> dict[str, Any]:
    if value.lower() in _CLEAR:
        return {"bitable_app_token": None, "bitable_table_id": None}
    if url := _BITABLE_URL.fullmatch(value):
        return {"bitable_app_token": url["app"], "bitable_table_id": url["table"]}
    parts = value.split()
    if len(parts) != 2 or not all(_TABLE_ID.fullmatch(part) for part in parts):
        raise UserFacingError("rhythm.config_bad_bitable")
    return {"bitable_app_token": parts[0], "bitable_table_id": parts[1]}


def _choice(table: Mapping[str, Any], value: str, error: str) -> Any:
    choice = table.get(value.lower())
    if choice is None:
        raise UserFacingError(error, value=value)
    return choice


def parse_value(key: str, value: str, project: Project) -> dict[str, Any]:
    """The Project columns `key` = `value` sets, validated against the rest of the project's settings
    (the standup comes before its cutoff). Raises UserFacingError with an example of a good value."""
    value = normalize(value)
    if key == "standup":
        changes: dict[str, Any] = {"standup_time": parse_time(value)}
    elif key == "standup-cutoff":
        changes = {"standup_cutoff": parse_time(value)}
    elif key == "standup-mode":
        changes = {"standup_mode": _choice(_MODES, value, "rhythm.config_bad_mode")}
    elif key == "report":
        changes = _parse_report(value, project)
    elif key == "timezone":
        changes = {"timezone": parse_timezone(value)}
    elif key == "locale":
        changes = {"locale": _choice(_LOCALES, value, "rhythm.config_bad_locale")}
    elif key == "alerts":
        changes = {"alerts_enabled": _choice(_SWITCHES, value, "rhythm.config_bad_switch")}
    elif key == "join":
        changes = {"join_policy": _choice(_JOIN_POLICIES, value, "rhythm.config_bad_join")}
    elif key == "bitable":
        changes = _parse_bitable(value)
    elif key == "aitable":
        changes = integrations.parse_aitable(value)
    else:
        raise ValueError(f"unknown setting {key!r}")
    standup = changes.get("standup_time", project.standup_time)
    cutoff = changes.get("standup_cutoff", project.standup_cutoff)
    if cutoff <= standup:  # zero-padded HH:MM compares like the time it is
        raise UserFacingError("rhythm.config_cutoff_order", standup=standup, cutoff=cutoff)
    return changes


@dataclass(frozen=True)
class SettingChange:
    key: str
    before: dict[str, Any]
    after: dict[str, Any]

    @property
    def changed(self) -> bool:
        return self.before != self.after


async def set_value(
    *, session: AsyncSession, project: Project, key: str, value: str, actor: Actor, now: datetime
) -> SettingChange:
    """Validate and apply `key` = `value` to the project (audited); an unchanged value writes nothing."""
    changes = parse_value(key, value, project)
    if key == "aitable" and changes["aitable_base_id"] is not None:
        changes["aitable_operator_id"] = integrations.aitable_operator(actor)
    before = audit.snapshot(project, *FIELDS[key])
    change = SettingChange(key, before, {**before, **changes})
    if change.changed:
        project.updated_at = now
        await audit.update(
            project,
            changes,
            session=session,
            actor=actor,
            now=now,
            project_id=project.id,
            action="project.config",
            entity="project",
        )
    return change
