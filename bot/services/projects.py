"""Projects and the chats they live in."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from adapters.models import ChatRef, InboundMessage, UserRef
from bot.errors import UserFacingError
from bot.services import audit, members
from bot.services.audit import Actor
from storage import idempotency
from storage.models import MAX_INT, ChatBinding, Project, UserContext


async def binding_for_chat(session: AsyncSession, platform: str, chat_id: str) -> ChatBinding | None:
    return await session.scalar(
        select(ChatBinding).where(ChatBinding.platform == platform, ChatBinding.chat_id == chat_id)
    )


async def for_message(session: AsyncSession, message: InboundMessage) -> Project | None:
    """The project a message is about: its chat's, or in a 1:1 chat the sender's current project
    (their choice, else their only project; None when they must choose with /project use)."""
    binding = await binding_for_chat(session, message.platform, message.chat.chat_id)
    if binding is not None:
        return await session.get(Project, binding.project_id)
    if message.chat.chat_type != "p2p":
        return None
    chosen = await session.get(UserContext, (message.platform, message.sender.user_id))
    if chosen is not None:
        return await session.get(Project, chosen.project_id)
    # Never "the latest joined": anyone may add anyone to a project of theirs, named like another.
    mine = await members.projects_of(session, message.platform, message.sender.user_id)
    return mine[0] if len(mine) == 1 else None


async def find_mine(session: AsyncSession, user: UserRef, ref: str) -> list[Project]:
    """The user's projects that `ref` names: by id (one at most) or by exact name (maybe several)."""
    mine = await members.projects_of(session, user.platform, user.user_id)
    if ref.isdigit():
        return [project for project in mine if project.id == int(ref)]
    return [project for project in mine if project.name == ref]


async def find(session: AsyncSession, ref: str) -> Project | None:
    """A project by numeric id or exact name (the newest when names repeat)."""
    if ref.isdigit() and len(ref) <= len(str(MAX_INT)) and int(ref) <= MAX_INT:
        return await session.get(Project, int(ref))
    return await session.scalar(
        select(Project).where(Project.name == ref).order_by(Project.id.desc()).limit(1)
    )


async def use(session: AsyncSession, user: UserRef, project: Project) -> None:
    """Make `project` the one the user's 1:1 chat with the bot talks about."""
    await idempotency.choose_user_project(
        session, platform=user.platform, user_id=user.user_id, project_id=project.id
    )


async def create(
    *,
    session: AsyncSession,
    name: str,
    start: date | None,
    end: date | None,
    chat: ChatRef,
    creator: UserRef,
    actor: Actor,
    timezone: str,
    locale: str,
    now: datetime,
) -> Project:
    if await binding_for_chat(session, chat.platform, chat.chat_id) is not None:
        raise UserFacingError("project.chat_taken")
    if start and end and end < start:
        raise UserFacingError("project.end_before_start")
    project = Project(
        name=name,
        start_date=start,
        end_date=end,
        timezone=timezone,
        locale=locale,
        created_at=now,
        updated_at=now,
    )
    session.add(project)
    await session.flush()
    # Not `audit.add`: the entry's project_id is this project's own id, known only after the flush.
    await audit.record(
        session=session,
        actor=actor,
        now=now,
        project_id=project.id,
        action="project.create",
        entity="project",
        entity_id=project.id,
        after=audit.snapshot(project, "name", "start_date", "end_date", "timezone", "locale"),
    )
    await bind_chat(session=session, project=project, chat=chat, actor=actor, now=now)
    await members.ensure(session=session, project=project, user=creator, actor=actor, now=now, role="pm")
    await use(session, creator, project)
    return project


async def bind_chat(
    *, session: AsyncSession, project: Project, chat: ChatRef, actor: Actor, now: datetime
) -> ChatBinding:
    existing = await binding_for_chat(session, chat.platform, chat.chat_id)
    if existing is not None:
        raise UserFacingError(
            "project.already_bound" if existing.project_id == project.id else "project.chat_taken"
        )
    bound = await session.scalar(
        select(func.count()).select_from(ChatBinding).where(ChatBinding.project_id == project.id)
    )
    binding = ChatBinding(
        project_id=project.id,
        platform=chat.platform,
        chat_id=chat.chat_id,
        chat_type=chat.chat_type,
        name=chat.name,
        is_default=not bound,
        created_at=now,
    )
    await audit.add(
        binding,
        ("platform", "chat_id", "is_default"),
        session=session,
        actor=actor,
        now=now,
        project_id=project.id,
        action="chat.bind",
        entity="chat",
    )
    return binding


async def chats(session: AsyncSession, project_id: int) -> list[ChatBinding]:
    result = await session.scalars(
        select(ChatBinding).where(ChatBinding.project_id == project_id).order_by(ChatBinding.id)
    )
    return list(result)
