"""/change (/变更): ask for a change to the baselined plan, in the plan's own words, with a reason;
/change approve|reject|discuss CR-3 for the PMs (also the buttons of their card); /changes lists
them. Thin handlers over bot.services.changes; the edit commands share bot.commands.gate."""

from __future__ import annotations

import re

from adapters.models import Card, Reply, Text
from bot.commands import gate
from bot.commands.charter import FIELD_WORDS
from bot.commands.common import actor_of, date_option, mentioned_user, split_args
from bot.commands.context import CommandContext
from bot.commands.paging import page, page_number
from bot.commands.parsing import (
    MAX_ID_DIGITS,
    TEXT_LIMIT,
    TITLE_LIMIT,
    bounded,
    normalize,
    parse_args,
    parse_wbs_code,
)
from bot.commands.plan import _codes, _one_person
from bot.commands.registry import Router
from bot.errors import UsageError, UserFacingError
from bot.permissions import acting
from bot.render import changes as render
from bot.services import calendar as calendar_service
from bot.services import changes, members, plan
from storage.models import Member, Project

router = Router("changes", title="help.section.changes")

# `<what> because <why>`: the first reason word standing alone splits the two.
_BECAUSE = re.compile(r"(?:^|\s)(?:because|因为|原因)(?:\s*[:：=]\s*|\s+)", re.IGNORECASE)
_CR = re.compile(rf"(?:CR-?)?([1-9][0-9]{{0,{MAX_ID_DIGITS - 1}}})", re.IGNORECASE)
_MILESTONE = re.compile(rf"(?:M|#|里程碑)([1-9][0-9]{{0,{MAX_ID_DIGITS - 1}}})", re.IGNORECASE)
ADD_WORDS = frozenset({"add", "添加", "新增", "新建"})
DELETE_WORDS = frozenset({"delete", "remove", "删除"})
ALL_WORDS = frozenset({"all", "全部"})
RECENT_DECIDED = 10  # decided requests shown by default, newest first
STATUS_ICONS = {"open": "⏳", "approved": "✅", "rejected": "❌"}


async def _proposal(ctx: CommandContext, project: Project, typed: str) -> changes.Proposed | None:
    """`<what>` parsed in the plan's own command words and validated against the plan as it is."""
    what = normalize(typed)
    word, _, rest = what.partition(" ")
    lowered = word.lower()
    if FIELD_WORDS.get(lowered) in changes.SCOPE_FIELDS:
        text = bounded(typed.split(maxsplit=1)[1].strip() if " " in typed.strip() else "", TEXT_LIMIT)
        if not text:
            raise UsageError("arg.missing", name=ctx.t("charter.label." + FIELD_WORDS[lowered]))
        return changes.scope(project, FIELD_WORDS[lowered], text)
    if milestone := _MILESTONE.fullmatch(word):
        parsed = parse_args(rest, options={"due", "end"}, max_positional=0)
        if parsed.rest or parsed.mentions or len(parsed.options) != 1:
            raise UsageError()
        due = date_option(ctx, parsed, "due") or date_option(ctx, parsed, "end")
        assert due is not None
        found = await plan.milestone_by_number(ctx.session, project.id, int(milestone[1]))
        return changes.milestone_due(found, due)
    if lowered in ADD_WORDS:
        parsed = parse_args(rest, options={"dept", "start", "due", "after", "owner"}, max_positional=1)
        if not parsed.positional:
            raise UsageError("arg.missing", name=ctx.t("plan.field.code"))
        if not parsed.rest:
            raise UsageError("arg.missing", name=ctx.t("plan.field.title"))
        owner_id = _one_person(parsed, "owner", "plan.one_owner")
        owner = mentioned_user(ctx, owner_id) if owner_id else None
        return await changes.task_add(
            ctx.session,
            project.id,
            code=parse_wbs_code(parsed.positional[0]),
            title=bounded(parsed.rest, TITLE_LIMIT),
            owner=owner,
            department=await plan.department_for(
                ctx.session, project, name=parsed.options.get("dept"), owner=owner
            ),
            start=date_option(ctx, parsed, "start"),
            due=date_option(ctx, parsed, "due"),
            after=_codes(parsed.options.get("after", "")),
        )
    if lowered in DELETE_WORDS:
        parsed = parse_args(rest, options=(), max_positional=1)
        if len(parsed.positional) != 1 or parsed.rest or parsed.mentions:
            raise UsageError()
        task = await plan.get_task(ctx.session, project.id, parse_wbs_code(parsed.positional[0]))
        return await changes.task_delete(ctx.session, task)
    parsed = parse_args(what, options={"start", "due", "after"}, max_positional=1)
    if not parsed.positional or parsed.rest or parsed.mentions or not parsed.options:
        raise UsageError()
    task = await plan.get_task(ctx.session, project.id, parse_wbs_code(parsed.positional[0]))
    dates = {
        key: date_option(ctx, parsed, key) if key in parsed.options else plan.KEEP for key in ("start", "due")
    }
    after = _codes(parsed.options["after"]) if "after" in parsed.options else None
    return await changes.task_edit(
        ctx.session, project.id, task, start=dates["start"], due=dates["due"], after=after
    )


