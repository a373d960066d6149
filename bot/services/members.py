"""Project membership: lookups by platform identity and creating members on first contact."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from adapters.models import UserRef, plausible_user_id
from bot.errors import UserFacingError
from bot.services import audit
from bot.services.audit import Actor
from storage import idempotency
from storage.models import Member, Project, UserContext

PRESENT = Member.removed_at.is_(None)  # members not removed from the project


async def by_user(
    session: AsyncSession, project_id: int, platform: str, user_id: str, *, removed: bool = False
) -> Member | None:
    """The project's member with this platform identity; with `removed`, also one removed since."""
    query = select(Member).where(
        Member.project_id == project_id,
        Member.platform == platform,
        Member.platform_user_id == user_id,
    )
    return await session.scalar(query if removed else query.where(PRESENT))


async def find_or_add(
    *,
    session: AsyncSession,
    project: Project,
    user: UserRef,
    actor: Actor,
    now: datetime,
    role: str = "member",
) -> tuple[Member, bool]:
    """The member for `user` and whether they are new to the project (then created and audited).

    Refuses an id that cannot be a person (`all`, `everyone`, markup): only the platform's own
    mentions reach here, but nobody may ever be added, or @-ed later, under such an id.
    Someone removed earlier is added back in their old row (audited as `member.rejoin`)."""
    member = await by_user(session, project.id, user.platform, user.user_id, removed=True)
    if member is not None:
        if user.name and member.display_name != user.name:
            member.display_name = user.name  # the platform's latest name wins
        if member.removed_at is None:
            return member, False
        await audit.update(
            member,
            {"removed_at": None},
            session=session,
            actor=actor,
            now=now,
            project_id=project.id,
            action="member.rejoin",
            entity="member",
        )
        return member, True
    if not plausible_user_id(user.user_id):
        raise UserFacingError("member.bad_id", who=user.name or user.user_id)
    await _keep_current_project(session, user, project)
    member = Member(
        project_id=project.id,
        platform=user.platform,
        platform_user_id=user.user_id,
        display_name=user.name,
        role=role,
        created_at=now,
    )
    await audit.add(
        member,
        ("platform_user_id", "display_name", "role"),
        session=session,
        actor=actor,
        now=now,
        project_id=project.id,
        action="member.add",
        entity="member",
    )
    return member, True


async def ensure(
    *,
    session: AsyncSession,
    project: Project,
    user: UserRef,
    actor: Actor,
    now: datetime,
    role: str = "member",
) -> Member:
    """The member for `user`, created (and audited) if they are new to the project."""
    member, _ = await find_or_add(
        session=session, project=project, user=user, actor=actor, now=now, role=role
    )
    return member


async def projects_of(session: AsyncSession, platform: str, user_id: str) -> list[Project]:
    """The active projects the user belongs to, oldest first."""
    result = await session.scalars(
        select(Project)
        .join(Member, Member.project_id == Project.id)
        .where(
            Member.platform == platform,
            Member.platform_user_id == user_id,
            PRESENT,
            Project.status == "active",
        )
        .order_by(Project.id)
    )
    return list(result)


async def _keep_current_project(session: AsyncSession, user: UserRef, joining: Project) -> None:
    """Before `user` joins `joining`: pin their 1:1 chat to the one project it talked about so far,
    so being added to a project never silently changes what their 1:1 commands act on."""
    if await session.get(UserContext, (user.platform, user.user_id)) is not None:
        return
    current = await projects_of(session, user.platform, user.user_id)
    if len(current) == 1 and current[0].id != joining.id:
        await idempotency.choose_user_project(
            session, platform=user.platform, user_id=user.user_id, project_id=current[0].id, replace=False
        )


async def pms(session: AsyncSession, project_id: int) -> list[Member]:
    result = await session.scalars(
        select(Member)
        .where(Member.project_id == project_id, Member.role == "pm", PRESENT)
        .order_by(Member.id)
    )
    return list(result)


def mention(member: Member) -> str:
    """How a reply refers to a member: a platform mention the adapter renders with their real name."""
    return f"<at:{member.platform_user_id}>"
