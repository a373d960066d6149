"""/charter: view and edit the project charter."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from types import MappingProxyType

from adapters.models import Card, Reply, Text
from bot.commands import gate
from bot.commands.common import actor_of
from bot.commands.context import CommandContext
from bot.commands.parsing import (
    CHARTER_LIMIT,
    END_WORDS,
    TEXT_LIMIT,
    TITLE_LIMIT,
    bounded,
    clean,
    normalize,
    parse_args,
    parse_date,
)
from bot.commands.registry import Router
from bot.errors import UsageError, UserFacingError
from bot.permissions import acting, is_pm, require_pm, require_pm_or_head
from bot.render.dates import short_day
from bot.services import changes, members, notify, plan, signoff
from storage.models import Department, Member, Project

router = Router("charter", title="help.section.charter")

# What people type -> the charter field (services.plan.CHARTER_FIELDS).
FIELD_WORDS: Mapping[str, str] = MappingProxyType(
    {
        **dict.fromkeys(("background", "bg", "背景"), "background"),
        **dict.fromkeys(("goal", "goals", "smart", "目标"), "goal"),
        **dict.fromkeys(("deliverables", "deliverable", "交付", "交付物", "成果"), "deliverables"),
        **dict.fromkeys(
            ("scope-in", "scope_in", "scopein", "in-scope", "scope", "范围", "范围内"), "scope_in"
        ),
        **dict.fromkeys(
            ("scope-out", "scope_out", "scopeout", "out-of-scope", "不包含", "范围外", "不在范围"),
            "scope_out",
        ),
        **dict.fromkeys(("start", "开始", "开始日期"), "start"),
        **dict.fromkeys(END_WORDS, "end"),
    }
)
TEXT_CLEAR = frozenset({"-", "清空", "clear"})  # "无" stays text: "不包含：无" is a statement
DATE_CLEAR = TEXT_CLEAR | {"无", "none"}
_FIELD_AND_TEXT = re.compile(r"([^\s:=]+)\s*[:=]?\s*(.*)", re.DOTALL)
_QUOTES = {'"': '"', "“": "”", "「": "」", "『": "』"}


def _unquote(text: str) -> str:
    if len(text) >= 2 and _QUOTES.get(text[0]) == text[-1]:
        return text[1:-1].strip()
    return text


def _as_typed(ctx: CommandContext, word: str, text: str) -> str:
    """`text` as the sender typed it: the dispatcher's NFKC turns "，" into "," and joins lines, which
    a charter should keep. Falls back to `text` when the original cannot be found unambiguously."""
    raw = clean(ctx.message.text)
    at = raw.find(word)
    if at < 0:
        return text
    typed = _unquote(raw[at + len(word) :].strip().lstrip(":：=").strip())
    return typed if normalize(typed) == normalize(text) else text


def _date_text(ctx: CommandContext, value: date | None) -> str:
    return value.isoformat() if value else ctx.t("value.unset")


def _field_value(ctx: CommandContext, project: Project, field: str) -> str:
    """The field's value, or "not set" with the command that sets it."""
    if field in plan.CHARTER_DATE_FIELDS:
        value = project.start_date if field == "start" else project.end_date
        return (
            _date_text(ctx, value)
            if value
            else ctx.t("charter.unset_hint", word=ctx.t(f"charter.word.{field}"))
        )
    text = getattr(project, field)
    return text or ctx.t("charter.unset_hint", word=ctx.t(f"charter.word.{field}"))


def _people(people: list[Member], platform: str) -> str:
    """Mentions of `people` for a message on `platform` (names elsewhere: a mention only works there)."""
    return " ".join(
        members.mention(member)
        if member.platform == platform
        else member.display_name or member.platform_user_id
        for member in people
    )


def _sign_off_lines(ctx: CommandContext, entries: list[signoff.SignOff]) -> list[str]:
    if not entries:
        return [ctx.t("signoff.none")]
    platform = ctx.message.platform
    lines = [
        ctx.t("signoff.title", done=sum(e.confirmation is not None for e in entries), total=len(entries))
    ]
    for entry in entries:
        name = entry.department.name
        if entry.confirmation is not None:
            by = entry.confirmed_by
            lines.append(
                ctx.t(
                    "signoff.confirmed",
                    department=name,
                    who=_people([by], platform) if by else ctx.t("value.none"),
                    date=short_day(entry.confirmation.confirmed_at.astimezone(ctx.tz).date(), ctx.today),
                )
            )
        elif entry.head is not None:
            lines.append(ctx.t("signoff.pending", department=name, who=_people([entry.head], platform)))
        else:
            lines.append(ctx.t("signoff.no_head", department=name))
    if any(entry.confirmation is None for entry in entries):
        lines.append(ctx.t("signoff.how"))
    return lines


