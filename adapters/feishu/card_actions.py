"""POST /webhooks/feishu/cards: `card.action.trigger`, a click on a button of one of our cards.

Verified exactly like events (signature, replay window, decryption, verification token; the
challenge is answered), then answered within Feishu's 3 s with a toast and, when the click changed
something, the card's new look (`card.type = raw`), which Feishu shows to everyone in the chat.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Awaitable, Callable, Coroutine, Mapping
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from adapters.base import WebhookRejected
from adapters.feishu.cards import field_name, render_parts
from adapters.feishu.client import FeishuClient
from adapters.feishu.events import PLATFORM, authenticate, timestamp
from adapters.feishu.webhook import NOT_CONFIGURED
from adapters.models import CardClick, UserRef
from bot.card_clicks import ClickResult
from bot.settings import Settings

log = logging.getLogger(__name__)

HandleClick = Callable[[CardClick], Awaitable[ClickResult]]

_TOAST_TYPES = {
    "applied": "success",
    "refused": "error",
    "invalid": "warning",
    "duplicate": "info",
    "pending": "info",
}
# A date picker submits "2026-12-01 +0800".
_PICKED_DATE = re.compile(r"(\d{4}-\d{2}-\d{2}) [+-]\d{4}")


def parse_callback(
    headers: Mapping[str, str],
    raw_body: bytes,
    *,
    verification_token: str,
    encrypt_key: str | None,
    now: datetime,
    replay_window_seconds: int,
) -> CardClick | dict[str, str]:
    """A verified click, or the answer to the URL check. Raises WebhookRejected otherwise (401 when
    unauthenticated, 400 for an authentic request that is no card action)."""
    payload = authenticate(
        headers,
        raw_body,
        verification_token=verification_token,
        encrypt_key=encrypt_key,
        now=now,
        replay_window_seconds=replay_window_seconds,
    )
    if payload.get("type") == "url_verification":
        return {"challenge": payload["challenge"]}
    return click_from(payload)


def click_from(payload: dict[str, Any]) -> CardClick:
    """The click in an authenticated, plain `card.action.trigger` (a callback's, or one received
    over the long connection). Raises WebhookRejected (400) when it is not one."""
    header = payload.get("header")
    if not isinstance(header, dict) or header.get("event_type") != "card.action.trigger":
        raise WebhookRejected("not a card.action.trigger callback", status_code=400)
    try:
        return _click(header, payload["event"])
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise WebhookRejected("malformed card.action.trigger callback", status_code=400) from exc


def _click(header: dict[str, Any], event: dict[str, Any]) -> CardClick:
    action, context = event["action"], event["context"]
    value = action.get("value")
    # Not one of our buttons (or from a card layout we no longer send): -1 is answered "expired".
    group, button = (value.get("g"), value.get("b")) if isinstance(value, dict) else (None, None)
    if not isinstance(group, int) or not isinstance(button, int):
        group = button = -1
    return CardClick(
        platform=PLATFORM,
        event_id=_required(header, "event_id"),
        card_message_id=_required(context, "open_message_id"),
        chat_id=_required(context, "open_chat_id"),
        operator=UserRef(PLATFORM, _required(event["operator"], "open_id")),
        group=group,
        button=button,
        values=_values(action.get("form_value"), group),
        clicked_at=timestamp(header["create_time"]),
    )


def _required(data: dict[str, Any], key: str) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value:
        raise ValueError(f"missing {key}")
    return value


def _values(form_value: Any, group: int) -> dict[str, str]:
    """The clicked group's inputs by field name, as text."""
    if not isinstance(form_value, dict):
        return {}
    prefix = field_name(group, "")
    values: dict[str, str] = {}
    for key, value in form_value.items():
        if not isinstance(key, str) or not key.startswith(prefix):
            continue
        text = " ".join(str(item) for item in value) if isinstance(value, list) else str(value)
        picked = _PICKED_DATE.fullmatch(text)
        values[key.removeprefix(prefix)] = picked[1] if picked else text
    return values


def answer(result: ClickResult) -> dict[str, Any]:
    """The callback's response body: a toast, and the card's new look when there is one."""
    body: dict[str, Any] = {"toast": {"type": _TOAST_TYPES[result.outcome], "content": result.toast}}
    if result.card is not None:
        # The clicked message is the card's last part when it was split (the one with the buttons).
        _, parts = render_parts(result.card)
        body["card"] = {"type": "raw", "data": json.loads(parts[-1])}
    return body


def card_answerer(handle: HandleClick) -> Callable[[dict[str, Any]], Coroutine[Any, Any, dict[str, Any]]]:
    """For the long connection, where a click arrives already authenticated: the same answer as the
    HTTP callback's (a malformed one raises, and the frame is answered 500)."""

    async def answer_card(payload: dict[str, Any]) -> dict[str, Any]:
        return answer(await handle(click_from(payload)))

    return answer_card


def build_router(
    settings: Settings,
    client: FeishuClient | None,
    handle: HandleClick,
    clock: Callable[[], datetime],
) -> APIRouter:
    router = APIRouter(tags=["webhooks"])

    @router.post("/webhooks/feishu/cards", summary="Feishu card callback (card.action.trigger)")
    async def feishu_cards(request: Request) -> JSONResponse:
        if client is None or not settings.feishu_verification_token:
            return JSONResponse({"error": NOT_CONFIGURED}, status_code=503)
        try:
            parsed = parse_callback(
                request.headers,
                await request.body(),
                verification_token=settings.feishu_verification_token,
                encrypt_key=settings.feishu_encrypt_key,
                now=clock(),
                replay_window_seconds=settings.feishu_replay_window_seconds,
            )
        except WebhookRejected as rejected:
            log.warning("rejected Feishu card callback: %s", rejected.reason)
            error = "unauthorized" if rejected.status_code == 401 else "bad request"
            return JSONResponse({"error": error}, status_code=rejected.status_code)
        if isinstance(parsed, dict):
            return JSONResponse(parsed)
        return JSONResponse(answer(await handle(parsed)))

    return router
