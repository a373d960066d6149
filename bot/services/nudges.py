"""/nudge: a private reminder from one project member to another, a few a day per pair."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from adapters.models import Reply
from bot.errors import UserFacingError
from bot.services import audit, members, notify
from bot.services.audit import Actor
from storage.counters import count_hit
from storage.models import Member

PER_DAY = 3  # to the same person from the same sender: a reminder, not a flood
SCOPE = "nudge"


async def send(
    *,
    session: AsyncSession,
    sender: Member,
    recipient: Member,
    text: str,
    message: Reply,
    today: date,
    tz: ZoneInfo,
    actor: Actor,
    now: datetime,
) -> int:
    """Queue `message` (which carries `text`) for `recipient` and audit it; returns how many the
    sender has sent them today, this one included. Refused (nothing counted, as the caller's
    savepoint rolls the count back) to oneself or past PER_DAY in the project's day."""
    if sender.id == recipient.id:
        raise UserFacingError("views.nudge_self")
    day_start = datetime.combine(today, time(), tzinfo=tz).astimezone(UTC)
    count = await count_hit(session, scope=SCOPE, key=f"{sender.id}:{recipient.id}", window_start=day_start)
    if count > PER_DAY:
        raise UserFacingError("views.nudge_limit", who=members.mention(recipient), limit=PER_DAY)
    # The pair's count today names the message: unique, and the same if the command is replayed.
    key = f"nudge:{sender.id}:{recipient.id}:{today.isoformat()}:{count}"
    await notify.tell(session=session, member=recipient, reply=message, key=key, now=now)
    await audit.record(
        session=session,
        actor=actor,
        now=now,
        project_id=recipient.project_id,
        action="nudge.send",
        entity="member",
        entity_id=recipient.id,
        after={"to": recipient.platform_user_id, "text": text},
    )
    return count
