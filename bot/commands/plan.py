"""Departments, members, phases, tasks, RACI and milestones.

Handlers parse, check who may act, call `bot.services.plan` and render short replies; the rules and
the writes live in the service.
"""

from __future__ import annotations

from collections import Counter
from datetime import date

from adapters.models import ActionGroup, Button, Card, Reply, Text
from bot.commands import gate
from bot.commands.common import actor_of, date_option, mentioned_user
from bot.commands.context import CommandContext
from bot.commands.paging import page, page_number
from bot.commands.parsing import (
    DUPLICATE_OPTION,
    MAX_ID_DIGITS,
    TITLE_LIMIT,
    ArgError,
    Args,
    bounded,
    normalize,
    parse_args,
    parse_code_list,
    parse_date,
    parse_mention_list,
    parse_people_or_names,
    parse_wbs_code,
    tokenize,
)
from bot.commands.registry import Router
from bot.domain import wbs
from bot.errors import UsageError, UserFacingError
from bot.permissions import is_pm, require_pm, require_pm_or_head
from bot.render.baseline import due_against_baseline, summary_line
from bot.render.dates import short_day
from bot.render.safe import inert
from bot.services import baselines, changes, members, notify, plan, structure, tasks
from bot.services import calendar as calendar_service
from bot.services import raci as raci_service
from bot.services.plan import KEEP, Keep
from storage.models import Department, Member, Task

router = Router("plan", title="help.section.plan")

CLEAR_WORDS = frozenset({"-", "无", "none", "清空", "clear"})
STATUS_ICONS = {"not_started": "⚪", "in_progress": "🔵", "blocked": "🔴", "done": "✅"}
OVERDUE_ICON = "⚠️"
INDENT = "\u3000"  # a full-width space survives card markdown where leading spaces do not
CRITICAL_MARK = "🔺"  # on the critical path: a slip here moves the plan's end


# --- small helpers ---------------------------------------------------------------------------------


def _date_or_none(ctx: CommandContext, value: date | None) -> str:
    return short_day(value, ctx.today) if value else ctx.t("value.none")


def _is_clear(value: str) -> bool:
    return value.strip().lower() in CLEAR_WORDS


def _codes(value: str) -> tuple[str, ...]:
    return () if _is_clear(value) else parse_code_list(value)


def _code(ctx: CommandContext, parsed: Args) -> str:
    if not parsed.positional:
        raise UsageError("arg.missing", name=ctx.t("plan.field.code"))
    return parse_wbs_code(parsed.positional[0])


def _one_person(parsed: Args, option: str, error_key: str) -> str | None:
    """The one user id given as a standalone mention or as `option=@x`; several -> UsageError."""
    ids = list(dict.fromkeys((*parsed.mentions, *parse_mention_list(parsed.options.get(option, "")))))
    if len(ids) > 1:
        raise UsageError(error_key)
    return ids[0] if ids else None


def _mention(member: Member | None, ctx: CommandContext) -> str:
    return members.mention(member) if member else ctx.t("value.none")


def _icon(rolled: wbs.Rolled, today: date) -> str:
    if rolled.status != "done" and rolled.due is not None and rolled.due < today:
        return OVERDUE_ICON
    return STATUS_ICONS.get(rolled.status, "⚪")


# --- departments -----------------------------------------------------------------------------------


@router.command(
    "dept add",
    "部门 添加",
    "部门 新建",
    "department add",
    usage="usage.dept_add",
    summary="summary.dept_add",
    who="who.pm",
)
async def dept_add(ctx: CommandContext, args: str) -> list[Reply]:
    project = ctx.require_project()
    parsed = parse_args(ctx.typed(args), options={"owner"}, max_positional=0)
    if not parsed.rest:
        raise UsageError("arg.missing", name=ctx.t("plan.field.dept_name"))
    head_id = _one_person(parsed, "owner", "plan.one_head")  # `@bob` or `负责人=@bob`
    head = mentioned_user(ctx, head_id) if head_id else None
    department, result = await plan.add_department(
        session=ctx.session,
        project=project,
        name=bounded(parsed.rest, TITLE_LIMIT),
        head=head,
        actor=actor_of(ctx),
        now=ctx.now,
    )
    lines = [
        ctx.t("plan.dept_added_head", name=department.name, head=members.mention(result.member))
        if result
        else ctx.t("plan.dept_added", name=department.name)
    ]
    if result and result.joined:
        lines.append(ctx.t("plan.joined_project", who=members.mention(result.member)))
    lines.append(ctx.t("plan.dept_next", name=department.name))
    return [Text("\n".join(lines))]


@router.command(
    "dept head",
    "部门 负责人",
    "department head",
    usage="usage.dept_head",
    summary="summary.dept_head",
    who="who.pm",
)
async def dept_head(ctx: CommandContext, args: str) -> list[Reply]:
    project = ctx.require_project()
    parsed = parse_args(ctx.typed(args), options={"owner"}, max_positional=0)
    head_id = _one_person(parsed, "owner", "plan.one_head")
    if not parsed.rest or head_id is None:
        raise UsageError()
    department = await plan.resolve_department(ctx.session, project.id, parsed.rest)
    result = await plan.set_department_head(
        session=ctx.session,
        project=project,
        department=department,
        head=mentioned_user(ctx, head_id),
        actor=actor_of(ctx),
        now=ctx.now,
    )
    who = members.mention(result.member)
    key = "plan.dept_head_set" if result.changed else "plan.dept_head_same"
    lines = [ctx.t(key, head=who, name=department.name)]
    if result.joined:
        lines.append(ctx.t("plan.joined_project", who=who))
    return [Text("\n".join(lines))]


