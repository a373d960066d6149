"""A Feishu tenant for scenario tests: builds really signed and encrypted webhook deliveries from the
platform samples, posts them into the running app, and fakes the Feishu Open API with respx."""

from __future__ import annotations

import copy
import json
import re
import time
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

import httpx
import respx
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.feishu.crypto import encrypt, signature
from bot.main import create_app
from bot.runtime import Runtime
from bot.settings import Settings
from tests.samples import load
from tests.scenario import SECRET_KEY
from tests.scenario.multipart import PNG_SIGNATURE, ZIP_SIGNATURE, form_parts

DOMAIN = "https://feishu.test"
VERIFICATION_TOKEN = "vt-scenario-0123456789"
ENCRYPT_KEY = "ek-scenario-0123456789"
BOT_OPEN_ID = "ou_bot_crosstrack"
TENANT_TOKEN = "t-scenario-token"


@dataclass
class FeishuApi:
    """The fake Feishu Open API: records every message the bot sent."""

    router: respx.MockRouter
    sent: list[dict[str, Any]] = field(default_factory=list)
    images: dict[str, bytes] = field(default_factory=dict)  # uploaded pictures by image_key
    files: dict[str, tuple[str, bytes]] = field(default_factory=dict)  # uploaded (name, file) by file_key
    inbox: dict[str, bytes] = field(default_factory=dict)  # files users sent, by file_key
    downloads: list[str] = field(default_factory=list)  # the file_keys the app downloaded
    count: int = 0  # messages sent in all: ids stay unique when `sent` is cleared

    def texts(self) -> list[str]:
        """What each sent message says: text content, or a card's title and markdown."""
        shown = []
        for body in self.sent:
            content = json.loads(body["content"])
            if body["msg_type"] == "text":
                shown.append(content["text"])
            else:
                elements = content["body"]["elements"]
                shown.append(content["header"]["title"]["content"] + "\n" + elements[0]["content"])
        return shown

    def take(self) -> list[str]:
        texts = self.texts()
        self.sent.clear()
        return texts


def _record(api: FeishuApi, request: httpx.Request, target: str | None) -> httpx.Response:
    body = json.loads(request.content)
    body["_target"] = target or body.get("receive_id")
    body["_path"] = request.url.path
    body["_auth"] = request.headers.get("authorization")
    body["_params"] = dict(request.url.params)
    api.count += 1
    body["_message_id"] = f"om_bot_{api.count}"
    api.sent.append(body)
    return httpx.Response(
        200, json={"code": 0, "msg": "success", "data": {"message_id": body["_message_id"]}}
    )


def _upload_image(api: FeishuApi, request: httpx.Request) -> httpx.Response:
    """`im/v1/images`: a PNG in the `image` field, `image_type` message; answers as documented."""
    assert request.headers["authorization"] == f"Bearer {TENANT_TOKEN}"
    form = form_parts(request)
    assert form["image_type"].value == b"message"
    assert form["image"].value.startswith(PNG_SIGNATURE) and form["image"].content_type == "image/png"
    answer = load("feishu", "upload_image_response")
    image_key = f"img_v2_{len(api.images) + 1}"
    api.images[image_key] = form["image"].value
    return httpx.Response(200, json={**answer, "data": {"image_key": image_key}})


def _upload_file(api: FeishuApi, request: httpx.Request) -> httpx.Response:
    """`im/v1/files`: file_type, file_name and the file; answers as documented."""
    assert request.headers["authorization"] == f"Bearer {TENANT_TOKEN}"
    form = form_parts(request)
    assert form["file_type"].value == b"xls" and form["file"].value.startswith(ZIP_SIGNATURE)
    name = form["file_name"].value.decode()
    assert form["file"].filename == name
    answer = load("feishu", "upload_file_response")
    file_key = f"file_v2_{len(api.files) + 1}"
    api.files[file_key] = (name, form["file"].value)
    return httpx.Response(200, json={**answer, "data": {"file_key": file_key}})


