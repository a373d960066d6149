"""DingTalk Stream mode against a fake gateway speaking the documented protocol: connection open, a
real WebSocket, frames, acks, reconnects; messages go through the real runtime, SQL and outbox."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.base import WebhookRejected
from adapters.dingtalk.client import DingTalkClient
from adapters.dingtalk.stream import (
    CARD_TOPIC,
    ROBOT_TOPIC,
    CardHandler,
    DingTalkStream,
    MessageHandler,
    StreamTimings,
    robot_message_handler,
)
from adapters.models import InboundEvent
from bot.main import create_app
from bot.runtime import Runtime
from bot.settings import Settings
from storage.models import InboundEventRecord, Project
from tests.fakes.dingtalk_stream import StreamConnection, StreamGateway, callback_frame, robot_message
from tests.samples import load
from tests.scenario.dingtalk import (
    API_DOMAIN,
    APP_KEY,
    APP_SECRET,
    DingTalkApi,
    dingtalk_api,
    dingtalk_organisation,
    dingtalk_settings,
)

FAST = StreamTimings(
    watchdog_seconds=0.3, backoff_seconds=0.01, backoff_max_seconds=0.05, refused_retry_seconds=0.05
)


@asynccontextmanager
async def running(stream: DingTalkStream) -> AsyncIterator[None]:
    stop = asyncio.Event()
    task = asyncio.create_task(stream.run(stop))
    try:
        yield
    finally:
        stop.set()
        await asyncio.wait_for(task, 5)


def bare_stream(
    on_message: MessageHandler, *, on_card: CardHandler | None = None, secret: str = APP_SECRET
) -> DingTalkStream:
    return DingTalkStream(API_DOMAIN, APP_KEY, secret, on_message=on_message, on_card=on_card, timings=FAST)


@asynccontextmanager
async def gateway_only() -> AsyncIterator[StreamGateway]:
    async with dingtalk_api() as api, StreamGateway(APP_KEY, APP_SECRET) as gateway:
        gateway.install(api.router, API_DOMAIN)
        yield gateway


async def ping(connection: StreamConnection, opaque: str) -> dict[str, Any]:
    frame = load("dingtalk", "stream_system_ping.developerpedia")
    frame["data"] = json.dumps({"opaque": opaque})
    await connection.send(frame)
    return await connection.reply()


async def project_names(runtime: Runtime) -> list[str]:
    async with runtime.factory() as session:
        return list(await session.scalars(select(Project.name).order_by(Project.id)))


async def test_message_is_acked_once_stored_then_applied_and_replied(engine: AsyncEngine) -> None:
    async with dingtalk_organisation(engine) as org, StreamGateway(APP_KEY, APP_SECRET) as gateway:
        gateway.install(org.api.router, API_DOMAIN)
        client = org.runtime.senders["dingtalk"]
        assert isinstance(client, DingTalkClient)
        connected: list[StreamConnection] = []
        unacked_when_stored: list[bool] = []

        async def accept_then_look(events: Any) -> None:
            await org.runtime.accept(events)
            # Stored (claimed) now, and the gateway has no ack yet: it comes only after this.
            unacked_when_stored.append(connected[0].received.empty())

        handler = robot_message_handler(
            robot_code=org.runtime.settings.dingtalk_robot_code,
            oapi_domain=org.runtime.settings.dingtalk_oapi_domain,
            remember_route=client.remember_route,
            accept=accept_then_look,
            clock=org.runtime.clock,
        )
        async with running(bare_stream(handler)):
            connection = await gateway.connection()
            connected.append(connection)
            [opened] = gateway.opened
            assert opened["clientId"] == APP_KEY and opened["clientSecret"] == APP_SECRET
            assert opened["subscriptions"] == [{"type": "CALLBACK", "topic": ROBOT_TOPIC}]
            assert isinstance(opened["ua"], str) and isinstance(opened["localIp"], str)

            payload = robot_message("user123", "/项目 新建 长连接")
            await connection.send(callback_frame(payload, message_id="212ca9d7_974_1898c159aa6_1783b"))
            acked = await connection.reply()
            await org.runtime.settle()

        ack = load("dingtalk", "stream_ack_chatbot.developerpedia")
        ack["headers"]["messageId"] = "212ca9d7_974_1898c159aa6_1783b"
        assert acked == ack and unacked_when_stored == [True]
        assert await project_names(org.runtime) == ["长连接"]
        [reply] = org.api.sent
        assert reply["_url"] == payload["sessionWebhook"]  # the route was kept, as for HTTP callbacks
        assert "长连接" in reply["text"]["content"]
        await asyncio.wait_for(connection.closed.wait(), 5)  # stopping closed the connection


async def test_ping_is_answered_and_other_frames_acked_but_ignored() -> None:
    received: list[dict[str, Any]] = []

    async def on_message(payload: dict[str, Any]) -> None:
        received.append(payload)

    async with gateway_only() as gateway, running(bare_stream(on_message)):
        connection = await gateway.connection()
        await connection.send(load("dingtalk", "stream_system_ping.developerpedia"))
        assert await connection.reply() == load("dingtalk", "stream_system_ping_ack.developerpedia")

        await connection.send(load("dingtalk", "stream_event_frame_example.developerpedia"))
        event_ack, expected = (
            await connection.reply(),
            load("dingtalk", "stream_ack_event_success.developerpedia"),
        )
        assert json.loads(event_ack.pop("data")) == json.loads(expected.pop("data"))
        assert event_ack == expected

        await connection.send(callback_frame({"x": 1}, topic="/v1.0/unknown/topic", message_id="m-unknown"))
        unknown = await connection.reply()
        assert unknown["code"] == 404 and unknown["headers"]["messageId"] == "m-unknown"
    assert received == []


async def test_disconnect_reconnects_with_a_fresh_ticket() -> None:
    async def on_message(payload: dict[str, Any]) -> None:
        raise AssertionError("no robot message was sent")

    async with gateway_only() as gateway, running(bare_stream(on_message)):
        first = await gateway.connection()
        await first.send(load("dingtalk", "stream_system_disconnect.developerpedia"))
        second = await gateway.connection()
        assert second.ticket != first.ticket and len(gateway.opened) == 2
        await asyncio.wait_for(first.closed.wait(), 5)  # we closed it rather than wait for the server
        assert (await ping(second, "after-reconnect"))["data"] == json.dumps({"opaque": "after-reconnect"})


async def test_watchdog_keeps_a_quiet_link_and_replaces_a_silent_one() -> None:
    async def on_message(payload: dict[str, Any]) -> None:
        raise AssertionError("no robot message was sent")

    async with gateway_only() as gateway, running(bare_stream(on_message)):
        first = await gateway.connection()
        # Three watchdog periods without a frame: our pings are answered, so the link is kept.
        await asyncio.sleep(3 * FAST.watchdog_seconds)
        assert len(gateway.opened) == 1 and not first.closed.is_set()

        first.go_silent()
        second = await gateway.connection()
        assert second.ticket != first.ticket and len(gateway.opened) == 2
        assert (await ping(second, "fresh"))["code"] == 200


async def test_refused_credentials_are_logged_clearly_and_retried(caplog: pytest.LogCaptureFixture) -> None:
    async def on_message(payload: dict[str, Any]) -> None:
        raise AssertionError("no robot message was sent")

    caplog.set_level(logging.ERROR, logger="adapters.dingtalk.stream")
    async with gateway_only() as gateway:
        gateway.refuse = 2
        async with running(bare_stream(on_message)):
            connection = await gateway.connection()
            assert len(gateway.opened) == 3
            assert (await ping(connection, "ok"))["code"] == 200
    refusals = [record.getMessage() for record in caplog.records]
    assert len(refusals) == 2
    assert "authFailed" in refusals[0] and "CROSSTRACK_DINGTALK_APP_SECRET" in refusals[0]


async def test_card_callbacks_are_subscribed_and_answered_in_the_ack() -> None:
    clicks: list[dict[str, Any]] = []
    update = load("dingtalk", "card_callback_ack_response.sdk-example")

    async def on_message(payload: dict[str, Any]) -> None:
        raise AssertionError("no robot message was sent")

    async def on_card(data: dict[str, Any]) -> dict[str, Any]:
        clicks.append(data)
        return update

    click = {"type": "actionCallback", "userId": "user123", "outTrackId": "track-1", "value": "{}"}
    async with gateway_only() as gateway, running(bare_stream(on_message, on_card=on_card)):
        connection = await gateway.connection()
        assert gateway.opened[0]["subscriptions"] == [
            {"type": "CALLBACK", "topic": ROBOT_TOPIC},
            {"type": "CALLBACK", "topic": CARD_TOPIC},
        ]
        await connection.send(callback_frame(click, topic=CARD_TOPIC, message_id="card-1"))
        ack = await connection.reply()
    assert clicks == [click]
    assert ack["code"] == 200 and ack["headers"]["messageId"] == "card-1"
    assert json.loads(ack["data"]) == {"response": update}


@asynccontextmanager
async def serving_in_stream_mode(
    engine: AsyncEngine,
) -> AsyncIterator[tuple[Runtime, DingTalkApi, StreamGateway]]:
    """`crosstrack serve` with CROSSTRACK_DINGTALK_MODE=stream: the app's lifespan runs the client."""
    async with dingtalk_api() as api, StreamGateway(APP_KEY, APP_SECRET) as gateway:
        gateway.install(api.router, API_DOMAIN)
        settings = dingtalk_settings(engine).model_copy(
            update={"dingtalk_mode": "stream", "dingtalk_stream_watchdog_seconds": 5.0}
        )
        app = create_app(settings)
        async with app.router.lifespan_context(app):
            yield app.state.runtime, api, gateway


