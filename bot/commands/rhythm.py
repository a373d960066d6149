"""/config, the working calendar (/holiday, /workday) and /leave: thin handlers over
bot.services.settings, bot.services.calendar and bot.services.leave."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import date, timedelta
from typing import Any

from adapters.models import Card, Reply, Text, mention_token
from bot.commands import integrations as integration_commands
from bot.commands.common import actor_of
from bot.commands.context import CommandContext
from bot.commands.parsing import check_near, normalize, parse_args, parse_date
from bot.commands.registry import Router
from bot.errors import UsageError, UserFacingError
from bot.permissions import deny, is_pm, require_member, require_pm, require_pm_or_their_head
from bot.services import audit, calendar, integrations, leave, members, settings
from bot.services.calendar import Kind
from storage.models import Member, Project

router = Router("rhythm", title="help.section.rhythm")

# How far ahead /holidays looks for official holidays.
OFFICIAL_HORIZON_DAYS = 60

_FULL_DATE = r"[0-9]{4}(?:[-/.][0-9]{1,2}){2}|[0-9]{4}年[0-9]{1,2}月[0-9]{1,2}[日号]?"
# `a..b`, `a 到 b`, `a至b`, `a ~ b`, `a - b`; glued `a-b` only between two full dates (12-01-12-03 is
# ambiguous).
_RANGE = re.compile(r"(?P<a>\S+?)(?:\s*(?:\.\.|到|至|~)\s*|\s+-\s+)(?P<b>\S+)(?:\s(?P<rest>.*))?")
_FULL_DATE_RANGE = re.compile(rf"(?P<a>{_FULL_DATE})-(?P<b>{_FULL_DATE})(?:\s(?P<rest>.*))?")


def parse_day_range(text: str, *, today: date) -> tuple[date, date, str]:
    """A date or a date range at the start of `text`, and the text after it.

    `12-01`, `12-01..12-03`, `12-01 到 12-03`, `明天至周五`, `12-01~12-03`, `12-01 - 12-03`,
    `2026-12-01-2026-12-03`. The start is read by parse_date relative to `today`, the end relative
    to the start, so "周一到周五" is one working week and "12-30..01-02" crosses the new year.
    """
    text = normalize(text)
    match = _RANGE.fullmatch(text) or _FULL_DATE_RANGE.fullmatch(text)
    if match is not None:
        start = parse_date(match["a"], today=today)
        end = check_near(parse_date(match["b"], today=start), today=today, value=match["b"])
        rest = match["rest"] or ""
    else:
        first, _, rest = text.partition(" ")
        start = end = parse_date(first, today=today)
    if end < start:
        raise UserFacingError("rhythm.range_backwards", start=start.isoformat(), end=end.isoformat())
    return start, end, rest.strip()


def _day(ctx: CommandContext, day: date) -> str:
    """`12-01 周二` this year, `2027-01-05 周二` otherwise."""
    shown = day.strftime("%m-%d") if day.year == ctx.today.year else day.isoformat()
    return f"{shown} {ctx.t(f'rhythm.weekday.{day.weekday()}')}"


def _span(ctx: CommandContext, start: date, end: date) -> str:
    if start == end:
        return _day(ctx, start)
    return ctx.t("rhythm.span", start=_day(ctx, start), end=_day(ctx, end), days=(end - start).days + 1)


# --- /config ---------------------------------------------------------------------------------------


def _shown(ctx: CommandContext, key: str, values: Mapping[str, Any]) -> str:
    """A setting's value as the reader should see it (and could type it back)."""
    if key == "standup-mode":
        return ctx.t(f"rhythm.mode.{values['standup_mode']}")
    if key == "report":
        day = ctx.t(f"rhythm.weekday.{values['report_weekday']}")
        return f"{day} {values['report_time']}"
    if key == "locale":
        return ctx.t(f"rhythm.locale.{values['locale']}")
    if key == "alerts":
        return ctx.t("rhythm.on" if values["alerts_enabled"] else "rhythm.off")
    if key == "join":
        return ctx.t(f"rhythm.join.{values['join_policy']}")
    if key == "bitable":
        app, table = values["bitable_app_token"], values["bitable_table_id"]
        return f"{app} {table}" if app and table else ctx.t("value.unset")
    if key == "aitable":
        base, sheet = values["aitable_base_id"], values["aitable_sheet_id"]
        return f"{base} {sheet}" if base and sheet else ctx.t("value.unset")
    (field,) = settings.FIELDS[key]
    return str(values[field])