@router.command(
    "dept rename",
    "部门 改名",
    "部门 重命名",
    "department rename",
    usage="usage.dept_rename",
    summary="summary.dept_rename",
    who="who.pm",
)
async def dept_rename(ctx: CommandContext, args: str) -> list[Reply]:
    project = ctx.require_project()
    parsed = parse_args(ctx.typed(args), options=(), max_positional=1)
    if not parsed.positional or not parsed.rest or parsed.mentions:
        raise UsageError()
    new_name = bounded(parsed.rest, TITLE_LIMIT)
    department = await plan.resolve_department(ctx.session, project.id, parsed.positional[0])
    old_name = department.name
    changed = await structure.rename_department(
        session=ctx.session,
        project=project,
        department=department,
        name=new_name,
        actor=actor_of(ctx),
        now=ctx.now,
    )
    if not changed:
        return [Text(ctx.t("plan.dept_same_name", name=old_name))]
    return [Text(ctx.t("plan.dept_renamed", old=old_name, name=department.name))]


@router.command(
    "dept delete",
    "部门 删除",
    "department delete",
    usage="usage.dept_delete",
    summary="summary.dept_delete",
    who="who.pm",
)
async def dept_delete(ctx: CommandContext, args: str) -> list[Reply]:
    project = ctx.require_project()
    parsed = parse_args(ctx.typed(args), options=(), max_positional=0)
    if not parsed.rest or parsed.mentions:
        raise UsageError()
    department = await plan.resolve_department(ctx.session, project.id, parsed.rest)
    name = department.name
    await structure.delete_department(
        session=ctx.session, project=project, department=department, actor=actor_of(ctx), now=ctx.now
    )
    return [Text(ctx.t("plan.dept_deleted", name=name))]


@router.command(
    "depts", "部门列表", "departments", usage="usage.depts", summary="summary.depts", who="who.anyone"
)
async def depts(ctx: CommandContext, args: str) -> list[Reply]:
    project = ctx.require_project()
    departments = await plan.departments(ctx.session, project.id)
    people = await plan.project_members(ctx.session, project.id)
    if not departments:
        return [Text(ctx.t("plan.depts_empty"))]
    by_id = {member.id: member for member in people}
    counts = Counter(member.department_id for member in people)
    lines = [
        ctx.t(
            "plan.depts_line",
            name=dept.name,
            head=_mention(by_id.get(dept.head_member_id) if dept.head_member_id else None, ctx),
            count=counts[dept.id],
        )
        for dept in departments
    ]
    if counts[None]:
        lines.append(ctx.t("plan.depts_unassigned", count=counts[None]))
    return [Card(ctx.t("plan.depts_title", count=len(departments)), "\n".join(lines))]


# --- members ---------------------------------------------------------------------------------------


@router.command(
    "member add",
    "成员 添加",
    "成员 加入",
    usage="usage.member_add",
    summary="summary.member_add",
    who="who.pm_or_head",
)
async def member_add(ctx: CommandContext, args: str) -> list[Reply]:
    project = ctx.require_project()
    parsed = parse_args(ctx.typed(args), options={"dept"}, max_positional=0)
    if not parsed.mentions:
        raise UsageError("arg.missing", name=ctx.t("plan.field.people"))
    if "dept" in parsed.options and parsed.rest:
        raise UsageError()
    name = parsed.options.get("dept") or parsed.rest
    department = await plan.resolve_department(ctx.session, project.id, name) if name else None
    await require_pm_or_head(ctx, department.id if department else None)
    changes = await plan.add_members(
        session=ctx.session,
        project=project,
        users=[mentioned_user(ctx, user_id) for user_id in parsed.mentions],
        department=department,
        actor=actor_of(ctx),
        now=ctx.now,
    )
    dept = department.name if department else ""
    lines = [
        ctx.t(
            f"plan.member_{change.outcome}",
            who=members.mention(change.member),
            dept=dept,
            old=change.old_department or "",
        )
        for change in changes
    ]
    return [Text("\n".join(lines))]


async def _present_member(ctx: CommandContext, parsed: Args) -> Member:
    """The one member mentioned; someone who is not (or no longer) in the project is refused."""
    if len(parsed.mentions) != 1:
        raise UsageError()
    user = mentioned_user(ctx, parsed.mentions[0])
    member = await members.by_user(ctx.session, ctx.require_project().id, user.platform, user.user_id)
    if member is None:
        raise UserFacingError("plan.not_a_member", who=f"<at:{user.user_id}>")
    return member


async def _tell_pms(ctx: CommandContext, lines: list[str], what: str) -> None:
    """A head's change to people that leaves open work reaches the PMs too, privately: they are
    the ones who reassign it."""
    if is_pm(ctx.actor):
        return
    here = ctx.message
    reply = Text("\n".join([ctx.t("plan.pm_heads_up", who=f"<at:{here.sender.user_id}>"), *lines]))
    for pm in await members.pms(ctx.session, ctx.require_project().id):
        key = f"{what}:{here.platform}:{here.event_id}:{pm.id}"
        await notify.tell(session=ctx.session, member=pm, reply=reply, key=key, now=ctx.now)


