"""The charter's sign-off by each department head, and each department's resource needs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Final

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.errors import UserFacingError
from bot.services import audit
from bot.services.audit import Actor
from storage.models import CharterConfirmation, Department, Member, Project

# A change to what the departments agreed on (the goal, the scope, the dates) asks them again.
RECONFIRM_FIELDS: Final = frozenset({"goal", "scope_in", "scope_out", "start", "end"})
RESOURCE_FIELDS: Final = ("resource_people", "resource_budget", "resource_other")


@dataclass(frozen=True)
class SignOff:
    department: Department
    head: Member | None
    confirmation: CharterConfirmation | None
    confirmed_by: Member | None


async def sign_offs(session: AsyncSession, project_id: int) -> list[SignOff]:
    """Every department, in the order they were added, with its head and confirmation."""
    departments = list(
        await session.scalars(
            select(Department).where(Department.project_id == project_id).order_by(Department.id)
        )
    )
    people = {
        member.id: member
        for member in await session.scalars(select(Member).where(Member.project_id == project_id))
    }
    confirmations = {
        confirmation.department_id: confirmation
        for confirmation in await session.scalars(
            select(CharterConfirmation).where(CharterConfirmation.project_id == project_id)
        )
    }
    result = []
    for department in departments:
        confirmation = confirmations.get(department.id)
        head = people.get(department.head_member_id) if department.head_member_id else None
        by = people.get(confirmation.member_id) if confirmation and confirmation.member_id else None
        result.append(SignOff(department, head, confirmation, by))
    return result


async def confirm(
    *,
    session: AsyncSession,
    project: Project,
    member: Member,
    department_name: str | None,
    actor: Actor,
    now: datetime,
) -> tuple[list[Department], list[Department]]:
    """Confirm the charter for the departments `member` heads (or the one named): (confirmed now,
    already confirmed). Refused when they head none of them, or the charter has no goal yet."""
    if not project.goal:
        raise UserFacingError("signoff.no_goal")
    headed = [
        entry
        for entry in await sign_offs(session, project.id)
        if entry.department.head_member_id == member.id
    ]
    if department_name is not None:
        headed = [entry for entry in headed if entry.department.name == department_name]
        if not headed:
            raise UserFacingError("signoff.not_head_of", department=department_name)
    if not headed:
        raise UserFacingError("signoff.not_a_head")
    confirmed, already = [], []
    for entry in headed:
        if entry.confirmation is not None:
            already.append(entry.department)
            continue
        await audit.add(
            CharterConfirmation(
                project_id=project.id,
                department_id=entry.department.id,
                member_id=member.id,
                confirmed_at=now,
            ),
            ("department_id", "member_id"),
            session=session,
            actor=actor,
            now=now,
            project_id=project.id,
            action="charter.confirm",
            entity="charter_confirmation",
        )
        confirmed.append(entry.department)
    return confirmed, already


async def reset(*, session: AsyncSession, project: Project, actor: Actor, now: datetime) -> list[SignOff]:
    """Withdraw every confirmation (the charter changed under them); returns the ones withdrawn."""
    withdrawn = [entry for entry in await sign_offs(session, project.id) if entry.confirmation is not None]
    for entry in withdrawn:
        assert entry.confirmation is not None
        await audit.delete(
            entry.confirmation,
            ("department_id", "member_id", "confirmed_at"),
            session=session,
            actor=actor,
            now=now,
            project_id=project.id,
            action="charter.confirmation_reset",
            entity="charter_confirmation",
        )
    return withdrawn


async def set_resources(
    *,
    session: AsyncSession,
    project: Project,
    department: Department,
    values: dict[str, str],
    actor: Actor,
    now: datetime,
) -> bool:
    """Set some of a department's resource needs (field -> text; "" clears); whether any changed."""
    changes = {field: text for field, text in values.items() if getattr(department, field) != text}
    if not changes:
        return False
    await audit.update(
        department,
        changes,
        session=session,
        actor=actor,
        now=now,
        project_id=project.id,
        action="charter.resources",
        entity="department",
    )
    return True
