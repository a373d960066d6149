"""Liveness and readiness through the real app: /livez asks nothing, /readyz asks the database (without
SQLite's write lock), the platform connections and the scheduler, and never says why in its body."""

from __future__ import annotations

import asyncio
import logging
import shutil
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.main import create_app
from bot.settings import Settings
from storage.db import SQLITE_BUSY_TIMEOUT_MS, create_engine
from storage.models import InboundEventRecord, Project
from tests.fakes.dingtalk_stream import StreamGateway
from tests.scenario.dingtalk import (
    API_DOMAIN,
    APP_KEY,
    APP_SECRET,
    dingtalk_api,
    dingtalk_organisation,
    dingtalk_settings,
)

WAIT_SECONDS = 5.0
# A database nobody listens on: connecting fails at once.
UNREACHABLE = "postgresql://crosstrack:secret-password@127.0.0.1:1/crosstrack"


@asynccontextmanager
async def client_of(app: FastAPI, *, lifespan: bool = True) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://crosstrack.test") as client:
        if lifespan:
            async with app.router.lifespan_context(app):
                yield client
        else:
            yield client


async def ready(client: httpx.AsyncClient, path: str = "/readyz") -> tuple[int, Any]:
    response = await client.get(path)
    return response.status_code, response.json()


async def eventually_ready(client: httpx.AsyncClient, expected: dict[str, str]) -> None:
    async with asyncio.timeout(WAIT_SECONDS):
        while (await ready(client))[1]["checks"] != expected:  # noqa: ASYNC110 - polling is what probes do
            await asyncio.sleep(0.05)


async def test_livez_asks_nothing_and_readyz_fails_without_saying_why(
    caplog: pytest.LogCaptureFixture,
) -> None:
    settings = Settings(database_url=UNREACHABLE, _env_file=None)  # type: ignore[call-arg]
    app = create_app(settings, senders={})
    async with client_of(app, lifespan=False) as client:
        assert await ready(client, "/livez") == (200, {"status": "ok"})
        failing = (503, {"status": "failing", "checks": {"database": "failing"}})
        assert await ready(client) == failing
        assert await ready(client, "/healthz") == failing  # the old name, kept for existing probes
        raw = (await client.get("/readyz")).text
    assert "127.0.0.1" not in raw and "Error" not in raw and "secret" not in raw
    # The reason is in the log, for the operator.
    assert any("readiness: database failing" in r.getMessage() for r in caplog.records)


async def test_readyz_answers_while_another_connection_holds_the_sqlite_write_lock(
    sqlite_template: Path, tmp_path: Path
) -> None:
    database = tmp_path / "locked.db"
    shutil.copy(sqlite_template, database)
    settings = Settings(database_url=f"sqlite:///{database}", _env_file=None)  # type: ignore[call-arg]
    app = create_app(settings, senders={})
    async with client_of(app) as client:
        writer = sqlite3.connect(database, isolation_level=None)
        try:
            writer.execute("BEGIN IMMEDIATE")  # what every transaction of ours takes first
            writer.execute("DELETE FROM projects")
            # The probe has CHECK_TIMEOUT_SECONDS (3 s), less than the busy timeout (5 s) it would
            # wait for the lock: "ok" here means it never waited.
            assert await ready(client) == (200, {"status": "ok", "checks": {"database": "ok"}})
        finally:
            writer.execute("ROLLBACK")
            writer.close()


async def test_every_sqlite_connection_has_wal_and_the_busy_timeout(
    sqlite_template: Path, tmp_path: Path
) -> None:
    database = tmp_path / "pragmas.db"
    shutil.copy(sqlite_template, database)
    engine = create_engine(f"sqlite:///{database}")
    try:
        connections = [await engine.connect() for _ in range(5)]  # five distinct pooled connections
        for connection in connections:
            assert await connection.scalar(text("PRAGMA journal_mode")) == "wal"
            assert await connection.scalar(text("PRAGMA busy_timeout")) == SQLITE_BUSY_TIMEOUT_MS
            await connection.rollback()  # ends the transaction (and its write lock) but keeps the connection
        for connection in connections:
            await connection.close()
    finally:
        await engine.dispose()


async def test_a_burst_of_100_signed_writes_gets_no_5xx(engine: AsyncEngine) -> None:
    async with dingtalk_organisation(engine) as org:
        payloads = [
            org.message(f"user{n}", f"/项目 新建 项目{n}", conversation=f"cid-{n}") for n in range(100)
        ]
        responses = await asyncio.gather(*(org.deliver(payload) for payload in payloads))
        assert sorted({r.status_code for r in responses}) == [200]
        await org.runtime.settle()
        async with org.runtime.factory() as session:
            assert await session.scalar(select(func.count()).select_from(InboundEventRecord)) == 100
            assert await session.scalar(select(func.count()).select_from(Project)) == 100


async def test_readyz_follows_the_dingtalk_stream_connection(engine: AsyncEngine) -> None:
    async with dingtalk_api() as api, StreamGateway(APP_KEY, APP_SECRET) as gateway:
        gateway.install(api.router, API_DOMAIN)
        gateway.refuse = 1_000_000  # credentials refused until the test says otherwise
        settings = dingtalk_settings(engine).model_copy(
            update={"dingtalk_mode": "stream", "dingtalk_stream_refused_retry_seconds": 0.1}
        )
        app = create_app(settings)
        async with client_of(app) as client:
            await eventually_ready(client, {"database": "ok", "dingtalk_stream": "failing"})
            assert (await client.get("/readyz")).status_code == 503
            gateway.refuse = 0
            connection = await gateway.connection()
            await eventually_ready(client, {"database": "ok", "dingtalk_stream": "ok"})
            assert await ready(client) == (
                200,
                {"status": "ok", "checks": {"database": "ok", "dingtalk_stream": "ok"}},
            )
            await connection.ws.close()
            await eventually_ready(client, {"database": "ok", "dingtalk_stream": "failing"})


async def test_readyz_waits_for_the_scheduler_to_know_its_leadership(
    sqlite_template: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    database = tmp_path / "scheduled.db"
    shutil.copy(sqlite_template, database)
    settings = Settings(database_url=f"sqlite:///{database}", _env_file=None)  # type: ignore[call-arg]
    app = create_app(settings, senders={}, scheduler=True, leader_check_seconds=0.1)
    async with client_of(app) as client:
        await eventually_ready(client, {"database": "ok", "scheduler": "ok"})
        assert app.state.scheduler.leading