def _current(ctx: CommandContext, project: Project, key: str) -> str:
    return _shown(ctx, key, audit.snapshot(project, *settings.FIELDS[key]))


async def _settings_card(ctx: CommandContext, project: Project) -> Card:
    lines = [
        ctx.t(
            "rhythm.config_line", setting=ctx.t(f"rhythm.config_key.{key}"), value=_current(ctx, project, key)
        )
        for key in settings.KEYS
    ]
    # The DingTalk AI table and report webhooks are optional integrations: listed once set.
    if project.aitable_base_id:
        label = ctx.t("rhythm.config_key.aitable")
        lines.append(ctx.t("rhythm.config_line", setting=label, value=_current(ctx, project, "aitable")))
    if hooks := await integrations.webhooks(ctx.session, project.id):
        label = ctx.t("rhythm.config_key.webhook")
        count = ctx.t("integrations.webhook_count", count=len(hooks))
        lines.append(ctx.t("rhythm.config_line", setting=label, value=count))
    lines += ["", ctx.t("rhythm.config_how")]
    return Card(ctx.t("rhythm.config_title", name=project.name), "\n".join(lines))


@router.command(
    "config",
    "设置",
    "配置",
    usage="usage.config",
    summary="summary.config",
    who="who.view_anyone_edit_pm",
    redact=integration_commands.redact_config,
)
async def config(ctx: CommandContext, args: str) -> list[Reply]:
    project = ctx.require_project()
    word, _, value = normalize(args).partition(" ")
    if not word:
        return [await _settings_card(ctx, project)]
    key = settings.resolve_key(word)
    if key is None:
        raise UsageError("rhythm.config_unknown_key", setting=word)
    if key == "webhook":  # bindings of their own, not a project column
        return await integration_commands.webhook(ctx, project, value)
    label = ctx.t(f"rhythm.config_key.{key}")
    if not value:
        shown, hint = _current(ctx, project, key), ctx.t(f"rhythm.config_hint.{key}")
        return [Text(ctx.t("rhythm.config_one", setting=label, value=shown, hint=hint))]
    require_pm(ctx)
    change = await settings.set_value(
        session=ctx.session, project=project, key=key, value=value, actor=actor_of(ctx), now=ctx.now
    )
    # A new language answers in itself, so the PM sees at once what everyone will see.
    ctx.locale = project.locale
    label = ctx.t(f"rhythm.config_key.{key}")
    after = _current(ctx, project, key)
    if not change.changed:
        return [Text(ctx.t("rhythm.config_same", setting=label, value=after))]
    before = _shown(ctx, key, change.before)
    return [Text(ctx.t("rhythm.config_set", setting=label, before=before, after=after))]


# --- /holiday, /workday, /holidays -------------------------------------------------------------------


async def _add_days(ctx: CommandContext, args: str, kind: Kind) -> list[Reply]:
    project = ctx.require_project()
    if not args.strip():
        raise UsageError()
    start, end, name = parse_day_range(args, today=ctx.today)
    change = await calendar.add_overrides(
        session=ctx.session,
        project_id=project.id,
        start=start,
        end=end,
        kind=kind,
        name=name,
        actor=actor_of(ctx),
        now=ctx.now,
    )
    if not change.changed:
        official = calendar.official_day(start) if start == end else None
        reason = (
            ctx.t("rhythm.paren", text=calendar.holiday_name(official.name, ctx.locale)) if official else ""
        )
        return [Text(ctx.t(f"rhythm.{kind}_already", days=_span(ctx, start, end), reason=reason))]
    named = ctx.t("rhythm.quoted", text=name) if name else ""
    text = ctx.t(f"rhythm.{kind}_added", days=_span(ctx, start, end), name=named, count=len(change.changed))
    return [Text(text)]


