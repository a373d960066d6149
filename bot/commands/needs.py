"""Resource requests: /资源 (/needs) lists the open ones, /资源 添加 (/need add) asks for something,
/资源 处理 (/need done) marks one handled. Thin handlers over bot.services.resources."""

from __future__ import annotations

import re

from adapters.models import Card, Reply, Text
from bot.commands.common import actor_of, parse_ref, split_args
from bot.commands.context import CommandContext
from bot.commands.parsing import TEXT_LIMIT, bounded, normalize
from bot.commands.registry import LIST_WORDS, Router
from bot.errors import UsageError
from bot.permissions import acting, deny
from bot.render import needs as render
from bot.services import calendar, members, resources, tasks

router = Router("needs", title="help.section.needs")

MAX_LIST = 15
# "/资源 添加 2.1 需要测试服务器": a task code first ties the request to that task.
_LEADING_CODE = re.compile(r"([1-9][0-9]*(?:\.[1-9][0-9]*){0,2})\s")


@router.command(
    "needs",
    "need",
    "资源",
    "资源列表",
    "资源需求",
    usage="usage.needs",
    summary="summary.needs",
    who="who.anyone",
)
async def needs(ctx: CommandContext, args: str) -> list[Reply]:
    project = ctx.require_project()
    if normalize(args).lower() not in LIST_WORDS:
        raise UsageError()
    items = await resources.listed(ctx.session, project.id)
    if not items:
        return [Text(ctx.t("need.list_empty"))]
    work_calendar = await calendar.for_project(ctx.session, project.id)
    lines = [render.request_line(ctx.locale, item, ctx.today, work_calendar) for item in items[:MAX_LIST]]
    if len(items) > MAX_LIST:
        lines.append(ctx.t("overview.more", count=len(items) - MAX_LIST))
    lines.append(ctx.t("need.list_hint"))
    return [Card(ctx.t("need.list_title", count=len(items)), "\n".join(lines), color="orange")]


@router.command(
    "need add", "资源 添加", "资源 新增", usage="usage.need_add", summary="summary.need_add", who="who.member"
)
async def need_add(ctx: CommandContext, args: str) -> list[Reply]:
    project = ctx.require_project()
    text = ctx.typed(args).strip()
    if not text:
        raise UsageError("arg.missing", name=ctx.t("need.field.text"))
    bounded(text, resources.MAX_TEXT)
    requester = acting(ctx)
    code = _LEADING_CODE.match(text + " ")
    task = await tasks.by_code(ctx.session, project.id, code[1]) if code else None
    opened = await resources.open_request(
        session=ctx.session,
        project=project,
        requester=requester,
        text=text,
        task=task,
        source="command",
        day=ctx.today,
        actor=actor_of(ctx),
        now=ctx.now,
    )
    return [Text(render.routed_line(ctx.locale, opened))]


@router.command(
    "need done",
    "need handled",
    "资源 处理",
    "资源 已处理",
    "资源 完成",
    usage="usage.need_done",
    summary="summary.need_done",
    who="who.need_handle",
)
async def need_done(ctx: CommandContext, args: str) -> list[Reply]:
    project = ctx.require_project()
    parts = split_args(ctx, args, 2)
    if not parts:
        raise UsageError()
    note = bounded(parts[1] if len(parts) > 1 else "", TEXT_LIMIT)
    request = await resources.by_number(ctx.session, project.id, parse_ref(parts[0], "N"))
    member = ctx.actor
    if member is None or not await resources.may_handle(ctx.session, request, member):
        raise deny(ctx)
    told = await resources.handle(
        session=ctx.session,
        project=project,
        request=request,
        by=member,
        note=note,
        actor=actor_of(ctx),
        now=ctx.now,
    )
    lines = [
        ctx.t(
            "need.handled",
            number=request.number,
            text=request.text,
            note=ctx.t("need.note", note=note) if note else "",
        )
    ]
    if told is not None:
        lines.append(ctx.t("need.requester_told", who=members.mention(told)))
    return [Text("\n".join(lines))]
