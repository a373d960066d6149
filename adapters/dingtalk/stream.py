"""DingTalk Stream mode: receive robot messages (and card callbacks) over a WebSocket we open, so no
public URL is needed. The documented protocol (developerpedia `docs/learn/stream/protocol.md`):

1. POST {api_domain}/v1.0/gateway/connections/open with the app's clientId/clientSecret and the
   topics we subscribe to -> {endpoint, ticket} (a ticket is good for one connection, 90 s).
2. Connect to `endpoint?ticket=...` and answer every frame with an ack naming its `messageId`:
   SYSTEM `ping` (echo its data), SYSTEM `disconnect` (the server closes soon: reconnect with a new
   ticket), CALLBACK frames whose `data` string is the same robot message JSON as an HTTP callback.
   An ack's `code` is 200 (OK), 404 (topic not supported) or 500 (internal error); the SDK adds 400
   (bad request).

A robot message is acked once it is stored (claimed: fast, the work runs later): 200; a message we
refuse (malformed, another robot's): 400, as sending it again cannot help; one we could not store
(e.g. the database is down): 500, never a success. The protocol says robot messages are
"fire-and-forget" today (not pushed again after a timeout), so a 500 is what lets DingTalk know and
redeliver if it does; the log line says which message was lost.

Our own small client rather than the official `dingtalk-stream` SDK: the SDK opens the connection
with blocking `requests` (stalling our event loop).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import Any
from urllib.parse import quote_plus

import httpx
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import WebSocketException
from websockets.protocol import State

from adapters.base import Accept, WebhookRejected
from adapters.dingtalk.client import Directory
from adapters.dingtalk.directory import receive
from adapters.dingtalk.events import ReplyRoute

log = logging.getLogger(__name__)

OPEN_PATH = "/v1.0/gateway/connections/open"
ROBOT_TOPIC = "/v1.0/im/bot/messages/get"
CARD_TOPIC = "/v1.0/card/instances/callback"
USER_AGENT = "crosstrack-stream-python/0.1"
_TIMEOUT_SECONDS = 10.0
# DingTalk gives a card callback about as long as an HTTP callback to be answered.
_CARD_TIMEOUT_SECONDS = 3.0

# A robot message's `data` (a JSON string), acked once this returns; WebhookRejected when refused.
MessageHandler = Callable[[Any], Awaitable[None]]
# A card callback's parsed `data` -> the `response` of its ack (e.g. {"cardData": ...}), or None.
CardHandler = Callable[[dict[str, Any]], Awaitable[dict[str, Any] | None]]


class StreamRefused(Exception):
    """The gateway refused to open a connection for these credentials (or this request)."""


class _End(Enum):
    DISCONNECT = "the server asked us to reconnect"
    SILENT = "nothing heard within the watchdog period"
    STOPPED = "stopped"


@dataclass(frozen=True)
class StreamTimings:
    """`watchdog_seconds`: reconnect when neither a frame nor a pong to our WebSocket ping arrived
    for this long; errors back off from `backoff_seconds` (doubling, jittered) up to
    `backoff_max_seconds`; refused credentials are retried every `refused_retry_seconds`. The
    defaults are the CROSSTRACK_DINGTALK_STREAM_* settings'."""

    watchdog_seconds: float
    backoff_seconds: float
    backoff_max_seconds: float
    refused_retry_seconds: float


