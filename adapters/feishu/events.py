"""Feishu webhook -> neutral events: verify signature, replay window and token, decrypt, normalise.

We parse webhooks ourselves rather than through lark-oapi's dispatcher because it reads headers
case-sensitively (Starlette lowercases them) and answers HTTP itself instead of returning data.
"""

from __future__ import annotations

import hmac
import json
import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from adapters.base import WebhookRejected, WebhookResult
from adapters.feishu.crypto import decrypt, verify_signature
from adapters.models import (
    BotAddedToChat,
    ChatRef,
    ChatType,
    InboundEvent,
    InboundMessage,
    UserRef,
    mention_token,
)

PLATFORM = "feishu"
_TIMESTAMP = "x-lark-request-timestamp"
_NONCE = "x-lark-request-nonce"
_SIGNATURE = "x-lark-signature"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def parse_webhook(
    headers: Mapping[str, str],
    raw_body: bytes,
    *,
    verification_token: str,
    encrypt_key: str | None,
    bot_open_id: str | None,
    now: datetime,
    replay_window_seconds: int,
) -> WebhookResult:
    """Verify one webhook request and turn it into a challenge answer or neutral events.

    Raises WebhookRejected for anything unauthenticated or unreadable.
    """
    payload = authenticate(
        headers,
        raw_body,
        verification_token=verification_token,
        encrypt_key=encrypt_key,
        now=now,
        replay_window_seconds=replay_window_seconds,
    )
    if payload.get("schema") == "2.0":
        return WebhookResult(events=_v2_events(payload["header"], payload.get("event"), bot_open_id))
    if payload.get("type") == "url_verification":
        return WebhookResult(response={"challenge": payload["challenge"]})
    return WebhookResult()  # v1 envelopes carry nothing we subscribe to


def authenticate(
    headers: Mapping[str, str],
    raw_body: bytes,
    *,
    verification_token: str,
    encrypt_key: str | None,
    now: datetime,
    replay_window_seconds: int,
) -> dict[str, Any]:
    """The plain JSON of one authenticated request to an event or callback URL: a v2 envelope
    (schema 2.0, with a header), a url_verification with its challenge, or a v1 event_callback.

    Raises WebhookRejected for anything unauthenticated, unreadable or else.
    """
    lowered = {name.lower(): value for name, value in headers.items()}
    payload = _load(raw_body)
    signed = False
    if encrypt_key:
        signed = _check_signature(lowered, raw_body, encrypt_key, now, replay_window_seconds)
        encrypted = payload.get("encrypt")
        if not isinstance(encrypted, str):
            raise WebhookRejected("plain body but an encrypt key is configured")
        try:
            plaintext = decrypt(encrypt_key, encrypted)
        except ValueError as exc:
            raise WebhookRejected("body cannot be decrypted with the configured key") from exc
        payload = _load(plaintext.encode())
    elif "encrypt" in payload:
        raise WebhookRejected("encrypted body but no encrypt key is configured")

    if payload.get("schema") == "2.0":
        header = payload.get("header")
        if not isinstance(header, dict):
            raise WebhookRejected("v2 event without header")
        _check_token(header.get("token"), verification_token)
        _require_signed(signed, encrypt_key)
        return payload

    if payload.get("type") == "url_verification":
        # Feishu may send the (encrypted) challenge unsigned, as lark-oapi and the Go SDK assume:
        # decrypting with our key plus the token match authenticate it, and it only echoes a value.
        _check_token(payload.get("token"), verification_token)
        if not isinstance(payload.get("challenge"), str):
            raise WebhookRejected("url_verification without challenge")
        return payload

    if payload.get("type") == "event_callback":
        _check_token(payload.get("token"), verification_token)
        _require_signed(signed, encrypt_key)
        return payload

    raise WebhookRejected("unrecognised payload")


def parse_event(payload: dict[str, Any], *, bot_open_id: str | None) -> tuple[InboundEvent, ...]:
    """Normalise a v2 event that arrived already authenticated and in plain text (the long
    connection), exactly as a webhook's. Raises WebhookRejected (400) when it is not one."""
    header = payload.get("header")
    if payload.get("schema") != "2.0" or not isinstance(header, dict):
        raise WebhookRejected("not a v2 event", status_code=400)
    return _v2_events(header, payload.get("event"), bot_open_id)


def _load(raw: bytes) -> dict[str, Any]:
    try:
        payload = json.loads(raw)
    except (ValueError, RecursionError) as exc:  # RecursionError: absurdly nested JSON
        raise WebhookRejected("body is not JSON") from exc
    if not isinstance(payload, dict):
        raise WebhookRejected("body is not a JSON object")
    return payload


def _check_signature(
    headers: Mapping[str, str], raw_body: bytes, encrypt_key: str, now: datetime, window_seconds: int
) -> bool:
    """True when the request is validly signed, False when unsigned; raises when badly signed."""
    timestamp, nonce, received = (headers.get(name) for name in (_TIMESTAMP, _NONCE, _SIGNATURE))
    if not timestamp and not nonce and not received:
        return False
    if not timestamp or not nonce or not received:
        raise WebhookRejected("incomplete signature headers")
    if not verify_signature(timestamp, nonce, encrypt_key, raw_body, received):
        raise WebhookRejected("bad signature")
    try:
        sent = int(timestamp)
    except ValueError as exc:
        raise WebhookRejected("bad signature timestamp") from exc
    if abs(now.timestamp() - sent) > window_seconds:
        raise WebhookRejected("stale signature timestamp (possible replay)")
    return True


