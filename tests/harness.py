"""Drive the whole app from typed chat lines, as Feishu or DingTalk would: each line becomes a really
signed webhook delivery built on the platform samples (tests/scenario/), the app processes it through
the real runtime, SQL and outbox, and what the bot sent is read back from the fake platform API and
decoded to neutral text, so one test body checks both platforms.

Users are plain ids ("alice"): Feishu open_ids, DingTalk staffIds (and nicks). `@bob` in a line is a
real platform mention of bob. Decoded text is what `adapters.shell.render` shows: "【title】\\nbody"
for a card, plain text otherwise, mentions as "@id", bold markers dropped. The `shell` platform
(no HTTP at all) stays for tests about the shell and for callers that seed shell members.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import re
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal, Protocol
from urllib.parse import parse_qs, urlsplit

import httpx
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters import shell
from adapters.dingtalk import client as dingtalk_client
from adapters.feishu import client as feishu_client
from adapters.models import Card, Image
from bot.commands.all import build_registry
from bot.main import create_app
from bot.runtime import Runtime
from bot.settings import Settings
from tests.scenario import SECRET_KEY, dingtalk, feishu
from tests.scenario.feishu_cards import click_payload

# `@name` in a typed line: the shell's mention syntax, and the users a test line mentions.
_TYPED_MENTION = re.compile(r"@([\w.\-]+)")
_FEISHU_TEXT_AT = re.compile(r'<at user_id="([^"]+)">[^<]*</at>')
_FEISHU_CARD_AT = re.compile(r"<at id=([^>\s]+)></at>")
_BASE_URL = "http://crosstrack.test"
IMAGE_TEXT = "🖼"  # what a decoded picture says (`Sent.image` holds the PNG)

Kind = Literal["reply", "chat", "user"]


@dataclass(frozen=True)
class Sent:
    """One message the bot sent, as the platform API received it."""

    kind: Kind  # "reply": answered in the chat of a message; "chat": posted to a chat; "user": 1:1
    target: str  # the chat id; the user id for "user"
    text: str  # decoded: "【title】\nbody" for a card, mentions as "@id", no bold markers
    card: bool = False
    mentions: tuple[str, ...] = ()  # the users the platform was asked to notify
    color: str | None = None  # a card's colour, on a platform that shows one (Feishu)
    image: bytes | None = None  # a picture: the PNG the platform received by upload
    request: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)
    message_id: str = ""  # the platform's id of the message, where a click names it (Feishu)


def card_text(title: str, body: str) -> str:
    return shell.plain(f"【{title}】\n{body}")


def api_call(sent: Sent) -> str:
    """In short, the platform API call that delivered `sent`, for tests of routing: e.g.
    "/open-apis/im/v1/messages open_id=bob" or "/v1.0/robot/oToMessages/batchSend userIds=bob"."""
    body = sent.request
    if "_path" in body:  # Feishu
        if body["_path"].endswith("/reply"):
            return f"/open-apis/im/v1/messages/{body['_target']}/reply"
        return f"{body['_path']} {body['_params']['receive_id_type']}={body['receive_id']}"
    path = urlsplit(body["_url"]).path
    if "userIds" in body:
        return f"{path} userIds={','.join(body['userIds'])}"
    if "openConversationId" in body:
        return f"{path} openConversationId={body['openConversationId']}"
    return f"{path} (session webhook)"


class _Room(Protocol):
    async def post(self, user: str, line: str, chat: str, chat_type: str, reply_to: str | None) -> None: ...

    async def click(self, user: str, card: Sent, group: int, button: int) -> str: ...

    def take(self) -> list[Sent]: ...


class Chat:
    """Chats on one platform; `say` returns the bot's decoded replies."""

    def __init__(
        self, platform: str, runtime: Runtime, room: _Room, http: httpx.AsyncClient | None = None
    ) -> None:
        self.platform = platform
        self.runtime = runtime
        self._room = room
        self._http = http

    @property
    def http(self) -> httpx.AsyncClient:
        """A client of the app's HTTP routes (its web pages), on Feishu and DingTalk."""
        if self._http is None:
            raise NotImplementedError("the shell serves no HTTP")
        return self._http

    async def post(
        self,
        user: str,
        line: str,
        *,
        chat: str = "team",
        chat_type: str = "group",
        reply_to: str | None = None,
    ) -> None:
        """Deliver one message (`reply_to`: the platform id of the message it answers)."""
        await self._room.post(user, line, chat, chat_type, reply_to)

    async def say(
        self,
        user: str,
        line: str,
        *,
        chat: str = "team",
        chat_type: str = "group",
        reply_to: str | None = None,
    ) -> list[str]:
        await self.post(user, line, chat=chat, chat_type=chat_type, reply_to=reply_to)
        await self.runtime.settle()
        return self.take()

    async def one(self, user: str, line: str, **kwargs: Any) -> str:
        replies = await self.say(user, line, **kwargs)
        assert len(replies) == 1, replies
        return replies[0]

    async def click(self, user: str, card: Sent, *, button: int, group: int = 0) -> tuple[str, list[str]]:
        """`user` taps a button of a card the bot sent them privately, as their platform does it:
        on Feishu a signed card callback (answered in the card's thread), on DingTalk the
        button's link, which sends its command in the 1:1 chat. The click's own answer (Feishu's
        toast; "" on DingTalk) and the bot's replies."""
        toast = await self._room.click(user, card, group, button)
        await self.runtime.settle()
        return toast, self.take()

    def sent(self) -> list[Sent]:
        """Everything the bot sent since the last call, in the order the platform received it."""
        return self._room.take()

    def take(self) -> list[str]:
        return [sent.text for sent in self.sent()]