async def test_serve_runs_the_stream_and_a_redelivered_msg_id_is_applied_once(engine: AsyncEngine) -> None:
    async with serving_in_stream_mode(engine) as (runtime, api, gateway):
        connection = await gateway.connection()
        payload = robot_message("user123", "/项目 新建 只一次", msg_id="msg-stream-dup")
        for message_id in ("push-1", "push-2"):  # the same msgId pushed twice
            await connection.send(callback_frame(payload, message_id=message_id))
        assert [(await connection.reply())["headers"]["messageId"] for _ in range(2)] == ["push-1", "push-2"]
        await ping(connection, "barrier")  # frames are handled in order: both messages are claimed
        await runtime.settle()
        assert await project_names(runtime) == ["只一次"]
        async with runtime.factory() as session:
            assert await session.scalar(select(func.count()).select_from(InboundEventRecord)) == 1
        assert len(api.sent) == 1
    await asyncio.wait_for(connection.closed.wait(), 5)  # shutting the app down closed the connection


def test_stream_mode_is_accepted_and_timed_by_settings() -> None:
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        dingtalk_app_key="ding-key",
        dingtalk_app_secret="real-secret-value",
        dingtalk_robot_code="ding-robot",
        dingtalk_mode="stream",
    )
    assert settings.dingtalk_mode == "stream" and settings.dingtalk_stream_watchdog_seconds == 90
    with pytest.raises(ValueError, match="dingtalk_stream_watchdog_seconds"):
        Settings(_env_file=None, dingtalk_stream_watchdog_seconds=0)  # type: ignore[call-arg]


