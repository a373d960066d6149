"""Workbooks sent in chat and previewed, waiting for the PM's `/import`: one per PM and project (a
newer file replaces it), kept as the plan read from it with the names the PM mapped to members,
and forgotten after EXPIRES. The preview the PM last saw is kept as a digest, so `/import` applies
only what was shown: when the project moved on meanwhile, the PM sees the new preview first."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from adapters.models import UserRef
from bot.domain.plan_sheet import Plan
from bot.services.plan_import import Preview
from storage.models import PendingImport, Project

EXPIRES = timedelta(minutes=30)
MAX_FILE_BYTES = 5 * 1024 * 1024  # a 2,000-row plan is well under 1 MB


def digest(preview: Preview) -> str:
    """What a preview would change, in short: equal digests, equal changes (dataclass reprs are
    deterministic)."""
    shown = repr((preview.tasks, preview.milestones, preview.unknown_people))
    return hashlib.sha256(shown.encode()).hexdigest()


async def current(
    session: AsyncSession, project: Project, user: UserRef, now: datetime
) -> PendingImport | None:
    """The user's pending import in `project`, unless it expired (then it is deleted)."""
    pending = await session.scalar(
        select(PendingImport).where(
            PendingImport.project_id == project.id,
            PendingImport.platform == user.platform,
            PendingImport.user_id == user.user_id,
        )
    )
    if pending is not None and pending.expires_at <= now:
        await session.delete(pending)
        await session.flush()
        return None
    return pending


async def keep(
    session: AsyncSession,
    *,
    project: Project,
    user: UserRef,
    file_name: str,
    data: bytes,
    plan: Plan,
    preview: Preview,
    now: datetime,
) -> PendingImport:
    """Keep a previewed workbook for `user`, replacing the one they sent before."""
    await session.execute(
        delete(PendingImport).where(
            PendingImport.project_id == project.id,
            PendingImport.platform == user.platform,
            PendingImport.user_id == user.user_id,
        )
    )
    pending = PendingImport(
        project_id=project.id,
        platform=user.platform,
        user_id=user.user_id,
        file_name=file_name,
        file_sha256=hashlib.sha256(data).hexdigest(),
        plan=plan.to_json(),
        mapping={},
        shown=digest(preview),
        created_at=now,
        expires_at=now + EXPIRES,
    )
    session.add(pending)
    await session.flush()
    return pending


def plan_of(pending: PendingImport) -> Plan:
    """The kept plan, with the mapped names written as the members' user ids."""
    return Plan.from_json(pending.plan).with_owners(pending.mapping)


def owners(pending: PendingImport) -> set[str]:
    """The owner names as written in the sheet."""
    return {row.owner for row in Plan.from_json(pending.plan).rows if row.owner is not None}


async def drop(session: AsyncSession, pending: PendingImport) -> None:
    await session.delete(pending)
    await session.flush()
