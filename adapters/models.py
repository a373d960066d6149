"""Neutral types every platform adapter produces and consumes; `bot/` only ever sees these."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

ChatType = Literal["group", "p2p"]

# A mention of another user inside InboundMessage.text, written `<at:USER_ID>`; the adapter
# rewrites each platform's own mention syntax into this so command parsing is platform-free.
MENTION_TOKEN = re.compile(r"<at:([^<>\s]+)>")


def mention_token(user_id: str) -> str:
    return f"<at:{user_id}>"


@dataclass(frozen=True)
class UserRef:
    platform: str
    user_id: str
    name: str = ""


@dataclass(frozen=True)
class ChatRef:
    platform: str
    chat_id: str
    chat_type: ChatType = "group"
    name: str = ""


@dataclass(frozen=True)
class InboundMessage:
    """A chat message after verification and normalisation at the edge."""

    platform: str
    event_id: str
    message_id: str
    chat: ChatRef
    sender: UserRef
    text: str  # the bot's own mention removed, other mentions as `<at:USER_ID>`
    sent_at: datetime
    message_type: str = "text"
    mentions: tuple[UserRef, ...] = ()
    to_bot: bool = True
    sender_is_bot: bool = False
    reply_to: str | None = None

    def mentioned(self, user_id: str) -> UserRef | None:
        return next((user for user in self.mentions if user.user_id == user_id), None)


@dataclass(frozen=True)
class BotAddedToChat:
    platform: str
    event_id: str
    chat: ChatRef
    operator: UserRef | None
    occurred_at: datetime


InboundEvent = InboundMessage | BotAddedToChat


@dataclass(frozen=True)
class Text:
    """Plain text; `mentions` are users to @ at the start of the message."""

    text: str
    mentions: tuple[UserRef, ...] = ()


@dataclass(frozen=True)
class Card:
    """A titled card with a markdown body; adapters render it in their own card format."""

    title: str
    body: str
    color: Literal["blue", "green", "orange", "red", "grey"] = "blue"


Reply = Text | Card


@dataclass(frozen=True)
class OutboundMessage:
    """One message to deliver, as stored in the outbox."""

    platform: str
    chat_id: str
    content: Reply
    idempotency_key: str
    reply_to: str | None = None
    extra: dict[str, str] = field(default_factory=dict)
