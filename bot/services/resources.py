"""Resource requests (`N3`): what a member asks the project for, from a standup ("需协调资源：…") or
/need add. A request goes privately to the requester's department head, else to the project's PMs
(never to the requester), in the same transaction; it stays open, listed in the standup summary
and the weekly report, until the person it went to, the department head, a PM or the requester
marks it handled (the requester is then told). Every change is audited.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal, TypeVar

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.errors import UserFacingError
from bot.render import needs as render
from bot.services import audit, members, notify, tracking
from bot.services.audit import Actor
from storage.models import Department, Member, Project, ResourceRequest, Task

MAX_TEXT = 500  # as typed; a longer one is refused, not cut
Source = Literal["standup", "command"]
Via = Literal["head", "pm"]
Row = TypeVar("Row", Department, Task)


@dataclass(frozen=True)
class Opened:
    request: ResourceRequest
    department: Department | None
    told: tuple[Member, ...]  # who got the private message: the department head, else the PMs
    via: Via | None  # None: there was nobody to tell
    new: bool  # False: today's standup said it already; nothing was added or sent


async def _route(
    session: AsyncSession, project_id: int, requester: Member, department: Department | None
) -> tuple[tuple[Member, ...], Via | None]:
    head_id = department.head_member_id if department is not None else None
    if head_id is not None and head_id != requester.id:
        head = await session.get(Member, head_id)
        if head is not None:
            return (head,), "head"
    pms = tuple(pm for pm in await members.pms(session, project_id) if pm.id != requester.id)
    return pms, "pm" if pms else None


async def open_request(
    *,
    session: AsyncSession,
    project: Project,
    requester: Member,
    text: str,
    task: Task | None,
    source: Source,
    day: date,
    actor: Actor,
    now: datetime,
) -> Opened:
    """Store the request and queue the private message to whoever it is routed to. From a standup it
    is opened once per member, day and text: an amended standup that repeats it adds nothing."""
    if len(text) > MAX_TEXT:
        raise UserFacingError("need.too_long", limit=MAX_TEXT, length=len(text))
    department = await session.get(Department, requester.department_id) if requester.department_id else None
    if source == "standup":
        said = await session.scalar(
            select(ResourceRequest).where(
                ResourceRequest.project_id == project.id,
                ResourceRequest.requester_member_id == requester.id,
                ResourceRequest.business_date == day,
                ResourceRequest.source == "standup",
                ResourceRequest.text == text,
            )
        )
        if said is not None:
            return Opened(said, department, (), None, new=False)
    told, via = await _route(session, project.id, requester, department)
    request = ResourceRequest(
        project_id=project.id,
        number=await tracking.next_number(session, ResourceRequest, project.id),
        requester_member_id=requester.id,
        department_id=department.id if department else None,
        task_id=task.id if task else None,
        text=text,
        source=source,
        status="open",
        routed_to_member_id=told[0].id if told else None,
        handled_note="",
        business_date=day,
        created_at=now,
    )
    await audit.add(
        request,
        (
            "number",
            "requester_member_id",
            "department_id",
            "task_id",
            "text",
            "source",
            "routed_to_member_id",
        ),
        session=session,
        actor=actor,
        now=now,
        project_id=project.id,
        action="need.open",
        entity="resource_request",
    )
    message = render.routed_message(project, request, requester, department, task)
    for member in told:
        await notify.tell(
            session=session, member=member, reply=message, key=f"need:{request.id}:to:{member.id}", now=now
        )
    return Opened(request, department, told, via, new=True)


async def by_number(session: AsyncSession, project_id: int, number: int) -> ResourceRequest:
    request = await session.scalar(
        select(ResourceRequest).where(
            ResourceRequest.project_id == project_id, ResourceRequest.number == number
        )
    )
    if request is None:
        raise UserFacingError("need.not_found", number=number)
    return request


async def may_handle(session: AsyncSession, request: ResourceRequest, member: Member) -> bool:
    """The person it went to, the requester's department head, a PM or the requester."""
    if member.role == "pm" or member.id in (request.routed_to_member_id, request.requester_member_id):
        return True
    department = await session.get(Department, request.department_id) if request.department_id else None
    return department is not None and department.head_member_id == member.id


async def handle(
    *,
    session: AsyncSession,
    project: Project,
    request: ResourceRequest,
    by: Member,
    note: str,
    actor: Actor,
    now: datetime,
) -> Member | None:
    """Mark the request handled; returns the requester when they were told privately (not when they
    handled it themselves)."""
    if request.status == "handled":
        raise UserFacingError("need.already_handled", number=request.number)
    await audit.update(
        request,
        {"status": "handled", "handled_by_member_id": by.id, "handled_at": now, "handled_note": note},
        session=session,
        actor=actor,
        now=now,
        project_id=project.id,
        action="need.handle",
        entity="resource_request",
    )
    requester = (
        await session.get(Member, request.requester_member_id) if request.requester_member_id else None
    )
    if requester is None or requester.id == by.id:
        return None
    await notify.tell(
        session=session,
        member=requester,
        reply=render.handled_message(project, request, by),
        key=f"need:{request.id}:handled",
        now=now,
    )
    return requester


# --- read model --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Listed:
    request: ResourceRequest
    requester: Member | None
    department: str  # "" when the requester had none
    routed_to: Member | None
    handled_by: Member | None
    task: Task | None


async def listed(
    session: AsyncSession, project_id: int, *, handled_since: datetime | None = None
) -> list[Listed]:
    """Open requests by number; with `handled_since`, then those handled since then, by number."""
    query = select(ResourceRequest).where(ResourceRequest.project_id == project_id)
    wanted = ResourceRequest.status == "open"
    if handled_since is not None:
        wanted = wanted | (ResourceRequest.handled_at >= handled_since)
    requests = sorted(
        await session.scalars(query.where(wanted)), key=lambda r: (r.status != "open", r.number)
    )
    people = await tracking.members_by_id(
        session,
        [
            id_
            for r in requests
            for id_ in (r.requester_member_id, r.routed_to_member_id, r.handled_by_member_id)
        ],
    )
    departments = await _by_id(session, Department, (r.department_id for r in requests))
    task_rows = await _by_id(session, Task, (r.task_id for r in requests))

    def get(found: dict[int, Member], key: int | None) -> Member | None:
        return found.get(key) if key is not None else None

    return [
        Listed(
            request=r,
            requester=get(people, r.requester_member_id),
            department=departments[r.department_id].name if r.department_id in departments else "",
            routed_to=get(people, r.routed_to_member_id),
            handled_by=get(people, r.handled_by_member_id),
            task=task_rows.get(r.task_id) if r.task_id is not None else None,
        )
        for r in requests
    ]


async def _by_id(session: AsyncSession, model: type[Row], ids: Iterable[int | None]) -> dict[int, Row]:
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    return {row.id: row for row in await session.scalars(select(model).where(model.id.in_(wanted)))}
