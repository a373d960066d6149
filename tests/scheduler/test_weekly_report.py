"""The weekly-report job on SQLite and PostgreSQL: the card to every bound chat, the snapshot, and the
Feishu Bitable sync (respx at https://feishu.test), each idempotent on re-runs.

The job runs at Friday 2026-11-27 17:00 in Shanghai; the week is 11-23 .. 11-29.
"""

from __future__ import annotations

import io
import itertools
import json
from collections import OrderedDict
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest
import respx
from PIL import Image as PILImage
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.base import TableWriter
from adapters.feishu.bitable import FeishuBitable
from adapters.feishu.client import FeishuClient
from bot.render import burndown, charts, gantt
from bot.services import pictures, reports
from scheduler.jobs import JOBS_BY_NAME
from scheduler.runner import JobRunner
from storage.models import (
    ActionItem,
    Blocker,
    Department,
    JobRun,
    Leave,
    Member,
    OutboxMessage,
    ProgressUpdate,
    Project,
    RaciAssignment,
    ReportSnapshot,
    Risk,
    RiskEvent,
    StandupReport,
    TableSyncRecord,
    Task,
)
from tests.harness import Chat, Sent, alternating, api_call, card_text, chat_runtime
from tests.samples import load
from tests.scenario.feishu import TENANT_TOKEN

NOW = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)  # Friday 17:00 in Shanghai
D = date.fromisoformat
BASE = "https://feishu.test"
APP, TABLE = "appReport", "tblWeekly"
RECORDS = f"/open-apis/bitable/v1/apps/{APP}/tables/{TABLE}/records"
WEEKLY = JOBS_BY_NAME["weekly-report"]
MS_PER_DAY = 86_400_000


class FakeBitable:
    """Feishu's batch_create: hands out record ids, or answers the scripted failures first."""

    def __init__(self) -> None:
        self.ids = itertools.count(1)
        self.failures: list[httpx.Response] = []

    def create(self, request: httpx.Request) -> httpx.Response:
        if self.failures:
            return self.failures.pop(0)
        records = json.loads(request.content)["records"]
        answered = [
            {"fields": r["fields"], "id": f"rec{n}", "record_id": f"rec{n}"}
            for r, n in zip(records, self.ids, strict=False)
        ]
        return httpx.Response(200, json={"code": 0, "msg": "success", "data": {"records": answered}})


@pytest.fixture
def feishu() -> Iterator[tuple[respx.MockRouter, FakeBitable]]:
    fake = FakeBitable()
    with respx.mock(base_url=BASE, assert_all_called=False) as router:
        # The scenario tenant's token: the fake picture upload, behind this router, checks it.
        router.post("/open-apis/auth/v3/tenant_access_token/internal", name="token").respond(
            json={
                **load("feishu", "tenant_access_token_internal_response"),
                "tenant_access_token": TENANT_TOKEN,
            }
        )
        router.post(f"{RECORDS}/batch_create", name="create").mock(side_effect=fake.create)
        router.post(f"{RECORDS}/batch_update", name="update").respond(
            json={"code": 0, "msg": "success", "data": {"records": []}}
        )
        yield router, fake


@dataclass
class Setup:
    chat: Chat
    runner: JobRunner
    tables: dict[str, TableWriter]
    api: respx.MockRouter
    fake: FakeBitable
    project_id: int


@pytest.fixture
async def setup(
    engine: AsyncEngine, platform: str, feishu: tuple[respx.MockRouter, FakeBitable]
) -> AsyncIterator[Setup]:
    """The project posts to two chats on `platform`; its table is a Feishu Bitable (the writer is
    passed to the runner explicitly: the fake Bitable answers on https://feishu.test)."""
    client = FeishuClient(BASE, "cli_app", "app-secret")
    async with chat_runtime(engine, platform=platform, now=NOW) as chat:
        await chat.say("alice", "/项目 新建 新品发布")
        await chat.say("alice", "/项目 绑定 1", chat="ops")
        async with chat.runtime.factory() as s, s.begin():
            project = await s.scalar(select(Project))
            assert project is not None
            project.bitable_app_token, project.bitable_table_id = APP, TABLE
            pid = project.id
        tables: dict[str, TableWriter] = {"feishu": FeishuBitable(client)}
        runner = JobRunner(chat.runtime.factory, lambda: NOW, tables=tables)
        yield Setup(chat, runner, tables, *feishu, pid)
    await client.aclose()