# --- Feishu ---------------------------------------------------------------------------------------------


class _FeishuRoom:
    def __init__(self, tenant: feishu.Tenant) -> None:
        self.tenant = tenant
        self.chat_of_message: dict[str, str] = {}  # our messages' ids -> their chat, for replies

    async def post(self, user: str, line: str, chat: str, chat_type: str, reply_to: str | None) -> None:
        names = dict.fromkeys(_TYPED_MENTION.findall(line))
        event = self.tenant.message_event(
            user,
            line,
            chat=chat,
            chat_type=chat_type,
            mentions={name: name for name in names},
            parent_id=reply_to,
        )
        self.chat_of_message[event["event"]["message"]["message_id"]] = chat
        response = await self.tenant.deliver(event)
        assert response.status_code == 200, response.text

    async def click(self, user: str, card: Sent, group: int, button: int) -> str:
        chat = f"p2p-{user}"
        self.chat_of_message[card.message_id] = chat  # the answers reply to the card
        payload = click_payload(user, card.message_id, chat=chat, group=group, button=button)
        raw, headers = self.tenant.signed(payload)
        response = await self.tenant.client.post("/webhooks/feishu/cards", content=raw, headers=headers)
        assert response.status_code == 200, response.text
        return str(response.json()["toast"]["content"])

    def take(self) -> list[Sent]:
        taken = [self._decode(body) for body in self.tenant.api.sent]
        self.tenant.api.sent.clear()
        return taken

    def _decode(self, body: dict[str, Any]) -> Sent:
        content = json.loads(body["content"])
        color, image = None, None
        if body["msg_type"] == "image":
            image, text, mentions = self.tenant.api.images[content["image_key"]], IMAGE_TEXT, []
        elif body["msg_type"] == "text":
            raw = content["text"]
            mentions = _FEISHU_TEXT_AT.findall(raw)
            text = _FEISHU_TEXT_AT.sub(lambda match: "@" + match.group(1), raw)
        else:
            # The title and the first markdown element (buttons and notes may follow it).
            header = content["header"]
            markdown = next(e["content"] for e in content["body"]["elements"] if e.get("tag") == "markdown")
            mentions = _FEISHU_CARD_AT.findall(markdown)
            body_text = _FEISHU_CARD_AT.sub(lambda match: "@" + match.group(1), markdown)
            text = f"【{header['title']['content']}】\n{body_text}"
            color = header.get("template")
        kind: Kind
        if body["_path"].endswith("/reply"):
            kind, target = "reply", self.chat_of_message[body["_target"]]
        else:
            id_type = body["_params"]["receive_id_type"]
            assert id_type in ("open_id", "chat_id"), id_type
            kind, target = "user" if id_type == "open_id" else "chat", body["receive_id"]
        return Sent(
            kind,
            target,
            text.replace("**", ""),
            card=body["msg_type"] == "interactive",
            mentions=tuple(dict.fromkeys(mentions)),
            color=color,
            image=image,
            request=body,
            message_id=body["_message_id"],
        )


# --- DingTalk -------------------------------------------------------------------------------------------


