"""The weekly report's sync into a DingTalk AI table (Notable), on SQLite and PostgreSQL: a DingTalk
project (signed callbacks into the app, frozen at Friday 2026-11-20 17:00 in Shanghai) binds its table
with /config aitable, the weekly-report job writes through the Notable API (respx), reruns update
the same records, and a refusal is told to the PM once."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import respx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.dingtalk import notable
from bot.main import create_app
from bot.render.i18n import t
from scheduler.jobs import JOBS_BY_NAME
from scheduler.runner import JobRunner
from storage.models import Project, ReportSnapshot, TableSyncRecord, Task
from tests.scenario.dingtalk import (
    ACCESS_TOKEN,
    API_DOMAIN,
    OAPI_DOMAIN,
    Organisation,
    dingtalk_api,
    dingtalk_settings,
)

NOW = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)  # Friday 17:00 in Shanghai; the week is 11-16 .. 11-22
PM, UNION = "manager4220", "iPjvA9Hn2DiiE"
BASE, SHEET = "qnYxxx0A1b", "周报"
RECORDS = f"{API_DOMAIN}/v1.0/notable/bases/{BASE}/sheets/%E5%91%A8%E6%8A%A5/records"
WEEKLY = JOBS_BY_NAME["weekly-report"]


@dataclass
class Setup:
    org: Organisation
    runner: JobRunner
    api: respx.MockRouter
    project_id: int


@asynccontextmanager
async def organisation(engine: AsyncEngine, clock: list[datetime]) -> AsyncIterator[Organisation]:
    """The whole app on a fake DingTalk, at the time `clock[0]` (signed callbacks carry that time)."""
    async with dingtalk_api() as api:
        app = create_app(dingtalk_settings(engine), clock=lambda: clock[0])
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://crosstrack.test") as client:
                yield Organisation(client, app.state.runtime, api, lambda: clock[0])


async def say(org: Organisation, user: str, line: str) -> list[str]:
    org.api.sent.clear()
    assert (await org.deliver(org.message(user, line))).status_code == 200
    await org.runtime.settle()
    return org.api.texts()


class FakeNotable:
    """Notable's insert: hands out record ids (the same ones for a repeated clientToken)."""

    def __init__(self) -> None:
        self.count = 0
        self.by_token: dict[str, list[str]] = {}
        self.failure: httpx.Response | None = None

    def insert(self, request: httpx.Request) -> httpx.Response:
        if self.failure is not None:
            return self.failure
        token = parse_qs(urlsplit(str(request.url)).query)["clientToken"][0]
        if token not in self.by_token:
            records = json.loads(request.content)["records"]
            self.by_token[token] = [f"rec{self.count + n}" for n in range(1, len(records) + 1)]
            self.count += len(records)
        return httpx.Response(200, json={"value": [{"id": i} for i in self.by_token[token]]})


@pytest.fixture
def clock() -> list[datetime]:
    return [NOW]


@pytest.fixture
async def setup(engine: AsyncEngine, clock: list[datetime]) -> AsyncIterator[tuple[Setup, FakeNotable]]:
    fake = FakeNotable()
    async with organisation(engine, clock) as org:
        api = org.api.router
        api.post(f"{OAPI_DOMAIN}/topapi/v2/user/get", name="user").respond(
            json={"errcode": 0, "errmsg": "ok", "result": {"userid": PM, "unionid": UNION}}
        )
        api.post(RECORDS, name="insert").mock(side_effect=fake.insert)
        api.put(RECORDS, name="update").respond(json={"value": []})
        await say(org, PM, "/项目 新建 新品发布")
        assert await say(org, PM, f"/设置 AI表格 {BASE} {SHEET}") == [f"✅ AI表格：未设置 → {BASE} {SHEET}"]
        async with org.runtime.factory() as s, s.begin():
            project = await s.scalar(select(Project))
            assert project is not None
            for code, title, progress in (("1", "开发", 40), ("2", "上线", 0)):
                s.add(
                    Task(
                        project_id=project.id,
                        code=code,
                        title=title,
                        start_date=date(2026, 11, 16),
                        due_date=date(2026, 12, 4),
                        progress=progress,
                        status="in_progress" if progress else "not_started",
                        created_at=NOW,
                        updated_at=NOW,
                    )
                )
            pid = project.id
        runner = JobRunner(
            org.runtime.factory,
            lambda: clock[0],
            jobs=[WEEKLY],
            tables=notable.build_tables(org.runtime.senders),
        )
        yield Setup(org, runner, api, pid), fake


