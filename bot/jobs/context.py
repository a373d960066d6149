"""What a scheduled job receives: one project, one business day, one transaction, and a way to send."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Literal
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from adapters.codec import reply_to_json
from adapters.models import Reply
from bot.domain.workdays import WorkCalendar
from bot.render.i18n import t
from storage import idempotency
from storage.models import Project


@dataclass(frozen=True)
class Recipient:
    """A chat (group or 1:1) or a single user reached by a private message."""

    platform: str
    id: str
    kind: Literal["chat", "user"] = "chat"


@dataclass
class JobContext:
    session: AsyncSession
    job: str
    project: Project
    now: datetime  # UTC
    business_date: date  # in the project's timezone
    calendar: WorkCalendar
    # Shared-table writers by platform (Feishu Bitable, ...), for jobs that sync rows.
    tables: Mapping[str, object] = field(default_factory=dict)

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.project.timezone)

    @property
    def local_now(self) -> datetime:
        return self.now.astimezone(self.tz)

    def t(self, key: str, **params: object) -> str:
        return t(self.project.locale, key, **params)

    async def send(
        self,
        to: Recipient,
        reply: Reply,
        *,
        topic: str = "",
        key: str | None = None,
        extra: Mapping[str, str] | None = None,
    ) -> bool:
        """Queue one message, keyed (job, project, recipient, business date[, topic]) so that a re-run,
        a catch-up or a second scheduler never sends it twice; False when it was already queued.
        An explicit `key` replaces that, for a message that goes once ever rather than once a day.
        `extra` goes to the sender with the message (a report webhook's URL and secret); the row also
        records the project, which a click on the message's buttons acts on."""
        if key is None:
            key = f"{self.job}:{self.project.id}:{to.kind}:{to.id}:{self.business_date.isoformat()}"
            key = f"{key}:{topic}" if topic else key
        return await idempotency.enqueue(
            self.session,
            idempotency_key=key,
            platform=to.platform,
            chat_id=to.id,
            payload={
                "content": reply_to_json(reply),
                "extra": {**(extra or {}), "to": to.kind, "project": str(self.project.id)},
            },
            now=self.now,
        )
