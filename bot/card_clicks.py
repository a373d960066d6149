"""Card clicks: a click is its button's command, sent by the clicking user in the card's chat.

It goes through the dispatcher like a typed command, so permissions, refusals, audit and language
are the command's. It is claimed on (card, button, filled command, user), so a double click (two
callbacks with different event ids) or a redelivered callback is applied once; claim, command and
the card's new look are one transaction, so a refused click leaves no trace at all. The platform
wants an answer within 3 s: the click is processed inline for at most `budget_seconds`, then
answered "in progress" while it finishes in the background (its reply still reaches the chat).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import re
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Literal
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from adapters.codec import event_to_json, reply_from_json, reply_to_json
from adapters.models import (
    COMMAND_PLACEHOLDER,
    MENTION_TOKEN,
    ActionGroup,
    Button,
    Card,
    CardClick,
    ChatRef,
    File,
    Image,
    InboundMessage,
    Reply,
    Text,
    mention_token,
)
from bot.dispatcher import dispatch_message
from bot.render.i18n import t
from bot.runtime import Runtime
from bot.services import projects
from storage import idempotency
from storage.db import unit_of_work
from storage.models import InboundEventRecord, OutboxMessage, Project

log = logging.getLogger(__name__)

BUDGET_SECONDS = 2.5  # of the platform's 3 s, for processing inline
MAX_TOAST = 120  # characters: a toast is a line or two on a phone

Outcome = Literal["applied", "refused", "duplicate", "pending", "invalid"]


@dataclass(frozen=True)
class ClickResult:
    """What to answer the click with: a toast, and on success the card as it now looks."""

    outcome: Outcome
    toast: str
    card: Card | None = None


class _Answer(Exception):
    """Ends a click's transaction early (rolled back: nothing it did is kept) with this answer."""

    def __init__(self, result: ClickResult) -> None:
        super().__init__(result.outcome)
        self.result = result


@dataclass
class _Progress:
    locale: str  # the project's, once known: the "in progress" answer is given in it


def fill(button: Button, group: ActionGroup, values: dict[str, str]) -> tuple[str, list[str]]:
    """The button's command with its placeholders filled from the submitted values, and the labels
    of the fields still needed: required ones left empty, or all of them when none was filled in.
    Values are inserted as given (whitespace tidied), never read again as placeholders."""
    fields = {field.name: field for field in group.fields}
    used: list[str] = []
    missing: list[str] = []
    filled = 0

    def value(match: re.Match[str]) -> str:
        nonlocal filled
        field = fields.get(match[1])
        if field is None:
            return ""
        used.append(field.label)
        given = " ".join(values.get(field.name, "").split())
        if not given:
            if field.required:
                missing.append(field.label)
            return ""
        filled += 1
        return field.fill.replace("{}", given)

    command = " ".join(COMMAND_PLACEHOLDER.sub(value, button.command).split())
    if used and not filled and not missing:
        missing = used
    return command, missing


def dedupe_key(click: CardClick, command: str) -> str:
    """The claim for one click: the same person sending the same command from the same card."""
    parts = (click.card_message_id, str(click.group), str(click.button), command, click.operator.user_id)
    return "card:" + hashlib.sha256("\x00".join(parts).encode()).hexdigest()[:40]


def _toast(replies: list[Reply]) -> str:
    """The first line of the first reply, without mentions (a toast cannot show them)."""
    first = replies[0] if replies else None
    text = first.text if isinstance(first, Text) else first.title if isinstance(first, Card) else ""
    line = next((line for line in text.splitlines() if line.strip()), "")
    return _short(MENTION_TOKEN.sub("", line))


def _flat(replies: list[Reply]) -> str:
    texts = [
        reply.text
        if isinstance(reply, Text)
        else reply.alt
        if isinstance(reply, Image | File)
        else reply.title
        for reply in replies
    ]
    return _short(" ".join(texts))


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= MAX_TOAST else text[: MAX_TOAST - 1] + "…"


