"""DingTalk robot message -> neutral InboundMessage (pure).

The same JSON arrives as an HTTP callback body and as a Stream frame's `data` string (topic
`/v1.0/im/bot/messages/get`). Verification is the caller's job (signing.verify_callback for HTTP;
the Stream connection is authenticated by its ticket).

Mentions: `atUsers` lists the mentioned users' `dingtalkId` (and `staffId` for members of the
robot's organisation) but neither their names nor their positions in the text. DingTalk drops the
bot's own "@Name" (leaving the space the samples start with). A visible "@Name" of another user is
rewritten to `<at:staffId>` only when that is unambiguous:
- by name, when the caller looked up the mentioned users' names (`names_to_look_up`, then
  `parse_message(names=...)`) and only one of them has that name: this is how a message that
  mentions several people (`/raci 1.1 R=@Bob A=@Amy`) is read;
- otherwise when exactly one user (with a staffId) is left to place and the text shows exactly one
  distinct "@word" left.
What cannot be placed is left as written; the users with a staffId are still listed in `mentions`.
When the text shows no "@word" at all (a live callback was seen with every linked name removed),
the mentioned users' tokens are appended, in `atUsers` order.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    model_validator,
)
from pydantic.alias_generators import to_camel

from adapters.base import WebhookRejected
from adapters.models import ChatRef, ChatType, FileRef, InboundMessage, UserRef, mention_token

PLATFORM = "dingtalk"
_CHAT_TYPES: dict[str, ChatType] = {"1": "p2p", "2": "group"}
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# A visible "@" not glued to a word before it, so e-mail addresses are not mentions; after "=", ","
# or "、" it is one (`owner=@Bob`, `C=@Amy、@Bob`): DingTalk inserts a picked name where the cursor is.
_MENTION_START = r"(?<![A-Za-z0-9._%+\-])@"
_VISIBLE_MENTION = re.compile(_MENTION_START + r"[^\s@]+")

# Limits of what we read, so a message always fits the columns it ends up in (ids: String(128); chat
# and member names: String(200)); a longer one is refused, never stored to fail later.
MAX_ID_LENGTH = 128
MAX_NAME_LENGTH = 128
MAX_TEXT_LENGTH = 5_000
MAX_MENTIONS = 100
MAX_RICH_TEXT_PARTS = 100
MAX_DOWNLOAD_CODE = 2_048
_MAX_URL_LENGTH = 1_024
_MAX_MILLIS = 253_402_300_799_999  # 9999-12-31T23:59:59.999Z, the last instant a datetime holds
# The session webhook is the one DingTalk hands out for replies, on the oapi domain; it lives about
# 90 minutes, so a later expiry is not DingTalk's.
_SESSION_WEBHOOK = r"/robot/sendBySession\?session=[A-Za-z0-9._~%+/=*-]{1,256}"
_MAX_ROUTE_LIFETIME = timedelta(hours=2)


def longest_first(words: Iterable[str]) -> str:
    """A regex alternation of `words`, longest first, so "Bo" never takes the front of "Bob"."""
    return "|".join(re.escape(word) for word in sorted(words, key=len, reverse=True))


def _storable(value: str) -> str:
    # PostgreSQL text cannot hold NUL, and a lone surrogate (JSON allows "\ud800") is not UTF-8.
    if "\x00" in value:
        raise ValueError("NUL character")
    value.encode()  # UnicodeEncodeError, a ValueError, for a lone surrogate
    return value


_Id = Annotated[str, StringConstraints(min_length=1, max_length=MAX_ID_LENGTH), AfterValidator(_storable)]
_OptionalId = Annotated[str, StringConstraints(max_length=MAX_ID_LENGTH), AfterValidator(_storable)]
_Name = Annotated[str, StringConstraints(max_length=MAX_NAME_LENGTH), AfterValidator(_storable)]
_Text = Annotated[str, StringConstraints(max_length=MAX_TEXT_LENGTH), AfterValidator(_storable)]
_Url = Annotated[str, StringConstraints(max_length=_MAX_URL_LENGTH), AfterValidator(_storable)]
_Millis = Annotated[int, Field(ge=0, le=_MAX_MILLIS)]


class _Model(BaseModel):
    # Strict: a number is not a string here, nor a string a number; unknown keys are ignored.
    model_config = ConfigDict(strict=True, frozen=True, alias_generator=to_camel, extra="ignore")


class AtUser(_Model):
    dingtalk_id: _OptionalId | None = None
    staff_id: _OptionalId | None = None


class TextContent(_Model):
    content: _Text | None = None


class RichTextPart(_Model):
    text: _Text | None = None  # pictures are parts too, without text


class RichTextContent(_Model):
    rich_text: list[RichTextPart] = Field(default_factory=list, max_length=MAX_RICH_TEXT_PARTS)

    @model_validator(mode="after")
    def _bounded(self) -> RichTextContent:
        if sum(len(part.text or "") for part in self.rich_text) > MAX_TEXT_LENGTH:
            raise ValueError(f"rich text longer than {MAX_TEXT_LENGTH} characters")
        return self


_DownloadCode = Annotated[
    str, StringConstraints(min_length=1, max_length=MAX_DOWNLOAD_CODE), AfterValidator(_storable)
]


class FileContent(_Model):
    """A file message's `content`: the code the robot downloads it by, and its name (the space and
    file ids name it in the sender's DingTalk drive and are not read)."""

    download_code: _DownloadCode
    file_name: Annotated[
        str, StringConstraints(min_length=1, max_length=MAX_NAME_LENGTH), AfterValidator(_storable)
    ]


