"""A DingTalk organisation for scenario tests: builds really signed robot callbacks from the platform
samples, posts them into the running app, and fakes the DingTalk APIs with respx."""

from __future__ import annotations

import copy
import json
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
import respx
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.dingtalk.signing import callback_sign
from bot.main import create_app
from bot.runtime import Runtime
from bot.settings import Settings
from tests.samples import load

API_DOMAIN = "https://dingtalk-api.test"
OAPI_DOMAIN = "https://dingtalk-oapi.test"
APP_KEY = "ding-scenario-key"
APP_SECRET = "ding-scenario-secret-0123456789"
ROBOT_CODE = "ding-scenario-robot"
ACCESS_TOKEN = "dt-scenario-token"


@dataclass
class DingTalkApi:
    """The fake DingTalk APIs: records every message the bot sent, by the path it went to."""

    router: respx.MockRouter
    sent: list[dict[str, Any]] = field(default_factory=list)

    def texts(self) -> list[str]:
        """What each sent message says (text content or markdown text), whichever way it went."""
        shown = []
        for body in self.sent:
            if "msgParam" in body:
                param = json.loads(body["msgParam"])
                shown.append(param.get("content") or param.get("text", ""))
            else:
                shown.append(body[body["msgtype"]].get("content") or body[body["msgtype"]]["text"])
        return shown


def _record(api: DingTalkApi, request: httpx.Request, answer: dict[str, Any]) -> httpx.Response:
    body = json.loads(request.content)
    body["_url"] = str(request.url)
    body["_token"] = request.headers.get("x-acs-dingtalk-access-token")
    api.sent.append(body)
    return httpx.Response(200, json=answer)


@asynccontextmanager
async def dingtalk_api() -> AsyncIterator[DingTalkApi]:
    with respx.mock(assert_all_called=False) as router:
        api = DingTalkApi(router)
        router.post(f"{API_DOMAIN}/v1.0/oauth2/accessToken").respond(
            json={
                **load("dingtalk", "oauth2_access_token_response.official-doc"),
                "accessToken": ACCESS_TOKEN,
            }
        )
        sent = load("dingtalk", "robot_group_messages_send_response.official-doc")
        for path in ("/v1.0/robot/groupMessages/send", "/v1.0/robot/oToMessages/batchSend"):
            router.post(f"{API_DOMAIN}{path}").mock(side_effect=lambda request: _record(api, request, sent))
        ok = load("dingtalk", "custom_robot_send_success_response")
        router.post(url__startswith=f"{OAPI_DOMAIN}/robot/sendBySession").mock(
            side_effect=lambda request: _record(api, request, ok)
        )
        yield api


@dataclass
class Organisation:
    """Sends signed robot callbacks to the app as DingTalk would."""

    client: httpx.AsyncClient
    runtime: Runtime
    api: DingTalkApi

    def message(
        self,
        sender: str,
        text: str,
        *,
        conversation: str = "cid-team",
        msg_id: str | None = None,
        webhook_expires_ms: int | None = None,
    ) -> dict[str, Any]:
        """A group @-bot text message built on the documented HTTP body, with a session webhook on
        the fake oapi domain (valid for 90 minutes unless `webhook_expires_ms` says otherwise)."""
        payload = copy.deepcopy(load("dingtalk", "http_group_message_at_bot.receive-message-doc"))
        now = int(time.time() * 1000)
        payload.update(
            msgId=msg_id or f"msg{uuid.uuid4().hex}",
            conversationId=conversation,
            senderStaffId=sender,
            senderId=f"$:LWCP_v1:${sender}",
            senderNick=sender,
            createAt=now,
            robotCode=ROBOT_CODE,
            atUsers=[{"dingtalkId": payload["chatbotUserId"]}],
            sessionWebhook=f"{OAPI_DOMAIN}/robot/sendBySession?session={uuid.uuid4().hex}",
            sessionWebhookExpiredTime=webhook_expires_ms
            if webhook_expires_ms is not None
            else now + 5_400_000,
            text={"content": f" {text}"},
        )
        return payload

    @staticmethod
    def signed_headers(*, timestamp_ms: int | None = None, secret: str = APP_SECRET) -> dict[str, str]:
        stamp = str(timestamp_ms if timestamp_ms is not None else int(time.time() * 1000))
        return {"content-type": "application/json", "timestamp": stamp, "sign": callback_sign(stamp, secret)}

    async def deliver(self, payload: dict[str, Any], **sign: Any) -> httpx.Response:
        raw = json.dumps(payload, ensure_ascii=False).encode()
        return await self.client.post("/webhooks/dingtalk", content=raw, headers=self.signed_headers(**sign))


def dingtalk_settings(engine: AsyncEngine, *, locale: str = "zh") -> Settings:
    return Settings(  # type: ignore[call-arg]
        _env_file=None,
        database_url=engine.url.render_as_string(hide_password=False),
        locale=locale,
        dingtalk_app_key=APP_KEY,
        dingtalk_app_secret=APP_SECRET,
        dingtalk_robot_code=ROBOT_CODE,
        dingtalk_api_domain=API_DOMAIN,
        dingtalk_oapi_domain=OAPI_DOMAIN,
    )


@asynccontextmanager
async def dingtalk_organisation(engine: AsyncEngine, *, locale: str = "zh") -> AsyncIterator[Organisation]:
    """The whole app (lifespan included) wired to a fake DingTalk, with a client that posts callbacks."""
    async with dingtalk_api() as api:
        app = create_app(dingtalk_settings(engine, locale=locale))
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://crosstrack.test") as client:
                yield Organisation(client, app.state.runtime, api)