_RESOURCE_OPTIONS = {"people": "resource_people", "budget": "resource_budget", "other": "resource_other"}


def _resource_items(ctx: CommandContext, department: Department) -> str:
    items = [
        ctx.t(f"resources.{option}", value=getattr(department, field))
        for option, field in _RESOURCE_OPTIONS.items()
        if getattr(department, field)
    ]
    return " · ".join(items) or ctx.t("resources.none")


def _resource_lines(ctx: CommandContext, entries: list[signoff.SignOff]) -> list[str]:
    given = [
        e.department for e in entries if any(getattr(e.department, f) for f in _RESOURCE_OPTIONS.values())
    ]
    if not given:
        return (
            [ctx.t("resources.title") + " " + ctx.t("resources.none"), ctx.t("resources.hint")]
            if entries
            else []
        )
    return [
        ctx.t("resources.title"),
        *(ctx.t("resources.line", department=d.name, items=_resource_items(ctx, d)) for d in given),
    ]


def charter_card(ctx: CommandContext, project: Project, entries: list[signoff.SignOff]) -> Card:
    lines = [
        ctx.t("charter.line", label=ctx.t(f"charter.label.{field}"), value=_field_value(ctx, project, field))
        for field in plan.CHARTER_TEXT_FIELDS
    ]
    if project.start_date or project.end_date:
        dates = ctx.t(
            "charter.dates_value",
            start=_date_text(ctx, project.start_date),
            end=_date_text(ctx, project.end_date),
        )
    else:
        dates = ctx.t("charter.dates_unset")
    lines.append(ctx.t("charter.line", label=ctx.t("charter.label.dates"), value=dates))
    lines += ["", *_sign_off_lines(ctx, entries)]
    if resources := _resource_lines(ctx, entries):
        lines += ["", *resources]
    if is_pm(ctx.actor):
        lines += ["", ctx.t("charter.footer")]
    return Card(ctx.t("charter.title", name=project.name), "\n".join(lines))


@router.command(
    "charter", "章程", usage="usage.charter", summary="summary.charter", who="who.view_anyone_edit_pm"
)
async def charter(ctx: CommandContext, args: str) -> list[Reply]:
    project = ctx.require_project()
    if not args:
        return [charter_card(ctx, project, await signoff.sign_offs(ctx.session, project.id))]
    match = _FIELD_AND_TEXT.fullmatch(args.strip())
    assert match is not None  # args is non-empty and stripped
    word, text = match[1], _unquote(match[2].strip())
    field = FIELD_WORDS.get(word.lower())
    if field is None:
        raise UsageError("charter.unknown_field", field=word)
    label = ctx.t(f"charter.label.{field}")
    if not text:
        return [Text(ctx.t("charter.line", label=label, value=_field_value(ctx, project, field)))]
    require_pm(ctx)
    value: str | date | None
    if field in plan.CHARTER_DATE_FIELDS:
        value = None if text.lower() in DATE_CLEAR else parse_date(text, today=ctx.today)
    else:
        value = "" if text.lower() in TEXT_CLEAR else bounded(_as_typed(ctx, word, text), CHARTER_LIMIT)
    proposed = None
    if field in changes.SCOPE_FIELDS and isinstance(value, str) and await gate.applies(ctx, project):
        proposed = changes.scope(project, field, value)
    changed = await plan.update_charter(
        session=ctx.session, project=project, field=field, value=value, actor=actor_of(ctx), now=ctx.now
    )
    withdrawn = (
        await signoff.reset(session=ctx.session, project=project, actor=actor_of(ctx), now=ctx.now)
        if changed and field in signoff.RECONFIRM_FIELDS
        else []
    )
    if field in plan.CHARTER_DATE_FIELDS:
        reply = ctx.t(
            "charter.dates_updated",
            start=_date_text(ctx, project.start_date),
            end=_date_text(ctx, project.end_date),
        )
    elif value:
        reply = ctx.t("charter.updated", label=label, value=value)
    else:
        reply = ctx.t("charter.cleared", label=label)
    if withdrawn:
        reply += "\n" + await _ask_again(ctx, project, label, withdrawn)
    if proposed is not None:
        reply += "\n" + "\n".join(await gate.log_own(ctx, project, proposed, changes.Impact([], [])))
    return [Text(reply)]


async def _ask_again(
    ctx: CommandContext, project: Project, label: str, withdrawn: list[signoff.SignOff]
) -> str:
    """Tell the heads whose sign-off a charter change withdrew, here and in the project's other chats."""
    heads = list({entry.head.id: entry.head for entry in withdrawn if entry.head is not None}.values())

    def notice(platform: str) -> Reply:
        return Text(
            ctx.t("signoff.reset_notice", project=project.name, label=label, who=_people(heads, platform))
        )

    here = ctx.message
    await notify.post_to_project_chats(
        session=ctx.session,
        project_id=project.id,
        build=notice,
        key=f"charter-reset:{here.platform}:{here.event_id}",
        now=ctx.now,
        skip=(here.platform, here.chat.chat_id),
    )
    return ctx.t("signoff.reset", label=label, count=len(withdrawn), who=_people(heads, here.platform))


