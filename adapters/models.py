"""Neutral types every platform adapter produces and consumes; `bot/` only ever sees these."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Literal

ChatType = Literal["group", "p2p"]

# A mention of another user inside InboundMessage.text, written `<at:USER_ID>`; the adapter
# rewrites each platform's own mention syntax into this so command parsing is platform-free.
MENTION_TOKEN = re.compile(r"<at:([^<>\s]+)>")


def mention_token(user_id: str) -> str:
    return f"<at:{user_id}>"


# Ids the platforms reserve for "everyone" (Feishu `<at user_id="all">`, DingTalk `isAtAll`), and words
# people type for it: none is a person, so none may be a member, an owner or a mention.
RESERVED_USER_IDS = frozenset({"all", "@all", "everyone", "@everyone", "here", "@here", "所有人", "@所有人"})
# Feishu open_ids (`ou_…`), DingTalk staffIds, the shell's names: word characters, `.` and `-`; never
# a space, quote, `<`, `>` or `@`, which would let an id open or close markup where it is rendered.
_USER_ID = re.compile(r"\w[\w.\-]{0,127}")


def plausible_user_id(user_id: str) -> bool:
    """Whether `user_id` can be a person's id on a platform (and so be @-ed)."""
    return bool(_USER_ID.fullmatch(user_id)) and user_id.casefold() not in RESERVED_USER_IDS


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
class FileRef:
    """A file sent in a message, as the platform names it for a download: Feishu's `file_key` (with
    the message id), DingTalk's `downloadCode`; `name` is the file name the sender's client gave."""

    key: str
    name: str


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
    file: FileRef | None = None  # a file message's file (message_type "file")

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
class CardClick:
    """A verified click on a button of one of our cards: `group` and `button` index the card's
    `actions`; `values` are the submitted inputs by field name."""

    platform: str
    event_id: str
    card_message_id: str  # the platform's id of the card message
    chat_id: str
    operator: UserRef
    group: int
    button: int
    values: dict[str, str]
    clicked_at: datetime


@dataclass(frozen=True)
class Text:
    """Plain text; `mentions` are users to @ at the start of the message."""

    text: str
    mentions: tuple[UserRef, ...] = ()


@dataclass(frozen=True)
class Field:
    """An input on a card. Its submitted value, written as `fill` says (`{}` is the value), replaces
    `{name}` in the commands of its group's buttons; an empty value leaves nothing there."""

    name: str
    label: str
    kind: Literal["select", "text", "date"] = "text"
    options: tuple[tuple[str, str], ...] = ()  # a select's (value, shown text) pairs
    placeholder: str = ""
    fill: str = "{}"
    required: bool = True  # a button using it is refused while it is empty


# A `{name}` in a button's command: filled from the field of that name when the button is clicked.
COMMAND_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


@dataclass(frozen=True)
class Button:
    """Clicking it is the same as the clicking user sending `command` in the card's chat."""

    label: str
    command: str  # a chat command; `{name}` placeholders are filled from the group's fields
    style: Literal["primary", "default", "danger"] = "default"
    done: str = ""  # what a successful click did, for the line added to the card ("marked 2.1 done")
    final: bool = True  # a successful click ends its group: the group's buttons are removed
    hint: str = ""  # what to type instead, where a platform cannot show the fields this needs

    @property
    def needs_input(self) -> bool:
        """Whether its command waits for field values (so it cannot be a plain one-tap link)."""
        return COMMAND_PLACEHOLDER.search(self.command) is not None


@dataclass(frozen=True)
class ActionGroup:
    """The buttons (and the inputs they read) about one thing a card shows, e.g. one late task."""

    title: str
    buttons: tuple[Button, ...]
    fields: tuple[Field, ...] = ()


@dataclass(frozen=True)
class Card:
    """A titled card with a markdown body, optional pictures under it and optional actions; adapters
    render it in their own card format (where a platform has no buttons, the body alone must still
    make sense; where a card cannot hold a picture, the picture follows it as an image message)."""

    title: str
    body: str
    color: Literal["blue", "green", "orange", "red", "grey"] = "blue"
    actions: tuple[ActionGroup, ...] = ()
    images: tuple[Image, ...] = ()  # uploaded by the platform client before the card is sent


@dataclass(frozen=True)
class Image:
    """A picture (PNG), uploaded to the platform before it is sent; `alt` says in words what it
    shows, for wherever a picture cannot go (the console, a custom group robot)."""

    png: bytes
    alt: str


@dataclass(frozen=True)
class File:
    """A file (an .xlsx workbook), uploaded to the platform before it is sent as a file message;
    `alt` says in words what it is and where else to get it, for wherever a file cannot go."""

    data: bytes
    name: str
    alt: str


Message = Text | Card  # what is written, and so rendered and split by each platform
Reply = Message | Image | File


def in_words(reply: Reply) -> Message:
    """What a sender that cannot post pictures or files (a custom group robot, the console) sends
    instead."""
    if isinstance(reply, Image):
        return Text(picture_words(reply))
    if isinstance(reply, File):
        return Text(f"📎 {reply.alt}")
    return card_in_words(reply) if isinstance(reply, Card) else reply


def card_in_words(card: Card) -> Card:
    """`card` with a line saying what each of its pictures shows in place of the picture."""
    if not card.images:
        return card
    return replace(card, body="\n".join([card.body, "", *map(picture_words, card.images)]), images=())


def picture_words(image: Image) -> str:
    """The line that stands for a picture where it cannot go."""
    return f"🖼 {image.alt}"


@dataclass(frozen=True)
class OutboundMessage:
    """One message to deliver, as stored in the outbox."""

    platform: str
    chat_id: str
    content: Reply
    idempotency_key: str
    reply_to: str | None = None
    extra: dict[str, str] = field(default_factory=dict)
