"""The JSON API against real data: projects made by chat commands, the rest inserted directly."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.main import create_app
from bot.settings import Settings
from storage.models import (
    ActionItem,
    Department,
    Member,
    Milestone,
    MilestoneTask,
    Project,
    RaciAssignment,
    Risk,
    Task,
    TaskDependency,
)
from tests.harness import chat_runtime

TOKEN = "t0ken-for-tests"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
NOW = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)


@asynccontextmanager
async def api_client(database_url: str, *, token: str | None = TOKEN) -> AsyncIterator[httpx.AsyncClient]:
    settings = Settings(database_url=database_url, api_token=token, _env_file=None)  # type: ignore[call-arg]
    app = create_app(settings, senders={})
    # ASGITransport skips the lifespan; running it disposes the app's engine at the end.
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client,
    ):
        yield client


async def make_project(engine: AsyncEngine) -> int:
    """A project with alice (PM), bob (PM), carol, two departments and a small WBS with everything."""
    async with chat_runtime(engine) as chat:
        await chat.one("alice", "/项目 新建 新品发布 开始=2026-12-01 结束=2027-03-31")
        await chat.one("alice", "/项目 负责人 @bob")
        async with chat.runtime.factory() as session, session.begin():
            project = await session.scalar(select(Project))
            assert project is not None
            project.goal = "Launch"
            alice, bob = await session.scalars(select(Member).order_by(Member.id))
            carol = Member(project_id=project.id, platform="shell", platform_user_id="carol", created_at=NOW)
            rd = Department(project_id=project.id, name="R&D", head_member_id=bob.id)
            ops = Department(project_id=project.id, name="Ops")
            session.add_all([carol, rd, ops])
            await session.flush()
            bob.department_id = rd.id

            tasks: dict[str, Task] = {}
            # Neither id order nor string order is WBS order: the API must sort numerically.
            for code, title in [
                ("2", "Launch"),
                ("1", "Design"),
                ("1.2", "Mockups"),
                ("1.10", "Sign-off"),
                ("1.1", "Research"),
                ("1.1.1", "Interviews"),
                ("10", "Retro"),
            ]:
                parent = tasks.get(code.rsplit(".", 1)[0]) if "." in code else None
                task = Task(
                    project_id=project.id,
                    code=code,
                    parent_id=parent.id if parent else None,
                    title=title,
                    created_at=NOW,
                    updated_at=NOW,
                )
                session.add(task)
                await session.flush()
                tasks[code] = task
            interviews = tasks["1.1.1"]
            interviews.owner_member_id = bob.id
            interviews.department_id = rd.id
            interviews.start_date = date(2026, 12, 1)
            interviews.due_date = date(2026, 12, 10)
            interviews.progress = 40
            interviews.status = "in_progress"
            tasks["1.2"].owner_member_id = carol.id
            session.add_all(
                [
                    TaskDependency(task_id=tasks["2"].id, depends_on_id=tasks["1.10"].id),
                    TaskDependency(task_id=tasks["2"].id, depends_on_id=tasks["1.2"].id),
                    RaciAssignment(task_id=tasks["1.2"].id, member_id=bob.id, role="R"),
                    RaciAssignment(task_id=tasks["1.2"].id, member_id=alice.id, role="A"),
                    RaciAssignment(task_id=tasks["1.2"].id, member_id=carol.id, role="I"),
                ]
            )
            milestone = Milestone(
                project_id=project.id,
                number=1,
                title="Design done",
                due_date=date(2027, 1, 15),
                created_at=NOW,
            )
            session.add(milestone)
            await session.flush()
            session.add_all(
                [
                    MilestoneTask(milestone_id=milestone.id, task_id=tasks["1.10"].id),
                    MilestoneTask(milestone_id=milestone.id, task_id=tasks["1.2"].id),
                    Risk(
                        project_id=project.id,
                        number=1,
                        description="Supplier late",
                        level="high",
                        owner_member_id=bob.id,
                        mitigation="Second source",
                        created_at=NOW,
                        updated_at=NOW,
                    ),
                    ActionItem(
                        project_id=project.id,
                        number=1,
                        owner_member_id=carol.id,
                        text="Send quotes",
                        due_date=date(2026, 12, 3),
                        source_meeting="Kick-off",
                        created_at=NOW,
                    ),
                ]
            )
            return project.id


async def test_api_is_disabled_without_a_token(engine: AsyncEngine, database_url: str) -> None:
    async with api_client(database_url, token=None) as client:
        for path in ("/api/projects", "/api/projects/1", "/api/projects/1/audit"):
            response = await client.get(path, headers=AUTH)
            assert response.status_code == 503
            assert response.json() == {"error": "JSON API disabled: set CROSSTRACK_API_TOKEN"}
        assert (await client.get("/healthz")).json() == {"status": "ok", "checks": {"database": "ok"}}


async def test_wrong_or_missing_token_is_refused(engine: AsyncEngine, database_url: str) -> None:
    async with api_client(database_url) as client:
        for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": f"Basic {TOKEN}"}):
            response = await client.get("/api/projects", headers=headers)
            assert response.status_code == 401
            assert response.headers["www-authenticate"] == "Bearer"
            assert "error" in response.json()
        # A non-ASCII token must be refused, not crash compare_digest.
        response = await client.get("/api/projects", headers={b"Authorization": "Bearer t\u00f6ken".encode()})
        assert response.status_code == 401
        assert (await client.get("/healthz")).status_code == 200


async def test_missing_project_is_404(engine: AsyncEngine, database_url: str) -> None:
    async with api_client(database_url) as client:
        for path in ("/api/projects/42", "/api/projects/42/audit"):
            response = await client.get(path, headers=AUTH)
            assert response.status_code == 404
            assert response.json() == {"error": "project 42 not found"}


async def test_project_list(engine: AsyncEngine, database_url: str) -> None:
    async with chat_runtime(engine, locale="en") as chat:
        await chat.one("alice", "/project new Alpha start=2026-12-01 end=2027-01-31")
        await chat.one("bob", "/project new Beta", chat="other")
    async with api_client(database_url) as client:
        response = await client.get("/api/projects", headers=AUTH)
    assert response.status_code == 200
    assert response.json() == [
        {"id": 1, "name": "Alpha", "status": "active", "start": "2026-12-01", "end": "2027-01-31"},
        {"id": 2, "name": "Beta", "status": "active", "start": None, "end": None},
    ]


async def test_project_detail(engine: AsyncEngine, database_url: str) -> None:
    project_id = await make_project(engine)
    async with api_client(database_url) as client:
        response = await client.get(f"/api/projects/{project_id}", headers=AUTH)
    assert response.status_code == 200
    body = response.json()
    assert body["id"] == project_id and body["name"] == "新品发布"
    assert body["charter"] == {
        "background": "",
        "goal": "Launch",
        "deliverables": "",
        "scope_in": "",
        "scope_out": "",
        "start": "2026-12-01",
        "end": "2027-03-31",
        "timezone": "Asia/Shanghai",
        "locale": "zh",
        "status": "active",
    }
    assert body["chats"] == [{"platform": "shell", "chat_id": "team", "name": "team", "is_default": True}]
    assert body["departments"] == [
        {"id": 1, "name": "R&D", "head": "bob"},
        {"id": 2, "name": "Ops", "head": None},
    ]
    assert [(m["user_id"], m["name"], m["department"], m["role"]) for m in body["members"]] == [
        ("alice", "alice", None, "pm"),
        ("bob", "bob", "R&D", "pm"),
        ("carol", "", None, "member"),
    ]
    assert set(body["members"][0]) == {"id", "platform", "user_id", "name", "department", "role"}

    tasks = body["tasks"]
    assert [t["code"] for t in tasks] == ["1", "1.1", "1.1.1", "1.2", "1.10", "2", "10"]
    assert [(t["level"], t["parent"]) for t in tasks] == [
        (1, None),
        (2, "1"),
        (3, "1.1"),
        (2, "1"),
        (2, "1"),
        (1, None),
        (1, None),
    ]
    by_code = {t["code"]: t for t in tasks}
    assert by_code["1.1.1"] == {
        "code": "1.1.1",
        "title": "Interviews",
        "level": 3,
        "parent": "1.1",
        "owner": "bob",
        "department": "R&D",
        "start": "2026-12-01",
        "due": "2026-12-10",
        "progress": 40,
        "status": "in_progress",
        "depends_on": [],
        # No baseline is set; the critical path puts it on the plan's longest chain.
        "baseline_start": None,
        "baseline_due": None,
        "slip_workdays": None,
        "total_float": 0,
        "critical": True,
    }
    # A member without a display name is shown by user id.
    assert by_code["1.2"]["owner"] == "carol"
    assert by_code["1"]["owner"] is None and by_code["1"]["department"] is None
    assert by_code["2"]["depends_on"] == ["1.2", "1.10"]

    assert body["milestones"] == [
        {
            "number": 1,
            "title": "Design done",
            "due": "2027-01-15",
            "status": "open",
            "tasks": ["1.2", "1.10"],
            "baseline_due": None,
            "slip_workdays": None,
        }
    ]
    assert body["raci"] == {"1.2": {"R": ["bob"], "A": ["alice"], "C": [], "I": ["carol"]}}
    [risk] = body["risks"]
    assert risk == {
        "number": 1,
        "description": "Supplier late",
        "level": "high",
        "owner": "bob",
        "mitigation": "Second source",
        "status": "new",
        "created_at": risk["created_at"],
        "updated_at": risk["updated_at"],
    }
    assert datetime.fromisoformat(risk["created_at"]) == NOW
    assert body["actions"] == [
        {
            "number": 1,
            "owner": "carol",
            "text": "Send quotes",
            "due": "2026-12-03",
            "status": "open",
            "source_meeting": "Kick-off",
        }
    ]


async def test_audit_log_is_newest_first_and_pages(engine: AsyncEngine, database_url: str) -> None:
    async with chat_runtime(engine) as chat:
        await chat.one("alice", "/项目 新建 新品发布")
        await chat.one("alice", "/项目 负责人 @bob")
        await chat.one("bob", "/项目 新建 别的", chat="other")
    async with api_client(database_url) as client:
        response = await client.get("/api/projects/1/audit", headers=AUTH)
        assert response.status_code == 200
        entries = response.json()
        assert [e["action"] for e in entries] == [
            "member.role",
            "member.add",
            "member.add",
            "chat.bind",
            "project.create",
        ]
        ids = [e["id"] for e in entries]
        assert ids == sorted(ids, reverse=True)
        newest = entries[0]
        assert newest["actor"] == {"platform": "shell", "user_id": "alice", "name": "alice"}
        assert newest["entity"] == "member" and newest["entity_id"] == str(2)
        assert newest["before"] == {"role": "member"} and newest["after"] == {"role": "pm"}
        assert datetime.fromisoformat(newest["at"]) == NOW

        first_page = (await client.get("/api/projects/1/audit?limit=2", headers=AUTH)).json()
        assert [e["id"] for e in first_page] == ids[:2]
        rest = await client.get(f"/api/projects/1/audit?before_id={ids[1]}", headers=AUTH)
        assert [e["id"] for e in rest.json()] == ids[2:]
        assert (await client.get("/api/projects/1/audit?limit=0", headers=AUTH)).status_code == 422


async def test_openapi_documents_the_models(engine: AsyncEngine, database_url: str) -> None:
    async with api_client(database_url) as client:
        schema = (await client.get("/openapi.json")).json()
    detail = schema["paths"]["/api/projects/{project_id}"]["get"]
    assert detail["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ProjectOut"
    }
    assert {"401", "404", "503"} <= set(detail["responses"])
    assert schema["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
    assert set(schema["components"]["schemas"]["TaskOut"]["properties"]) >= {"code", "level", "parent"}


async def test_parent_tasks_show_effective_dates_and_rolled_up_progress(engine: AsyncEngine) -> None:
    async with chat_runtime(engine) as chat:
        for line in (
            "/项目 新建 Rollup",
            "/阶段 添加 1 设计",
            "/任务 添加 1.1 原型 @alice 开始=2026-12-01 截止=2026-12-03",
            "/任务 添加 1.2 评审 @alice 开始=2026-12-04 截止=2026-12-12",
            "/进度 1.1 100",
        ):
            await chat.say("alice", line)
    async with api_client(engine.url.render_as_string(hide_password=False)) as client:
        body = (await client.get("/api/projects/1", headers=AUTH)).json()
    phase = next(task for task in body["tasks"] if task["code"] == "1")
    assert (phase["start"], phase["due"], phase["progress"]) == ("2026-12-01", "2026-12-12", 25)
    assert phase["status"] == "in_progress"


async def test_weekly_reports_are_listed_and_readable_by_week(engine: AsyncEngine, database_url: str) -> None:
    # Imported here so this test stays an append-only addition to the module.
    from datetime import timedelta

    from scheduler.jobs import JOBS_BY_NAME
    from scheduler.runner import JobRunner

    friday = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)  # 17:00 in Shanghai
    async with chat_runtime(engine, now=friday) as chat:
        await chat.one("alice", "/项目 新建 新品发布")
        runner = JobRunner(chat.runtime.factory, lambda: friday)
        for week in range(2):
            at = friday + timedelta(days=7 * week)
            await runner.run_job(JOBS_BY_NAME["weekly-report"], at=at, project_id=1)
    async with api_client(database_url) as client:
        listed = (await client.get("/api/projects/1/reports", headers=AUTH)).json()
        detail = await client.get("/api/projects/1/reports/2026-11-25", headers=AUTH)  # any day of the week
        missing = await client.get("/api/projects/1/reports/2026-11-16", headers=AUTH)
        no_project = await client.get("/api/projects/42/reports", headers=AUTH)
    assert [(r["week_start"], r["week_end"]) for r in listed] == [
        ("2026-11-30", "2026-12-06"),
        ("2026-11-23", "2026-11-29"),
    ]
    assert listed[1]["generated_at"] == "2026-11-27T09:00:00Z"
    assert (listed[1]["actual"], listed[1]["state"], listed[1]["table_sync"]) == (0, "on_track", None)
    body = detail.json()
    assert detail.status_code == 200 and body["week_start"] == "2026-11-23"
    assert body["markdown"].startswith("还没有任务")
    assert body["content"]["project_name"] == "新品发布" and body["content"]["tasks"] == []
    assert (missing.status_code, missing.json()) == (404, {"error": "no report for the week of 2026-11-16"})
    assert (no_project.status_code, no_project.json()) == (404, {"error": "project 42 not found"})
