"""/dashboard: a personal link to the project's read-only web page, sent privately; /dashboard
revoke makes a member's links stop opening."""

from __future__ import annotations

from adapters.models import Reply, Text
from bot.commands.common import actor_of, self_or_pm_named
from bot.commands.context import CommandContext
from bot.commands.parsing import normalize
from bot.commands.registry import Router
from bot.errors import UsageError, UserFacingError
from bot.permissions import acting, require_member
from bot.services import dashboard, members, notify
from bot.services.dashboard import Links

router = Router("dashboard", title="help.section.dashboard")


def _links(ctx: CommandContext) -> Links:
    if ctx.dashboard is None:
        raise UserFacingError("dashboard.off")
    return ctx.dashboard


@router.command("dashboard", "看板", usage="usage.dashboard", summary="summary.dashboard", who="who.member")
async def open_dashboard(ctx: CommandContext, args: str) -> list[Reply]:
    if normalize(args):
        raise UsageError()
    links = _links(ctx)
    project = ctx.require_project()
    member = await require_member(ctx)
    url, expires = links.issue(member, ctx.now)
    until = expires.astimezone(ctx.tz).strftime("%Y-%m-%d %H:%M")
    link = Text(ctx.t("dashboard.link", project=project.name, url=url, until=until))
    if ctx.message.chat.chat_type == "p2p":
        return [link]
    # The link is personal: it goes to the member alone, the group only hears that it was sent.
    await notify.tell(
        session=ctx.session,
        member=member,
        reply=link,
        key=f"dashboard:{ctx.message.platform}:{ctx.message.event_id}",
        now=ctx.now,
    )
    return [Text(ctx.t("dashboard.sent", days=links.days))]


@router.command(
    "dashboard revoke",
    "看板 撤销",
    usage="usage.dashboard_revoke",
    summary="summary.dashboard_revoke",
    who="who.dashboard_revoke",
)
async def revoke(ctx: CommandContext, args: str) -> list[Reply]:
    _links(ctx)
    project = ctx.require_project()
    me = acting(ctx)
    whose = self_or_pm_named(ctx, args)
    member = me
    if whose != me.platform_user_id:
        found = await members.by_user(ctx.session, project.id, ctx.message.platform, whose)
        if found is None:
            raise UserFacingError("dashboard.not_member", who=f"<at:{whose}>")
        member = found
    await dashboard.revoke(session=ctx.session, member=member, actor=actor_of(ctx), now=ctx.now)
    if member is me:
        return [Text(ctx.t("dashboard.revoked_self"))]
    return [Text(ctx.t("dashboard.revoked_other", who=f"<at:{whose}>"))]
