"""The audit log: every change records who did it, what it was before and after, and when."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import AuditEntry


@dataclass(frozen=True)
class Actor:
    """Who made a change, as verified by the platform envelope."""

    platform: str
    user_id: str
    name: str = ""
    event_id: str | None = None


class Row(Protocol):
    """A mapped row; its id is the audit entry's entity id."""

    @property
    def id(self) -> int: ...


def snapshot(obj: object, *fields: str) -> dict[str, Any]:
    """A JSON-safe picture of `fields` of `obj` for the before/after columns."""
    picture: dict[str, Any] = {}
    for field in fields:
        value = getattr(obj, field)
        picture[field] = value.isoformat() if isinstance(value, date | datetime) else value
    return picture


async def record(
    *,
    session: AsyncSession,
    actor: Actor,
    now: datetime,
    project_id: int | None,
    action: str,
    entity: str,
    entity_id: object = "",
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> None:
    session.add(
        AuditEntry(
            project_id=project_id,
            actor_platform=actor.platform,
            actor_user_id=actor.user_id,
            actor_name=actor.name,
            action=action,
            entity=entity,
            entity_id=str(entity_id),
            before=before,
            after=after,
            source_event_id=actor.event_id,
            created_at=now,
        )
    )


async def add(
    row: Row,
    fields: Sequence[str],
    *,
    session: AsyncSession,
    actor: Actor,
    now: datetime,
    project_id: int | None,
    action: str,
    entity: str,
) -> None:
    """Add the new `row` to the session, flush it for its id, and record its creation (`fields` as after)."""
    session.add(row)
    await session.flush()
    await record(
        session=session,
        actor=actor,
        now=now,
        project_id=project_id,
        action=action,
        entity=entity,
        entity_id=row.id,
        after=snapshot(row, *fields),
    )


async def update(
    row: Row,
    changes: Mapping[str, Any],
    *,
    session: AsyncSession,
    actor: Actor,
    now: datetime,
    project_id: int | None,
    action: str,
    entity: str,
) -> None:
    """Set `changes` on `row` and record the changed fields, before and after."""
    before = snapshot(row, *changes)
    for field, value in changes.items():
        setattr(row, field, value)
    await record(
        session=session,
        actor=actor,
        now=now,
        project_id=project_id,
        action=action,
        entity=entity,
        entity_id=row.id,
        before=before,
        after=snapshot(row, *changes),
    )


async def delete(
    row: Row,
    fields: Sequence[str],
    *,
    session: AsyncSession,
    actor: Actor,
    now: datetime,
    project_id: int | None,
    action: str,
    entity: str,
) -> None:
    """Record `row`'s `fields` as they were, then delete it."""
    await record(
        session=session,
        actor=actor,
        now=now,
        project_id=project_id,
        action=action,
        entity=entity,
        entity_id=row.id,
        before=snapshot(row, *fields),
    )
    await session.delete(row)
    await session.flush()