def _resource(api: FeishuApi, request: httpx.Request, mid: str, key: str) -> httpx.Response:
    """`im/v1/messages/{message_id}/resources/{file_key}?type=file`: the file's bytes."""
    assert request.headers["authorization"] == f"Bearer {TENANT_TOKEN}"
    assert request.url.params["type"] == "file" and mid.startswith("om_")
    api.downloads.append(key)
    if key not in api.inbox:
        return httpx.Response(400, json={"code": 234003, "msg": "File not in msg."})
    return httpx.Response(200, content=api.inbox[key], headers={"content-type": "application/octet-stream"})


@asynccontextmanager
async def feishu_api(domain: str = DOMAIN) -> AsyncIterator[FeishuApi]:
    with respx.mock(base_url=domain, assert_all_called=False) as router:
        api = FeishuApi(router)
        router.post("/open-apis/auth/v3/tenant_access_token/internal").respond(
            json={
                **load("feishu", "tenant_access_token_internal_response"),
                "tenant_access_token": TENANT_TOKEN,
            }
        )
        router.get("/open-apis/bot/v3/info").respond(
            json={"code": 0, "msg": "ok", "bot": {"open_id": BOT_OPEN_ID, "app_name": "crosstrack"}}
        )
        router.post(path__regex=r"/open-apis/im/v1/messages/(?P<mid>[^/]+)/reply").mock(
            side_effect=lambda request, mid: _record(api, request, mid)
        )
        router.post("/open-apis/im/v1/messages").mock(side_effect=lambda request: _record(api, request, None))
        router.post("/open-apis/im/v1/images", name="upload_image").mock(
            side_effect=lambda request: _upload_image(api, request)
        )
        router.post("/open-apis/im/v1/files").mock(side_effect=lambda request: _upload_file(api, request))
        router.get(
            path__regex=r"/open-apis/im/v1/messages/(?P<mid>[^/]+)/resources/(?P<key>[^/]+)", name="resource"
        ).mock(side_effect=lambda request, mid, key: _resource(api, request, mid, key))
        yield api