async def _remove_days(ctx: CommandContext, args: str, kind: Kind) -> list[Reply]:
    project = ctx.require_project()
    if not args.strip():
        raise UsageError()
    start, end, rest = parse_day_range(args, today=ctx.today)
    if rest:
        raise UsageError("rhythm.extra_words", value=rest)
    removed = await calendar.remove_overrides(
        session=ctx.session,
        project_id=project.id,
        start=start,
        end=end,
        kind=kind,
        actor=actor_of(ctx),
        now=ctx.now,
    )
    if removed:
        return [Text(ctx.t(f"rhythm.{kind}_removed", days=_span(ctx, start, end), count=len(removed)))]
    official = calendar.official_day(start) if start == end else None
    if official is not None and official.workday == (kind == "workday"):
        name = calendar.holiday_name(official.name, ctx.locale)
        return [
            Text(ctx.t(f"rhythm.{kind}_official", day=_day(ctx, start), name=name, iso=start.isoformat()))
        ]
    return [Text(ctx.t(f"rhythm.{kind}_none", days=_span(ctx, start, end)))]


@router.command(
    "holiday add",
    "假期 添加",
    "假期 新增",
    usage="usage.holiday_add",
    summary="summary.holiday_add",
    who="who.pm",
)
async def holiday_add(ctx: CommandContext, args: str) -> list[Reply]:
    return await _add_days(ctx, args, "holiday")


@router.command(
    "holiday remove",
    "假期 删除",
    "假期 取消",
    "holiday delete",
    usage="usage.holiday_remove",
    summary="summary.holiday_remove",
    who="who.pm",
)
async def holiday_remove(ctx: CommandContext, args: str) -> list[Reply]:
    return await _remove_days(ctx, args, "holiday")


@router.command(
    "workday add",
    "调休 添加",
    "补班 添加",
    usage="usage.workday_add",
    summary="summary.workday_add",
    who="who.pm",
)
async def workday_add(ctx: CommandContext, args: str) -> list[Reply]:
    return await _add_days(ctx, args, "workday")


@router.command(
    "workday remove",
    "调休 删除",
    "调休 取消",
    "workday delete",
    usage="usage.workday_remove",
    summary="summary.workday_remove",
    who="who.pm",
)
async def workday_remove(ctx: CommandContext, args: str) -> list[Reply]:
    return await _remove_days(ctx, args, "workday")


def _runs(days: Sequence[tuple[date, tuple[object, ...]]]) -> list[tuple[date, date, tuple[object, ...]]]:
    """Consecutive days with the same label as one (first, last, label), so a week-long holiday is
    one line, not seven."""
    runs: list[tuple[date, date, tuple[object, ...]]] = []
    for day, label in days:
        if runs and (day - runs[-1][1]).days == 1 and runs[-1][2] == label:
            runs[-1] = (runs[-1][0], day, label)
        else:
            runs.append((day, day, label))
    return runs


@router.command(
    "holidays",
    "假期列表",
    "节假日",
    usage="usage.holidays",
    summary="summary.holidays",
    who="who.anyone",
)
async def holidays(ctx: CommandContext, args: str) -> list[Reply]:
    project = ctx.require_project()
    today = ctx.today
    horizon = today + timedelta(days=OFFICIAL_HORIZON_DAYS)
    own = await calendar.overrides_between(ctx.session, project.id, today, date.max)
    lines = [f"**{ctx.t('rhythm.own_days')}**"]
    lines += [
        ctx.t(
            f"rhythm.own_{kind}",
            days=_span(ctx, first, last),
            name=ctx.t("rhythm.dot", text=name) if name else "",
        )
        for first, last, (kind, name) in _runs([(row.day, (row.kind, row.name)) for row in own])
    ] or [ctx.t("rhythm.own_none")]
    official = [(day.day, (day.workday, day.name)) for day in calendar.official_days(today, horizon)]
    lines += ["", f"**{ctx.t('rhythm.official_days', days=OFFICIAL_HORIZON_DAYS)}**"]
    lines += [
        ctx.t(
            "rhythm.official_workday" if workday else "rhythm.official_holiday",
            days=_span(ctx, first, last),
            name=calendar.holiday_name(str(name), ctx.locale),
        )
        for first, last, (workday, name) in _runs(official)
    ] or [ctx.t("rhythm.official_none")]
    work_calendar = await calendar.for_project(ctx.session, project.id)
    missing = [year for year in range(today.year, horizon.year + 1) if not work_calendar.covers(year)]
    lines += [ctx.t("rhythm.year_missing", year=year) for year in missing]
    if is_pm(ctx.actor):
        lines += ["", ctx.t("rhythm.calendar_how")]
    return [Card(ctx.t("rhythm.holidays_title"), "\n".join(lines))]