class DingTalkStream:
    """One Stream connection at a time, reopened until `run`'s stop event is set."""

    def __init__(
        self,
        api_domain: str,
        client_id: str,
        client_secret: str,
        *,
        on_message: MessageHandler,
        on_card: CardHandler | None = None,
        timings: StreamTimings,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        self._api_domain = api_domain.rstrip("/")
        self._client_id = client_id
        self._client_secret = client_secret
        self._on_message = on_message
        self._on_card = on_card
        self._timings = timings
        self._jitter = jitter
        self._ws: ClientConnection | None = None

    @property
    def connected(self) -> bool:
        return self._ws is not None and self._ws.state is State.OPEN

    @property
    def topics(self) -> list[str]:
        # Card callbacks are subscribed only when something answers them.
        return [ROBOT_TOPIC, *([CARD_TOPIC] if self._on_card is not None else [])]

    async def run(self, stop: asyncio.Event) -> None:
        failures = 0
        async with httpx.AsyncClient(base_url=self._api_domain, timeout=_TIMEOUT_SECONDS) as http:
            while not stop.is_set():
                heard = [False]  # set once a frame arrives: the connection worked, so no failure streak
                end: _End | None = None
                try:
                    url = await self._open(http)
                    end = await self._session(url, stop, heard)
                except StreamRefused as refused:
                    log.error(
                        "DingTalk Stream: the gateway refused to open a connection (%s); check "
                        "CROSSTRACK_DINGTALK_APP_KEY / CROSSTRACK_DINGTALK_APP_SECRET and that the robot "
                        "uses Stream mode. Retrying in %.0f s",
                        refused,
                        self._timings.refused_retry_seconds,
                    )
                    await _sleep(stop, self._timings.refused_retry_seconds)
                    continue
                except (httpx.HTTPError, OSError, WebSocketException, TimeoutError, ValueError) as error:
                    log.warning("DingTalk Stream connection failed: %r", error)
                except Exception:  # keep listening whatever went wrong; a bug shows in the log
                    log.exception("DingTalk Stream connection failed")
                if end is _End.STOPPED:
                    return
                if end is _End.DISCONNECT:
                    failures = 0
                    continue
                failures = 1 if heard[0] else failures + 1
                delay = self._backoff(failures)
                log.info("DingTalk Stream: reconnecting in %.1f s", delay)
                await _sleep(stop, delay)

    def _backoff(self, failures: int) -> float:
        """Doubling per consecutive failure, capped, with jitter so many instances do not reconnect
        in step."""
        ceiling = min(self._timings.backoff_max_seconds, self._timings.backoff_seconds * 2 ** (failures - 1))
        return ceiling / 2 + self._jitter() * ceiling / 2

    async def _open(self, http: httpx.AsyncClient) -> str:
        response = await http.post(
            OPEN_PATH,
            json={
                "clientId": self._client_id,
                "clientSecret": self._client_secret,
                "subscriptions": [{"type": "CALLBACK", "topic": topic} for topic in self.topics],
                "ua": USER_AGENT,
                "localIp": _local_ip(),
            },
            headers={"Accept": "application/json"},
        )
        if response.status_code in (400, 401, 403):
            raise StreamRefused(f"HTTP {response.status_code}: {response.text[:300]}")
        response.raise_for_status()
        body = response.json()
        endpoint, ticket = body.get("endpoint"), body.get("ticket")
        if not isinstance(endpoint, str) or not isinstance(ticket, str) or not endpoint or not ticket:
            raise ValueError(f"connections/open answered without endpoint and ticket: {body!r}"[:300])
        return f"{endpoint}?ticket={quote_plus(ticket)}"

    async def _session(self, url: str, stop: asyncio.Event, heard: list[bool]) -> _End:
        """Read one connection until it ends, and say how."""
        # Our own watchdog below replaces the library's keepalive, so a pong also counts as "heard".
        close_timeout = min(5.0, self._timings.watchdog_seconds / 3)
        async with connect(url, ping_interval=None, close_timeout=close_timeout) as ws:
            log.info("DingTalk Stream connected")
            self._ws = ws
            reading = asyncio.create_task(self._read(ws, heard))
            stopping = asyncio.create_task(stop.wait())
            try:
                await asyncio.wait({reading, stopping}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                self._ws = None
                for task in (reading, stopping):
                    task.cancel()
                await asyncio.gather(reading, stopping, return_exceptions=True)
            if stop.is_set():
                return _End.STOPPED
            end = reading.result()  # re-raises ConnectionClosed and other read errors
        if end is _End.SILENT:
            log.warning(
                "DingTalk Stream: %s (%.0f s); reconnecting", end.value, self._timings.watchdog_seconds
            )
        else:
            log.info("DingTalk Stream: %s", end.value)
        return end

    async def _read(self, ws: ClientConnection, heard: list[bool]) -> _End:
        loop = asyncio.get_running_loop()
        watchdog = self._timings.watchdog_seconds
        tick = watchdog / 3
        last = loop.time()

        def pong(waiter: asyncio.Future[float]) -> None:
            nonlocal last
            if not waiter.cancelled() and waiter.exception() is None:
                last = loop.time()

        while True:
            try:
                raw = await asyncio.wait_for(ws.recv(), tick)
            except TimeoutError:
                if loop.time() - last >= watchdog:
                    return _End.SILENT
                # DingTalk does not document how often it pings, so we ping too: a quiet but
                # healthy connection answers, a dead one stays silent.
                waiter = asyncio.ensure_future(await asyncio.wait_for(ws.ping(), tick))
                waiter.add_done_callback(pong)
                continue
            last = loop.time()
            heard[0] = True
            if await self._handle(ws, raw) is _End.DISCONNECT:
                return _End.DISCONNECT

    async def _handle(self, ws: ClientConnection, raw: str | bytes) -> _End | None:
        try:
            frame = json.loads(raw)
            headers = frame.get("headers") or {}
            kind, topic, message_id = frame.get("type"), headers.get("topic"), headers.get("messageId")
        except (ValueError, AttributeError, RecursionError):
            log.warning("DingTalk Stream: unreadable frame ignored: %r", raw[:200])
            return None
        if kind == "SYSTEM":
            if topic == "disconnect":
                return _End.DISCONNECT
            if topic == "ping":
                await self._ack(ws, message_id, frame.get("data"))  # echoes the opaque value
            return None
        if kind == "CALLBACK" and topic == ROBOT_TOPIC:
            code, message = await self._robot_message(frame.get("data"), message_id)
            await self._ack(ws, message_id, {"response": None}, code=code, message=message)
            return None
        if kind == "CALLBACK" and topic == CARD_TOPIC and self._on_card is not None:
            await self._ack(ws, message_id, {"response": await self._card(frame)})
            return None
        if kind == "EVENT":
            # Not subscribed; if one comes anyway, say it was consumed so it is not pushed again.
            await self._ack(ws, message_id, {"status": "SUCCESS", "message": "success"})
            return None
        log.warning("DingTalk Stream: unsupported %s frame (topic %r) ignored", kind, topic)
        await self._ack(ws, message_id, {"response": None}, code=404, message="not supported")
        return None

    async def _robot_message(self, data: Any, message_id: Any) -> tuple[int, str]:
        """Store one robot message; the ack's code and message (see the module docstring)."""
        try:
            await self._on_message(data)
        except WebhookRejected as rejected:
            log.warning("DingTalk Stream: robot message %s rejected: %s", message_id, rejected.reason)
            return 400, "bad request"
        except Exception as error:
            log.error("DingTalk Stream: robot message %s not stored, acked as failed: %r", message_id, error)
            return 500, "internal error"
        return 200, "OK"

    async def _card(self, frame: dict[str, Any]) -> dict[str, Any] | None:
        assert self._on_card is not None
        data = _object(frame.get("data"))
        if data is None:
            return None
        try:
            return await asyncio.wait_for(self._on_card(data), _CARD_TIMEOUT_SECONDS)
        except Exception:
            log.exception("DingTalk Stream: card callback failed")
            return None

    @staticmethod
    async def _ack(
        ws: ClientConnection, message_id: Any, data: Any, *, code: int = 200, message: str = "OK"
    ) -> None:
        if not isinstance(message_id, str):
            return
        await ws.send(
            json.dumps(
                {
                    "code": code,
                    "headers": {"contentType": "application/json", "messageId": message_id},
                    "message": message,
                    "data": data if isinstance(data, str) else json.dumps(data),  # a JSON string
                }
            )
        )


def robot_message_handler(
    *,
    robot_code: str | None,
    oapi_domain: str,
    remember_route: Callable[[str, ReplyRoute], None],
    accept: Accept,
    clock: Callable[[], datetime],
    directory: Directory | None = None,
) -> MessageHandler:
    """Parse and normalise a Stream robot message's `data` exactly as the HTTP callback's body, hand it
    to `accept` (which stores it and claims its msgId: a redelivery is dropped there), then keep its
    session webhook for the reply. Raises WebhookRejected for a message we refuse."""

    async def handle(data: Any) -> None:
        if not isinstance(data, str | bytes):
            raise WebhookRejected("robot message data is not a JSON string", status_code=400)
        await receive(
            data,
            directory=directory,
            remember_route=remember_route,
            accept=accept,
            robot_code=robot_code,
            now=clock(),
            oapi_domain=oapi_domain,
        )

    return handle


def _object(data: Any) -> dict[str, Any] | None:
    try:
        parsed = json.loads(data) if isinstance(data, str) else None
    except (ValueError, RecursionError):
        return None
    return parsed if isinstance(parsed, dict) else None


def _local_ip() -> str:
    """The address we reach the internet from (only for DingTalk's diagnostics); UDP sends nothing."""
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.connect(("8.8.8.8", 80))
            return str(probe.getsockname()[0])
    except OSError:
        return ""


async def _sleep(stop: asyncio.Event, seconds: float) -> None:
    """Wait `seconds`, or less if stopped meanwhile."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)