class CardClicks:
    """Answers clicks on our cards (see above); platform adapters call `handle`."""

    def __init__(self, runtime: Runtime, *, budget_seconds: float = BUDGET_SECONDS) -> None:
        self.runtime = runtime
        self.budget_seconds = budget_seconds

    async def handle(self, click: CardClick) -> ClickResult:
        progress = _Progress(self.runtime.defaults.locale)
        task = self.runtime.spawn(self._apply(click, progress))
        done, _ = await asyncio.wait({task}, timeout=self.budget_seconds)
        if task in done:
            result: ClickResult = task.result()
            return result
        log.info("card click %s still running after %.1fs", click.event_id, self.budget_seconds)
        return ClickResult("pending", t(progress.locale, "cards.pending"))

    async def _apply(self, click: CardClick, progress: _Progress) -> ClickResult:
        try:
            async with unit_of_work(self.runtime.factory) as session:
                result = await self._apply_in(session, click, progress)
        except _Answer as answer:
            return answer.result
        except Exception:
            log.exception("card click %s failed", click.event_id)
            await self._report_failure(click, progress.locale)
            return ClickResult("refused", t(progress.locale, "error.internal"))
        self.runtime.outbox.wake()
        return result

    async def _apply_in(self, session: AsyncSession, click: CardClick, progress: _Progress) -> ClickResult:
        now = self.runtime.clock()
        # Locked: clicks on one card are applied one after the other, each on the card as the last
        # one left it (the stored content is the card's current look).
        row = await session.scalar(
            select(OutboxMessage)
            .where(
                OutboxMessage.platform == click.platform,
                OutboxMessage.platform_message_id == click.card_message_id,
            )
            .order_by(OutboxMessage.id.desc())
            .limit(1)
            .with_for_update()
        )
        binding = await projects.binding_for_chat(session, click.platform, click.chat_id)
        message = InboundMessage(
            platform=click.platform,
            event_id=click.event_id,
            message_id="",
            chat=ChatRef(click.platform, click.chat_id, "group" if binding else "p2p"),
            sender=click.operator,
            text="",
            sent_at=click.clicked_at,
        )
        # A card sent by a job is about the job's project: in a 1:1 chat with someone in several
        # projects, the command must not land in whichever one they last talked about.
        card_project = row.payload.get("extra", {}).get("project") if row is not None else None
        project = (await session.get(Project, int(card_project)) if card_project else None) or (
            await session.get(Project, binding.project_id)
            if binding is not None
            else await projects.for_message(session, message)
        )
        locale = progress.locale = project.locale if project else self.runtime.defaults.locale
        card = reply_from_json(row.payload["content"]) if row is not None else None
        if not isinstance(card, Card) or not 0 <= click.group < len(card.actions):
            raise _Answer(ClickResult("invalid", t(locale, "cards.expired")))
        group = card.actions[click.group]
        if not 0 <= click.button < len(group.buttons):
            raise _Answer(ClickResult("duplicate", t(locale, "cards.duplicate")))  # its group is done
        button = group.buttons[click.button]
        command, missing = fill(button, group, click.values)
        if missing:
            fields = t(locale, "cards.field_sep").join(missing)
            raise _Answer(ClickResult("invalid", t(locale, "cards.missing", fields=fields)))
        message = replace(message, message_id=dedupe_key(click, command), text=command)
        record_id = await idempotency.claim_event(
            session,
            platform=message.platform,
            event_id=message.event_id,
            message_id=message.message_id,
            payload=event_to_json(message),
            now=now,
        )
        if record_id is None:
            raise _Answer(ClickResult("duplicate", t(locale, "cards.duplicate")))
        handled = await dispatch_message(
            session,
            message,
            registry=self.runtime.registry,
            defaults=self.runtime.defaults,
            now=now,
            project=project,
        )
        if not handled.applied:
            # Shown to the one who clicked only; the rollback takes the claim too, so once allowed
            # (or with the missing input given) the same click works.
            raise _Answer(ClickResult("refused", _flat(handled.replies)))
        record = await session.get(InboundEventRecord, record_id)
        assert record is not None
        record.status, record.attempts, record.processed_at = "done", 1, now
        await self.runtime.enqueue_replies(
            session, message, handled.replies, now, reply_to=click.card_message_id
        )
        updated = _after_click(card, click.group, button, self._line(project, locale, click, button, now))
        assert row is not None
        row.payload = {**row.payload, "content": reply_to_json(updated)}
        return ClickResult("applied", _toast(handled.replies) or button.label, updated)

    def _line(
        self, project: Project | None, locale: str, click: CardClick, button: Button, now: datetime
    ) -> str:
        """Who did what, when (in the project's time zone)."""
        zone = ZoneInfo(project.timezone if project else self.runtime.defaults.timezone)
        return t(
            locale,
            "cards.line",
            who=mention_token(click.operator.user_id),
            what=button.done or button.label,
            time=now.astimezone(zone).strftime("%m-%d %H:%M"),
        )

    async def _report_failure(self, click: CardClick, locale: str) -> None:
        """A click that failed unexpectedly changed nothing; say so in the chat (the answer may
        already have been "in progress")."""
        try:
            async with unit_of_work(self.runtime.factory) as session:
                await idempotency.enqueue(
                    session,
                    idempotency_key=f"reply:{click.platform}:{click.event_id}:failed",
                    platform=click.platform,
                    chat_id=click.chat_id,
                    reply_to=click.card_message_id,
                    payload={"content": reply_to_json(Text(t(locale, "error.internal")))},
                    now=self.runtime.clock(),
                )
        except Exception:
            log.exception("could not report the failed card click %s", click.event_id)


def _after_click(card: Card, group_index: int, button: Button, line: str) -> Card:
    """The card after a successful click: the line saying who did what added, and the group's
    buttons removed when the click finished it (groups keep their places: clicks name them by index)."""
    groups = list(card.actions)
    if button.final:
        groups[group_index] = replace(groups[group_index], buttons=(), fields=())
    return replace(card, body=f"{card.body}\n{line}", actions=tuple(groups))