async def test_messages_for_another_robot_are_refused() -> None:
    accepted: list[InboundEvent] = []

    async def accept(events: Any) -> None:
        accepted.extend(events)

    handler = robot_message_handler(
        robot_code="our-robot",
        oapi_domain="https://dingtalk-oapi.test",
        remember_route=lambda chat, route: None,
        accept=accept,
        clock=lambda: datetime.now(UTC),
    )
    with pytest.raises(WebhookRejected, match="another robot"):  # robotCode is the scenario robot's
        await handler(json.dumps(robot_message("user123", "/项目 新建 X")))
    assert accepted == []


async def count_events(runtime: Runtime) -> int:
    async with runtime.factory() as session:
        return int(await session.scalar(select(func.count()).select_from(InboundEventRecord)) or 0)


async def test_a_message_that_cannot_be_stored_is_not_acked_as_handled(
    engine: AsyncEngine, caplog: pytest.LogCaptureFixture
) -> None:
    """The database is unreachable for inbound events while a message arrives: the ack says so (500),
    one line is logged, and DingTalk's redelivery after the outage is applied."""
    caplog.set_level(logging.ERROR, logger="adapters.dingtalk.stream")
    async with serving_in_stream_mode(engine) as (runtime, api, gateway):
        connection = await gateway.connection()
        frame = callback_frame(
            robot_message("user123", "/项目 新建 停机", msg_id="msg-outage"), message_id="p-1"
        )
        async with runtime.engine.begin() as db:
            await db.execute(text("ALTER TABLE inbound_events RENAME TO inbound_events_away"))
        try:
            await connection.send(frame)
            ack = await connection.reply()
        finally:
            async with runtime.engine.begin() as db:
                await db.execute(text("ALTER TABLE inbound_events_away RENAME TO inbound_events"))
        assert (ack["code"], ack["message"], ack["headers"]["messageId"]) == (500, "internal error", "p-1")
        assert await count_events(runtime) == 0 and api.sent == []
        [logged] = [record.getMessage() for record in caplog.records]
        assert "p-1 not stored" in logged and "\n" not in logged

        await connection.send(frame)  # pushed again once the database is back
        assert (await connection.reply())["code"] == 200
        await runtime.settle()
        assert await project_names(runtime) == ["停机"] and len(api.sent) == 1


async def test_malformed_messages_are_acked_as_refused_and_nothing_is_stored(engine: AsyncEngine) -> None:
    async with serving_in_stream_mode(engine) as (runtime, api, gateway):
        connection = await gateway.connection()
        long_conversation = robot_message("user123", "/项目 新建 长", conversation="c" * 200)
        deep = (
            json.dumps(robot_message("user123", "/项目 新建 深"))[:-1]
            + ', "x": '
            + "[" * 5000
            + "]" * 5000
            + "}"
        )
        frames = [
            callback_frame(long_conversation, message_id="bad-1"),
            {**callback_frame({}, message_id="bad-2"), "data": deep},
            {**callback_frame({}, message_id="bad-3"), "data": {"not": "a string"}},
            {**callback_frame({}, message_id="bad-4"), "data": json.dumps(["not", "an object"])},
        ]
        for frame in frames:
            await connection.send(frame)
            ack = await connection.reply()
            assert (ack["code"], ack["message"]) == (400, "bad request")
            assert ack["headers"]["messageId"] == frame["headers"]["messageId"]
        assert (await ping(connection, "still here"))["code"] == 200  # the same connection goes on
        await runtime.settle()
        assert await count_events(runtime) == 0 and api.sent == []
        assert len(gateway.opened) == 1