@router.command(
    "member remove",
    "成员 移除",
    "成员 删除",
    usage="usage.member_remove",
    summary="summary.member_remove",
    who="who.pm_or_head",
)
async def member_remove(ctx: CommandContext, args: str) -> list[Reply]:
    project = ctx.require_project()
    parsed = parse_args(ctx.typed(args), options=(), max_positional=0)
    if parsed.rest:
        raise UsageError()
    member = await _present_member(ctx, parsed)
    await require_pm_or_head(ctx, member.department_id)
    removed = await structure.remove_member(
        session=ctx.session, project=project, member=member, actor=actor_of(ctx), now=ctx.now
    )
    who = members.mention(member)
    lines = [ctx.t("plan.member_removed", who=who)]
    if removed.tasks:
        lines.append(ctx.t("plan.member_removed_tasks", codes=", ".join(removed.tasks)))
    if removed.raci:
        lines.append(ctx.t("plan.member_removed_raci", codes=", ".join(removed.raci)))
    if removed.actions or removed.risks:
        items = [*(f"A{n}" for n in removed.actions), *(f"R{n}" for n in removed.risks)]
        lines.append(ctx.t("plan.member_removed_items", items=", ".join(items)))
    if not (removed.tasks or removed.raci or removed.actions or removed.risks):
        lines.append(ctx.t("plan.member_removed_nothing_open"))
    else:
        await _tell_pms(ctx, lines, "member-remove")
    lines.append(ctx.t("plan.member_removed_kept"))
    return [Text("\n".join(lines))]


@router.command(
    "member move",
    "成员 调动",
    "成员 调岗",
    usage="usage.member_move",
    summary="summary.member_move",
    who="who.pm_or_head",
)
async def member_move(ctx: CommandContext, args: str) -> list[Reply]:
    project = ctx.require_project()
    parsed = parse_args(ctx.typed(args), options={"dept"}, max_positional=0)
    if "dept" in parsed.options and parsed.rest:
        raise UsageError()
    name = parsed.options.get("dept") or parsed.rest
    if not name:
        raise UsageError("arg.missing", name=ctx.t("plan.field.dept_name"))
    member = await _present_member(ctx, parsed)
    department = await plan.resolve_department(ctx.session, project.id, name)
    # Both sides agree: the department they leave (if any) and the one that takes them.
    if member.department_id is not None:
        await require_pm_or_head(ctx, member.department_id)
    await require_pm_or_head(ctx, department.id)
    moved = await structure.move_member(
        session=ctx.session,
        project=project,
        member=member,
        department=department,
        actor=actor_of(ctx),
        now=ctx.now,
    )
    who = members.mention(member)
    if not moved.changed:
        return [Text(ctx.t("plan.member_same_dept", who=who, dept=department.name))]
    old = moved.old.name if moved.old else ctx.t("plan.no_dept")
    lines = [ctx.t("plan.member_moved_to", who=who, old=old, dept=department.name)]
    if moved.tasks:
        lines.append(ctx.t("plan.member_moved_tasks", codes=", ".join(moved.tasks)))
        await _tell_pms(ctx, lines, "member-move")
    return [Text("\n".join(lines))]


@router.command("members", "成员列表", usage="usage.members", summary="summary.members", who="who.anyone")
async def members_list(ctx: CommandContext, args: str) -> list[Reply]:
    project = ctx.require_project()
    number = page_number(args)
    departments = await plan.departments(ctx.session, project.id)
    people = await plan.project_members(ctx.session, project.id)
    heads = {dept.head_member_id for dept in departments if dept.head_member_id}

    def line(member: Member) -> str:
        roles = [ctx.t("plan.role.pm")] if member.role == "pm" else []
        if member.id in heads:
            roles.append(ctx.t("plan.role.head"))
        suffix = " · " + ctx.t("plan.sep").join(roles) if roles else ""
        return ctx.t("plan.members_line", who=members.mention(member), roles=suffix)

    lines: list[str] = []
    for dept in departments:
        group = [m for m in people if m.department_id == dept.id]
        # The head first, then in order of joining.
        group.sort(key=lambda m: (m.id != dept.head_member_id, m.id))
        if group:
            lines += [ctx.t("plan.members_group", dept=dept.name), *map(line, group)]
    unassigned = [m for m in people if m.department_id is None]
    if unassigned:
        lines += [ctx.t("plan.members_unassigned"), *map(line, unassigned)]
    lines = page(ctx, lines, number, usage_key="usage.members")
    if is_pm(ctx.actor):
        lines += ["", ctx.t("plan.members_hint")]
    return [Card(ctx.t("plan.members_title", count=len(people)), "\n".join(lines))]


# --- phases and tasks ------------------------------------------------------------------------------


def _details(
    ctx: CommandContext, task: Task, owner: Member | None, dept: Department | None, after: list[str]
) -> str:
    parts = []
    if owner is not None:
        parts.append(ctx.t("plan.detail_owner", who=members.mention(owner)))
    if dept is not None:
        parts.append(ctx.t("plan.detail_dept", dept=dept.name))
    if task.start_date:
        parts.append(ctx.t("plan.detail_start", date=short_day(task.start_date, ctx.today)))
    if task.due_date:
        parts.append(ctx.t("plan.detail_due", date=short_day(task.due_date, ctx.today)))
    if after:
        parts.append(ctx.t("plan.detail_after", codes=", ".join(after)))
    return " · ".join(parts)


