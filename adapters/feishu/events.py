"""Feishu webhook -> neutral events: verify signature, replay window and token, decrypt, parse into
the typed models of `payloads.py`, normalise.

We parse webhooks ourselves rather than through lark-oapi's dispatcher because it reads headers
case-sensitively (Starlette lowercases them) and answers HTTP itself instead of returning data.
"""

from __future__ import annotations

import hmac
import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from pydantic import ValidationError

from adapters.base import WebhookRejected, WebhookResult
from adapters.feishu.crypto import decrypt, verify_signature
from adapters.feishu.payloads import (
    BotAdded,
    Envelope,
    EventHeader,
    FileContent,
    Mention,
    MessageReceived,
    TextContent,
    UrlVerification,
    parse_json,
)
from adapters.models import (
    BotAddedToChat,
    ChatRef,
    ChatType,
    FileRef,
    InboundEvent,
    InboundMessage,
    UserRef,
    mention_token,
)

PLATFORM = "feishu"
_TIMESTAMP = "x-lark-request-timestamp"
_NONCE = "x-lark-request-nonce"
_SIGNATURE = "x-lark-signature"
MESSAGE_RECEIVED = "im.message.receive_v1"
BOT_ADDED = "im.chat.member.bot.added_v1"


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

    Raises WebhookRejected: 401 for anything unauthenticated, 400 for an authentic request whose
    payload does not fit our models (nothing of it may be stored).
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
        return WebhookResult(events=parse_event(payload, bot_open_id=bot_open_id))
    if payload.get("type") == "url_verification":
        return WebhookResult(response=challenge_answer(payload))
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
    (schema 2.0, with a header), a url_verification, or a v1 event_callback.

    With an encrypt key, the signature headers are checked against the raw bytes before anything
    is parsed or decrypted. The one exception is the URL check, which Feishu sends encrypted but
    unsigned (as lark-oapi and the Go SDK assume): decrypting it with our key and the token match
    authenticate it, and nothing else is accepted without a signature.

    Raises WebhookRejected: 401 when unauthenticated, 400 when signed but unreadable.
    """
    lowered = {name.lower(): value for name, value in headers.items()}
    if encrypt_key:
        signed = _check_signature(lowered, raw_body, encrypt_key, now, replay_window_seconds)
        payload = _decrypted(raw_body, encrypt_key, status_code=400 if signed else 401)
        if not signed and (payload.get("type") != "url_verification" or "schema" in payload):
            raise WebhookRejected("missing signature headers")
    else:  # CROSSTRACK_FEISHU_ALLOW_UNSIGNED: only the verification token vouches for the body
        signed = False
        payload = _load(raw_body, status_code=401)
        if "encrypt" in payload:
            raise WebhookRejected("encrypted body but no encrypt key is configured")

    if payload.get("schema") == "2.0":
        header = payload.get("header")
        _check_token(header.get("token") if isinstance(header, dict) else None, verification_token)
    elif payload.get("type") in ("url_verification", "event_callback"):
        _check_token(payload.get("token"), verification_token)
    else:
        raise WebhookRejected("unrecognised payload", status_code=400 if signed else 401)
    return payload


def challenge_answer(payload: dict[str, Any]) -> dict[str, str]:
    """The answer to an authenticated url_verification."""
    try:
        return {"challenge": UrlVerification.model_validate(payload).challenge}
    except ValidationError as exc:
        raise WebhookRejected(f"malformed url_verification: {first_error(exc)}", status_code=400) from exc


def parse_event(payload: dict[str, Any], *, bot_open_id: str | None) -> tuple[InboundEvent, ...]:
    """Normalise an authenticated v2 event in plain JSON (a webhook's, or one from the long
    connection). Raises WebhookRejected (400) when it does not fit our models; events of other
    types are not read."""
    header = payload.get("header")
    event_type = header.get("event_type") if isinstance(header, dict) else None
    if payload.get("schema") != "2.0" or not isinstance(event_type, str):
        raise WebhookRejected("not a v2 event", status_code=400)
    if event_type not in (MESSAGE_RECEIVED, BOT_ADDED):
        return ()
    try:
        envelope = Envelope.model_validate(payload)
        if event_type == MESSAGE_RECEIVED:
            return (_message(envelope.header, MessageReceived.model_validate(envelope.event), bot_open_id),)
        return (_bot_added(envelope.header, BotAdded.model_validate(envelope.event)),)
    except ValidationError as exc:
        raise WebhookRejected(f"malformed {event_type} event: {first_error(exc)}", status_code=400) from exc


def first_error(error: ValidationError) -> str:
    """Where and what, without the offending value (it may be huge, or someone's message)."""
    first = error.errors(include_url=False, include_input=False)[0]
    return f"{'.'.join(str(part) for part in first['loc'])}: {first['msg']}"


def _load(raw: bytes | str, *, status_code: int) -> dict[str, Any]:
    try:
        payload = parse_json(raw)
    except ValueError as exc:
        raise WebhookRejected("body is not JSON", status_code=status_code) from exc
    if not isinstance(payload, dict):
        raise WebhookRejected("body is not a JSON object", status_code=status_code)
    return payload


def _decrypted(raw: bytes, encrypt_key: str, *, status_code: int) -> dict[str, Any]:
    encrypted = _load(raw, status_code=status_code).get("encrypt")
    if not isinstance(encrypted, str):
        raise WebhookRejected("plain body but an encrypt key is configured", status_code=status_code)
    try:
        plaintext = decrypt(encrypt_key, encrypted)
    except ValueError as exc:
        raise WebhookRejected(
            "body cannot be decrypted with the configured key", status_code=status_code
        ) from exc
    return _load(plaintext, status_code=status_code)


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


def _check_token(token: object, expected: str) -> None:
    if not isinstance(token, str) or not hmac.compare_digest(token.encode(), expected.encode()):
        raise WebhookRejected("invalid verification token")


def _message(header: EventHeader, event: MessageReceived, bot_open_id: str | None) -> InboundMessage:
    message = event.message
    chat_type: ChatType = "p2p" if message.chat_type == "p2p" else "group"
    mentions = message.mentions or []
    file = None
    if message.message_type == "file":
        content = FileContent.model_validate_json(message.content)
        file = FileRef(content.file_key, content.file_name)
    if message.message_type == "text":
        text, users, bot_mentioned = _normalise_text(
            TextContent.model_validate_json(message.content).text,
            mentions,
            bot_open_id,
            # Unknown bot id: Feishu pushes group messages that @ the bot, usually written first.
            leading_is_bot=bot_open_id is None and chat_type == "group",
        )
    else:
        text, users = "", ()
        bot_mentioned = bot_open_id is not None and any(m.id.open_id == bot_open_id for m in mentions)
    return InboundMessage(
        platform=PLATFORM,
        event_id=header.event_id,
        message_id=message.message_id,
        chat=ChatRef(PLATFORM, message.chat_id, chat_type),
        sender=UserRef(PLATFORM, event.sender.sender_id.open_id),
        text=text,
        sent_at=message.create_time,
        message_type=message.message_type,
        mentions=users,
        # A file cannot @ the bot: Feishu pushes a group's files only to an app that reads all of
        # its messages, and the bot then reads them all (and answers only the PM's workbooks).
        to_bot=chat_type == "p2p" or bot_open_id is None or bot_mentioned or file is not None,
        sender_is_bot=event.sender.sender_type != "user",
        reply_to=message.parent_id or None,
        file=file,
    )


def _normalise_text(
    text: str, mentions: list[Mention], bot_open_id: str | None, *, leading_is_bot: bool
) -> tuple[str, tuple[UserRef, ...], bool]:
    """Drop the bot's mention, turn the others into `<at:open_id>` tokens, tidy whitespace."""
    by_key = {m.key: m for m in mentions}
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
        open_id = mention.id.open_id
        if key == leading_key or (bot_open_id is not None and open_id == bot_open_id):
            bot_mentioned = True
            return " "
        if not open_id:
            return f"@{mention.name}"
        users.setdefault(open_id, UserRef(PLATFORM, open_id, mention.name))
        return mention_token(open_id)

    replaced = re.sub("|".join(re.escape(key) for key in keys), replace, text)
    return _tidy(replaced), tuple(users.values()), bot_mentioned


def _tidy(text: str) -> str:
    # Collapse runs of ASCII spaces within each line but keep line breaks (multi-line updates are
    # meaningful) and other spaces such as U+3000: they belong to text stored as typed.
    return "\n".join(re.sub(r"[ \t]+", " ", line).strip(" \t") for line in text.splitlines()).strip()


def _bot_added(header: EventHeader, event: BotAdded) -> BotAddedToChat:
    operator_id = event.operator_id.open_id if event.operator_id else ""
    return BotAddedToChat(
        platform=PLATFORM,
        event_id=header.event_id,
        chat=ChatRef(PLATFORM, event.chat_id, "group", name=event.name),
        operator=UserRef(PLATFORM, operator_id) if operator_id else None,
        occurred_at=header.create_time,
    )