def _require_signed(signed: bool, encrypt_key: str | None) -> None:
    if encrypt_key and not signed:
        raise WebhookRejected("missing signature headers")


def _check_token(token: object, expected: str) -> None:
    if not isinstance(token, str) or not hmac.compare_digest(token.encode(), expected.encode()):
        raise WebhookRejected("invalid verification token")


def _v2_events(header: dict[str, Any], event: Any, bot_open_id: str | None) -> tuple[InboundEvent, ...]:
    event_type = header.get("event_type")
    try:
        if event_type == "im.message.receive_v1":
            return (_message(header, event, bot_open_id),)
        if event_type == "im.chat.member.bot.added_v1":
            return (_bot_added(header, event),)
    except (KeyError, TypeError, ValueError) as exc:
        raise WebhookRejected(f"malformed {event_type} event", status_code=400) from exc
    return ()


def _message(header: dict[str, Any], event: dict[str, Any], bot_open_id: str | None) -> InboundMessage:
    message = event["message"]
    sender = event["sender"]
    chat_type: ChatType = "p2p" if message["chat_type"] == "p2p" else "group"
    message_type = message["message_type"]
    raw_mentions = [m for m in message.get("mentions") or [] if isinstance(m, dict) and m.get("key")]
    if message_type == "text":
        text, mentions, bot_mentioned = _normalise_text(
            _text_of(message.get("content")),
            raw_mentions,
            bot_open_id,
            # Unknown bot id: Feishu pushes group messages that @ the bot, usually written first.
            leading_is_bot=bot_open_id is None and chat_type == "group",
        )
    else:
        text, mentions = "", ()
        bot_mentioned = bot_open_id is not None and any(_open_id(m) == bot_open_id for m in raw_mentions)
    return InboundMessage(
        platform=PLATFORM,
        event_id=header["event_id"],
        message_id=message["message_id"],
        chat=ChatRef(PLATFORM, message["chat_id"], chat_type),
        sender=UserRef(PLATFORM, sender["sender_id"]["open_id"]),
        text=text,
        sent_at=timestamp(message["create_time"]),
        message_type=message_type,
        mentions=mentions,
        to_bot=chat_type == "p2p" or bot_open_id is None or bot_mentioned,
        sender_is_bot=sender.get("sender_type") != "user",
        reply_to=message.get("parent_id") or None,
    )


def _text_of(content: Any) -> str:
    try:
        text = json.loads(content).get("text")
    except (TypeError, ValueError, AttributeError):
        return ""
    return text if isinstance(text, str) else ""


def _normalise_text(
    text: str, raw_mentions: list[dict[str, Any]], bot_open_id: str | None, *, leading_is_bot: bool
) -> tuple[str, tuple[UserRef, ...], bool]:
    """Drop the bot's mention, turn the others into `<at:open_id>` tokens, tidy whitespace."""
    by_key = {m["key"]: m for m in raw_mentions}
    if not by_key:
        return _tidy(text), (), False
    # Longest first so "@_user_1" never eats the front of "@_user_10".
    keys = sorted(by_key, key=len, reverse=True)
    head = text.lstrip()
    leading_key = next((key for key in keys if head.startswith(key)), None) if leading_is_bot else None
    users: dict[str, UserRef] = {}
    bot_mentioned = False

    def replace(match: re.Match[str]) -> str:
        nonlocal bot_mentioned
        key = match.group(0)
        mention = by_key[key]
        open_id = _open_id(mention)
        if key == leading_key or (bot_open_id is not None and open_id == bot_open_id):
            bot_mentioned = True
            return " "
        name = str(mention.get("name") or "")
        if not open_id:
            return f"@{name}"
        users.setdefault(open_id, UserRef(PLATFORM, open_id, name))
        return mention_token(open_id)

    replaced = re.sub("|".join(re.escape(key) for key in keys), replace, text)
    return _tidy(replaced), tuple(users.values()), bot_mentioned


def _open_id(mention: dict[str, Any]) -> str | None:
    ids = mention.get("id")
    open_id = ids.get("open_id") if isinstance(ids, dict) else None
    return open_id if isinstance(open_id, str) and open_id else None


def _tidy(text: str) -> str:
    # Collapse runs of spaces within each line but keep line breaks: multi-line updates are meaningful.
    return "\n".join(" ".join(line.split()) for line in text.splitlines()).strip()


def _bot_added(header: dict[str, Any], event: dict[str, Any]) -> BotAddedToChat:
    operator = event.get("operator_id") or {}
    operator_id = operator.get("open_id")
    return BotAddedToChat(
        platform=PLATFORM,
        event_id=header["event_id"],
        chat=ChatRef(PLATFORM, event["chat_id"], "group", name=event.get("name") or ""),
        operator=UserRef(PLATFORM, operator_id) if operator_id else None,
        occurred_at=timestamp(header["create_time"]),
    )


def timestamp(value: str | int) -> datetime:
    number = int(value)
    # Events use epoch ms; the docs' generic envelope shows µs ("1603977298000000"), so accept both.
    micros = number if number >= 10**15 else number * 1000
    return _EPOCH + timedelta(microseconds=micros)