@router.command(
    "phase add", "阶段 添加", "阶段 新建", usage="usage.phase_add", summary="summary.phase_add", who="who.pm"
)
async def phase_add(ctx: CommandContext, args: str) -> list[Reply]:
    project = ctx.require_project()
    parsed = parse_args(ctx.typed(args), options={"start", "due"}, max_positional=1)
    code = _code(ctx, parsed)
    if not parsed.rest:
        raise UsageError("arg.missing", name=ctx.t("plan.field.title"))
    start = date_option(ctx, parsed, "start")
    end = date_option(ctx, parsed, "due")
    phase = await plan.add_phase(
        session=ctx.session,
        project=project,
        code=code,
        title=bounded(parsed.rest, TITLE_LIMIT),
        start=start,
        end=end,
        actor=actor_of(ctx),
        now=ctx.now,
    )
    lines = [ctx.t("plan.phase_added", code=phase.code, title=phase.title)]
    if details := _details(ctx, phase, None, None, []):
        lines.append(details)
    lines.append(ctx.t("plan.phase_next", code=phase.code))
    return [Text("\n".join(lines))]


def _phase_code(ctx: CommandContext, parsed: Args) -> str:
    code = _code(ctx, parsed)
    if plan.level(code) != 1:
        raise UsageError("plan.not_a_phase", code=code)
    return code


@router.command(
    "phase edit",
    "阶段 修改",
    "阶段 编辑",
    usage="usage.phase_edit",
    summary="summary.phase_edit",
    who="who.pm",
)
async def phase_edit(ctx: CommandContext, args: str) -> list[Reply]:
    project = ctx.require_project()
    parsed = parse_args(ctx.typed(args), options={"title", "start", "due"}, max_positional=1)
    code = _phase_code(ctx, parsed)
    title = _new_title(ctx, parsed)
    dates = _new_dates(ctx, parsed)
    if title is None and not {"start", "due"} & parsed.options.keys():
        raise UsageError("plan.nothing_to_change")
    phase = await plan.get_task(ctx.session, project.id, code)
    edited = await plan.edit_task(
        session=ctx.session,
        project=project,
        task=phase,
        title=title,
        start=dates["start"],
        due=dates["due"],
        actor=actor_of(ctx),
        now=ctx.now,
    )
    if not edited.changes:
        return [Text(ctx.t("plan.no_changes", code=phase.code))]
    lines = [
        ctx.t("plan.phase_edited", code=phase.code, title=phase.title),
        *change_lines(ctx, edited.changes),
    ]
    return [Text("\n".join(lines))]


@router.command(
    "phase delete",
    "阶段 删除",
    "phase remove",
    usage="usage.phase_delete",
    summary="summary.phase_delete",
    who="who.pm",
)
async def phase_delete(ctx: CommandContext, args: str) -> list[Reply]:
    project = ctx.require_project()
    parsed = parse_args(ctx.typed(args), options=(), max_positional=2)
    confirm = _confirmed(parsed)
    phase = await plan.get_task(ctx.session, project.id, _phase_code(ctx, parsed))
    return await _delete_tree(ctx, phase, confirm=confirm, command_key="plan.cmd.phase_delete_confirm")


@router.command(
    "task add",
    "任务 添加",
    "任务 新建",
    usage="usage.task_add",
    summary="summary.task_add",
    who="who.pm_or_head",
)
async def task_add(ctx: CommandContext, args: str) -> list[Reply]:
    project = ctx.require_project()
    parsed = parse_args(ctx.typed(args), options={"dept", "start", "due", "after", "owner"}, max_positional=1)
    code = _code(ctx, parsed)
    if not parsed.rest:
        raise UsageError("arg.missing", name=ctx.t("plan.field.title"))
    owner_id = _one_person(parsed, "owner", "plan.one_owner")
    owner = mentioned_user(ctx, owner_id) if owner_id else None
    start = date_option(ctx, parsed, "start")
    due = date_option(ctx, parsed, "due")
    after = _codes(parsed.options.get("after", ""))
    department = await plan.department_for(ctx.session, project, name=parsed.options.get("dept"), owner=owner)
    await require_pm_or_head(ctx, department.id if department else None)
    title = bounded(parsed.rest, TITLE_LIMIT)
    proposed = None
    if await gate.applies(ctx, project):
        proposed = await changes.task_add(
            ctx.session,
            project.id,
            code=code,
            title=title,
            owner=owner,
            department=department,
            start=start,
            due=due,
            after=after,
        )
        if not is_pm(ctx.actor):
            return [Text("\n".join(await gate.submit(ctx, project, proposed, "")))]
    added = await plan.add_task(
        session=ctx.session,
        project=project,
        code=code,
        title=title,
        owner=owner,
        department=department,
        start=start,
        due=due,
        after=after,
        actor=actor_of(ctx),
        now=ctx.now,
    )
    task = added.task
    lines = [ctx.t("plan.task_added", code=task.code, title=task.title)]
    if details := _details(ctx, task, added.owner, added.department, added.after):
        lines.append(details)
    if added.owner is not None and added.owner_joined:
        lines.append(ctx.t("plan.joined_project", who=members.mention(added.owner)))
    if (parent := added.outside_parent) is not None:
        lines.append(
            ctx.t(
                "plan.outside_parent",
                parent=parent.code,
                start=_date_or_none(ctx, parent.start_date),
                due=_date_or_none(ctx, parent.due_date),
            )
        )
    lines += _overlap_lines(ctx, added.overlaps)
    if proposed is not None:
        lines += await gate.log_own(ctx, project, proposed, changes.Impact([], []))
    if added.owner is None:
        lines.append(ctx.t("plan.task_next", code=task.code))
    return [Text("\n".join(lines))]


def _overlap_lines(ctx: CommandContext, overlaps: list[wbs.Overlap]) -> list[str]:
    return [
        ctx.t(
            "plan.dependency_overlap",
            upstream=o.upstream,
            due=short_day(o.due, ctx.today),
            downstream=o.downstream,
            start=short_day(o.start, ctx.today),
        )
        for o in overlaps
    ]