async def run(setup: Setup, at: datetime = NOW) -> None:
    [outcome] = await setup.runner.run_job(WEEKLY, at=at, project_id=setup.project_id)
    assert outcome.status == "done"
    await setup.org.runtime.settle()


async def synced(setup: Setup) -> dict[tuple[date, str], str]:
    async with setup.org.runtime.factory() as s:
        rows = await s.scalars(select(TableSyncRecord).where(TableSyncRecord.platform == "dingtalk"))
        return {(row.week_start, row.row_key): row.record_id for row in rows}


async def sync_states(setup: Setup) -> dict[date, Any]:
    async with setup.org.runtime.factory() as s:
        return {
            snap.week_start: snap.content.get("table_sync")
            for snap in await s.scalars(select(ReportSnapshot))
        }


def column(name: str) -> str:
    return t("zh", f"report.col.{name}")


async def test_rows_are_inserted_as_the_pm_then_updated_in_place(setup: tuple[Setup, FakeNotable]) -> None:
    env, fake = setup
    await run(env)
    [insert] = env.api["insert"].calls
    request = insert.request
    assert request.headers["x-acs-dingtalk-access-token"] == ACCESS_TOKEN
    query = parse_qs(urlsplit(str(request.url)).query)
    assert query["operatorId"] == [UNION] and uuid.UUID(query["clientToken"][0]).version == 4
    records = json.loads(request.content)["records"]
    assert [record["fields"][column("code")] for record in records] == ["1", "2", "汇总"]
    first = records[0]["fields"]
    assert first[column("title")] == "开发" and first[column("progress")] == 0.4
    week_ms = int(datetime(2026, 11, 15, 16, 0, tzinfo=UTC).timestamp() * 1000)  # Monday 00:00 Shanghai
    assert first[column("week")] == week_ms and first[column("due")] == week_ms + 18 * 86_400_000
    # The PM's staff id became the unionId once.
    assert json.loads(env.api["user"].calls[0].request.content) == {"userid": PM, "language": "zh_CN"}
    monday = date(2026, 11, 16)
    assert await synced(env) == {(monday, "1"): "rec1", (monday, "2"): "rec2", (monday, "summary"): "rec3"}
    assert (await sync_states(env))[monday]["status"] == "done"

    await run(env)  # an operator's rerun the same day: the same records are updated, none added
    assert env.api["insert"].call_count == 1
    update = env.api["update"].calls[0].request
    assert parse_qs(urlsplit(str(update.url)).query) == {"operatorId": [UNION]}
    assert [r["id"] for r in json.loads(update.content)["records"]] == ["rec1", "rec2", "rec3"]
    assert fake.count == 3 and len(await synced(env)) == 3


async def test_a_refused_sync_keeps_the_report_tells_the_pm_once_and_is_retried_next_week(
    setup: tuple[Setup, FakeNotable], clock: list[datetime]
) -> None:
    env, fake = setup
    fake.failure = httpx.Response(
        400, json={"code": "invalidRequest.field.notFound", "message": "字段不存在"}
    )
    await run(env)
    told = [body for body in env.org.api.sent if body.get("userIds") == [PM]]
    [message] = [json.loads(body["msgParam"])["content"] for body in told]
    assert "同步到AI表格失败" in message and "invalidRequest.field.notFound" in message
    assert any(body.get("openConversationId") for body in env.org.api.sent)  # the report itself went out
    monday = date(2026, 11, 16)
    assert (await sync_states(env))[monday]["status"] == "failed"
    assert await synced(env) == {}

    env.org.api.sent.clear()
    await run(env)  # rerun the same day: still refused, but the PM was told already
    assert not [body for body in env.org.api.sent if body.get("userIds") == [PM]]

    fake.failure = None
    clock[0] = NOW + timedelta(days=7)
    await run(env, at=clock[0])  # next week's report writes its own week and the failed one
    states = await sync_states(env)
    assert states[monday]["status"] == "done" and states[monday + timedelta(days=7)]["status"] == "done"
    assert {week for week, _ in await synced(env)} == {monday, monday + timedelta(days=7)}


async def test_without_a_table_or_without_dingtalk_nothing_is_written(
    setup: tuple[Setup, FakeNotable],
) -> None:
    env, _ = setup
    no_writer = JobRunner(env.org.runtime.factory, lambda: NOW, jobs=[WEEKLY], tables={})
    await no_writer.run_job(WEEKLY, at=NOW, project_id=env.project_id)
    assert not env.api["insert"].called
    await say(env.org, PM, "/设置 AI表格 关")
    await run(env, at=NOW + timedelta(days=7))
    assert not env.api["insert"].called and await synced(env) == {}
