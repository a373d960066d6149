"""Who may run a command: declared once, where the command is registered (`who="who.pm"`).

The declaration names a `Rule`. The dispatcher awaits the rule's `admit` before the handler runs,
so a command declared for PMs cannot run for anyone else, and /help, the README and refusals all
read the same key. A rule that depends on what is acted on (a task, a department, someone else's
leave) admits everyone who could qualify; its handler finishes the check with one of the object
checks below, which refuse in the words of the command's declared rule (`denied`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from sqlalchemy import exists, select

from bot.commands.context import CommandContext
from bot.commands.registry import Registry
from bot.errors import PermissionDenied, UserFacingError
from bot.services import members, projects
from bot.services.audit import Actor
from storage.models import Department, Member, RaciAssignment, Task

Admit = Callable[[CommandContext], Awaitable[None]]


@dataclass(frozen=True)
class Rule:
    admit: Admit  # checked by the dispatcher before the handler
    denied: str | None = None  # the `who.*` key refusals name when it differs from the declared one


def is_pm(actor: Member | None) -> bool:
    return actor is not None and actor.role == "pm"


def deny(ctx: CommandContext) -> PermissionDenied:
    """The refusal of the running command, in the words of its declared rule."""
    return PermissionDenied(RULES[ctx.spec.who].denied or ctx.spec.who)


def require_pm(ctx: CommandContext) -> Member:
    """For commands anyone may view and PMs may change: the change needs a PM."""
    if ctx.actor is None or not is_pm(ctx.actor):
        raise deny(ctx)
    return ctx.actor


def acting(ctx: CommandContext) -> Member:
    """The acting member, once the dispatcher admitted them under a rule that needs one."""
    if ctx.actor is None:
        raise AssertionError(f"{ctx.spec.name}: its rule {ctx.spec.who} admits only members")
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
    sender = ctx.message.sender
    # Someone removed from the project does not walk back in by writing: a PM or head adds them.
    removed = await members.by_user(ctx.session, project.id, sender.platform, sender.user_id, removed=True)
    if project.join_policy == "closed" or removed is not None:
        # Mentions: the platform shows each PM's current name (stored names may be empty).
        names = ctx.t("plan.sep").join(
            members.mention(pm) for pm in await members.pms(ctx.session, project.id)
        )
        key = "member.join_removed" if removed is not None else "member.join_closed"
        raise UserFacingError(key, pms=names, add=ctx.t("member.join_add_command"))
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


async def _heads_any(ctx: CommandContext) -> bool:
    if ctx.actor is None:
        return False
    return bool(await ctx.session.scalar(select(exists().where(Department.head_member_id == ctx.actor.id))))


async def require_pm_or_head(ctx: CommandContext, department_id: int | None) -> Member:
    if ctx.actor is None or not (is_pm(ctx.actor) or await heads_department(ctx, department_id)):
        raise deny(ctx)
    return ctx.actor


async def require_pm_or_their_head(ctx: CommandContext, member: Member) -> Member:
    """For acting on someone else (their leave, their task list): a PM or the head of their department."""
    if ctx.actor is None or not (is_pm(ctx.actor) or await heads_department(ctx, member.department_id)):
        raise deny(ctx)
    return ctx.actor


def require_owner_or_pm(ctx: CommandContext, owner_member_id: int | None) -> Member:
    """For a risk or an action item: its owner or a PM."""
    actor = ctx.actor
    if actor is None or not (is_pm(actor) or owner_member_id == actor.id):
        raise deny(ctx)
    return actor


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
    raise deny(ctx)


# --- what the dispatcher checks ------------------------------------------------------------------


async def _anyone(ctx: CommandContext) -> None:
    return None


async def _member(ctx: CommandContext) -> None:
    await require_member(ctx)


async def _known_member(ctx: CommandContext) -> None:
    """Rules about one's own things (a task, a risk, an action item) are for members only; acting on
    something never makes one a member."""
    if ctx.actor is None:
        raise deny(ctx)


async def _pm(ctx: CommandContext) -> None:
    if not is_pm(ctx.actor):
        raise deny(ctx)


async def _pm_or_a_head(ctx: CommandContext) -> None:
    if not (is_pm(ctx.actor) or await _heads_any(ctx)):
        raise deny(ctx)


async def _a_head(ctx: CommandContext) -> None:
    if not await _heads_any(ctx):
        raise deny(ctx)


RULES: dict[str, Rule] = {
    "who.anyone": Rule(_anyone),
    # Commands about a project named in their arguments (none is in context yet) check that one:
    # `/project new` refuses a chat already linked to a project, bind asks for a PM of the named
    # project, use looks only among the sender's own projects.
    "who.unbound": Rule(_anyone),
    "who.pm_named": Rule(_anyone, denied="who.pm"),
    "who.member_named": Rule(_anyone),
    "who.member": Rule(_member),
    # Messaging someone through the bot never enrols the sender.
    "who.joined": Rule(_known_member, denied="who.member"),
    "who.pm": Rule(_pm),
    "who.pm_or_head": Rule(_pm_or_a_head),
    "who.head": Rule(_a_head),
    "who.updater": Rule(_known_member),
    "who.action_owner": Rule(_known_member),
    "who.risk_owner": Rule(_known_member),
    "who.need_handle": Rule(_known_member),
    # Viewing is for anyone; changing, escalating or acting for someone else is checked on the object.
    "who.view_anyone_edit_pm": Rule(_anyone, denied="who.pm"),
    "who.view_anyone_edit_pm_or_head": Rule(_anyone, denied="who.pm_or_head"),
    "who.risk_status": Rule(_anyone, denied="who.risk_owner"),
    "who.leave": Rule(_anyone, denied="who.pm_or_their_head"),
    "who.pm_or_their_head_view": Rule(_anyone, denied="who.pm_or_their_head"),
    "who.undo": Rule(_member, denied="who.pm"),
    # One's own links for any member; another's (checked in the handler) for a PM.
    "who.dashboard_revoke": Rule(_known_member),
}


def undeclared(registry: Registry) -> list[str]:
    """Commands whose `who` names no rule (checked when the registry is built)."""
    specs = [spec for router in registry.routers for spec in router.commands]
    if registry.fallback is not None:
        specs.append(registry.fallback)
    return [spec.name for spec in specs if spec.who not in RULES]