def _change_value(ctx: CommandContext, change: plan.Change, value: object) -> str:
    if value is None or value == "":  # "" : a mitigation cleared
        return ctx.t("value.none")
    if change.field == "owner":
        assert isinstance(value, Member)
        return members.mention(value)
    if change.field == "dept":
        assert isinstance(value, Department)
        return value.name
    if change.field == "level":
        return ctx.t(f"track.level.{value}")
    if isinstance(value, date):
        return short_day(value, ctx.today)
    if isinstance(value, list):
        return ", ".join(value) or ctx.t("value.none")
    return str(value)


def change_lines(ctx: CommandContext, changes: list[plan.Change]) -> list[str]:
    return [
        ctx.t(
            "plan.change_line",
            field=ctx.t(f"plan.label.{change.field}"),
            old=_change_value(ctx, change, change.old),
            new=_change_value(ctx, change, change.new),
        )
        for change in changes
    ]


def _new_title(ctx: CommandContext, parsed: Args) -> str | None:
    """The title an edit sets, as `title=` or as the words after the code; None: keep it."""
    title = parsed.options.get("title")
    if parsed.rest:
        if title is not None:
            raise UsageError()
        title = parsed.rest  # `/任务 修改 2.1 新标题`
    if title is not None and not title:
        raise UsageError("arg.missing", name=ctx.t("plan.field.title"))
    if title is not None:
        bounded(title, TITLE_LIMIT)
    return title


def _new_dates(ctx: CommandContext, parsed: Args) -> dict[str, date | Keep | None]:
    """`start` and `due` as an edit sets them: KEEP when not given, None when cleared."""
    dates: dict[str, date | Keep | None] = {}
    for key in ("start", "due"):
        raw = parsed.options.get(key)
        dates[key] = KEEP if raw is None else None if _is_clear(raw) else parse_date(raw, today=ctx.today)
    return dates


@router.command(
    "task edit",
    "任务 修改",
    "任务 编辑",
    "task update",
    usage="usage.task_edit",
    summary="summary.task_edit",
    who="who.pm_or_head",
)
async def task_edit(ctx: CommandContext, args: str) -> list[Reply]:
    project = ctx.require_project()
    parsed = parse_args(
        ctx.typed(args), options={"title", "owner", "dept", "start", "due", "after"}, max_positional=1
    )
    code = _code(ctx, parsed)
    title = _new_title(ctx, parsed)
    owner_id = _one_person(parsed, "owner", "plan.one_owner")
    dates = _new_dates(ctx, parsed)
    after = _codes(parsed.options["after"]) if "after" in parsed.options else None
    if (
        title is None
        and owner_id is None
        and after is None
        and not {"dept", "start", "due"} & parsed.options.keys()
    ):
        raise UsageError("plan.nothing_to_change")

    task = await plan.get_task(ctx.session, project.id, code)
    department: Department | Keep | None = KEEP
    raw_dept = parsed.options.get("dept")
    if raw_dept is not None:
        department = (
            None if _is_clear(raw_dept) else await plan.resolve_department(ctx.session, project.id, raw_dept)
        )
    await require_pm_or_head(ctx, task.department_id)
    if not isinstance(department, Keep) and (department.id if department else None) != task.department_id:
        await require_pm_or_head(ctx, department.id if department else None)  # the receiving side agrees too
    proposed = (
        await changes.task_edit(
            ctx.session, project.id, task, start=dates["start"], due=dates["due"], after=after
        )
        if await gate.applies(ctx, project)
        else None
    )
    waiting = proposed is not None and not is_pm(ctx.actor)
    if waiting:
        # The dates wait for a PM; the title, owner and department apply now, as before a baseline.
        dates, after = {"start": KEEP, "due": KEEP}, None
    effect = await gate.impact(ctx, project, proposed) if proposed is not None and not waiting else None
    edited = await plan.edit_task(
        session=ctx.session,
        project=project,
        task=task,
        title=title,
        owner=mentioned_user(ctx, owner_id) if owner_id else None,
        department=department,
        start=dates["start"],
        due=dates["due"],
        after=after,
        actor=actor_of(ctx),
        now=ctx.now,
    )
    lines = []
    if edited.changes:
        lines += [ctx.t("plan.task_edited", code=task.code, title=task.title)]
        lines += change_lines(ctx, edited.changes)
        if edited.owner_joined is not None:
            lines.append(ctx.t("plan.joined_project", who=members.mention(edited.owner_joined)))
        # Where the pushes moved the dependents, the edited task no longer overlaps them.
        pushed = effect is not None and bool(effect.shifts)
        lines += _overlap_lines(ctx, [o for o in edited.overlaps if not (pushed and o.upstream == task.code)])
    if waiting:
        assert proposed is not None
        lines += await gate.submit(ctx, project, proposed, "")
    elif proposed is not None and effect is not None:
        lines += await gate.log_own(ctx, project, proposed, effect)
    if not lines:
        return [Text(ctx.t("plan.no_changes", code=task.code))]
    return [Text("\n".join(lines))]


CONFIRM_WORDS = frozenset({"confirm", "确认"})


def _confirmed(parsed: Args) -> bool:
    """Whether the word after the code is `confirm`/`确认`; anything else there is a usage error."""
    if parsed.rest or parsed.mentions:
        raise UsageError()
    extra = parsed.positional[1:]
    if extra and extra[0].lower() not in CONFIRM_WORDS:
        raise UsageError()
    return bool(extra)


