"""/project: create a project in this chat, bind more chats, show it, appoint PMs, pick one in 1:1."""

from __future__ import annotations

from adapters.models import Card, Reply, Text
from bot.commands.common import actor_of, date_option, mentioned_user
from bot.commands.context import CommandContext
from bot.commands.parsing import parse_args
from bot.commands.registry import Router
from bot.errors import UsageError, UserFacingError
from bot.permissions import deny, is_pm
from bot.render import views
from bot.services import audit, members, projects, structure

router = Router("project", title="help.section.project")


@router.command(
    "project new",
    "项目 新建",
    "项目 创建",
    usage="usage.project_new",
    summary="summary.project_new",
    who="who.unbound",
    needs_project=False,
)
async def project_new(ctx: CommandContext, args: str) -> list[Reply]:
    parsed = parse_args(ctx.typed(args), options={"start", "due"}, max_positional=0)
    name = parsed.rest.strip()
    if not name:
        raise UsageError("arg.missing", name=ctx.t("field.name"))
    if len(name) > 200:
        raise UsageError("project.name_too_long")
    start = date_option(ctx, parsed, "start")
    end = date_option(ctx, parsed, "due")
    project = await projects.create(
        session=ctx.session,
        name=name,
        start=start,
        end=end,
        chat=ctx.message.chat,
        creator=ctx.message.sender,
        actor=actor_of(ctx),
        timezone=ctx.default_timezone,
        locale=ctx.locale,
        now=ctx.now,
    )
    return [Text(ctx.t("project.created", name=project.name, id=project.id))]


@router.command(
    "project bind",
    "项目 绑定",
    usage="usage.project_bind",
    summary="summary.project_bind",
    who="who.pm_named",
    needs_project=False,
)
async def project_bind(ctx: CommandContext, args: str) -> list[Reply]:
    ref = args.strip()
    if not ref:
        raise UsageError()
    project = await projects.find(ctx.session, ref)
    if project is None:
        raise UserFacingError("project.not_found", ref=ref)
    ctx.locale = project.locale
    me = await members.by_user(ctx.session, project.id, ctx.message.platform, ctx.message.sender.user_id)
    if not is_pm(me):
        raise deny(ctx)
    await projects.bind_chat(
        session=ctx.session, project=project, chat=ctx.message.chat, actor=actor_of(ctx), now=ctx.now
    )
    return [Text(ctx.t("project.bound", name=project.name, id=project.id))]


@router.command(
    "project info", "项目 信息", usage="usage.project_info", summary="summary.project_info", who="who.anyone"
)
async def project_info(ctx: CommandContext, args: str) -> list[Reply]:
    project = ctx.require_project()
    summary = await views.project_summary(ctx.session, project, locale=ctx.locale, today=ctx.today)
    return [Card(ctx.t("project.info_title", name=project.name, id=project.id), summary)]


@router.command(
    "project pm",
    "项目 负责人",
    "项目 经理",
    usage="usage.project_pm",
    summary="summary.project_pm",
    who="who.pm",
)
async def project_pm(ctx: CommandContext, args: str) -> list[Reply]:
    project = ctx.require_project()
    parsed = parse_args(ctx.typed(args), options=set(), max_positional=0)
    if len(parsed.mentions) != 1 or parsed.rest:
        raise UsageError()
    user = mentioned_user(ctx, parsed.mentions[0])
    member = await members.ensure(
        session=ctx.session, project=project, user=user, actor=actor_of(ctx), now=ctx.now
    )
    if member.role == "pm":
        return [Text(ctx.t("project.already_pm", who=members.mention(member)))]
    await audit.update(
        member,
        {"role": "pm"},
        session=ctx.session,
        actor=actor_of(ctx),
        now=ctx.now,
        project_id=project.id,
        action="member.role",
        entity="member",
    )
    return [Text(ctx.t("project.pm_added", who=members.mention(member)))]


@router.command(
    "project pm remove",
    "项目 负责人 移除",
    "项目 经理 移除",
    usage="usage.project_pm_remove",
    summary="summary.project_pm_remove",
    who="who.pm",
)
async def project_pm_remove(ctx: CommandContext, args: str) -> list[Reply]:
    project = ctx.require_project()
    parsed = parse_args(ctx.typed(args), options=set(), max_positional=0)
    if len(parsed.mentions) != 1 or parsed.rest:
        raise UsageError()
    user = mentioned_user(ctx, parsed.mentions[0])
    member = await members.by_user(ctx.session, project.id, user.platform, user.user_id)
    who = members.mention(member) if member else f"<at:{user.user_id}>"
    if member is None or not await structure.remove_pm(
        session=ctx.session, project=project, member=member, actor=actor_of(ctx), now=ctx.now
    ):
        return [Text(ctx.t("project.not_pm", who=who))]
    return [Text(ctx.t("project.pm_removed", who=who))]


@router.command(
    "project use",
    "项目 切换",
    usage="usage.project_use",
    summary="summary.project_use",
    who="who.member_named",
    needs_project=False,
)
async def project_use(ctx: CommandContext, args: str) -> list[Reply]:
    ref = args.strip()
    if not ref:
        raise UsageError()
    # Only among the sender's own projects: anyone can name a project like someone else's.
    found = await projects.find_mine(ctx.session, ctx.message.sender, ref)
    if not found:
        raise UserFacingError("project.not_found", ref=ref)
    if len(found) > 1:
        choices = await views.project_choices(ctx.session, found, ctx.locale)
        raise UserFacingError("project.ambiguous", ref=ref, choices=choices)
    [project] = found
    await projects.use(ctx.session, ctx.message.sender, project)
    ctx.locale = project.locale
    return [Text(ctx.t("project.using", name=project.name, id=project.id))]
