"""Typed, bounded models of every Feishu payload we read (DESIGN principle 10).

A payload that does not fit them is refused before anything is stored: each id fits the columns it
ends up in (String(128) in storage/models.py), names fit String(200), texts and lists are bounded, no
string holds a NUL or a lone surrogate (PostgreSQL cannot store either), times are real times.
Fields we do not read are ignored: Feishu adds fields over time.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal

import pydantic_core
from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints

MAX_ID = 128  # storage: ids are String(128)
MAX_NAME = 200  # storage: display and chat names are String(200)
MAX_CONTENT = 30_000  # a message's `content` (a JSON string); Feishu caps cards and posts at 30 KB
MAX_TEXT = 10_000  # the text of one message, once read out of its content
MAX_MENTIONS = 100
MAX_FORM_FIELDS = 50
MAX_FORM_VALUE = 2_000  # Feishu's text inputs take at most 1,000 characters
MAX_CARD_INDEX = 1_000  # our cards have a handful of groups and buttons
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_DIGITS = re.compile(r"[0-9]{1,16}")


def parse_json(raw: bytes | str) -> Any:
    """JSON, or ValueError: pydantic_core's parser refuses invalid UTF-8, lone surrogates, NaN and
    nesting deeper than 200 levels (where `json` raises RecursionError)."""
    return pydantic_core.from_json(raw, allow_inf_nan=False)


def _storable(value: str) -> str:
    if "\x00" in value:
        raise ValueError("NUL character")
    try:
        value.encode()
    except UnicodeEncodeError as exc:  # a lone surrogate (the long connection's JSON is not ours)
        raise ValueError("not valid Unicode") from exc
    return value


_Storable = AfterValidator(_storable)
Id = Annotated[str, StringConstraints(min_length=1, max_length=MAX_ID), _Storable]
MaybeId = Annotated[str, StringConstraints(max_length=MAX_ID), _Storable]  # "" for an id not known
Name = Annotated[str, StringConstraints(max_length=MAX_NAME), _Storable]
Word = Annotated[str, StringConstraints(max_length=64), _Storable]  # types, tags, keys
FormText = Annotated[str, StringConstraints(max_length=MAX_FORM_VALUE), _Storable]


def epoch_time(value: object) -> datetime:
    """Feishu's times: strings of epoch milliseconds (the docs' generic envelope shows µs:
    "1603977298000000", so both are accepted)."""
    if not isinstance(value, str) or not _DIGITS.fullmatch(value):
        raise ValueError("not a time in epoch milliseconds")
    number = int(value)
    micros = number if number >= 10**15 else number * 1000
    try:
        return _EPOCH + timedelta(microseconds=micros)
    except OverflowError as exc:  # past year 9999
        raise ValueError("time out of range") from exc


EpochTime = Annotated[datetime, BeforeValidator(epoch_time)]


class _Model(BaseModel):
    model_config = ConfigDict(strict=True, extra="ignore", frozen=True)


class UserIds(_Model):
    open_id: MaybeId = ""
    union_id: MaybeId = ""
    user_id: MaybeId = ""


class EventHeader(_Model):
    event_id: Id
    event_type: Word
    create_time: EpochTime
    token: MaybeId | None = None  # the long connection carries none
    app_id: Word | None = None
    tenant_key: Word | None = None


class Envelope(_Model):
    """A v2 event or callback: the header, and the event by its type (see below)."""

    schema_: Literal["2.0"] = Field(alias="schema")
    header: EventHeader
    event: dict[str, Any]


# --- im.message.receive_v1 ---------------------------------------------------------------------------


class Mention(_Model):
    key: Annotated[str, StringConstraints(min_length=1, max_length=32), _Storable]
    id: UserIds = UserIds()
    name: Name = ""


class Message(_Model):
    message_id: Id
    chat_id: Id
    chat_type: Word
    message_type: Word
    content: Annotated[str, StringConstraints(max_length=MAX_CONTENT), _Storable] = ""
    mentions: Annotated[list[Mention], Field(max_length=MAX_MENTIONS)] | None = None
    parent_id: MaybeId | None = None
    root_id: MaybeId | None = None
    create_time: EpochTime


class SenderIds(_Model):
    open_id: Id
    union_id: MaybeId = ""
    user_id: MaybeId = ""


class Sender(_Model):
    sender_id: SenderIds
    sender_type: Word
    tenant_key: Word | None = None


class MessageReceived(_Model):
    sender: Sender
    message: Message


class TextContent(_Model):
    """The content of a text message; other types' contents are not read."""

    text: Annotated[str, StringConstraints(max_length=MAX_TEXT), _Storable] = ""


class FileContent(_Model):
    """The content of a file message: the key to download it by (with the message id), its name."""

    file_key: Id
    file_name: Name


# --- im.chat.member.bot.added_v1 ---------------------------------------------------------------------


class BotAdded(_Model):
    chat_id: Id
    operator_id: UserIds | None = None
    name: Name = ""


# --- card.action.trigger -----------------------------------------------------------------------------


class OurButton(_Model):
    """The value our cards give each button: its group and its place in the group."""

    g: Annotated[int, Field(ge=0, le=MAX_CARD_INDEX)]
    b: Annotated[int, Field(ge=0, le=MAX_CARD_INDEX)]


Scalar = FormText | Annotated[int, Field(ge=-(2**63), lt=2**63)] | bool | None
FormValue = FormText | Annotated[list[FormText], Field(max_length=50)]


class Action(_Model):
    # Ours, or a button of a card layout we no longer send (answered "expired").
    value: Annotated[
        OurButton | Annotated[dict[Word, Scalar], Field(max_length=20)] | FormText | None,
        Field(union_mode="left_to_right"),
    ] = None
    tag: Word | None = None
    name: MaybeId | None = None
    timezone: Word | None = None
    form_value: Annotated[dict[Word, FormValue], Field(max_length=MAX_FORM_FIELDS)] | None = None


class Operator(_Model):
    open_id: Id
    union_id: MaybeId = ""
    user_id: MaybeId = ""
    tenant_key: Word | None = None


class CardContext(_Model):
    open_message_id: Id
    open_chat_id: Id


class CardAction(_Model):
    operator: Operator
    token: Name | None = None
    action: Action
    context: CardContext


# --- url_verification --------------------------------------------------------------------------------


class UrlVerification(_Model):
    type: Literal["url_verification"]
    challenge: Annotated[str, StringConstraints(min_length=1, max_length=MAX_NAME), _Storable]
    token: MaybeId
