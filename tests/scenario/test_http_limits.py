"""The HTTP edge's limits, through the real app: capped bodies (streamed or declared), a deadline for
the whole body, and a bound on requests in flight; each refusal is one log line, never a traceback.
The slow-body, disconnect and concurrency cases run against a real uvicorn on 127.0.0.1 with raw
sockets, since only a real server has slow clients and dropped connections."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
import uvicorn
from fastapi import FastAPI
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.http_limits import uvicorn_options
from bot.main import create_app
from bot.settings import Settings
from storage.models import InboundEventRecord, Project
from tests.scenario.feishu import Tenant, feishu_api, feishu_settings, feishu_tenant

MIB = 1024 * 1024
CHUNK = 64 * 1024
ATTACK_BYTES = 300 * MIB
EVENTS = "/webhooks/feishu/events"
WAIT_SECONDS = 5.0


class CountingBody:
    """A 300 MB request body produced on demand, counting how much of it the server pulled."""

    def __init__(self, total: int = ATTACK_BYTES) -> None:
        self.total = total
        self.pulled = 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        chunk = b"x" * CHUNK
        while self.pulled < self.total:
            self.pulled += len(chunk)
            yield chunk


async def count(engine: AsyncEngine, model: type) -> int:
    async with engine.connect() as connection:
        return int(await connection.scalar(select(func.count()).select_from(model)) or 0)


async def signed_headers(tenant: Tenant) -> dict[str, str]:
    """Headers of a really signed delivery (the signature cannot cover a body this size: it is refused
    on size before it is ever checked)."""
    _, headers = tenant.signed(tenant.message_event("ou_alice", "/项目 新建 X"))
    return headers


async def test_a_streamed_body_over_the_cap_is_refused_after_reading_only_the_cap(
    engine: AsyncEngine, caplog: pytest.LogCaptureFixture
) -> None:
    async with feishu_tenant(engine) as tenant:
        body = CountingBody()
        caplog.set_level(logging.INFO)
        response = await tenant.client.post(EVENTS, content=body, headers=await signed_headers(tenant))
        assert response.status_code == 413
        assert response.json() == {"error": "request body too large"}
        # The default cap is 1 MiB; the server stopped pulling one chunk after passing it.
        assert MIB < body.pulled <= MIB + CHUNK
        await tenant.runtime.settle()
    assert await count(engine, InboundEventRecord) == 0
    [refusal] = [r for r in caplog.records if r.name == "bot.http_limits"]
    assert "413" in refusal.getMessage() and refusal.exc_info is None


async def test_a_declared_length_over_the_cap_is_refused_before_reading(engine: AsyncEngine) -> None:
    async with feishu_tenant(engine) as tenant:
        body = CountingBody()
        headers = {**await signed_headers(tenant), "content-length": str(ATTACK_BYTES)}
        response = await tenant.client.post(EVENTS, content=body, headers=headers)
        assert response.status_code == 413
        assert body.pulled == 0
    assert await count(engine, InboundEventRecord) == 0


async def test_a_body_within_the_cap_still_goes_through(engine: AsyncEngine) -> None:
    async with feishu_tenant(engine) as tenant:
        settings = feishu_settings(engine)
        assert settings.max_body_bytes == MIB
        event = tenant.message_event("ou_alice", "/项目 新建 新品发布")
        response = await tenant.deliver(event)
        assert response.status_code == 200
        await tenant.runtime.settle()
    assert await count(engine, Project) == 1


# -- against a real server ----------------------------------------------------------------------


@asynccontextmanager
async def serving(app: FastAPI, settings: Settings) -> AsyncIterator[int]:
    """`app` under a real uvicorn on a free port of 127.0.0.1 with `crosstrack serve`'s options,
    lifespan included; yields the port."""
    options = uvicorn_options(settings.max_concurrent_requests)
    config = uvicorn.Config(
        app, host="127.0.0.1", port=0, log_config=None, timeout_graceful_shutdown=1, **options
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    async with asyncio.timeout(WAIT_SECONDS):
        while not server.started:  # noqa: ASYNC110 - uvicorn offers no event for it
            await asyncio.sleep(0.01)
    try:
        yield server.servers[0].sockets[0].getsockname()[1]
    finally:
        server.should_exit = True
        await task


@asynccontextmanager
async def limited_app(engine: AsyncEngine, **limits: Any) -> AsyncIterator[tuple[FastAPI, int]]:
    async with feishu_api():
        settings = feishu_settings(engine).model_copy(update=limits)
        app = create_app(settings)
        async with serving(app, settings) as port:
            yield app, port


async def start_post(
    port: int, *, length: int, sent: bytes
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """A POST to the events webhook announcing `length` bytes of body but sending only `sent`."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    head = (
        f"POST {EVENTS} HTTP/1.1\r\nHost: crosstrack.test\r\nContent-Type: application/json\r\n"
        f"Content-Length: {length}\r\n\r\n"
    )
    writer.write(head.encode() + sent)
    await writer.drain()
    return reader, writer