@dataclass
class Tenant:
    """Sends signed, encrypted deliveries to the app as Feishu would."""

    client: httpx.AsyncClient
    runtime: Runtime
    api: FeishuApi
    encrypt_key: str | None = ENCRYPT_KEY
    # The app's clock, when a test freezes it: events are stamped and signed with its time.
    clock: Callable[[], datetime] | None = None

    def _now(self) -> float:
        return self.clock().timestamp() if self.clock is not None else time.time()

    def message_event(
        self,
        sender: str,
        text: str,
        *,
        chat: str = "oc_team",
        chat_type: str = "group",
        mentions: dict[str, str] | None = None,
        event_id: str | None = None,
        message_id: str | None = None,
        sender_type: str = "user",
        parent_id: str | None = None,
    ) -> dict[str, Any]:
        """An im.message.receive_v1 event built on the documented sample. In `text`, `@name` of a key in
        `mentions` (name -> open_id) becomes a Feishu mention; group messages start with the bot's.
        `parent_id` makes it a reply to that message."""
        event = copy.deepcopy(load("feishu", "im_message_receive_v1_group_mention"))
        event["header"].update(
            event_id=event_id or uuid.uuid4().hex,
            token=VERIFICATION_TOKEN,
            create_time=str(int(self._now() * 1000)),
        )
        message = event["event"]["message"]
        event["event"]["sender"] = {
            "sender_id": {"open_id": sender},
            "sender_type": sender_type,
            "tenant_key": "t1",
        }
        feishu_mentions: list[dict[str, Any]] = []
        if chat_type == "group":
            feishu_mentions.append({"key": "@_user_1", "id": {"open_id": BOT_OPEN_ID}, "name": "crosstrack"})
            text = f"@_user_1 {text}"
        keys: dict[str, str] = {}
        for name, open_id in (mentions or {}).items():
            keys[name] = f"@_user_{len(feishu_mentions) + 1}"
            feishu_mentions.append({"key": keys[name], "id": {"open_id": open_id}, "name": name})
        if keys:  # longest name first, so "@bob" never takes the front of "@bobby"
            names = "|".join(re.escape(name) for name in sorted(keys, key=len, reverse=True))
            text = re.sub(f"@({names})", lambda match: keys[match.group(1)], text)
        message.update(
            message_id=message_id or f"om_{uuid.uuid4().hex}",
            chat_id=chat,
            chat_type=chat_type,
            content=json.dumps({"text": text}, ensure_ascii=False),
            mentions=feishu_mentions,
        )
        for key in ("root_id", "parent_id", "thread_id"):
            message.pop(key, None)
        if parent_id is not None:
            message.update(root_id=parent_id, parent_id=parent_id)
        return event

    def file_event(
        self, sender: str, name: str, data: bytes, *, chat: str = "oc_team", chat_type: str = "group"
    ) -> dict[str, Any]:
        """A file message (no mention: a file cannot @ anyone), its content shaped as the documented
        received file content; the file is put where the fake API serves its download."""
        event = self.message_event(sender, "", chat=chat, chat_type=chat_type)
        content = load("feishu", "received_message_content_file")
        content.update(file_key=f"file_v2_{uuid.uuid4().hex}", file_name=name)
        self.api.inbox[content["file_key"]] = data
        message = event["event"]["message"]
        message.update(message_type="file", content=json.dumps(content, ensure_ascii=False), mentions=[])
        return event

    def signed(
        self, payload: dict[str, Any], *, timestamp: int | None = None
    ) -> tuple[bytes, dict[str, str]]:
        """The raw body and headers Feishu would send: encrypted and signed when a key is set."""
        return self.sealed(json.dumps(payload, ensure_ascii=False).encode(), timestamp=timestamp)

    def sealed(self, plaintext: bytes, *, timestamp: int | None = None) -> tuple[bytes, dict[str, str]]:
        """`signed` for any plaintext, JSON or not."""
        if self.encrypt_key is None:
            return plaintext, {"content-type": "application/json"}
        raw = json.dumps({"encrypt": encrypt(self.encrypt_key, plaintext)}).encode()
        stamp = str(timestamp if timestamp is not None else int(self._now()))
        nonce = uuid.uuid4().hex
        return raw, {
            "content-type": "application/json",
            "X-Lark-Request-Timestamp": stamp,
            "X-Lark-Request-Nonce": nonce,
            "X-Lark-Signature": signature(stamp, nonce, self.encrypt_key, raw),
        }

    async def deliver(self, payload: dict[str, Any], **sign: Any) -> httpx.Response:
        raw, headers = self.signed(payload, **sign)
        return await self.client.post("/webhooks/feishu/events", content=raw, headers=headers)

    async def say(self, sender: str, text: str, **options: Any) -> list[str]:
        """Deliver one message, let the app process it, and return what the bot sent back."""
        response = await self.deliver(self.message_event(sender, text, **options))
        assert response.status_code == 200, response.text
        await self.runtime.settle()
        return self.api.take()


def feishu_settings(
    engine: AsyncEngine,
    *,
    unsigned: bool = False,
    locale: Literal["zh", "en"] = "zh",
    secret_key: str | None = SECRET_KEY,
) -> Settings:
    """Feishu in HTTP mode with an encrypt key; `unsigned`: without one, as
    CROSSTRACK_FEISHU_ALLOW_UNSIGNED=true allows."""
    return Settings(  # type: ignore[call-arg]
        _env_file=None,
        database_url=engine.url.render_as_string(hide_password=False),
        locale=locale,
        feishu_app_id="cli_scenario",
        feishu_app_secret="scenario-app-secret",
        feishu_verification_token=VERIFICATION_TOKEN,
        feishu_encrypt_key=None if unsigned else ENCRYPT_KEY,
        feishu_allow_unsigned=unsigned,
        feishu_domain=DOMAIN,
        secret_key=secret_key,
    )


@asynccontextmanager
async def feishu_tenant(
    engine: AsyncEngine, *, unsigned: bool = False, locale: Literal["zh", "en"] = "zh"
) -> AsyncIterator[Tenant]:
    """The whole app (lifespan included) wired to a fake Feishu, with a client that posts webhooks
    (signed and encrypted, or plain when `unsigned`)."""
    async with feishu_api() as api:
        app = create_app(feishu_settings(engine, unsigned=unsigned, locale=locale))
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://crosstrack.test") as client:
                yield Tenant(client, app.state.runtime, api, None if unsigned else ENCRYPT_KEY)


def now_ms() -> int:
    return int(datetime.now(UTC).timestamp() * 1000)
