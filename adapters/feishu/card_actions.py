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
from pydantic import ValidationError

from adapters.base import WebhookRejected
from adapters.feishu.cards import field_name, render_parts
from adapters.feishu.client import FeishuClient
from adapters.feishu.events import PLATFORM, authenticate, challenge_answer, first_error
from adapters.feishu.payloads import CardAction, Envelope, EventHeader, OurButton
from adapters.feishu.webhook import NOT_CONFIGURED, encrypt_key_of
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
    unauthenticated, 400 for an authentic request that is no card action we can read)."""
    payload = authenticate(
        headers,
        raw_body,
        verification_token=verification_token,
        encrypt_key=encrypt_key,
        now=now,
        replay_window_seconds=replay_window_seconds,
    )
    if payload.get("type") == "url_verification":
        return challenge_answer(payload)
    return click_from(payload)


def click_from(payload: dict[str, Any]) -> CardClick:
    """The click in an authenticated, plain `card.action.trigger` (a callback's, or one received
    over the long connection). Raises WebhookRejected (400) when it is not one or does not fit our
    models."""
    header = payload.get("header")
    if not isinstance(header, dict) or header.get("event_type") != "card.action.trigger":
        raise WebhookRejected("not a card.action.trigger callback", status_code=400)
    try:
        envelope = Envelope.model_validate(payload)
        return _click(envelope.header, CardAction.model_validate(envelope.event))
    except ValidationError as exc:
        raise WebhookRejected(
            f"malformed card.action.trigger callback: {first_error(exc)}", status_code=400
        ) from exc


def _click(header: EventHeader, event: CardAction) -> CardClick:
    value = event.action.value
    # Not one of our buttons (or from a card layout we no longer send): -1 is answered "expired".
    group, button = (value.g, value.b) if isinstance(value, OurButton) else (-1, -1)
    return CardClick(
        platform=PLATFORM,
        event_id=header.event_id,
        card_message_id=event.context.open_message_id,
        chat_id=event.context.open_chat_id,
        operator=UserRef(PLATFORM, event.operator.open_id),
        group=group,
        button=button,
        values=_values(event.action.form_value or {}, group),
        clicked_at=header.create_time,
    )


def _values(form_value: dict[str, str | list[str]], group: int) -> dict[str, str]:
    """The clicked group's inputs by field name, as text."""
    prefix = field_name(group, "")
    values: dict[str, str] = {}
    for key, value in form_value.items():
        if not key.startswith(prefix):
            continue
        text = " ".join(value) if isinstance(value, list) else value
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
    HTTP callback's; a malformed click is logged and answered with nothing (no toast, no change)."""

    async def answer_card(payload: dict[str, Any]) -> dict[str, Any]:
        try:
            click = click_from(payload)
        except WebhookRejected as rejected:
            log.warning("Feishu long connection: card click ignored: %s", rejected.reason)
            return {}
        return answer(await handle(click))

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
        if client is None or settings.feishu_verification_token is None:
            return JSONResponse({"error": NOT_CONFIGURED}, status_code=503)
        try:
            parsed = parse_callback(
                request.headers,
                await request.body(),
                verification_token=settings.feishu_verification_token.get_secret_value(),
                encrypt_key=encrypt_key_of(settings),
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
