"""Feishu long-connection mode: lark-oapi's WebSocket client receives events without a public URL.

It fetches the WebSocket URL with POST {domain}/callback/ws/endpoint (app id and secret), then
reads protobuf `pbbp2.Frame`s and answers each event frame with a response frame (code 200 once we
have claimed the event, 500 when we could not). Events on this connection are neither encrypted nor
signed: the connection itself is authenticated, so they go straight to the same normalisation as
webhooks.

The client cannot run inside our event loop: it drives a module-level loop (captured when lark_oapi
is imported, possibly our running loop) with `run_until_complete`, and fetches the URL with blocking
`requests`. So it runs in its own thread with its own loop, and hands each event to the app's loop.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import json
import logging
import threading
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, TypeVar

import lark_oapi.ws.client as lark_ws
from lark_oapi.core.enum import LogLevel
from lark_oapi.core.json import JSON
from lark_oapi.event.callback.model.p2_card_action_trigger import (
    P2CardActionTrigger,
    P2CardActionTriggerResponse,
)
from lark_oapi.event.custom import CustomizedEvent
from lark_oapi.event.dispatcher_handler import EventDispatcherHandler
from lark_oapi.ws.exception import ClientException

from adapters.base import Accept, WebhookRejected
from adapters.feishu.events import parse_event

log = logging.getLogger(__name__)

T = TypeVar("T")

# Runs on the app's loop with one event's plain JSON; returns once the event is durably claimed.
Deliver = Callable[[dict[str, Any]], Coroutine[Any, Any, None]]
# Runs on the app's loop with one card.action.trigger's plain JSON; returns the callback's answer.
AnswerCard = Callable[[dict[str, Any]], Coroutine[Any, Any, dict[str, Any]]]

EVENT_TYPES = ("im.message.receive_v1", "im.chat.member.bot.added_v1")
# An event not claimed by then is answered 500 (not taken); if Feishu pushes it again, the claim dedupes.
_DELIVER_TIMEOUT_SECONDS = 10.0
# A card click must be answered within Feishu's 3 s; the click handler keeps its own, shorter budget.
_CARD_TIMEOUT_SECONDS = 2.9
_STOP_TIMEOUT_SECONDS = 10.0


class FeishuLongConnection:
    """lark-oapi's ws client in a thread of its own; `start` from the app's loop, `stop` at shutdown."""

    def __init__(
        self,
        domain: str,
        app_id: str,
        app_secret: str,
        *,
        deliver: Deliver,
        answer_card: AnswerCard | None = None,
        refused_retry_seconds: float = 300.0,
    ) -> None:
        self._domain = domain.rstrip("/")
        self._app_id = app_id
        self._app_secret = app_secret
        self._deliver = deliver
        self._answer_card = answer_card
        self._refused_retry_seconds = refused_retry_seconds
        self._stopping = threading.Event()
        self._app_loop: asyncio.AbstractEventLoop | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._cleaning = False
        self._client: lark_ws.Client | None = None

    @property
    def connected(self) -> bool:
        """A connection is open now (lark-oapi clears `_conn` while it reconnects)."""
        return getattr(self._client, "_conn", None) is not None

    def start(self) -> None:
        self._stopping.clear()
        self._cleaning = False
        self._app_loop = asyncio.get_running_loop()
        # The thread's loop is made here, not in the thread, so `stop` can always reach it.
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run, args=(self._loop,), name="feishu-ws", daemon=True)
        self._thread.start()

    async def stop(self) -> None:
        self._stopping.set()
        if self._loop is None or self._thread is None:
            return
        with contextlib.suppress(RuntimeError):  # the thread may have closed its loop already
            self._loop.call_soon_threadsafe(self._cancel_all)
        await asyncio.to_thread(self._thread.join, _STOP_TIMEOUT_SECONDS)
        if self._thread.is_alive():
            log.warning("the Feishu long connection did not stop in time; left to exit with the process")

    # -- the connection's thread ------------------------------------------------------------------

    def _run(self, loop: asyncio.AbstractEventLoop) -> None:
        asyncio.set_event_loop(loop)
        # lark-oapi runs on this module global (set at import, maybe to the app's loop): make it ours.
        lark_ws.loop = loop
        builder = EventDispatcherHandler.builder("", "")
        for event_type in EVENT_TYPES:
            builder.register_p2_customized_event(event_type, self._on_event)
        if self._answer_card is not None:
            builder.register_p2_card_action_trigger(self._on_card)
        handler = builder.build()
        client: lark_ws.Client | None = None
        try:
            while not self._stopping.is_set():
                client = self._client = lark_ws.Client(
                    self._app_id,
                    self._app_secret,
                    event_handler=handler,
                    domain=self._domain,
                    log_level=LogLevel.WARNING,
                )
                self._client = client
                try:
                    client.start()  # reconnects by itself; returns only by raising
                except ClientException as refused:
                    log.error(
                        "Feishu refused the long connection (%s); check CROSSTRACK_FEISHU_APP_ID / "
                        "CROSSTRACK_FEISHU_APP_SECRET and that the app subscribes to events by long "
                        "connection. Retrying in %.0f s",
                        refused,
                        self._refused_retry_seconds,
                    )
                except asyncio.CancelledError:  # stop() cancelled it
                    break
                except Exception:
                    log.exception("the Feishu long connection failed")
                self._stopping.wait(self._refused_retry_seconds)
        finally:
            self._cleaning = True
            loop.run_until_complete(_shut_down(client))
            loop.close()

    def _cancel_all(self) -> None:
        """Runs on the connection's loop: cancelling the task `run_until_complete` waits for makes
        `client.start()` raise CancelledError."""
        if not self._cleaning:
            for task in asyncio.all_tasks():
                task.cancel()

    def _on_event(self, event: CustomizedEvent) -> None:
        """Called on the connection's thread; blocks until the app has claimed the event, and raises
        (so the frame is answered 500) when it could not."""
        self._on_app_loop(self._deliver, event, _DELIVER_TIMEOUT_SECONDS)

    def _on_card(self, event: P2CardActionTrigger) -> P2CardActionTriggerResponse:
        """Called on the connection's thread for a card click; the answer (toast, updated card) goes
        back in the response frame, as the HTTP callback's body would."""
        assert self._answer_card is not None
        return P2CardActionTriggerResponse(self._on_app_loop(self._answer_card, event, _CARD_TIMEOUT_SECONDS))

    def _on_app_loop(
        self, handle: Callable[[dict[str, Any]], Coroutine[Any, Any, T]], event: object, timeout: float
    ) -> T:
        """`handle` the event's plain JSON (as a webhook has it) on the app's loop and wait for it; a
        handler still running after `timeout` is cancelled and the frame answered 500."""
        assert self._app_loop is not None
        payload = json.loads(JSON.marshal(event))
        future = asyncio.run_coroutine_threadsafe(handle(payload), self._app_loop)
        try:
            return future.result(timeout)
        except concurrent.futures.TimeoutError:
            future.cancel()
            raise


def event_deliverer(bot_open_id: Callable[[], Awaitable[str | None]], accept: Accept) -> Deliver:
    """Normalise an event exactly as a webhook's and hand it to `accept`, which claims it (event_id
    and message_id), so a redelivery is dropped there."""

    async def deliver(payload: dict[str, Any]) -> None:
        try:
            events = parse_event(payload, bot_open_id=await bot_open_id())
        except WebhookRejected as rejected:
            log.warning("Feishu long connection: event ignored: %s", rejected.reason)
            return
        if events:
            await accept(events)

    return deliver


async def _shut_down(client: lark_ws.Client | None) -> None:
    current = asyncio.current_task()
    tasks = [task for task in asyncio.all_tasks() if task is not current]
    for task in tasks:
        task.cancel()
    # Tasks first: the receive loop would take a closed connection as a cue to reconnect.
    await asyncio.gather(*tasks, return_exceptions=True)
    conn = getattr(client, "_conn", None)  # lark-oapi offers no public way to close it
    if conn is not None:
        try:
            await asyncio.wait_for(conn.close(), 2)
        except Exception as error:
            log.debug("closing the Feishu connection: %r", error)
