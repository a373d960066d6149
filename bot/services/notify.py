"""News a command must carry beyond the chat it was sent in (e.g. an escalated risk, clicked in a
private alert; a resource request for the person who can help): queued for the project's chats or
one person in the command's own transaction, so it goes out only when the change is committed, and
once (the key names what triggered it)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from adapters.codec import reply_to_json
from adapters.models import Reply
from bot.services import projects
from storage import idempotency
from storage.models import Member


async def post_to_project_chats(
    *,
    session: AsyncSession,
    project_id: int,
    build: Callable[[str], Reply],
    key: str,
    now: datetime,
    skip: tuple[str, str] | None = None,
) -> int:
    """Queue `build(platform)` for every chat bound to the project but `skip` (platform, chat id:
    where the reply already says it); built per platform so that mentions name people there.
    Returns how many chats it was queued for."""
    queued = 0
    for chat in await projects.chats(session, project_id):
        if skip == (chat.platform, chat.chat_id):
            continue
        queued += await idempotency.enqueue(
            session,
            idempotency_key=f"{key}:{chat.platform}:{chat.chat_id}",
            platform=chat.platform,
            chat_id=chat.chat_id,
            payload={"content": reply_to_json(build(chat.platform))},
            now=now,
        )
    return queued


async def tell(*, session: AsyncSession, member: Member, reply: Reply, key: str, now: datetime) -> bool:
    """Queue a private message to `member` on their platform, once per `key`; False when it was
    already queued. The row names the project, which a click on the message's buttons acts on."""
    return await idempotency.enqueue(
        session,
        idempotency_key=key,
        platform=member.platform,
        chat_id=member.platform_user_id,
        payload={
            "content": reply_to_json(reply),
            "extra": {"to": "user", "project": str(member.project_id)},
        },
        now=now,
    )