def at(moment: str) -> datetime:
    """A Shanghai time as UTC."""
    return datetime.fromisoformat(moment + "+08:00").astimezone(UTC)


async def add_plan(setup: Setup) -> None:
    """bob heads 研发 and is R on 1.2; carol owns 1.1; 1.1 finished on Tuesday, 1.2 is blocked."""
    async with setup.chat.runtime.factory() as s, s.begin():
        pid = setup.project_id

        def member(user: str) -> Member:
            return Member(
                project_id=pid,
                platform=setup.chat.platform,
                platform_user_id=user,
                display_name=user.title(),
                created_at=at("2026-11-01T09:00"),
            )

        bob, carol = member("bob"), member("carol")
        s.add_all([bob, carol])
        await s.flush()
        rd = Department(project_id=pid, name="研发", head_member_id=bob.id)
        s.add(rd)
        await s.flush()

        def task(code: str, title: str, start: str, due: str, progress: int, **kw: Any) -> Task:
            status = "done" if progress == 100 else "in_progress" if progress else "not_started"
            return Task(
                project_id=pid,
                code=code,
                title=title,
                start_date=D(start),
                due_date=D(due),
                progress=progress,
                status=kw.pop("status", status),
                created_at=NOW,
                updated_at=NOW,
                **kw,
            )

        phase = task("1", "开发", "2026-11-16", "2026-12-04", 50, department_id=rd.id)
        s.add(phase)
        await s.flush()
        t11 = task(
            "1.1", "接口", "2026-11-16", "2026-11-24", 100, parent_id=phase.id, owner_member_id=carol.id
        )
        t12 = task("1.2", "联调", "2026-11-25", "2026-12-04", 20, parent_id=phase.id, status="blocked")
        s.add_all([t11, t12])
        await s.flush()
        s.add_all(
            [
                RaciAssignment(task_id=t12.id, member_id=bob.id, role="R"),
                # Sunday 23:30 in Shanghai is last week; Tuesday is this week.
                ProgressUpdate(
                    task_id=t11.id,
                    previous_progress=0,
                    progress=60,
                    source="command",
                    created_at=at("2026-11-22T23:30"),
                ),
                ProgressUpdate(
                    task_id=t11.id,
                    previous_progress=60,
                    progress=100,
                    source="command",
                    created_at=at("2026-11-24T10:00"),
                ),
                Blocker(task_id=t12.id, text="等待测试环境", created_at=at("2026-11-25T10:00")),
                ActionItem(
                    project_id=pid,
                    number=1,
                    owner_member_id=bob.id,
                    text="确认预算",
                    due_date=D("2026-11-26"),
                    created_at=NOW,
                ),
                # bob reported Mon-Wed and is on leave Friday; carol reported once.
                Leave(
                    project_id=pid,
                    member_id=bob.id,
                    start_date=D("2026-11-27"),
                    end_date=D("2026-11-27"),
                    created_at=NOW,
                ),
                *(
                    StandupReport(
                        project_id=pid,
                        member_id=bob.id,
                        business_date=D(day),
                        text="ok",
                        parsed={},
                        created_at=NOW,
                        updated_at=NOW,
                    )
                    for day in ("2026-11-23", "2026-11-24", "2026-11-25")
                ),
                # The standup prompt went out Monday to Thursday (Friday's had not run yet).
                *(
                    JobRun(
                        job="standup-prompt",
                        project_id=pid,
                        business_date=D(day),
                        status="done",
                        started_at=NOW,
                    )
                    for day in ("2026-11-23", "2026-11-24", "2026-11-25", "2026-11-26")
                ),
                StandupReport(
                    project_id=pid,
                    member_id=carol.id,
                    business_date=D("2026-11-23"),
                    text="ok",
                    parsed={},
                    created_at=NOW,
                    updated_at=NOW,
                ),
            ]
        )
        risk = Risk(
            project_id=pid,
            number=1,
            description="服务器容量",
            level="high",
            owner_member_id=bob.id,
            status="mitigated",
            created_at=at("2026-11-02T10:00"),
            updated_at=NOW,
        )
        s.add(risk)
        await s.flush()
        s.add(
            RiskEvent(
                risk_id=risk.id, from_status="open", to_status="mitigated", created_at=at("2026-11-26T10:00")
            )
        )


