"""The connections crosstrack opens itself, so that no public URL is needed: DingTalk Stream
(`CROSSTRACK_DINGTALK_MODE=stream`) and Feishu's long connection (`CROSSTRACK_FEISHU_MODE=ws`).
`crosstrack serve` runs them beside the HTTP app; their events go to the same `accept` as webhooks."""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Callable
from datetime import datetime

from adapters.base import Accept
from adapters.dingtalk.client import DingTalkClient
from adapters.dingtalk.stream import DingTalkStream, StreamTimings, robot_message_handler
from adapters.feishu.card_actions import HandleClick, card_answerer
from adapters.feishu.client import FeishuClient
from adapters.feishu.ws import FeishuLongConnection, event_deliverer
from bot.metrics import Metrics
from bot.settings import Settings

log = logging.getLogger(__name__)

_STOP_TIMEOUT_SECONDS = 10.0


class Listeners:
    def __init__(
        self,
        *,
        dingtalk: DingTalkStream | None = None,
        feishu: FeishuLongConnection | None = None,
        metrics: Metrics | None = None,
    ) -> None:
        self.dingtalk = dingtalk
        self.feishu = feishu
        connected = (metrics or Metrics()).listener_connected
        for name, listener in (("dingtalk-stream", dingtalk), ("feishu-ws", feishu)):
            if listener is not None:  # read at scrape time
                connected.labels(name).set_function(functools.partial(_is_connected, listener))
        self._stop = asyncio.Event()
        self._dingtalk_task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._stop.clear()
        if self.dingtalk is not None:
            log.info("DingTalk Stream mode: opening the connection")
            self._dingtalk_task = asyncio.create_task(self.dingtalk.run(self._stop), name="dingtalk-stream")
        if self.feishu is not None:
            log.info("Feishu long-connection mode: opening the connection")
            self.feishu.start()

    def connections(self) -> dict[str, bool]:
        """Whether each connection the settings ask for is up now (for /readyz)."""
        up = {}
        if self.dingtalk is not None:
            up["dingtalk_stream"] = self.dingtalk.connected
        if self.feishu is not None:
            up["feishu_long_connection"] = self.feishu.connected
        return up

    async def stop(self) -> None:
        self._stop.set()
        if self._dingtalk_task is not None:
            done, _ = await asyncio.wait({self._dingtalk_task}, timeout=_STOP_TIMEOUT_SECONDS)
            if not done:  # e.g. stuck opening a connection
                self._dingtalk_task.cancel()
            await asyncio.gather(self._dingtalk_task, return_exceptions=True)
            self._dingtalk_task = None
        if self.feishu is not None:
            await self.feishu.stop()


def _is_connected(listener: DingTalkStream | FeishuLongConnection) -> float:
    return float(listener.connected)


def build_listeners(
    settings: Settings,
    *,
    feishu: FeishuClient | None,
    dingtalk: DingTalkClient | None,
    accept: Accept,
    clock: Callable[[], datetime],
    handle_click: HandleClick | None = None,
    metrics: Metrics | None = None,
) -> Listeners:
    """The listeners the settings ask for (none in the default `http` modes)."""
    stream = None
    if dingtalk is not None and settings.dingtalk_mode == "stream":
        assert settings.dingtalk_app_key and settings.dingtalk_app_secret
        stream = DingTalkStream(
            settings.dingtalk_api_domain,
            settings.dingtalk_app_key,
            settings.dingtalk_app_secret.get_secret_value(),
            on_message=robot_message_handler(
                robot_code=settings.dingtalk_robot_code,
                oapi_domain=settings.dingtalk_oapi_domain,
                remember_route=dingtalk.remember_route,
                directory=dingtalk.directory,
                accept=accept,
                clock=clock,
            ),
            timings=StreamTimings(
                watchdog_seconds=settings.dingtalk_stream_watchdog_seconds,
                backoff_seconds=settings.dingtalk_stream_backoff_seconds,
                backoff_max_seconds=settings.dingtalk_stream_backoff_max_seconds,
                refused_retry_seconds=settings.dingtalk_stream_refused_retry_seconds,
            ),
        )
    long_connection = None
    if feishu is not None and settings.feishu_mode == "ws":
        assert settings.feishu_app_id and settings.feishu_app_secret
        long_connection = FeishuLongConnection(
            settings.feishu_domain,
            settings.feishu_app_id,
            settings.feishu_app_secret.get_secret_value(),
            deliver=event_deliverer(feishu.bot_open_id, accept),
            answer_card=card_answerer(handle_click) if handle_click is not None else None,
        )
    return Listeners(dingtalk=stream, feishu=long_connection, metrics=metrics)
