"""POST /webhooks/dingtalk: the robot's HTTP message callback (HTTP mode only). Verify the headers,
read a bounded body, parse, store with the header pair claimed once, ack at once."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from adapters.base import AcceptOnce, RequestNonce, WebhookRejected
from adapters.dingtalk.client import DingTalkClient
from adapters.dingtalk.directory import read_message
from adapters.dingtalk.events import RobotMessage
from adapters.dingtalk.signing import verify_callback
from bot.settings import Settings

log = logging.getLogger(__name__)


NOT_CONFIGURED = (
    "DingTalk is not configured on this crosstrack instance: set CROSSTRACK_DINGTALK_APP_KEY, "
    "CROSSTRACK_DINGTALK_APP_SECRET and CROSSTRACK_DINGTALK_ROBOT_CODE."
)
STREAM_MODE = (
    "DingTalk messages arrive over Stream here (CROSSTRACK_DINGTALK_MODE=stream): no HTTP callbacks."
)
# Who claimed a callback's timestamp/sign pair first (request_nonces.scope).
SIGN_SCOPE = "dingtalk-sign"
# A robot message is a few KB at most (its text is bounded at 5,000 characters).
MAX_BODY_BYTES = 64 * 1024
_ERRORS = {400: "bad request", 401: "unauthorized", 413: "body too large"}


def build_router(
    settings: Settings, client: DingTalkClient | None, accept: AcceptOnce, clock: Callable[[], datetime]
) -> APIRouter:
    router = APIRouter(tags=["webhooks"])

    @router.post("/webhooks/dingtalk", summary="DingTalk robot message callback (HTTP mode)")
    async def dingtalk_message(request: Request) -> JSONResponse:
        if client is None or settings.dingtalk_app_secret is None:
            return JSONResponse({"error": NOT_CONFIGURED}, status_code=503)
        if settings.dingtalk_mode != "http":
            # Nothing legitimate arrives here in Stream mode: the unsigned-body surface stays closed.
            return JSONResponse({"error": STREAM_MODE}, status_code=404)
        now = clock()
        try:
            # The signature covers the timestamp only: checked before the body is even read. The
            # pair is single-use (the first msgId claims it) and the body stays untrusted (bounded,
            # typed, session webhooks only on our oapi domain's reply path).
            pair = verify_callback(
                request.headers, app_secret=settings.dingtalk_app_secret.get_secret_value(), now=now
            )
            robot = RobotMessage.from_json(await _bounded_body(request))
            message, route = await read_message(
                robot,
                directory=client.directory,
                robot_code=settings.dingtalk_robot_code,
                now=now,
                oapi_domain=settings.dingtalk_oapi_domain,
            )
            await accept(
                (message,),
                nonce=RequestNonce(
                    SIGN_SCOPE, pair.nonce, owner=message.message_id, expires_at=pair.expires_at
                ),
            )
        except WebhookRejected as rejected:
            log.warning("rejected DingTalk callback: %s", rejected.reason)
            return JSONResponse(
                {"error": _ERRORS.get(rejected.status_code, "refused")}, status_code=rejected.status_code
            )
        if route is not None:
            client.remember_route(message.chat.chat_id, route)
        return JSONResponse({})

    return router


async def _bounded_body(request: Request) -> bytes:
    """The body, refused (413) past MAX_BODY_BYTES without reading the rest."""
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY_BYTES:
            raise WebhookRejected("body too large", status_code=413)
    return bytes(body)
