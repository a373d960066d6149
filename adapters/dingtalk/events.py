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
from typing import Any

from adapters.base import WebhookRejected
from adapters.models import ChatRef, ChatType, InboundMessage, UserRef, mention_token

PLATFORM = "dingtalk"
_CHAT_TYPES: dict[str, ChatType] = {"1": "p2p", "2": "group"}
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# A visible "@" not glued to a word before it, so e-mail addresses are not mentions; after "=", ","
# or "、" it is one (`owner=@Bob`, `C=@Amy、@Bob`): DingTalk inserts a picked name where the cursor is.
_MENTION_START = r"(?<![A-Za-z0-9._%+\-])@"
_VISIBLE_MENTION = re.compile(_MENTION_START + r"[^\s@]+")


def longest_first(words: Iterable[str]) -> str:
    """A regex alternation of `words`, longest first, so "Bo" never takes the front of "Bob"."""
    return "|".join(re.escape(word) for word in sorted(words, key=len, reverse=True))


@dataclass(frozen=True)
class ReplyRoute:
    """The conversation's `sessionWebhook`: a URL that posts into the chat until `expires_at`."""

    session_webhook: str
    expires_at: datetime


def parse_message(
    payload: dict[str, Any],
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
    for a session webhook under `oapi_domain`: HTTP bodies are unsigned, and a forged URL would
    make us post chat content to someone else's server.
    """
    try:
        return _parse(payload, robot_code, now, oapi_domain.rstrip("/"), names or {})
    except (KeyError, TypeError, ValueError, AttributeError, OverflowError) as exc:
        raise WebhookRejected("malformed DingTalk robot message", status_code=400) from exc


def names_to_look_up(payload: dict[str, Any]) -> tuple[str, ...]:
    """The staffIds whose names `parse_message` needs to read this message's mentions: those of the
    other users @-mentioned when there are several (one alone is placed without a name)."""
    at_users = payload.get("atUsers")
    if not isinstance(at_users, list) or payload.get("msgtype") != "text":
        return ()
    others = _others([user for user in at_users if isinstance(user, dict)], payload.get("chatbotUserId"))
    staff_ids = tuple(dict.fromkeys(staff_id for user in others if (staff_id := _staff_id(user))))
    return staff_ids if len(staff_ids) > 1 else ()


def _parse(
    payload: dict[str, Any],
    robot_code: str | None,
    now: datetime,
    oapi_domain: str,
    names: Mapping[str, str],
) -> tuple[InboundMessage, ReplyRoute | None]:
    their_robot = payload.get("robotCode")
    if robot_code and their_robot and their_robot != robot_code:
        raise WebhookRejected("message for another robot", status_code=400)
    msg_id = _required_str(payload, "msgId")
    chat_type = _CHAT_TYPES[payload["conversationType"]]
    bot_id = payload.get("chatbotUserId")
    at_users = [user for user in payload.get("atUsers") or [] if isinstance(user, dict)]
    bot_mentioned = payload.get("isInAtList") is True or any(
        bot_id and user.get("dingtalkId") == bot_id for user in at_users
    )
    others = _others(at_users, bot_id)
    mentions = _mentions(others, names)
    message_type = _required_str(payload, "msgtype")
    if message_type == "text":
        text = _tokenise(_tidy(str(payload.get("text", {}).get("content") or "")), others, names)
    elif message_type == "richText":
        text = _tidy("\n".join(_rich_text_parts(payload.get("content"))))
    else:
        text = ""
    sender_id = payload.get("senderStaffId") or _required_str(payload, "senderId")
    created = payload.get("createAt")
    return (
        InboundMessage(
            platform=PLATFORM,
            event_id=msg_id,
            message_id=msg_id,
            chat=ChatRef(
                PLATFORM,
                _required_str(payload, "conversationId"),
                chat_type,
                name=str(payload.get("conversationTitle") or ""),
            ),
            sender=UserRef(PLATFORM, str(sender_id), str(payload.get("senderNick") or "")),
            text=text,
            sent_at=_from_millis(created) if created is not None else now,
            message_type=message_type,
            mentions=mentions,
            to_bot=chat_type == "p2p" or bool(bot_mentioned),
        ),
        _reply_route(payload, oapi_domain),
    )


def _required_str(payload: dict[str, Any], key: str) -> str:
    value = payload.get(key)
    if not isinstance(value, str) or not value:
        raise ValueError(f"missing {key}")
    return value


def _others(at_users: list[dict[str, Any]], bot_id: str | None) -> list[dict[str, Any]]:
    """The mentioned users other than the bot, each once."""
    seen: dict[str, dict[str, Any]] = {}
    for user in at_users:
        key = user.get("dingtalkId") or user.get("staffId")
        if isinstance(key, str) and key and not (bot_id and key == bot_id):
            seen.setdefault(key, user)
    return list(seen.values())


def _staff_id(user: dict[str, Any]) -> str | None:
    staff_id = user.get("staffId")
    return staff_id if isinstance(staff_id, str) and staff_id else None


def _mentions(others: list[dict[str, Any]], names: Mapping[str, str]) -> tuple[UserRef, ...]:
    """By staffId, the id members are stored under; users without one (another organisation's)
    cannot be members and are left out."""
    users: dict[str, UserRef] = {}
    for user in others:
        if staff_id := _staff_id(user):
            users.setdefault(staff_id, UserRef(PLATFORM, staff_id, names.get(staff_id, "")))
    return tuple(users.values())


def _tokenise(text: str, others: list[dict[str, Any]], names: Mapping[str, str]) -> str:
    """`<at:staffId>` for each visible "@Name" that can only mean one of the mentioned users."""
    owners: dict[str, str | None] = {}  # name -> its one staffId, None when two users share it
    for staff_id in dict.fromkeys(filter(None, map(_staff_id, others))):
        if name := names.get(staff_id):
            owners[name] = None if name in owners else staff_id
    known = {name: staff_id for name, staff_id in owners.items() if staff_id is not None}
    if not _VISIBLE_MENTION.search(text):
        # Reported from live callbacks: DingTalk may drop every linked "@Name" from the text. Then
        # the mentions go at the end, in `atUsers` order, where commands taking @people find them.
        ids = [found for user in others if (found := _staff_id(user))]
        return " ".join([text, *map(mention_token, dict.fromkeys(ids))]).strip()
    placed: set[str] = set()
    if known:

        def place(match: re.Match[str]) -> str:
            placed.add(known[match.group(1)])
            return mention_token(known[match.group(1)])

        text = re.sub(f"{_MENTION_START}({longest_first(known)})", place, text)
    left = [user for user in others if _staff_id(user) not in placed]
    last = _staff_id(left[0]) if len(left) == 1 else None
    if last is None or len(set(_VISIBLE_MENTION.findall(text))) != 1:
        return text
    return _VISIBLE_MENTION.sub(mention_token(last), text)


def _rich_text_parts(content: Any) -> list[str]:
    parts = content.get("richText") if isinstance(content, dict) else None
    return [
        part["text"] for part in parts or [] if isinstance(part, dict) and isinstance(part.get("text"), str)
    ]


def _reply_route(payload: dict[str, Any], oapi_domain: str) -> ReplyRoute | None:
    url, expires = payload.get("sessionWebhook"), payload.get("sessionWebhookExpiredTime")
    if not isinstance(url, str) or not url.startswith(f"{oapi_domain}/") or not isinstance(expires, int):
        return None
    return ReplyRoute(url, _from_millis(expires))


def _from_millis(value: Any) -> datetime:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise TypeError("timestamp is not epoch milliseconds")
    return _EPOCH + timedelta(milliseconds=int(value))


def _tidy(text: str) -> str:
    # Collapse runs of spaces within each line but keep line breaks: multi-line updates are meaningful.
    return "\n".join(" ".join(line.split()) for line in text.splitlines()).strip()