async def _delete_tree(ctx: CommandContext, task: Task, *, confirm: bool, command_key: str) -> list[Reply]:
    """Delete `task` with what hangs on it, or, when something does and it is not confirmed, say
    what would go and how to confirm: a button, or the same command with `confirm`/`确认`."""
    deleted = await plan.delete_task(
        session=ctx.session,
        project=ctx.require_project(),
        task=task,
        confirm=confirm,
        actor=actor_of(ctx),
        now=ctx.now,
    )
    key = "plan.task_deleted_" if deleted.done else "plan.delete_will_"
    lines = []
    if deleted.subtasks:
        lines.append(ctx.t(key + "subtasks", count=len(deleted.subtasks), codes=", ".join(deleted.subtasks)))
    if deleted.dependents:
        lines.append(ctx.t(key + "dependents", codes=", ".join(deleted.dependents)))
    if deleted.milestones:
        lines.append(ctx.t(key + "milestones", numbers=", ".join(f"#{n}" for n in deleted.milestones)))
    if deleted.done:
        return [Text("\n".join([ctx.t("plan.task_deleted", code=deleted.code, title=deleted.title), *lines]))]
    command = ctx.t(command_key, code=deleted.code)
    button = Button(
        ctx.t("plan.delete_button"),
        command,
        "danger",
        done=ctx.t("plan.delete_did", code=deleted.code),
    )
    title = ctx.t("plan.delete_confirm_title", code=deleted.code, title=deleted.title)
    body = "\n".join([*lines, "", ctx.t("plan.delete_how", command=command)])
    return [Card(title, body, "orange", (ActionGroup(title, (button,)),))]


@router.command(
    "task delete",
    "任务 删除",
    "task remove",
    usage="usage.task_delete",
    summary="summary.task_delete",
    who="who.pm_or_head",
)
async def task_delete(ctx: CommandContext, args: str) -> list[Reply]:
    project = ctx.require_project()
    parsed = parse_args(ctx.typed(args), options=(), max_positional=2)
    confirm = _confirmed(parsed)
    task = await plan.get_task(ctx.session, project.id, _code(ctx, parsed))
    # Every department the deletion reaches agrees: subtasks may be filed elsewhere.
    for department_id in dict.fromkeys(t.department_id for t in await plan.subtree(ctx.session, task)):
        await require_pm_or_head(ctx, department_id)
    gated, by_pm = await gate.applies(ctx, project), is_pm(ctx.actor)
    proposed = await changes.task_delete(ctx.session, task, requested=not by_pm) if gated else None
    if proposed is not None and not by_pm:
        return [Text("\n".join(await gate.submit(ctx, project, proposed, "")))]
    replies = await _delete_tree(ctx, task, confirm=confirm, command_key="plan.cmd.task_delete_confirm")
    if proposed is not None and isinstance(replies[0], Text):  # deleted, not waiting for a confirmation
        logged = await gate.log_own(ctx, project, proposed, changes.Impact([], []))
        replies = [Text("\n".join([replies[0].text, *logged]))]
    return replies


@router.command(
    "tasks", "任务列表", "task list", "wbs", usage="usage.tasks", summary="summary.tasks", who="who.anyone"
)
async def tasks_list(ctx: CommandContext, args: str) -> list[Reply]:
    project = ctx.require_project()
    number = page_number(args)
    ordered = await tasks.ordered(ctx.session, project.id)
    if not ordered:
        return [Text(ctx.t("plan.tasks_empty"))]
    rolled = tasks.effective(ordered)
    people = {member.id: member for member in await plan.project_members(ctx.session, project.id)}
    graph = await tasks.dependencies(ctx.session, project.id)
    calendar = await calendar_service.for_project(ctx.session, project.id)
    against = await baselines.slips(ctx.session, project.id, calendar)
    timings = await tasks.critical_timings(ordered, graph, calendar)
    parents = {wbs.parent_of(task.code) for task in ordered}
    assigned = await raci_service.entries(ctx.session, [task.id for task in ordered])
    department_names = {d.id: d.name for d in await plan.departments(ctx.session, project.id)}
    lines = []
    for task in ordered:
        values = rolled[task.code]
        depth = plan.level(task.code)
        name = f"{task.code} {inert(task.title)}"
        if values.start is None and values.due is None:
            name += ctx.t("overview.no_dates")  # weighed as DATELESS_DAYS in the roll-up
        parts = [f"{INDENT * (depth - 1)}{_icon(values, ctx.today)} {f'**{name}**' if depth == 1 else name}"]
        if task.owner_member_id in people:
            parts.append(members.mention(people[task.owner_member_id]))
        elif doing := [e.department for e in assigned.get(task.id, []) if e.role == "R" and e.department]:
            # No person named yet: the R department answers for it.
            parts += [
                ctx.t("plan.raci_dept", name=department_names[d]) for d in doing if d in department_names
            ]
        if values.due is not None:
            moved = against.due_moved("task", task.id) if against else None
            parts.append(due_against_baseline(ctx.locale, values.due, moved, ctx.today))
        parts.append(f"{values.progress}%")
        if upstream := graph.get(task.code):
            parts.append(ctx.t("plan.tasks_after", codes=", ".join(sorted(upstream, key=wbs.code_key))))
        if task.code not in parents and (timing := timings.get(task.code)) and timing.critical:
            parts.append(CRITICAL_MARK)
        lines.append(" · ".join(parts))
    lines = [*page(ctx, lines, number, usage_key="usage.tasks"), "", ctx.t("plan.tasks_legend")]
    if against is not None:
        lines.append(summary_line(ctx.locale, against))
    return [Card(ctx.t("plan.tasks_title", name=project.name), "\n".join(lines))]