@router.command("change", "变更", usage="usage.change", summary="summary.change", who="who.member")
async def change(ctx: CommandContext, args: str) -> list[Reply]:
    project = ctx.require_project()
    typed = ctx.typed(args).strip()
    split = _BECAUSE.search(typed)
    if split is None or not typed[: split.start()].strip():
        raise UsageError()
    reason = bounded(typed[split.end() :].strip(), TEXT_LIMIT)
    if not reason:
        raise UsageError("arg.missing", name=ctx.t("change.field.reason"))
    if not await gate.applies(ctx, project):
        raise UserFacingError("change.no_baseline")
    proposed = await _proposal(ctx, project, typed[: split.start()].strip())
    if proposed is None:
        raise UserFacingError("change.nothing")
    return [Text("\n".join(await gate.submit(ctx, project, proposed, reason)))]


def _number(value: str) -> int:
    match = _CR.fullmatch(value)
    if match is None:
        raise UsageError("change.bad_ref", value=value)
    return int(match[1])


async def _decision(ctx: CommandContext, args: str, *, with_note: bool) -> tuple[Project, int, str]:
    project = ctx.require_project()
    pieces = split_args(ctx, args, 2 if with_note else 1)
    if not pieces or (not with_note and len(normalize(args).split()) > 1):
        raise UsageError()
    note = bounded(pieces[1], TEXT_LIMIT) if len(pieces) > 1 else ""
    return project, _number(pieces[0]), note


def _told(ctx: CommandContext, told: list[Member]) -> list[str]:
    if not told:
        return []
    return [ctx.t("change.told", who=ctx.t("plan.sep").join(members.mention(m) for m in told))]


@router.command(
    "change approve",
    "变更 批准",
    "变更 同意",
    usage="usage.change_approve",
    summary="summary.change_approve",
    who="who.pm",
)
async def change_approve(ctx: CommandContext, args: str) -> list[Reply]:
    project, number, _ = await _decision(ctx, args, with_note=False)
    cr = await changes.by_number(ctx.session, project.id, number)
    decided = await changes.approve(
        session=ctx.session,
        project=project,
        cr=cr,
        pm=acting(ctx),
        calendar=await calendar_service.for_project(ctx.session, project.id),
        today=ctx.today,
        actor=actor_of(ctx),
        now=ctx.now,
    )
    lines = [
        ctx.t("change.approved", number=cr.number, what=render.describe_request(ctx.locale, cr, ctx.today)),
        *render.impact_lines(ctx.locale, decided.impact.to_json(), ctx.today),
        *_told(ctx, decided.told),
    ]
    return [Text("\n".join(lines))]


@router.command(
    "change reject",
    "变更 驳回",
    "变更 拒绝",
    usage="usage.change_reject",
    summary="summary.change_reject",
    who="who.pm",
)
async def change_reject(ctx: CommandContext, args: str) -> list[Reply]:
    project, number, note = await _decision(ctx, args, with_note=True)
    cr = await changes.by_number(ctx.session, project.id, number)
    decided = await changes.reject(
        session=ctx.session,
        project=project,
        cr=cr,
        pm=acting(ctx),
        note=note,
        today=ctx.today,
        actor=actor_of(ctx),
        now=ctx.now,
    )
    lines = [
        ctx.t("change.rejected", number=cr.number, what=render.describe_request(ctx.locale, cr, ctx.today))
    ]
    if note:
        lines.append(ctx.t("change.note", note=note))
    return [Text("\n".join([*lines, *_told(ctx, decided.told)]))]


@router.command(
    "change discuss",
    "变更 讨论",
    usage="usage.change_discuss",
    summary="summary.change_discuss",
    who="who.pm",
)
async def change_discuss(ctx: CommandContext, args: str) -> list[Reply]:
    project, number, _ = await _decision(ctx, args, with_note=False)
    cr = await changes.by_number(ctx.session, project.id, number)
    people = await changes.discuss(
        session=ctx.session,
        project=project,
        cr=cr,
        pm=acting(ctx),
        today=ctx.today,
        actor=actor_of(ctx),
        now=ctx.now,
        event_id=ctx.message.event_id,
    )
    who = ctx.t("plan.sep").join(members.mention(m) for m in people) or ctx.t("value.none")
    return [Text(ctx.t("change.discussing", number=cr.number, who=who))]


@router.command(
    "changes",
    "变更列表",
    "change list",
    usage="usage.changes",
    summary="summary.changes",
    who="who.anyone",
)
async def changes_list(ctx: CommandContext, args: str) -> list[Reply]:
    project = ctx.require_project()
    everything = normalize(args).lower() in ALL_WORDS
    number = 1 if everything else page_number(args)
    found = await changes.listed(ctx.session, project.id)
    if not found:
        return [Text(ctx.t("change.list_empty"))]
    opened = sum(cr.status == "open" for cr, _ in found)
    # By default the open ones and the latest decisions; `all` (or a page number) pages through all.
    shown = found if everything or args.strip() else found[: opened + RECENT_DECIDED]
    lines = []
    for cr, requester in shown:
        status = "discussing" if cr.status == "open" and cr.discussing else cr.status
        lines.append(
            ctx.t(
                "change.list_line",
                icon=STATUS_ICONS[cr.status],
                number=cr.number,
                status=ctx.t(f"change.status.{status}"),
                what=render.describe_request(ctx.locale, cr, ctx.today),
                who=members.mention(requester) if requester else ctx.t("value.none"),
            )
        )
    lines = page(ctx, lines, number, usage_key="usage.changes")
    if len(shown) < len(found):
        lines += ["", ctx.t("change.list_more", count=len(found) - len(shown))]
    return [Card(ctx.t("change.list_title", open=opened, count=len(found)), "\n".join(lines))]