async def status_of(reader: asyncio.StreamReader) -> tuple[int, str]:
    """The status code and the rest of the response (the server closes the connection after it)."""
    raw = await asyncio.wait_for(reader.read(), WAIT_SECONDS)
    status_line, _, rest = raw.decode().partition("\r\n")
    return int(status_line.split()[1]), rest


async def eventually(condition: Any) -> None:
    async with asyncio.timeout(WAIT_SECONDS):
        while not condition():  # noqa: ASYNC110 - server-side state with no event to wait on
            await asyncio.sleep(0.01)


async def test_a_body_slower_than_the_timeout_gets_408(
    engine: AsyncEngine, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    async with limited_app(engine, body_timeout_seconds=0.5) as (app, port):
        reader, writer = await start_post(port, length=1000, sent=b'{"a":')
        status, rest = await status_of(reader)
        writer.close()
        assert status == 408
        assert "request body timeout" in rest
        await eventually(lambda: app.state.http_limits.in_flight == 0)
    assert await count(engine, InboundEventRecord) == 0
    [refusal] = [r for r in caplog.records if r.name == "bot.http_limits"]
    assert "408" in refusal.getMessage()
    assert not [r for r in caplog.records if r.exc_info is not None]


async def test_a_client_leaving_mid_body_is_one_log_line_and_no_traceback(
    engine: AsyncEngine, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    async with limited_app(engine) as (app, port):
        _, writer = await start_post(port, length=1000, sent=b'{"a":')
        await eventually(lambda: app.state.http_limits.in_flight == 1)
        writer.close()
        await writer.wait_closed()
        await eventually(lambda: app.state.http_limits.in_flight == 0)
        lines = [r for r in caplog.records if r.name == "bot.http_limits"]
    assert len(lines) == 1 and "disconnected" in lines[0].getMessage()
    assert not [r for r in caplog.records if r.exc_info is not None or "Traceback" in r.getMessage()]
    assert await count(engine, InboundEventRecord) == 0


async def test_beyond_the_concurrency_limit_a_request_gets_503_at_once(
    engine: AsyncEngine, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    # A body deadline far beyond the test: the extra request must not wait for a slot.
    async with limited_app(engine, max_concurrent_requests=2, body_timeout_seconds=60) as (app, port):
        held = [await start_post(port, length=1000, sent=b'{"a":') for _ in range(2)]
        await eventually(lambda: app.state.http_limits.in_flight == 2)
        reader, writer = await start_post(port, length=1000, sent=b'{"a":')
        status, rest = await status_of(reader)
        writer.close()
        assert status == 503
        assert "retry-after: 1" in rest.lower()
        # Health probes are not counted: a saturated process is still alive.
        probe_reader, probe_writer = await asyncio.open_connection("127.0.0.1", port)
        probe_writer.write(b"GET /livez HTTP/1.1\r\nHost: crosstrack.test\r\nConnection: close\r\n\r\n")
        assert (await status_of(probe_reader))[0] == 200
        probe_writer.close()
        for _, held_writer in held:
            held_writer.close()
        await eventually(lambda: app.state.http_limits.in_flight == 0)
    refusals = [r.getMessage() for r in caplog.records if r.name == "bot.http_limits"]
    assert sum("(503)" in line for line in refusals) == 1


async def test_headers_growing_past_16_kib_are_refused_by_the_server(
    engine: AsyncEngine, caplog: pytest.LogCaptureFixture
) -> None:
    """A client trickling endless headers: uvicorn holds at most 16 KiB of them, then answers 400."""
    async with limited_app(engine) as (_, port):
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"GET /livez HTTP/1.1\r\nHost: crosstrack.test\r\n")
        for n in range(20):  # never the blank line that ends the headers
            writer.write(f"X-Padding-{n}: {'x' * 1024}\r\n".encode())
            await writer.drain()
        status, _ = await status_of(reader)
        writer.close()
    assert status == 400
    assert not [r for r in caplog.records if r.exc_info is not None]
