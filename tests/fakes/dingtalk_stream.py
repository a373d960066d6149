"""A fake DingTalk Stream gateway speaking the documented protocol (developerpedia
`docs/learn/stream/protocol.md`): `POST /v1.0/gateway/connections/open` (a respx route on the fake
API domain) checks the credentials and hands out one-use tickets for a real WebSocket server on
127.0.0.1; frames are built from the platform samples."""

from __future__ import annotations

import asyncio
import copy
import json
import time
import uuid
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import respx
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed

from adapters.dingtalk.stream import OPEN_PATH, ROBOT_TOPIC
from tests.samples import load
from tests.scenario.dingtalk import OAPI_DOMAIN, ROBOT_CODE

WAIT_SECONDS = 5.0


@dataclass
class StreamConnection:
    """One client connection as the gateway sees it."""

    ticket: str
    ws: ServerConnection
    received: asyncio.Queue[dict[str, Any]] = field(default_factory=asyncio.Queue)
    closed: asyncio.Event = field(default_factory=asyncio.Event)
    silent: bool = False

    async def send(self, frame: dict[str, Any]) -> None:
        await self.ws.send(json.dumps(frame, ensure_ascii=False))

    async def reply(self) -> dict[str, Any]:
        """The next frame the client sent (an ack)."""
        return await asyncio.wait_for(self.received.get(), WAIT_SECONDS)

    def go_silent(self) -> None:
        """Stop reading without closing, like a dead link: no frames and no pongs from now on."""
        self.silent = True
        self.ws.transport.pause_reading()


class StreamGateway:
    def __init__(self, client_id: str, client_secret: str) -> None:
        self.client_id = client_id
        self.client_secret = client_secret
        self.opened: list[dict[str, Any]] = []  # connections/open request bodies
        self.refuse = 0  # answer this many open calls with the observed authFailed 401
        self._issued: set[str] = set()
        self._used: set[str] = set()
        self._connections: asyncio.Queue[StreamConnection] = asyncio.Queue()
        self._all: list[StreamConnection] = []
        self._server: Server | None = None
        self.port = 0

    async def __aenter__(self) -> StreamGateway:
        self._server = await serve(self._serve, "127.0.0.1", 0, close_timeout=0.5)
        self.port = next(iter(self._server.sockets)).getsockname()[1]
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        assert self._server is not None
        for connection in self._all:
            if connection.silent:
                connection.ws.transport.abort()
        self._server.close()
        await self._server.wait_closed()

    def install(self, router: respx.MockRouter, api_domain: str) -> None:
        router.post(f"{api_domain}{OPEN_PATH}").mock(side_effect=self._open)

    def _open(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        self.opened.append(body)
        if self.refuse or (body.get("clientId"), body.get("clientSecret")) != (
            self.client_id,
            self.client_secret,
        ):
            self.refuse = max(0, self.refuse - 1)
            return httpx.Response(
                401, json=load("dingtalk", "stream_connections_open_error_auth_failed.observed")
            )
        ticket = str(uuid.uuid4())
        self._issued.add(ticket)
        answer = load("dingtalk", "stream_connections_open_response.developerpedia")
        return httpx.Response(
            200, json={**answer, "endpoint": f"ws://127.0.0.1:{self.port}/connect", "ticket": ticket}
        )

    async def _serve(self, ws: ServerConnection) -> None:
        assert ws.request is not None
        ticket = parse_qs(urlsplit(ws.request.path).query).get("ticket", [""])[0]
        if ticket not in self._issued or ticket in self._used:  # a ticket opens one connection
            await ws.close(1008, "invalid ticket")
            return
        self._used.add(ticket)
        connection = StreamConnection(ticket, ws)
        self._all.append(connection)
        self._connections.put_nowait(connection)
        try:
            async for raw in ws:
                connection.received.put_nowait(json.loads(raw))
        except ConnectionClosed:
            pass
        finally:
            connection.closed.set()

    async def connection(self) -> StreamConnection:
        """The next connection a client opened."""
        return await asyncio.wait_for(self._connections.get(), WAIT_SECONDS)


def robot_message(
    sender: str, text: str, *, msg_id: str | None = None, conversation: str = "cid-stream"
) -> dict[str, Any]:
    """A group @-bot message as a Stream frame's `data` carries it (the documented sample, with its
    `createA` typo), replying through a session webhook on the fake oapi domain."""
    payload = copy.deepcopy(load("dingtalk", "robot_msg_group_at_bot.from_stream_frame_data.developerpedia"))
    now = int(time.time() * 1000)
    payload.update(
        msgId=msg_id or f"msg{uuid.uuid4().hex}",
        conversationId=conversation,
        senderStaffId=sender,
        senderNick=sender,
        robotCode=ROBOT_CODE,
        sessionWebhook=f"{OAPI_DOMAIN}/robot/sendBySession?session={uuid.uuid4().hex}",
        sessionWebhookExpiredTime=now + 5_400_000,
        text={"content": f" {text}"},
    )
    return payload


def callback_frame(
    data: dict[str, Any], *, topic: str = ROBOT_TOPIC, message_id: str | None = None
) -> dict[str, Any]:
    """A CALLBACK frame shaped like the documented robot-message frame."""
    frame = copy.deepcopy(load("dingtalk", "stream_callback_frame_chatbot_group_at_bot.developerpedia"))
    frame["headers"].update(
        messageId=message_id or uuid.uuid4().hex, time=str(int(time.time() * 1000)), topic=topic
    )
    frame["data"] = json.dumps(data, ensure_ascii=False)
    return frame
