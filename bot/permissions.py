"""Who may change what. Each check raises PermissionDenied naming who may, so the refusal is useful."""

from __future__ import annotations

from sqlalchemy import select

from bot.commands.context import CommandContext
from bot.errors import PermissionDenied, UserFacingError
from bot.services import members, projects
from bot.services.audit import Actor
from storage.models import Department, Member, RaciAssignment, Task


def is_pm(actor: Member | None) -> bool:
    return actor is not None and actor.role == "pm"


def require_pm(ctx: CommandContext) -> Member:
    if ctx.actor is None or not is_pm(ctx.actor):
        raise PermissionDenied("who.pm")
    return ctx.actor


async def require_member(ctx: CommandContext) -> Member:
    """The acting member. Someone writing in a group chat bound to the project is a participant:
    under the project's `join` policy they are added on their first change and told so (`auto`),
    or refused with who can add them (`closed`). Every self-enrolment goes through here."""
    if ctx.actor is not None:
        return ctx.actor
    project = ctx.require_project()
    binding = await projects.binding_for_chat(ctx.session, ctx.message.platform, ctx.message.chat.chat_id)
    if binding is None or binding.project_id != project.id or ctx.message.chat.chat_type != "group":
        raise PermissionDenied("who.member")
    if project.join_policy == "closed":
        # Mentions: the platform shows each PM's current name (stored names may be empty).
        names = ctx.t("plan.sep").join(
            members.mention(pm) for pm in await members.pms(ctx.session, project.id)
        )
        raise UserFacingError("member.join_closed", pms=names, add=ctx.t("member.join_add_command"))
    sender = ctx.message.sender
    ctx.actor = await members.ensure(
        session=ctx.session,
        project=project,
        user=sender,
        actor=Actor(sender.platform, sender.user_id, sender.name, ctx.message.event_id),
        now=ctx.now,
    )
    ctx.notices.append(ctx.t("member.joined_self"))
    return ctx.actor


async def heads_department(ctx: CommandContext, department_id: int | None) -> bool:
    if ctx.actor is None or department_id is None:
        return False
    department = await ctx.session.get(Department, department_id)
    return department is not None and department.head_member_id == ctx.actor.id


async def require_pm_or_head(ctx: CommandContext, department_id: int | None) -> Member:
    if ctx.actor is None or not (is_pm(ctx.actor) or await heads_department(ctx, department_id)):
        raise PermissionDenied("who.pm_or_head")
    return ctx.actor


async def require_task_updater(ctx: CommandContext, task: Task) -> Member:
    """The task's owner, its R or A (the head, for an R or A department), the head of its
    department, or a PM."""
    actor = ctx.actor
    if actor is not None and (
        is_pm(actor) or task.owner_member_id == actor.id or await heads_department(ctx, task.department_id)
    ):
        return actor
    if actor is not None:
        headed = select(Department.id).where(Department.head_member_id == actor.id)
        role = await ctx.session.scalar(
            select(RaciAssignment.role)
            .where(
                RaciAssignment.task_id == task.id,
                (RaciAssignment.member_id == actor.id) | RaciAssignment.department_id.in_(headed),
                RaciAssignment.role.in_(("R", "A")),
            )
            .limit(1)
        )
        if role is not None:
            return actor
    raise PermissionDenied("who.updater")
