"""POST /webhooks/feishu/events: verify, answer challenges at once, hand events on, ack with 200."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from adapters.base import Accept, WebhookRejected
from adapters.feishu.client import FeishuClient
from adapters.feishu.events import parse_webhook
from bot.settings import Settings

log = logging.getLogger(__name__)


NOT_CONFIGURED = (
    "Feishu is not configured on this crosstrack instance: set CROSSTRACK_FEISHU_APP_ID, "
    "CROSSTRACK_FEISHU_APP_SECRET and CROSSTRACK_FEISHU_VERIFICATION_TOKEN."
)


def encrypt_key_of(settings: Settings) -> str | None:
    return settings.feishu_encrypt_key.get_secret_value() if settings.feishu_encrypt_key else None


def warn_if_unsigned(settings: Settings) -> None:
    """Said at every start while CROSSTRACK_FEISHU_ALLOW_UNSIGNED stands in for the encrypt key."""
    if settings.feishu_accepts_unsigned:
        log.warning(
            "CROSSTRACK_FEISHU_ALLOW_UNSIGNED: Feishu webhooks are accepted without a signature "
            "(anyone who learns the verification token can post events, and replays are not "
            "detected); set CROSSTRACK_FEISHU_ENCRYPT_KEY"
        )


def build_router(
    settings: Settings, client: FeishuClient | None, accept: Accept, clock: Callable[[], datetime]
) -> APIRouter:
    router = APIRouter(tags=["webhooks"])

    @router.post("/webhooks/feishu/events", summary="Feishu event subscription endpoint")
    async def feishu_events(request: Request) -> JSONResponse:
        if client is None or settings.feishu_verification_token is None:
            return JSONResponse({"error": NOT_CONFIGURED}, status_code=503)
        raw = await request.body()
        try:
            result = parse_webhook(
                request.headers,
                raw,
                verification_token=settings.feishu_verification_token.get_secret_value(),
                encrypt_key=encrypt_key_of(settings),
                # Cached after the first success (warmed at start-up), so challenges stay fast.
                bot_open_id=await client.bot_open_id(),
                now=clock(),
                replay_window_seconds=settings.feishu_replay_window_seconds,
            )
        except WebhookRejected as rejected:
            log.warning("rejected Feishu webhook: %s", rejected.reason)
            error = "unauthorized" if rejected.status_code == 401 else "bad request"
            return JSONResponse({"error": error}, status_code=rejected.status_code)
        if result.events:
            await accept(result.events)
        return JSONResponse(result.response)

    return router