# --- RACI ------------------------------------------------------------------------------------------


def _raci_name(ctx: CommandContext, target: plan.RaciTarget) -> str:
    if isinstance(target, Member):
        return members.mention(target)
    return ctx.t("plan.raci_dept", name=target.name)


def _raci_lines(ctx: CommandContext, roles: dict[str, list[plan.RaciTarget]]) -> list[str]:
    return [
        ctx.t(
            "plan.raci_line",
            role=ctx.t(f"plan.raci_role.{role}"),
            who=ctx.t("plan.sep").join(_raci_name(ctx, target) for target in targets),
        )
        for role, targets in roles.items()
        if targets
    ]


@router.command(
    "raci", "责任", "分工", usage="usage.raci", summary="summary.raci", who="who.view_anyone_edit_pm"
)
async def raci(ctx: CommandContext, args: str) -> list[Reply]:
    project = ctx.require_project()
    try:
        parsed = parse_args(ctx.typed(args), options=plan.RACI_ROLES, max_positional=1)
    except ArgError as error:
        if error.key == DUPLICATE_OPTION and error.params.get("option") == "A":
            require_pm(ctx)
            given = sum(1 for token in tokenize(normalize(args)) if token[:2].lower() in ("a=", "a:"))
            raise UserFacingError("plan.raci_one_a", count=given) from None
        raise
    code = _code(ctx, parsed)
    task = await plan.get_task(ctx.session, project.id, code)
    if not (parsed.options or parsed.mentions or parsed.rest):
        current = await plan.raci(ctx.session, task.id)
        if not any(current.values()):
            return [Text(ctx.t("plan.raci_empty", code=task.code, title=task.title))]
        return [
            Text(
                "\n".join(
                    [ctx.t("plan.raci_title", code=task.code, title=task.title), *_raci_lines(ctx, current)]
                )
            )
        ]
    require_pm(ctx)
    if parsed.mentions or parsed.rest:
        raise UsageError("plan.raci_roles_needed")
    roles = {
        role: tuple(
            mentioned_user(ctx, value) if kind == "user" else bounded(value, TITLE_LIMIT)
            for kind, value in parse_people_or_names(parsed.options.get(role, ""))
        )
        for role in plan.RACI_ROLES
    }
    result = await plan.set_raci(
        session=ctx.session, project=project, task=task, roles=roles, actor=actor_of(ctx), now=ctx.now
    )
    lines = [ctx.t("plan.raci_saved", code=task.code, title=task.title), *_raci_lines(ctx, result.roles)]
    if result.owner is None:
        lines.append(ctx.t("plan.raci_by_department"))
    elif result.owner_changed:
        lines.append(ctx.t("plan.raci_owner", who=members.mention(result.owner)))
    lines += [ctx.t("plan.joined_project", who=members.mention(member)) for member in result.joined]
    return [Text("\n".join(lines))]


# --- milestones ------------------------------------------------------------------------------------


@router.command(
    "milestone add",
    "里程碑 添加",
    "里程碑 新建",
    usage="usage.milestone_add",
    summary="summary.milestone_add",
    who="who.pm",
)
async def milestone_add(ctx: CommandContext, args: str) -> list[Reply]:
    project = ctx.require_project()
    parsed = parse_args(ctx.typed(args), options={"due", "tasks"}, max_positional=0)
    if not parsed.rest:
        raise UsageError("arg.missing", name=ctx.t("plan.field.title"))
    due = date_option(ctx, parsed, "due")
    if due is None:
        raise UsageError("arg.missing", name=ctx.t("plan.field.due"))
    codes = parse_code_list(parsed.options.get("tasks", ""))
    milestone = await plan.add_milestone(
        session=ctx.session,
        project=project,
        title=bounded(parsed.rest, TITLE_LIMIT),
        due=due,
        codes=codes,
        actor=actor_of(ctx),
        now=ctx.now,
    )
    lines = [
        ctx.t(
            "plan.milestone_added",
            number=milestone.number,
            title=milestone.title,
            due=short_day(milestone.due_date, ctx.today),
        )
    ]
    if codes:
        lines.append(ctx.t("plan.milestone_tasks", codes=", ".join(codes)))
    return [Text("\n".join(lines))]


@router.command(
    "milestone done",
    "里程碑 完成",
    usage="usage.milestone_done",
    summary="summary.milestone_done",
    who="who.pm",
)
async def milestone_done(ctx: CommandContext, args: str) -> list[Reply]:
    project = ctx.require_project()
    value, _, rest = normalize(args).partition(" ")
    if rest and rest.lower() not in FORCE_WORDS:
        raise UsageError()
    milestone, unfinished = await plan.complete_milestone(
        session=ctx.session,
        project=project,
        number=_milestone_number(ctx, value),
        force=bool(rest),
        actor=actor_of(ctx),
        now=ctx.now,
    )
    lines = [ctx.t("plan.milestone_done", number=milestone.number, title=milestone.title)]
    if unfinished:
        items = ctx.t("plan.sep").join(f"{code} {progress}%" for code, progress in unfinished)
        lines.append(ctx.t("plan.milestone_open_tasks", items=items))
    return [Text("\n".join(lines))]


FORCE_WORDS = frozenset({"force", "强制", "确认"})


def _milestone_number(ctx: CommandContext, value: str) -> int:
    if not value:
        raise UsageError("arg.missing", name=ctx.t("plan.field.milestone"))
    number = value.removeprefix("#")
    if not number.isdigit() or not number.isascii() or len(number) > MAX_ID_DIGITS:
        raise UsageError("plan.milestone_bad_number", value=value)
    return int(number)