async def add_many_tasks(setup: Setup, count: int, due: date | None = date(2026, 12, 31)) -> None:
    async with setup.chat.runtime.factory() as s, s.begin():
        phase = Task(project_id=setup.project_id, code="1", title="批量", created_at=NOW, updated_at=NOW)
        s.add(phase)
        await s.flush()
        s.add_all(
            Task(
                project_id=setup.project_id,
                code=f"1.{n}",
                parent_id=phase.id,
                title=f"任务 {n}",
                due_date=due,
                created_at=NOW,
                updated_at=NOW,
            )
            for n in range(1, count)
        )


async def run(setup: Setup, when: datetime = NOW) -> list[Sent]:
    """Run the job; what the platform API delivered."""
    outcomes = await setup.runner.run_job(WEEKLY, at=when, project_id=setup.project_id)
    assert [o.status for o in outcomes] == ["done"]
    await setup.chat.runtime.settle()
    return setup.chat.sent()


async def snapshots(setup: Setup) -> list[ReportSnapshot]:
    async with setup.chat.runtime.factory() as s:
        return list(await s.scalars(select(ReportSnapshot).order_by(ReportSnapshot.week_start)))


async def sync_records(setup: Setup) -> dict[tuple[date, str], str]:
    async with setup.chat.runtime.factory() as s:
        rows = await s.execute(
            select(TableSyncRecord.week_start, TableSyncRecord.row_key, TableSyncRecord.record_id)
        )
        return {(week, key): record for week, key, record in rows}


def records_sent(call: Any) -> list[dict[str, Any]]:
    records: list[dict[str, Any]] = json.loads(call.request.content)["records"]
    return records


# --- posting and the snapshot ------------------------------------------------------------------------


def cards(sent: list[Sent]) -> list[Sent]:
    """The report itself, without the DingTalk image messages that follow it (see "the pictures")."""
    return [m for m in sent if m.image is None]


async def test_the_report_goes_to_every_bound_chat_once_and_is_kept(setup: Setup) -> None:
    await add_plan(setup)
    sent = cards(await run(setup))

    assert sorted((m.kind, m.target) for m in sent) == [("chat", "ops"), ("chat", "team")]
    assert sorted(api_call(m) for m in sent) == (
        [f"/open-apis/im/v1/messages chat_id={chat}" for chat in ("ops", "team")]
        if setup.chat.platform == "feishu"
        else [f"/v1.0/robot/groupMessages/send openConversationId={chat}" for chat in ("ops", "team")]
    )
    assert all(m.card for m in sent) and sent[0].text == sent[1].text
    (stored,) = await snapshots(setup)
    assert (stored.week_start, stored.generated_at) == (D("2026-11-23"), NOW)
    # The card as posted is the stored markdown under its title.
    assert sent[0].text == card_text("📅 周报 · 新品发布 · 11-23～11-29", stored.markdown)

    # Re-running (a second scheduler, an operator) posts nothing new and keeps one snapshot.
    assert await run(setup, NOW + timedelta(hours=1)) == []
    (again,) = await snapshots(setup)
    assert again.id == stored.id and again.generated_at == NOW + timedelta(hours=1)


