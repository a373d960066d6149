"""Claims that make redelivered events and re-enqueued messages no-ops (INSERT ... ON CONFLICT DO NOTHING)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.util import identity_key

from storage.models import InboundEventRecord, JobRun, OutboxMessage, RequestNonce, UserContext


def upsertable_insert(session: AsyncSession, table: Any) -> postgresql.Insert | sqlite.Insert:
    """An INSERT of the session's dialect, which takes ON CONFLICT clauses (both spell them the same)."""
    module = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    return module.insert(table)


def _insert_ignoring_conflicts(session: AsyncSession, table: Any) -> Insert:
    return upsertable_insert(session, table).on_conflict_do_nothing()


async def claim_event(
    session: AsyncSession,
    *,
    platform: str,
    event_id: str,
    message_id: str | None,
    payload: dict[str, Any],
    now: datetime,
) -> int | None:
    """Store a new inbound event and return its row id; None when the event or message was seen before."""
    statement = (
        _insert_ignoring_conflicts(session, InboundEventRecord)
        .values(
            platform=platform,
            event_id=event_id,
            message_id=message_id,
            payload=payload,
            status="pending",
            attempts=0,
            received_at=now,
        )
        .returning(InboundEventRecord.id)
    )
    return (await session.execute(statement)).scalar_one_or_none()


async def enqueue(
    session: AsyncSession,
    *,
    idempotency_key: str,
    platform: str,
    chat_id: str,
    payload: dict[str, Any],
    now: datetime,
    reply_to: str | None = None,
) -> bool:
    """Queue one outbound message; False when a message with this key is already queued or sent."""
    statement = (
        _insert_ignoring_conflicts(session, OutboxMessage)
        .values(
            idempotency_key=idempotency_key,
            platform=platform,
            chat_id=chat_id,
            reply_to=reply_to,
            payload=payload,
            status="pending",
            attempts=0,
            next_attempt_at=now,
            created_at=now,
        )
        .returning(OutboxMessage.id)
    )
    return (await session.execute(statement)).scalar_one_or_none() is not None


async def claim_job(
    session: AsyncSession, *, job: str, project_id: int, business_date: date, now: datetime
) -> bool:
    """Claim (job, project, business day); False when it is already claimed (or done, or failed)."""
    statement = (
        _insert_ignoring_conflicts(session, JobRun)
        .values(job=job, project_id=project_id, business_date=business_date, status="running", started_at=now)
        .returning(JobRun.id)
    )
    return (await session.execute(statement)).scalar_one_or_none() is not None


async def finish_job(
    session: AsyncSession, *, job: str, project_id: int, business_date: date, now: datetime
) -> None:
    await session.execute(
        update(JobRun)
        .where(JobRun.job == job, JobRun.project_id == project_id, JobRun.business_date == business_date)
        .values(status="done", finished_at=now, error=None)
    )


async def claim_nonce(
    session: AsyncSession, *, scope: str, nonce: str, owner: str, expires_at: datetime
) -> bool:
    """Claim a single-use value for `owner`; False when another owner claimed it first (the same owner
    again is a redelivery and may go on). Kept until `expires_at`, when the value is refused anyway."""
    statement = (
        _insert_ignoring_conflicts(session, RequestNonce)
        .values(scope=scope, nonce=nonce, owner=owner, expires_at=expires_at)
        .returning(RequestNonce.owner)
    )
    if (await session.execute(statement)).scalar_one_or_none() is not None:
        return True
    holder = await session.scalar(
        select(RequestNonce.owner).where(RequestNonce.scope == scope, RequestNonce.nonce == nonce)
    )
    return holder == owner


async def choose_user_project(
    session: AsyncSession, *, platform: str, user_id: str, project_id: int, replace: bool = True
) -> None:
    """Set the project a user's 1:1 chat talks about (`replace=False`: only when none is set yet). One
    statement, so two first commands of one user at once cannot collide on the row."""
    insert = upsertable_insert(session, UserContext).values(
        platform=platform, user_id=user_id, project_id=project_id
    )
    keys = [UserContext.platform, UserContext.user_id]
    statement = (
        insert.on_conflict_do_update(index_elements=keys, set_={"project_id": project_id})
        if replace
        else insert.on_conflict_do_nothing(index_elements=keys)
    )
    await session.execute(statement)
    # A copy already loaded in this session would now be stale.
    cached = session.sync_session.identity_map.get(identity_key(UserContext, (platform, user_id)))
    if cached is not None:
        session.expire(cached)