class _DingTalkRoom:
    def __init__(self, organisation: dingtalk.Organisation) -> None:
        self.organisation = organisation
        self.chat_of_session: dict[str, str] = {}  # each message's session webhook -> its conversation

    async def post(self, user: str, line: str, chat: str, chat_type: str, reply_to: str | None) -> None:
        if reply_to is not None:
            raise NotImplementedError("DingTalk robot callbacks say nothing of the message replied to")
        names = dict.fromkeys(_TYPED_MENTION.findall(line))
        payload = self.organisation.message(
            user, line, conversation=chat, chat_type=chat_type, mentions={name: name for name in names}
        )
        self.chat_of_session[payload["sessionWebhook"]] = chat
        response = await self.organisation.deliver(payload)
        assert response.status_code == 200, response.text

    async def click(self, user: str, card: Sent, group: int, button: int) -> str:
        # A private card's buttons are dtmd links (one: singleURL; more: actionURL1..n).
        param = json.loads(card.request["msgParam"])
        url = param["singleURL"] if "singleURL" in param else param[f"actionURL{button + 1}"]
        [command] = parse_qs(urlsplit(url).query)["content"]
        await self.post(user, command, f"p2p-{user}", "p2p", None)
        return ""

    def take(self) -> list[Sent]:
        taken = [self._decode(body) for body in self.organisation.api.sent]
        self.organisation.api.sent.clear()
        return taken

    def _decode(self, body: dict[str, Any]) -> Sent:
        kind: Kind
        if "msgParam" in body:  # the robot OpenAPI: no @ (it cannot notify anyone)
            fields, msg_type, mentions = json.loads(body["msgParam"]), body["msgKey"], []
            path = urlsplit(body["_url"]).path
            if path == "/v1.0/robot/oToMessages/batchSend":
                [target] = body["userIds"]
                kind = "user"
            else:
                assert path == "/v1.0/robot/groupMessages/send", path
                kind, target = "chat", body["openConversationId"]
        else:  # a reply through the session webhook of a message we posted
            msg_type = body["msgtype"]
            fields, mentions = body[msg_type], body.get("at", {}).get("atUserIds", [])
            kind, target = "reply", self.chat_of_session[body["_url"]]
        if msg_type == "sampleImageMsg":
            image = self.organisation.api.images[fields["photoURL"]]
            return Sent(kind, target, IMAGE_TEXT, mentions=tuple(mentions), image=image, request=body)
        card = msg_type not in ("text", "sampleText")
        if card:  # markdown or an action card: our renderer heads the text with the title
            title = fields["title"]
            text = fields["text"].removeprefix(f"### {title}\n\n")
            text = f"【{title}】\n{text}"
        else:
            text = fields["content"]
        return Sent(kind, target, text.replace("**", ""), card=card, mentions=tuple(mentions), request=body)


# --- the shell ------------------------------------------------------------------------------------------


class _ShellRoom:
    def __init__(self, runtime: Runtime, sender: shell.ShellSender) -> None:
        self.runtime = runtime
        self.sender = sender

    async def post(self, user: str, line: str, chat: str, chat_type: str, reply_to: str | None) -> None:
        message = shell.message(line, user=user, chat=chat, now=self.runtime.clock(), chat_type=chat_type)
        await self.runtime.accept([dataclasses.replace(message, reply_to=reply_to)])

    async def click(self, user: str, card: Sent, group: int, button: int) -> str:
        raise NotImplementedError("the shell has no buttons")

    def take(self) -> list[Sent]:
        taken, self.sender.sent = self.sender.sent, []
        return [
            Sent(
                "user" if m.extra.get("to") == "user" else "chat" if m.extra.get("to") else "reply",
                m.chat_id,
                shell.render(m.content),
                card=isinstance(m.content, Card),
                color=m.content.color if isinstance(m.content, Card) else None,
                image=m.content.png if isinstance(m.content, Image) else None,
            )
            for m in taken
        ]


# --- the runtime ----------------------------------------------------------------------------------------