class RobotMessage(_Model):
    """The fields of a robot message (HTTP callback body or Stream `data`) that we read, typed and
    bounded; `from_json` / `from_payload` raise WebhookRejected (400) for anything else."""

    msg_id: _Id
    msgtype: Annotated[str, StringConstraints(min_length=1, max_length=32), AfterValidator(_storable)]
    conversation_id: _Id
    conversation_type: Literal["1", "2"]
    conversation_title: _Name | None = None
    sender_staff_id: _OptionalId | None = None
    sender_id: _OptionalId | None = None
    sender_nick: _Name | None = None
    chatbot_user_id: _OptionalId | None = None
    robot_code: _OptionalId | None = None
    is_in_at_list: bool | None = None
    at_users: list[AtUser] = Field(default_factory=list, max_length=MAX_MENTIONS)
    text: TextContent | None = None
    content: RichTextContent | None = None
    file_content: FileContent | None = None  # a file message's `content`
    create_at: _Millis | None = None
    session_webhook: _Url | None = None
    session_webhook_expired_time: _Millis | None = None

    @model_validator(mode="before")
    @classmethod
    def _rich_text_content_only(cls, data: Any) -> Any:
        # Only a rich text's and a file's `content` are read; other types carry their own shapes
        # there (a picture's download codes, an unsupported type's notice).
        if not isinstance(data, dict) or data.get("msgtype") == "richText":
            return data
        kept = {key: value for key, value in data.items() if key != "content"}
        if data.get("msgtype") == "file":
            kept["fileContent"] = data.get("content")
        return kept

    @model_validator(mode="after")
    def _has_sender(self) -> RobotMessage:
        if not (self.sender_staff_id or self.sender_id):
            raise ValueError("missing senderStaffId and senderId")
        return self

    @classmethod
    def from_json(cls, raw: str | bytes) -> RobotMessage:
        try:
            return cls.model_validate_json(raw)
        except ValidationError as invalid:
            raise _rejected(invalid) from None

    @classmethod
    def from_payload(cls, payload: Mapping[str, Any]) -> RobotMessage:
        try:
            return cls.model_validate(payload)
        except ValidationError as invalid:
            raise _rejected(invalid) from None

    @property
    def sender(self) -> str:
        return self.sender_staff_id or self.sender_id or ""


def _rejected(invalid: ValidationError) -> WebhookRejected:
    """One short line naming the first problem (never the input: it may be huge)."""
    first = invalid.errors(include_url=False, include_input=False)[0]
    where = ".".join(map(str, first["loc"])) or "body"
    return WebhookRejected(
        f"malformed DingTalk robot message ({invalid.error_count()} errors; {where}: {first['msg']})",
        status_code=400,
    )


@dataclass(frozen=True)
class ReplyRoute:
    """The conversation's `sessionWebhook`: a URL that posts into the chat until `expires_at`."""

    session_webhook: str
    expires_at: datetime


def parse_message(
    payload: RobotMessage | Mapping[str, Any],
    *,
    robot_code: str | None,
    now: datetime,
    oapi_domain: str = "https://oapi.dingtalk.com",
    names: Mapping[str, str] | None = None,
) -> tuple[InboundMessage, ReplyRoute | None]:
    """Normalise one robot message; `now` stands in for a missing `createAt`; `names` are the
    mentioned users' display names by staffId, where the caller looked them up.

    Raises WebhookRejected (400) for malformed payloads or a message addressed to another robot
    (`robot_code` configured and the payload's `robotCode` differs). The reply route is kept only
    for a session webhook exactly `{oapi_domain}/robot/sendBySession?session=...` expiring within
    two hours: HTTP bodies are unsigned, and a forged URL would make us post chat content elsewhere.
    """
    message = payload if isinstance(payload, RobotMessage) else RobotMessage.from_payload(payload)
    if robot_code and message.robot_code and message.robot_code != robot_code:
        raise WebhookRejected("message for another robot", status_code=400)
    chat_type = _CHAT_TYPES[message.conversation_type]
    bot_id = message.chatbot_user_id
    bot_mentioned = message.is_in_at_list is True or any(
        bot_id and user.dingtalk_id == bot_id for user in message.at_users
    )
    others = _others(message.at_users, bot_id)
    names = names or {}
    if message.msgtype == "text":
        text = _tokenise(_tidy((message.text and message.text.content) or ""), others, names)
    elif message.msgtype == "richText" and message.content is not None:
        text = _tidy("\n".join(part.text for part in message.content.rich_text if part.text is not None))
    else:
        text = ""
    file = message.file_content
    return (
        InboundMessage(
            platform=PLATFORM,
            event_id=message.msg_id,
            message_id=message.msg_id,
            chat=ChatRef(PLATFORM, message.conversation_id, chat_type, name=message.conversation_title or ""),
            sender=UserRef(PLATFORM, message.sender, message.sender_nick or ""),
            text=text,
            sent_at=_from_millis(message.create_at) if message.create_at is not None else now,
            message_type=message.msgtype,
            mentions=_mentions(others, names),
            # A file cannot @ the robot: one that reaches it is for it.
            to_bot=chat_type == "p2p" or bool(bot_mentioned) or file is not None,
            file=FileRef(file.download_code, file.file_name) if file is not None else None,
        ),
        _reply_route(message, oapi_domain.rstrip("/"), now),
    )