@router.command(
    "milestone reopen",
    "里程碑 重开",
    "里程碑 重新打开",
    usage="usage.milestone_reopen",
    summary="summary.milestone_reopen",
    who="who.pm",
)
async def milestone_reopen(ctx: CommandContext, args: str) -> list[Reply]:
    project = ctx.require_project()
    milestone = await plan.reopen_milestone(
        session=ctx.session,
        project=project,
        number=_milestone_number(ctx, normalize(args)),
        actor=actor_of(ctx),
        now=ctx.now,
    )
    due = short_day(milestone.due_date, ctx.today)
    return [Text(ctx.t("plan.milestone_reopened", number=milestone.number, title=milestone.title, due=due))]


@router.command(
    "milestone edit",
    "里程碑 修改",
    "里程碑 编辑",
    usage="usage.milestone_edit",
    summary="summary.milestone_edit",
    who="who.pm",
)
async def milestone_edit(ctx: CommandContext, args: str) -> list[Reply]:
    project = ctx.require_project()
    parsed = parse_args(ctx.typed(args), options={"title", "due", "tasks"}, max_positional=1)
    title = parsed.options.get("title")
    if parsed.rest:
        if title is not None:
            raise UsageError()
        title = parsed.rest
    if title is not None:
        bounded(title, TITLE_LIMIT)
    raw_due = parsed.options.get("due")
    due = parse_date(raw_due, today=ctx.today) if raw_due is not None else None
    codes = parse_code_list(parsed.options["tasks"]) if "tasks" in parsed.options else None
    if title is None and due is None and codes is None:
        raise UsageError("plan.nothing_to_change")
    number = _milestone_number(ctx, parsed.positional[0] if parsed.positional else "")
    proposed = None
    if due is not None and await gate.applies(ctx, project):
        proposed = changes.milestone_due(await plan.milestone_by_number(ctx.session, project.id, number), due)
    effect = await gate.impact(ctx, project, proposed) if proposed is not None else None
    edited = await plan.edit_milestone(
        session=ctx.session,
        project=project,
        number=number,
        title=title,
        due=due,
        codes=codes,
        actor=actor_of(ctx),
        now=ctx.now,
    )
    milestone = edited.milestone
    if not edited.changes:
        return [Text(ctx.t("plan.milestone_no_changes", number=milestone.number))]
    lines = [ctx.t("plan.milestone_edited", number=milestone.number, title=milestone.title)]
    lines += change_lines(ctx, edited.changes)
    if proposed is not None and effect is not None:
        lines += await gate.log_own(ctx, project, proposed, effect)
    return [Text("\n".join(lines))]


@router.command(
    "milestone delete",
    "里程碑 删除",
    "milestone remove",
    usage="usage.milestone_delete",
    summary="summary.milestone_delete",
    who="who.pm",
)
async def milestone_delete(ctx: CommandContext, args: str) -> list[Reply]:
    project = ctx.require_project()
    milestone = await plan.delete_milestone(
        session=ctx.session,
        project=project,
        number=_milestone_number(ctx, normalize(args)),
        actor=actor_of(ctx),
        now=ctx.now,
    )
    return [Text(ctx.t("plan.milestone_deleted", number=milestone.number, title=milestone.title))]


@router.command(
    "milestones", "里程碑列表", usage="usage.milestones", summary="summary.milestones", who="who.anyone"
)
async def milestones_list(ctx: CommandContext, args: str) -> list[Reply]:
    project = ctx.require_project()
    number = page_number(args)
    found = await plan.milestones(ctx.session, project.id)
    if not found:
        return [Text(ctx.t("plan.milestones_empty"))]
    rolled = tasks.effective(await tasks.ordered(ctx.session, project.id))
    linked = await plan.milestone_codes(ctx.session, project.id)
    lines = []
    for milestone in found:
        due = short_day(milestone.due_date, ctx.today)
        if milestone.status == "done":
            done = milestone.done_at.astimezone(ctx.tz).date() if milestone.done_at else milestone.due_date
            icon, status = "✅", ctx.t("plan.milestone_status.done", done=short_day(done, ctx.today))
        elif milestone.due_date < ctx.today:
            icon, status = OVERDUE_ICON, ctx.t("plan.milestone_status.overdue", due=due)
        else:
            icon, status = "🏁", ctx.t("plan.milestone_status.open", due=due)
        line = ctx.t(
            "plan.milestone_line", icon=icon, number=milestone.number, title=milestone.title, status=status
        )
        codes = linked.get(milestone.id, [])
        if codes:
            items = ctx.t("plan.sep").join(f"{code} {rolled[code].progress}%" for code in codes)
            line += " · " + ctx.t("plan.milestone_progress", items=items)
        lines.append(line)
    lines = page(ctx, lines, number, usage_key="usage.milestones")
    return [Card(ctx.t("plan.milestones_title", count=len(found)), "\n".join(lines))]


# Group words alone (`/task list`) list; with an unknown sub-command they give the usage line.
# `/部门` is in overview.py: a department's name after it shows that department.
router.group_word("member", "成员", usage="usage.member", summary="summary.member", lister=members_list)
router.group_word("phase", "阶段", usage="usage.phase", summary="summary.phase", lister=tasks_list)
router.group_word("task", "任务", usage="usage.task", summary="summary.task", lister=tasks_list)
router.group_word(
    "milestone", "里程碑", usage="usage.milestone", summary="summary.milestone", lister=milestones_list
)
