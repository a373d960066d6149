"""A fake Feishu long-connection server speaking lark-oapi's protocol: `POST /callback/ws/endpoint`
on a real local HTTP server (lark-oapi fetches it with blocking `requests`) returns the URL of a real
WebSocket server on 127.0.0.1 that exchanges protobuf `pbbp2.Frame`s (the generated module shipped
with lark-oapi): event frames out, response frames back, pings answered with pongs."""

from __future__ import annotations

import asyncio
import copy
import itertools
import json
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, urlsplit

from lark_oapi.ws.pb.pbbp2_pb2 import Frame
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed

from tests.samples import load
from tests.scenario.feishu import BOT_OPEN_ID

WAIT_SECONDS = 5.0
SERVICE_ID = 33
# Small so that a reconnect takes moments (the real server sends its own values).
CLIENT_CONFIG = {"ReconnectCount": -1, "ReconnectInterval": 1, "ReconnectNonce": 0, "PingInterval": 120}
_CONTROL, _DATA = 0, 1


def _header(frame: Frame, key: str) -> str:
    return next(header.value for header in frame.headers if header.key == key)


@dataclass
class LongConnection:
    device_id: str
    ws: ServerConnection
    responses: asyncio.Queue[Frame] = field(default_factory=asyncio.Queue)
    closed: asyncio.Event = field(default_factory=asyncio.Event)
    _seq: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    async def send_event(self, payload: dict[str, Any]) -> dict[str, Any]:
        """Push one event frame; returns the decoded payload of the client's response frame."""
        frame = Frame(SeqID=next(self._seq), LogID=0, service=SERVICE_ID, method=_DATA)
        message_id = uuid.uuid4().hex
        for key, value in (
            ("type", "event"),
            ("message_id", message_id),
            ("trace_id", uuid.uuid4().hex),
            ("sum", "1"),
            ("seq", "0"),
        ):
            header = frame.headers.add()
            header.key, header.value = key, value
        frame.payload = json.dumps(payload, ensure_ascii=False).encode()
        await self.ws.send(frame.SerializeToString())
        response = await asyncio.wait_for(self.responses.get(), WAIT_SECONDS)
        assert _header(response, "message_id") == message_id
        decoded: dict[str, Any] = json.loads(response.payload)
        return decoded


class LongConnectionServer:
    def __init__(self, app_id: str, app_secret: str) -> None:
        self.app_id = app_id
        self.app_secret = app_secret
        self.endpoint_requests: list[dict[str, Any]] = []
        self._issued: set[str] = set()
        self._used: set[str] = set()
        self._connections: asyncio.Queue[LongConnection] = asyncio.Queue()
        self._ws: Server | None = None
        self._http: ThreadingHTTPServer | None = None

    @property
    def domain(self) -> str:
        assert self._http is not None
        return f"http://127.0.0.1:{self._http.server_address[1]}"

    async def __aenter__(self) -> LongConnectionServer:
        self._ws = await serve(self._serve, "127.0.0.1", 0, close_timeout=0.5)
        self._http = ThreadingHTTPServer(("127.0.0.1", 0), _endpoint_handler(self))
        threading.Thread(
            target=self._http.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="fake-feishu-endpoint",
            daemon=True,
        ).start()
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        assert self._ws is not None and self._http is not None
        await asyncio.to_thread(self._http.shutdown)
        self._http.server_close()
        self._ws.close()
        await self._ws.wait_closed()

    def endpoint(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        """POST /callback/ws/endpoint (called on the HTTP server's thread)."""
        self.endpoint_requests.append(body)
        if path != "/callback/ws/endpoint" or (body.get("AppID"), body.get("AppSecret")) != (
            self.app_id,
            self.app_secret,
        ):
            return {"code": 403, "msg": "forbidden"}
        device_id = uuid.uuid4().hex
        self._issued.add(device_id)
        assert self._ws is not None
        port = next(iter(self._ws.sockets)).getsockname()[1]
        url = f"ws://127.0.0.1:{port}/ws?device_id={device_id}&service_id={SERVICE_ID}"
        return {"code": 0, "msg": "ok", "data": {"URL": url, "ClientConfig": CLIENT_CONFIG}}

    async def _serve(self, ws: ServerConnection) -> None:
        assert ws.request is not None
        device_id = parse_qs(urlsplit(ws.request.path).query).get("device_id", [""])[0]
        if device_id not in self._issued or device_id in self._used:
            await ws.close(1008, "unknown device")
            return
        self._used.add(device_id)
        connection = LongConnection(device_id, ws)
        self._connections.put_nowait(connection)
        try:
            async for raw in ws:
                frame = Frame()
                frame.ParseFromString(raw)
                if frame.method == _CONTROL and _header(frame, "type") == "ping":
                    pong = Frame(SeqID=0, LogID=0, service=SERVICE_ID, method=_CONTROL)
                    header = pong.headers.add()
                    header.key, header.value = "type", "pong"
                    await ws.send(pong.SerializeToString())
                elif frame.method == _DATA:
                    connection.responses.put_nowait(frame)
        except ConnectionClosed:
            pass
        finally:
            connection.closed.set()

    async def connection(self) -> LongConnection:
        """The next connection a client opened."""
        return await asyncio.wait_for(self._connections.get(), WAIT_SECONDS)


def _endpoint_handler(server: LongConnectionServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            raw = json.dumps(server.endpoint(self.path, body)).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


def message_event(
    sender: str, text: str, *, chat: str = "oc_ws", mentions: dict[str, str] | None = None
) -> dict[str, Any]:
    """A group message @-ing the bot, on the documented im.message.receive_v1 sample (plain JSON: on
    the long connection events are neither encrypted nor signed); `@name` of a key in `mentions`
    (name -> open_id) becomes a Feishu mention."""
    event = copy.deepcopy(load("feishu", "im_message_receive_v1_group_mention"))
    event["header"].update(event_id=uuid.uuid4().hex, create_time=str(int(time.time() * 1000)))
    event["event"]["sender"] = {"sender_id": {"open_id": sender}, "sender_type": "user", "tenant_key": "t1"}
    message = event["event"]["message"]
    message.update(
        message_id=f"om_{uuid.uuid4().hex}",
        chat_id=chat,
        chat_type="group",
        content=json.dumps({"text": f"@_user_1 {text}"}, ensure_ascii=False),
        mentions=[{"key": "@_user_1", "id": {"open_id": BOT_OPEN_ID}, "name": "crosstrack"}],
    )
    for number, (name, open_id) in enumerate((mentions or {}).items(), start=2):
        key = f"@_user_{number}"
        message["mentions"].append({"key": key, "id": {"open_id": open_id}, "name": name})
        message["content"] = message["content"].replace(f"@{name}", key)
    for key in ("root_id", "parent_id", "thread_id"):
        message.pop(key, None)
    return event
