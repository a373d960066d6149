"""POST /webhooks/dingtalk: the robot's HTTP message callback. Verify, parse, hand on, ack at once."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import datetime

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from adapters.base import Accept, WebhookRejected
from adapters.dingtalk.client import DingTalkClient
from adapters.dingtalk.directory import receive
from adapters.dingtalk.signing import verify_callback
from bot.settings import Settings

log = logging.getLogger(__name__)


NOT_CONFIGURED = (
    "DingTalk is not configured on this crosstrack instance: set CROSSTRACK_DINGTALK_APP_KEY, "
    "CROSSTRACK_DINGTALK_APP_SECRET and CROSSTRACK_DINGTALK_ROBOT_CODE."
)


def build_router(
    settings: Settings, client: DingTalkClient | None, accept: Accept, clock: Callable[[], datetime]
) -> APIRouter:
    router = APIRouter(tags=["webhooks"])

    @router.post("/webhooks/dingtalk", summary="DingTalk robot message callback (HTTP mode)")
    async def dingtalk_message(request: Request) -> JSONResponse:
        if client is None or settings.dingtalk_app_secret is None:
            return JSONResponse({"error": NOT_CONFIGURED}, status_code=503)
        now = clock()
        try:
            # The signature covers the timestamp only: the body is untrusted even when it passes
            # (parsing accepts only session webhooks on our oapi domain; msgId dedupes replays).
            verify_callback(
                request.headers, app_secret=settings.dingtalk_app_secret.get_secret_value(), now=now
            )
            try:
                payload = json.loads(await request.body())
            except ValueError as exc:
                raise WebhookRejected("body is not JSON", status_code=400) from exc
            if not isinstance(payload, dict):
                raise WebhookRejected("body is not a JSON object", status_code=400)
            await receive(
                payload,
                directory=client.directory,
                remember_route=client.remember_route,
                accept=accept,
                robot_code=settings.dingtalk_robot_code,
                now=now,
                oapi_domain=settings.dingtalk_oapi_domain,
            )
        except WebhookRejected as rejected:
            log.warning("rejected DingTalk callback: %s", rejected.reason)
            error = "unauthorized" if rejected.status_code == 401 else "bad request"
            return JSONResponse({"error": error}, status_code=rejected.status_code)
        return JSONResponse({})

    return router
