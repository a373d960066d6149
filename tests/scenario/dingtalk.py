"""A DingTalk organisation for scenario tests: builds really signed robot callbacks from the platform
samples, posts them into the running app, and fakes the DingTalk APIs with respx."""

from __future__ import annotations

import copy
import json
import time
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

import httpx
import respx
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.dingtalk.signing import callback_sign
from bot.main import create_app
from bot.runtime import Runtime
from bot.settings import Settings
from tests.samples import load
from tests.scenario import SECRET_KEY
from tests.scenario.multipart import PNG_SIGNATURE, ZIP_SIGNATURE, form_parts

API_DOMAIN = "https://dingtalk-api.test"
OAPI_DOMAIN = "https://dingtalk-oapi.test"
APP_KEY = "ding-scenario-key"
APP_SECRET = "ding-scenario-secret-0123456789"
ROBOT_CODE = "ding-scenario-robot"
ACCESS_TOKEN = "dt-scenario-token"
FILES_HOST = "https://dingtalk-files.test"  # where a robot file download URL points


@dataclass
class DingTalkApi:
    """The fake DingTalk APIs: records every message the bot sent, by the path it went to."""

    router: respx.MockRouter
    sent: list[dict[str, Any]] = field(default_factory=list)
    looked_up: list[str] = field(default_factory=list)  # staffIds whose names the app asked for
    images: dict[str, bytes] = field(default_factory=dict)  # uploaded pictures by media_id
    files: dict[str, tuple[str, bytes]] = field(default_factory=dict)  # uploaded (name, file) by media_id
    inbox: dict[str, bytes] = field(default_factory=dict)  # files users sent, by downloadCode
    downloads: list[str] = field(default_factory=list)  # the downloadCodes the app asked for
    # What messageFiles/download answers as the URL of a code (default: the files host).
    download_urls: dict[str, str] = field(default_factory=dict)

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


def _user(api: DingTalkApi, request: httpx.Request) -> httpx.Response:
    """The contacts API's user details: everyone's name is their staffId (as their nick is here)."""
    assert request.url.params["access_token"] == ACCESS_TOKEN
    staff_id = json.loads(request.content)["userid"]
    api.looked_up.append(staff_id)
    return httpx.Response(
        200, json={"errcode": 0, "errmsg": "ok", "result": {"userid": staff_id, "name": staff_id}}
    )


def _upload_media(api: DingTalkApi, request: httpx.Request) -> httpx.Response:
    """oapi `media/upload?type=image|file`: the file in the `media` field. No stored sample holds its
    answer; it is the documented one (errcode, errmsg, type, media_id, created_at)."""
    kind = request.url.params["type"]
    assert request.url.params["access_token"] == ACCESS_TOKEN and kind in ("image", "file")
    media = form_parts(request)["media"]
    assert media.filename
    if kind == "image":
        assert media.value.startswith(PNG_SIGNATURE) and media.content_type == "image/png"
        media_id = f"@lADPmedia{len(api.images) + 1}"
        api.images[media_id] = media.value
    else:
        assert media.value.startswith(ZIP_SIGNATURE)
        media_id = f"@lAzPfile{len(api.files) + 1}"
        api.files[media_id] = (media.filename, media.value)
    answer = {"errcode": 0, "errmsg": "ok", "type": kind, "media_id": media_id, "created_at": 1765000000000}
    return httpx.Response(200, json=answer)


def _file_download(api: DingTalkApi, request: httpx.Request) -> httpx.Response:
    """robot `messageFiles/download`: a short-lived URL for the file of a downloadCode."""
    assert request.headers["x-acs-dingtalk-access-token"] == ACCESS_TOKEN
    body = json.loads(request.content)
    assert body["robotCode"] == ROBOT_CODE
    code = body["downloadCode"]
    api.downloads.append(code)
    if code not in api.inbox:
        return httpx.Response(400, json={"code": "invalidParameter", "message": "downloadCode is invalid"})
    url = api.download_urls.get(code, f"{FILES_HOST}/{code}.file")
    return httpx.Response(200, json={"downloadUrl": url})


def _stored_file(api: DingTalkApi, request: httpx.Request) -> httpx.Response:
    assert "x-acs-dingtalk-access-token" not in request.headers  # the token stays with DingTalk
    code = request.url.path.removeprefix("/").removesuffix(".file")
    return httpx.Response(200, content=api.inbox[code])


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
        router.post(f"{OAPI_DOMAIN}/topapi/v2/user/get").mock(side_effect=lambda request: _user(api, request))
        router.post(url__startswith=f"{OAPI_DOMAIN}/media/upload", name="upload_media").mock(
            side_effect=lambda request: _upload_media(api, request)
        )
        router.post(f"{API_DOMAIN}/v1.0/robot/messageFiles/download").mock(
            side_effect=lambda request: _file_download(api, request)
        )
        router.get(url__startswith=FILES_HOST, name="stored_file").mock(
            side_effect=lambda request: _stored_file(api, request)
        )
        yield api