async def test_the_snapshot_holds_what_the_database_says_about_the_week(setup: Setup) -> None:
    await add_plan(setup)
    await run(setup)
    (stored,) = await snapshots(setup)
    content = stored.content

    tasks = {t["code"]: t for t in content["tasks"]}
    assert tasks["1.2"]["owners"] == [{"user_id": "bob", "name": "Bob"}]  # the R, as it has no owner
    assert tasks["1.2"]["department"] == "研发"  # from its phase
    assert [t["code"] for t in content["completed"]] == ["1.1"]
    # Only this week's updates count: 1.1 was 60% already on Sunday night.
    assert content["advanced"] == []
    assert [(b["code"], b["since"]) for b in content["blockers"]] == [("1.2", "2026-11-25")]
    assert [r["number"] for r in content["risks_mitigated"]] == [1]
    assert [a["number"] for a in content["actions_overdue"]] == [1]
    # Expected on the days the prompt went out (Mon-Thu), from those who owed a standup that day: bob
    # (R on the open 1.2) Mon-Thu; carol on Mon and Tue, while her 1.1 was open (done Tue 10:00);
    # alice has no tasks.
    assert (content["attendance"]["expected"], content["attendance"]["reported"]) == (6, 4)
    assert [m["person"]["user_id"] for m in content["attendance"]["missing"]] == ["bob", "carol"]
    # The same per department: neither is in one (bob only heads 研发); 1.1 due Tue and done Tue is on time.
    (everyone,) = content["participation"]
    assert everyone["department"] == ""
    assert {k: everyone["rates"][k] for k in ("asked", "answered", "due", "on_time")} == {
        "asked": 6,
        "answered": 4,
        "due": 1,
        "on_time": 1,
    }
    assert "⛔ 1.2 联调：等待测试环境（已 2 个工作日）<at:bob>" in stored.markdown
    assert content["table_sync"]["status"] == "done"


async def test_a_project_without_a_table_is_not_synced(setup: Setup) -> None:
    async with setup.chat.runtime.factory() as s, s.begin():
        project = await s.get(Project, setup.project_id)
        assert project is not None
        project.bitable_app_token = None
    await add_plan(setup)
    assert len(cards(await run(setup))) == 2
    assert not setup.api["create"].called and not setup.api["update"].called
    (stored,) = await snapshots(setup)
    assert "table_sync" not in stored.content


# --- the Bitable -----------------------------------------------------------------------------------------


async def test_rows_are_created_once_then_updated_in_place(setup: Setup) -> None:
    await add_plan(setup)
    await run(setup)

    (create,) = setup.api["create"].calls
    records = records_sent(create)
    week_ms = int(at("2026-11-23T00:00").timestamp() * 1000)
    assert [r["fields"]["编号"] for r in records] == ["1", "1.1", "1.2", "汇总"]
    assert records[2]["fields"] == {
        "编号": "1.2",
        "标题": "联调",
        "负责人": "Bob",
        "部门": "研发",
        "进度": 0.2,
        "状态": "受阻",
        "截止日期": week_ms + 11 * MS_PER_DAY,  # 12-04, midnight in Shanghai
        "周": week_ms,
    }
    assert create.request.url.params["client_token"]
    assert await sync_records(setup) == {
        (D("2026-11-23"), "1"): "rec1",
        (D("2026-11-23"), "1.1"): "rec2",
        (D("2026-11-23"), "1.2"): "rec3",
        (D("2026-11-23"), "summary"): "rec4",
    }

    # Progress moves; the re-run rewrites the same four records and creates none.
    async with setup.chat.runtime.factory() as s, s.begin():
        task = await s.scalar(select(Task).where(Task.code == "1.2"))
        assert task is not None
        task.progress = 60
    await run(setup, NOW + timedelta(hours=1))
    assert setup.api["create"].call_count == 1
    (update,) = setup.api["update"].calls
    updated = {r["record_id"]: r["fields"] for r in records_sent(update)}
    assert list(updated) == ["rec1", "rec2", "rec3", "rec4"]
    assert updated["rec3"]["进度"] == 0.6
    assert len(await sync_records(setup)) == 4