def alternating(rows: Iterable[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """The rows of a table test, each with the platform it runs on appended, Feishu and DingTalk in
    turn: for a rule that does not depend on the platform every row still runs on both databases
    and each platform gets half the rows, at half the cost of every row on both."""
    return [(*row, ("feishu", "dingtalk")[index % 2]) for index, row in enumerate(rows)]


class _VirtualTime:
    """The send limiters' clock: waiting for room moves it on at once, so limits hold but cost no time."""

    def __init__(self) -> None:
        self.now = 0.0

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += seconds
        await asyncio.sleep(0)


@asynccontextmanager
async def chat_runtime(
    engine: AsyncEngine,
    *,
    platform: str = "shell",
    now: datetime | None = None,
    clock: Callable[[], datetime] | None = None,
    locale: Literal["zh", "en"] = "zh",
    secret_key: str | None = SECRET_KEY,
) -> AsyncIterator[Chat]:
    """The app on `platform` with a frozen clock (`now`, or a `clock` the test moves), and
    CROSSTRACK_SECRET_KEY set to `secret_key`."""
    if clock is None:
        frozen = now or datetime(2026, 11, 25, 2, 0, tzinfo=UTC)
        clock = lambda: frozen  # noqa: E731
    if platform == "shell":
        async with _shell_runtime(engine, clock, locale, secret_key) as chat:
            yield chat
    elif platform == "feishu":
        async with _feishu_runtime(engine, clock, locale, secret_key) as chat:
            yield chat
    elif platform == "dingtalk":
        async with _dingtalk_runtime(engine, clock, locale, secret_key) as chat:
            yield chat
    else:
        raise ValueError(f"unknown platform {platform!r}")


@asynccontextmanager
async def _shell_runtime(
    engine: AsyncEngine, clock: Callable[[], datetime], locale: Literal["zh", "en"], secret_key: str | None
) -> AsyncIterator[Chat]:
    settings = Settings(  # type: ignore[call-arg]
        database_url=str(engine.url), locale=locale, secret_key=secret_key, _env_file=None
    )
    sender = shell.ShellSender()
    runtime = Runtime(settings, engine, build_registry(), {"shell": sender}, clock=clock)
    await runtime.start(run_outbox=False)
    try:
        yield Chat("shell", runtime, _ShellRoom(runtime, sender))
    finally:
        await runtime.stop()


@asynccontextmanager
async def _feishu_runtime(
    engine: AsyncEngine, clock: Callable[[], datetime], locale: Literal["zh", "en"], secret_key: str | None
) -> AsyncIterator[Chat]:
    settings = feishu.feishu_settings(engine, locale=locale, secret_key=secret_key)
    assert settings.feishu_app_id and settings.feishu_app_secret
    time = _VirtualTime()
    sender = feishu_client.FeishuClient(
        settings.feishu_domain,
        settings.feishu_app_id,
        settings.feishu_app_secret.get_secret_value(),
        clock=time.clock,
        limiter=feishu_client.send_limiter(clock=time.clock, sleep=time.sleep),
    )
    async with (
        feishu.feishu_api() as api,
        _serving(create_app(settings, senders={"feishu": sender}, clock=clock)) as (
            runtime,
            http,
        ),
    ):
        await sender.bot_open_id()  # as the app's start-up does: group messages @ the bot
        tenant = feishu.Tenant(http, runtime, api, feishu.ENCRYPT_KEY, clock)
        yield Chat("feishu", runtime, _FeishuRoom(tenant), http)


@asynccontextmanager
async def _dingtalk_runtime(
    engine: AsyncEngine, clock: Callable[[], datetime], locale: Literal["zh", "en"], secret_key: str | None
) -> AsyncIterator[Chat]:
    time = _VirtualTime()
    sender = dingtalk_client.DingTalkClient(
        dingtalk.API_DOMAIN,
        dingtalk.APP_KEY,
        dingtalk.APP_SECRET,
        dingtalk.ROBOT_CODE,
        oapi_domain=dingtalk.OAPI_DOMAIN,
        clock=time.clock,
        now=clock,
        limiter=dingtalk_client.send_limiter(clock=time.clock, sleep=time.sleep),
    )
    settings = dingtalk.dingtalk_settings(engine, locale=locale, secret_key=secret_key)
    async with (
        dingtalk.dingtalk_api() as api,
        _serving(create_app(settings, senders={"dingtalk": sender}, clock=clock)) as (runtime, http),
    ):
        yield Chat("dingtalk", runtime, _DingTalkRoom(dingtalk.Organisation(http, runtime, api, clock)), http)


@asynccontextmanager
async def _serving(app: FastAPI) -> AsyncIterator[tuple[Runtime, httpx.AsyncClient]]:
    """The app's runtime started as its lifespan does, but without the background outbox loop: tests
    send what is due with `runtime.settle()`, so the loop would only compete for the database."""
    runtime: Runtime = app.state.runtime
    await runtime.start(run_outbox=False)
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=_BASE_URL) as http:
            yield runtime, http
    finally:
        await runtime.stop()
        await runtime.engine.dispose()