# --- /leave ------------------------------------------------------------------------------------------


async def _whose_leave(ctx: CommandContext, mentions: Sequence[str]) -> tuple[Member, Member]:
    """(whose leave, who is recording it): the sender's own, or the one person mentioned if the
    sender is a PM or heads that person's department."""
    if len(mentions) > 1:
        raise UsageError("rhythm.leave_one_person")
    project = ctx.require_project()
    if not mentions or mentions[0] == ctx.message.sender.user_id:
        me = await require_member(ctx)
        return me, me
    target = await members.by_user(ctx.session, project.id, ctx.message.platform, mentions[0])
    if target is None:
        if not is_pm(ctx.actor):
            raise deny(ctx)
        raise UserFacingError("rhythm.leave_not_member", who=mention_token(mentions[0]))
    return target, await require_pm_or_their_head(ctx, target)


@router.command("leave", "请假", usage="usage.leave", summary="summary.leave", who="who.leave")
async def leave_add(ctx: CommandContext, args: str) -> list[Reply]:
    parsed = parse_args(args, options=())
    if not parsed.positional:
        raise UsageError()
    start, end, rest = parse_day_range(" ".join(parsed.positional), today=ctx.today)
    if rest:
        raise UsageError("rhythm.extra_words", value=rest)
    member, author = await _whose_leave(ctx, parsed.mentions)
    change = await leave.add(
        session=ctx.session,
        member=member,
        start=start,
        end=end,
        author=author,
        actor=actor_of(ctx),
        now=ctx.now,
    )
    span = _span(ctx, change.leave.start_date, change.leave.end_date)
    return [Text(ctx.t(f"rhythm.leave_{change.outcome}", who=members.mention(member), days=span))]


@router.command(
    "leave cancel",
    "请假 取消",
    "请假 撤销",
    usage="usage.leave_cancel",
    summary="summary.leave_cancel",
    who="who.leave",
)
async def leave_cancel(ctx: CommandContext, args: str) -> list[Reply]:
    parsed = parse_args(args, options=())
    if len(parsed.positional) != 1:
        raise UsageError()
    day = parse_date(parsed.positional[0], today=ctx.today)
    member, _ = await _whose_leave(ctx, parsed.mentions)
    cancelled = await leave.cancel(
        session=ctx.session, member=member, day=day, actor=actor_of(ctx), now=ctx.now
    )
    who = members.mention(member)
    was = _span(ctx, cancelled.start, cancelled.end)
    if cancelled.kept_until is None:
        return [Text(ctx.t("rhythm.leave_cancelled", who=who, days=was))]
    now_span = _span(ctx, cancelled.start, cancelled.kept_until)
    return [Text(ctx.t("rhythm.leave_shortened", who=who, was=was, days=now_span, day=_day(ctx, day)))]


@router.command("leaves", "请假列表", usage="usage.leaves", summary="summary.leaves", who="who.anyone")
async def leaves(ctx: CommandContext, args: str) -> list[Reply]:
    project = ctx.require_project()
    found = await leave.current_and_upcoming(ctx.session, project.id, ctx.today)
    if not found:
        return [Text(ctx.t("rhythm.leaves_empty"))]
    lines = [
        ctx.t(
            "rhythm.leaves_line",
            who=members.mention(member),
            days=_span(ctx, row.start_date, row.end_date),
            now=ctx.t("rhythm.leaves_now") if row.start_date <= ctx.today else "",
        )
        for row, member in found
    ]
    return [Card(ctx.t("rhythm.leaves_title", count=len(found)), "\n".join(lines))]


router.group_word("holiday", "假期", usage="usage.holiday", summary="summary.holidays", lister=holidays)
router.group_word("workday", "调休", usage="usage.workday", summary="summary.holidays", lister=holidays)