@router.command(
    "charter confirm",
    "章程 确认",
    "章程 签字",
    usage="usage.charter_confirm",
    summary="summary.charter_confirm",
    who="who.head",
)
async def charter_confirm(ctx: CommandContext, args: str) -> list[Reply]:
    project = ctx.require_project()
    member = acting(ctx)
    name = args.strip() or None
    confirmed, already = await signoff.confirm(
        session=ctx.session,
        project=project,
        member=member,
        department_name=name,
        actor=actor_of(ctx),
        now=ctx.now,
    )
    sep = ctx.t("plan.sep")
    lines = []
    if confirmed:
        lines.append(ctx.t("signoff.done", departments=sep.join(d.name for d in confirmed)))
    if already:
        lines.append(ctx.t("signoff.already", departments=sep.join(d.name for d in already)))
    waiting = [
        e.department.name for e in await signoff.sign_offs(ctx.session, project.id) if e.confirmation is None
    ]
    lines.append(
        ctx.t("signoff.waiting", departments=sep.join(waiting)) if waiting else ctx.t("signoff.all_done")
    )
    return [Text("\n".join(lines))]


@router.command(
    "charter nudge", "章程 催签", usage="usage.charter_nudge", summary="summary.charter_nudge", who="who.pm"
)
async def charter_nudge(ctx: CommandContext, args: str) -> list[Reply]:
    project = ctx.require_project()
    entries = await signoff.sign_offs(ctx.session, project.id)
    if not entries:
        return [Text(ctx.t("signoff.no_departments"))]
    pending = [e for e in entries if e.confirmation is None]
    if not pending:
        return [Text(ctx.t("signoff.nothing_to_nudge"))]
    heads = list({e.head.id: e.head for e in pending if e.head is not None}.values())
    headless = [e.department.name for e in pending if e.head is None]
    lines = []
    if heads:

        def reminder(platform: str) -> Reply:
            title = ctx.t("signoff.nudge_title", project=project.name)
            return Card(title, ctx.t("signoff.nudge", who=_people(heads, platform)))

        here = ctx.message
        await notify.post_to_project_chats(
            session=ctx.session,
            project_id=project.id,
            build=reminder,
            key=f"charter-nudge:{here.platform}:{here.event_id}",
            now=ctx.now,
            skip=(here.platform, here.chat.chat_id),
        )
        lines.append(ctx.t("signoff.nudge", who=_people(heads, here.platform)))
        lines.append(ctx.t("signoff.nudge_sent", count=len(heads), who=_people(heads, here.platform)))
    if headless:
        lines.append(ctx.t("signoff.nudge_no_head", departments=ctx.t("plan.sep").join(headless)))
    return [Text("\n".join(lines))]


@router.command(
    "charter resources",
    "章程 资源",
    usage="usage.charter_resources",
    summary="summary.charter_resources",
    who="who.view_anyone_edit_pm_or_head",
)
async def charter_resources(ctx: CommandContext, args: str) -> list[Reply]:
    project = ctx.require_project()
    parsed = parse_args(ctx.typed(args), options=set(_RESOURCE_OPTIONS), max_positional=1)
    if not parsed.positional or parsed.rest or parsed.mentions:
        raise UsageError()
    name = normalize(parsed.positional[0])
    departments = await plan.departments(ctx.session, project.id)
    department = next((d for d in departments if d.name == name), None)
    if department is None:
        raise UserFacingError(
            "resources.unknown_department",
            department=name,
            departments=ctx.t("plan.sep").join(d.name for d in departments) or ctx.t("value.none"),
        )
    if not parsed.options:
        return [
            Text(ctx.t("resources.line", department=department.name, items=_resource_items(ctx, department)))
        ]
    await require_pm_or_head(ctx, department.id)
    values = {
        _RESOURCE_OPTIONS[option]: ""
        if text.strip() in TEXT_CLEAR
        else bounded(text.strip(), TITLE_LIMIT if option != "other" else TEXT_LIMIT)
        for option, text in parsed.options.items()
    }
    changed = await signoff.set_resources(
        session=ctx.session,
        project=project,
        department=department,
        values=values,
        actor=actor_of(ctx),
        now=ctx.now,
    )
    key = "resources.saved" if changed else "resources.unchanged"
    return [Text(ctx.t(key, department=department.name, items=_resource_items(ctx, department)))]