@dataclass
class Organisation:
    """Sends signed robot callbacks to the app as DingTalk would."""

    client: httpx.AsyncClient
    runtime: Runtime
    api: DingTalkApi
    # The app's clock, when a test freezes it: messages are stamped and signed with its time.
    clock: Callable[[], datetime] | None = None
    # Header pairs are single-use: each callback gets a timestamp of its own (the clock's, or the
    # nearest earlier millisecond not yet used), as DingTalk's own would, even under a frozen clock.
    signed_ms: set[int] = field(default_factory=set)

    def now_ms(self) -> int:
        return int((self.clock().timestamp() if self.clock is not None else time.time()) * 1000)

    def message(
        self,
        sender: str,
        text: str,
        *,
        conversation: str = "cid-team",
        msg_id: str | None = None,
        webhook_expires_ms: int | None = None,
        chat_type: str = "group",
        mentions: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        """A text message from `sender` (a staffId, also shown as the nick), with a session webhook on
        the fake oapi domain (valid for 90 minutes unless `webhook_expires_ms` says otherwise).

        A group message @s the bot and is built on the documented HTTP body; a "p2p" one on the
        documented 1:1 message. `mentions` (visible name -> staffId) lists the other users @-ed in
        `text`: DingTalk keeps their visible "@name" in the text and lists them in `atUsers`."""
        if chat_type == "p2p":
            payload = copy.deepcopy(load("dingtalk", "robot_msg_single_chat_text.developerpedia"))
            at_users = []
            content = text
        else:
            payload = copy.deepcopy(load("dingtalk", "http_group_message_at_bot.receive-message-doc"))
            at_users = [{"dingtalkId": payload["chatbotUserId"]}]
            content = f" {text}"  # DingTalk drops the bot's "@name" and keeps the space after it
        at_users += [
            {"dingtalkId": f"$:LWCP_v1:${staff_id}", "staffId": staff_id}
            for staff_id in dict.fromkeys((mentions or {}).values())
        ]
        now = self.now_ms()
        payload.update(
            msgId=msg_id or f"msg{uuid.uuid4().hex}",
            conversationId=conversation,
            senderStaffId=sender,
            senderId=f"$:LWCP_v1:${sender}",
            senderNick=sender,
            createAt=now,
            robotCode=ROBOT_CODE,
            atUsers=at_users,
            sessionWebhook=f"{OAPI_DOMAIN}/robot/sendBySession?session={uuid.uuid4().hex}",
            sessionWebhookExpiredTime=webhook_expires_ms
            if webhook_expires_ms is not None
            else now + 5_400_000,
            text={"content": content},
        )
        return payload

    def file_message(
        self, sender: str, name: str, data: bytes, *, conversation: str = "cid-team", chat_type: str = "group"
    ) -> dict[str, Any]:
        """A file message built on the documented 1:1 file message (a group one says so and names its
        conversation); the file is put where the fake download serves it."""
        payload = self.message(sender, "", conversation=conversation, chat_type=chat_type)
        sample = load("dingtalk", "robot_msg_single_chat_file.developerpedia")
        code = f"LJYY{uuid.uuid4().hex}bw=="
        self.api.inbox[code] = data
        del payload["text"]
        payload.update(msgtype="file", content={**sample["content"], "fileName": name, "downloadCode": code})
        if chat_type == "group":
            payload.update(atUsers=[], isInAtList=False)  # a file cannot @ the robot
        return payload

    def signed_headers(self, *, timestamp_ms: int | None = None, secret: str = APP_SECRET) -> dict[str, str]:
        if timestamp_ms is None:
            timestamp_ms = self.now_ms()
            while timestamp_ms in self.signed_ms:
                timestamp_ms -= 1
            self.signed_ms.add(timestamp_ms)
        stamp = str(timestamp_ms)
        return {"content-type": "application/json", "timestamp": stamp, "sign": callback_sign(stamp, secret)}

    async def deliver(self, payload: dict[str, Any], **sign: Any) -> httpx.Response:
        raw = json.dumps(payload, ensure_ascii=False).encode()
        return await self.client.post("/webhooks/dingtalk", content=raw, headers=self.signed_headers(**sign))


def dingtalk_settings(
    engine: AsyncEngine, *, locale: Literal["zh", "en"] = "zh", secret_key: str | None = SECRET_KEY
) -> Settings:
    return Settings(  # type: ignore[call-arg]
        _env_file=None,
        database_url=engine.url.render_as_string(hide_password=False),
        locale=locale,
        dingtalk_app_key=APP_KEY,
        dingtalk_app_secret=APP_SECRET,
        dingtalk_robot_code=ROBOT_CODE,
        dingtalk_mode="http",
        dingtalk_api_domain=API_DOMAIN,
        dingtalk_oapi_domain=OAPI_DOMAIN,
        secret_key=secret_key,
    )


@asynccontextmanager
async def dingtalk_organisation(
    engine: AsyncEngine, *, locale: Literal["zh", "en"] = "zh"
) -> AsyncIterator[Organisation]:
    """The whole app (lifespan included) wired to a fake DingTalk, with a client that posts callbacks."""
    async with dingtalk_api() as api:
        app = create_app(dingtalk_settings(engine, locale=locale))
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://crosstrack.test") as client:
                yield Organisation(client, app.state.runtime, api)