def names_to_look_up(payload: RobotMessage | Mapping[str, Any]) -> tuple[str, ...]:
    """The staffIds whose names `parse_message` needs to read this message's mentions: those of the
    other users @-mentioned when there are several (one alone is placed without a name)."""
    message = payload if isinstance(payload, RobotMessage) else RobotMessage.from_payload(payload)
    if message.msgtype != "text":
        return ()
    others = _others(message.at_users, message.chatbot_user_id)
    staff_ids = tuple(dict.fromkeys(user.staff_id for user in others if user.staff_id))
    return staff_ids if len(staff_ids) > 1 else ()


def _others(at_users: list[AtUser], bot_id: str | None) -> list[AtUser]:
    """The mentioned users other than the bot, each once."""
    seen: dict[str, AtUser] = {}
    for user in at_users:
        key = user.dingtalk_id or user.staff_id
        if key and not (bot_id and key == bot_id):
            seen.setdefault(key, user)
    return list(seen.values())


def _mentions(others: list[AtUser], names: Mapping[str, str]) -> tuple[UserRef, ...]:
    """By staffId, the id members are stored under; users without one (another organisation's)
    cannot be members and are left out."""
    users: dict[str, UserRef] = {}
    for user in others:
        if user.staff_id:
            users.setdefault(user.staff_id, UserRef(PLATFORM, user.staff_id, names.get(user.staff_id, "")))
    return tuple(users.values())


def _tokenise(text: str, others: list[AtUser], names: Mapping[str, str]) -> str:
    """`<at:staffId>` for each visible "@Name" that can only mean one of the mentioned users."""
    owners: dict[str, str | None] = {}  # name -> its one staffId, None when two users share it
    for staff_id in dict.fromkeys(user.staff_id for user in others if user.staff_id):
        if name := names.get(staff_id):
            owners[name] = None if name in owners else staff_id
    known = {name: staff_id for name, staff_id in owners.items() if staff_id is not None}
    if not _VISIBLE_MENTION.search(text):
        # Reported from live callbacks: DingTalk may drop every linked "@Name" from the text. Then
        # the mentions go at the end, in `atUsers` order, where commands taking @people find them.
        ids = [user.staff_id for user in others if user.staff_id]
        return " ".join([text, *map(mention_token, dict.fromkeys(ids))]).strip()
    placed: set[str] = set()
    if known:

        def place(match: re.Match[str]) -> str:
            placed.add(known[match.group(1)])
            return mention_token(known[match.group(1)])

        text = re.sub(f"{_MENTION_START}({longest_first(known)})", place, text)
    left = [user for user in others if user.staff_id not in placed]
    last = left[0].staff_id if len(left) == 1 else None
    if not last or len(set(_VISIBLE_MENTION.findall(text))) != 1:
        return text
    return _VISIBLE_MENTION.sub(mention_token(last), text)


def _reply_route(message: RobotMessage, oapi_domain: str, now: datetime) -> ReplyRoute | None:
    url, expires = message.session_webhook, message.session_webhook_expired_time
    if url is None or expires is None or not re.fullmatch(re.escape(oapi_domain) + _SESSION_WEBHOOK, url):
        return None
    expires_at = _from_millis(expires)
    return ReplyRoute(url, expires_at) if expires_at <= now + _MAX_ROUTE_LIFETIME else None


def _from_millis(value: int) -> datetime:
    return _EPOCH + timedelta(milliseconds=value)


def _tidy(text: str) -> str:
    # Collapse runs of ASCII spaces within each line but keep line breaks (multi-line updates are
    # meaningful) and other spaces such as U+3000: they belong to text stored as typed.
    return "\n".join(re.sub(r"[ \t]+", " ", line).strip(" \t") for line in text.splitlines()).strip()