async def test_more_than_500_rows_go_in_sequential_batches(setup: Setup) -> None:
    await add_many_tasks(setup, 600)  # the phase and 599 tasks, plus the summary row: 601 rows
    await run(setup)

    creates = setup.api["create"].calls
    assert [len(records_sent(call)) for call in creates] == [500, 101]
    tokens = {call.request.url.params["client_token"] for call in creates}
    assert len(tokens) == 2
    assert len(await sync_records(setup)) == 601

    await run(setup, NOW + timedelta(hours=1))
    assert setup.api["create"].call_count == 2
    assert [len(records_sent(call)) for call in setup.api["update"].calls] == [500, 101]


async def test_a_write_conflict_is_retried(setup: Setup, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(reports, "RETRY_DELAYS", (0.0, 0.0))
    setup.fake.failures = [httpx.Response(200, json={"code": 1254291, "msg": "Write conflict"})] * 2
    await add_plan(setup)
    await run(setup)

    assert setup.api["create"].call_count == 3
    tokens = {call.request.url.params["client_token"] for call in setup.api["create"].calls}
    assert len(tokens) == 1  # the same call each time, so Feishu would not add the rows twice
    assert len(await sync_records(setup)) == 4


async def test_a_failed_sync_keeps_the_report_tells_the_pm_and_is_retried_next_week(setup: Setup) -> None:
    await add_many_tasks(setup, 600)
    refused = httpx.Response(200, json={"code": 1254045, "msg": "FieldNameNotFound"})
    setup.fake.failures = [
        httpx.Response(
            200,
            json={
                "code": 0,
                "msg": "success",
                "data": {"records": [{"record_id": f"r{n}"} for n in range(500)]},
            },
        ),
        refused,
    ]
    sent = await run(setup)

    assert sorted(m.target for m in cards(sent) if m.kind == "chat") == ["ops", "team"]
    (alert,) = [m for m in sent if m.kind == "user"]
    assert alert.target == "alice" and not alert.card
    assert "同步到多维表格失败" in alert.text and "1254045" in alert.text
    (stored,) = await snapshots(setup)
    assert stored.content["table_sync"]["status"] == "failed"
    assert "FieldNameNotFound" in stored.content["table_sync"]["error"]
    assert len(await sync_records(setup)) == 500  # the batch that went through is remembered

    # Next Friday: that week is written, then the failed one is finished (updated and completed).
    next_week = NOW + timedelta(days=7)
    await run(setup, next_week)
    async with setup.chat.runtime.factory() as s:
        # The harness's sender clock stays at NOW, so next week's messages are still queued.
        queued = await s.scalars(select(OutboxMessage).where(OutboxMessage.created_at == next_week))
        assert sorted((m.chat_id, m.payload["extra"]["to"]) for m in queued) == [
            ("ops", "chat"),
            ("team", "chat"),
        ]
    weeks = await snapshots(setup)
    assert [(w.week_start, w.content["table_sync"]["status"]) for w in weeks] == [
        (D("2026-11-23"), "done"),
        (D("2026-11-30"), "done"),
    ]
    records = await sync_records(setup)
    assert sum(week == D("2026-11-23") for week, _ in records) == 601
    assert sum(week == D("2026-11-30") for week, _ in records) == 601
    old_week = int(at("2026-11-23T00:00").timestamp() * 1000)
    last_create = records_sent(setup.api["create"].calls.last)
    assert len(last_create) == 101 and {r["fields"]["周"] for r in last_create} == {old_week}
    assert [len(records_sent(call)) for call in setup.api["update"].calls] == [500]


async def test_the_scheduler_tick_runs_it_at_the_report_time_once(setup: Setup) -> None:
    await add_plan(setup)
    weekly_only = JobRunner(setup.chat.runtime.factory, lambda: NOW, jobs=[WEEKLY], tables=setup.tables)
    assert await weekly_only.tick(at("2026-11-27T16:59")) == []
    outcomes = await weekly_only.tick(at("2026-11-27T17:00"))
    assert [o.status for o in outcomes] == ["done"]
    assert [o.status for o in await weekly_only.tick(at("2026-11-27T17:01"))] == ["skipped"]
    async with setup.chat.runtime.factory() as s:
        assert await s.scalar(select(func.count()).select_from(ReportSnapshot)) == 1


# --- the pictures ------------------------------------------------------------------------------------------

TITLE = "📅 周报 · 新品发布 · 11-23～11-29"
ALTS = ["新品发布 的甘特图", "新品发布 的燃尽图"]


def by_chat(sent: list[Sent]) -> dict[str, list[Sent]]:
    """What each chat got, in the order it got it."""
    return {chat: [m for m in sent if m.target == chat] for chat in sorted({m.target for m in sent})}


def check_pictures(pngs: list[bytes | None] | tuple[bytes, ...]) -> None:
    """The Gantt chart (phase 1 and its two tasks: three rows) then the burndown, phone-wide PNGs."""
    decoded = []
    for png in pngs:
        assert png is not None
        picture = PILImage.open(io.BytesIO(png))
        assert picture.format == "PNG"
        picture.load()  # the whole image decodes, not just its header
        decoded.append(picture)
    gantt_picture, burndown_picture = decoded
    rows_px = (gantt.HEADER_INCHES + gantt.FOOTER_INCHES + 3 * gantt.ROW_INCHES) * charts.DPI
    assert gantt_picture.width == charts.WIDTH_PX and abs(gantt_picture.height - rows_px) <= 2
    assert burndown_picture.size == (charts.WIDTH_PX, round(burndown.HEIGHT_INCHES * charts.DPI))


async def test_the_report_carries_the_gantt_chart_and_the_burndown(setup: Setup) -> None:
    await add_plan(setup)
    sent = by_chat(await run(setup))
    (stored,) = await snapshots(setup)
    api = setup.chat.platform_api()

    assert list(sent) == ["ops", "team"]
    if setup.chat.platform == "feishu":
        # Inside the card, under the text: `img` elements naming the uploads (one per picture for both
        # chats: the same keys twice).
        keys = []
        for (card,) in sent.values():
            assert card.card and card.text == card_text(TITLE, stored.markdown)
            elements = json.loads(card.request["content"])["body"]["elements"]
            assert [e["tag"] for e in elements] == ["markdown", "img", "img"]
            assert [e["alt"]["content"] for e in elements[1:]] == ALTS
            keys.append([e["img_key"] for e in elements[1:]])
            check_pictures(card.card_images)
        assert keys[0] == keys[1] and sorted(keys[0]) == sorted(api.images)
    else:
        # The markdown, then each picture as an image message naming its upload.
        media = []
        for report, *pictures_sent in sent.values():
            assert report.card and report.text == card_text(TITLE, stored.markdown)
            assert report.request["msgKey"] == "sampleMarkdown"
            assert [m.request["msgKey"] for m in pictures_sent] == ["sampleImageMsg", "sampleImageMsg"]
            media.append([json.loads(m.request["msgParam"])["photoURL"] for m in pictures_sent])
            check_pictures([m.image for m in pictures_sent])
        assert media[0] == media[1] and sorted(media[0]) == sorted(api.images)

    # Re-running posts nothing and uploads nothing.
    assert await run(setup, NOW + timedelta(hours=1)) == []
    assert len(api.images) == 2


async def test_a_picture_the_platform_refuses_goes_in_words(setup: Setup) -> None:
    """An upload refused for good (not worth retrying) costs the picture, not the report: its line of
    words stands in for it."""
    await add_plan(setup)
    api = setup.chat.platform_api()
    upload = api.router.routes["upload_image" if setup.chat.platform == "feishu" else "upload_media"]
    if setup.chat.platform == "feishu":
        refusal = httpx.Response(400, json={"code": 234006, "msg": "The file size exceed the max value."})
    else:
        refusal = httpx.Response(200, json={"errcode": 40006, "errmsg": "不合法的文件大小"})
    upload.side_effect = lambda request: refusal

    sent = by_chat(await run(setup))
    (stored,) = await snapshots(setup)
    words = [f"🖼 {alt}" for alt in ALTS]
    assert list(sent) == ["ops", "team"] and api.images == {}
    for got in sent.values():
        if setup.chat.platform == "feishu":
            (card,) = got
            assert card.text == card_text(TITLE, "\n".join([stored.markdown, "", *words]))
            assert not card.card_images
        else:
            assert [m.text for m in got] == [card_text(TITLE, stored.markdown), *words]


@pytest.mark.parametrize("platform", ["dingtalk"])
async def test_a_picture_that_failed_is_sent_again_without_the_report_text(setup: Setup) -> None:
    """DingTalk robot messages have no dedupe key: when a chat's first picture cannot be uploaded, the
    retry of that outbox row sends the pictures only, after the markdown that already went out."""
    await add_plan(setup)
    api = setup.chat.platform_api()
    upload = api.router.routes["upload_media"]
    answer, calls = upload.side_effect, itertools.count()
    busy = httpx.Response(500, json={"errcode": -1, "errmsg": "系统繁忙"})
    upload.side_effect = lambda request: busy if next(calls) == 0 else answer(request)

    first = by_chat(await run(setup))
    (failed,) = [chat for chat, got in first.items() if len(got) == 1]
    assert first[failed][0].request["msgKey"] == "sampleMarkdown"
    # Past the backoff.
    async with setup.chat.runtime.factory() as s, s.begin():
        await s.execute(
            update(OutboxMessage).where(OutboxMessage.status == "pending").values(next_attempt_at=NOW)
        )
    await setup.chat.runtime.settle()
    again = setup.chat.sent()

    assert [(m.target, m.request["msgKey"]) for m in again] == [(failed, "sampleImageMsg")] * 2
    check_pictures([m.image for m in again])
    for got in by_chat([m for chat in first.values() for m in chat] + again).values():
        assert [m.request["msgKey"] for m in got] == ["sampleMarkdown", "sampleImageMsg", "sampleImageMsg"]


@pytest.mark.parametrize(("case", "platform"), alternating([("undated",), ("broken",)]))
async def test_without_pictures_the_report_still_goes_out(
    setup: Setup, case: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Nothing dated to draw, or drawing that fails: the report goes without pictures (and says
    nothing of them); a failure is logged."""
    if case == "undated":
        await add_many_tasks(setup, 3, due=None)
    else:
        await add_plan(setup)
        monkeypatch.setattr(pictures, "_cache", OrderedDict())  # drawn now, not taken from another test

        def broken(*args: object) -> object:
            raise RuntimeError("the font is gone")

        monkeypatch.setattr(gantt, "png", broken)
        monkeypatch.setattr(burndown, "png", broken)
    sent = await run(setup)

    (stored,) = await snapshots(setup)
    assert sorted(m.target for m in sent) == ["ops", "team"]
    assert all(m.card and not m.card_images for m in sent)
    assert all(m.text == card_text(TITLE, stored.markdown) for m in sent)
    assert setup.chat.platform_api().images == {}
    drawing_failed = [r.getMessage() for r in caplog.records if "could not be drawn" in r.getMessage()]
    assert len(drawing_failed) == (2 if case == "broken" else 0)
