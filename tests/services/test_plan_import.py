"""The Excel round trip on SQLite and PostgreSQL: a template filled in with openpyxl, imported through
the service as the PM, exported (through the JSON API too) and imported again; then edits, kept and
deleted tasks, and the problems that change nothing."""

from __future__ import annotations

import io
import zipfile
from datetime import UTC, date, datetime, timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.domain.plan_sheet import MAX_ROWS, Cell, Plan, read_plan
from bot.errors import UserFacingError
from bot.render.xlsx import (
    MAX_UNPACKED_BYTES,
    MEDIA_TYPE,
    change_lines,
    error_lines,
    read_workbook,
    write_template,
)
from bot.services import plan_import, snapshot
from bot.services.audit import Actor
from scheduler.jobs import JOBS_BY_NAME
from scheduler.runner import JobRunner
from storage.models import AuditEntry, Milestone, Project, Task
from tests.harness import Chat, chat_runtime
from tests.services.test_api import AUTH, api_client
from tests.services.test_plan_commands import (
    PLAN_ZH,
    dependency_codes,
    fingerprint,
    members_by_user,
    said,
    tasks_by_code,
)

NOW = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)  # a Friday, 17:00 in Shanghai: the weekly report is due
TODAY = date(2026, 11, 27)
ALICE = Actor("shell", "alice", "alice")
# The people and departments of the chat-built plan (alice PM; bob, carol, dan head 研发, 市场, 运营).
PEOPLE = [step for step in PLAN_ZH if not step[1].startswith(("/阶段", "/任务", "/责任", "/里程碑"))]
ROWS: list[tuple[Cell, ...]] = [
    ("阶段", "1", "需求与设计", None, None, "2026-12-01", "2026-12-20", None, None),
    ("任务", "1.1", "用户调研", "carol", "市场", "2026-12-01", "12-05", None, "设计评审通过"),
    (
        "任务",
        "1.2",
        "产品设计",
        "erin",
        "研发",
        date(2026, 12, 6),
        datetime(2026, 12, 15),
        1.1,
        "设计评审通过",
    ),
    # After a task further down the sheet: added first, its dependency set once 2.2 exists.
    ("任务", "1.3", "验收准备", "dan", "运营", None, "2027-01-25", "2.2", None),
    # A phase may have an owner and a department (given by an edit, as `/任务 修改 2 @bob` does).
    ("阶段", "2", "开发与上线", "bob", "研发", None, None, None, None),
    ("任务", "2.1", "后端开发", "frank", "研发", None, None, "1.2", None),
    ("子任务", "2.1.1", "接口定义", "frank", "研发", "12-16", "12-20", None, None),
    ("子任务", "2.1.2", "接口实现", "erin", "研发", "12-21", "2027-01-10", "2.1.1", "开发完成"),
    ("任务", "2.2", "上线推广", "gina", "市场", None, "2027-01-20", "2.1", None),
]


def filled(workbook: bytes, rows: list[tuple[Cell, ...]], *, drop: tuple[str, ...] = ()) -> bytes:
    """The workbook with the plan sheet's rows whose code is in `drop` removed and `rows` added."""
    book = load_workbook(io.BytesIO(workbook))
    sheet = book["项目计划"]
    for index in range(sheet.max_row, 1, -1):
        if sheet.cell(index, 2).value in drop:
            sheet.delete_rows(index)
    for row in rows:
        sheet.append(list(row))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def edited(workbook: bytes, changes: dict[tuple[str, int], Cell]) -> bytes:
    """The plan sheet with the cell in (code's row, column) set."""
    book = load_workbook(io.BytesIO(workbook))
    sheet = book["项目计划"]
    rows = {sheet.cell(index, 2).value: index for index in range(2, sheet.max_row + 1)}
    for (code, column), value in changes.items():
        sheet.cell(rows[code], column).value = value
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def sheet_plan(workbook: bytes) -> Plan:
    return read_plan(read_workbook(workbook, max_rows=MAX_ROWS + 1), today=TODAY)


async def importing(chat: Chat, workbook: bytes, **flags: bool) -> plan_import.Preview:
    """Apply as alice in one transaction, committed only when it applied."""
    plan = sheet_plan(workbook)
    async with chat.runtime.factory() as session:
        project = await session.scalar(select(Project))
        assert project is not None
        done = await plan_import.apply(session, project, plan, actor=ALICE, now=NOW, **flags)
        if not done.errors and not (done.unknown_people and not flags.get("allow_unassigned")):
            await session.commit()
        return done


async def current(chat: Chat) -> Plan:
    async with chat.runtime.factory() as session:
        project = await session.scalar(select(Project))
        assert project is not None
        return plan_import.current_plan(await snapshot.load(session, project))


async def test_template_fill_import_export_import_round_trip(engine: AsyncEngine, database_url: str) -> None:
    async with chat_runtime(engine, now=NOW) as chat:
        for user, line, expected in PEOPLE:
            await said(chat, user, line, expected)
        template = write_template("zh", ["研发", "市场", "运营"])
        workbook = filled(template, ROWS)

        first = await importing(chat, workbook)
        assert first.count == 11 and not first.unknown_people
        assert change_lines(first, "zh")[:2] == ["+ 1 需求与设计", "+ 1.1 用户调研"]
        assert change_lines(first, "zh")[-2:] == [
            "+ 🏁 设计评审通过（截止 2026-12-15）：1.1, 1.2",
            "+ 🏁 开发完成（截止 2027-01-10）：2.1.2",
        ]
        tasks = await tasks_by_code(chat)
        people = await members_by_user(chat)
        assert sorted(tasks) == ["1", "1.1", "1.2", "1.3", "2", "2.1", "2.1.1", "2.1.2", "2.2"]
        assert tasks["2.1.1"].parent_id == tasks["2.1"].id and tasks["2"].owner_member_id == people["bob"].id
        assert tasks["1.3"].owner_member_id == people["dan"].id and tasks["2.2"].due_date == date(2027, 1, 20)
        assert await dependency_codes(chat) == {
            ("1.2", "1.1"),
            ("1.3", "2.2"),
            ("2.1", "1.2"),
            ("2.1.2", "2.1.1"),
            ("2.2", "2.1"),
        }
        assert await current(chat) == sheet_plan(workbook)
        async with chat.runtime.factory() as session:
            actors = set(
                await session.scalars(select(AuditEntry.actor_user_id).where(AuditEntry.action == "task.add"))
            )
            milestones = [(m.number, m.title, m.due_date) for m in await session.scalars(select(Milestone))]
        assert actors == {"alice"}
        assert sorted(milestones) == [
            (1, "设计评审通过", date(2026, 12, 15)),
            (2, "开发完成", date(2027, 1, 10)),
        ]
        # The chat sees the imported plan.
        await said(chat, "erin", "/进度 1.2 50", "50%")
        # Typed text that looks like a formula is exported as text, never as a formula Excel would run.
        async with chat.runtime.factory() as session, session.begin():
            await session.execute(update(Task).where(Task.code == "2.1").values(title='=HYPERLINK("x","y")'))
        await JobRunner(chat.runtime.factory, lambda: NOW).run_job(JOBS_BY_NAME["weekly-report"], at=NOW)

    # Exported through the API: the same plan, and importing it again changes nothing.
    async with api_client(database_url) as client:
        response = await client.get("/api/projects/1/export.xlsx", headers=AUTH)
        refused = await client.get("/api/projects/1/export.xlsx")
        missing = await client.get("/api/projects/9/export.xlsx", headers=AUTH)
    assert response.status_code == 200 and response.headers["content-type"] == MEDIA_TYPE
    assert refused.status_code == 401 and missing.status_code == 404
    exported = response.content
    sheets = read_workbook(exported, max_rows=100)
    assert list(sheets) == ["项目章程", "责任矩阵(RACI)", "项目计划", "风险登记册", "行动项", "周进度报告"]
    assert sheets["项目章程"][1] == ("项目名称", "新品发布")
    assert ("1.2", "产品设计", "erin", None, None, None) in sheets["责任矩阵(RACI)"]
    assert sheets["项目计划"][3][:3] == ("任务", "1.2", "产品设计") and sheets["项目计划"][3][9:] == (
        50,
        "进行中",
    )
    assert sheets["周进度报告"][1][:2] == (datetime(2026, 11, 23), datetime(2026, 11, 29))
    formula_like = load_workbook(io.BytesIO(exported))["项目计划"]["C7"]
    assert (formula_like.value, formula_like.data_type) == ('=HYPERLINK("x","y")', "s")

    async with chat_runtime(engine, now=NOW) as chat:
        assert sheet_plan(exported) == await current(chat)
        before = await fingerprint(chat)
        again = await importing(chat, exported)
        assert again.count == 0 and change_lines(again, "zh") == []
        assert await fingerprint(chat) == before

        # Edits: a title, a due date, an owner, a dependency dropped, a row left out (kept), a milestone
        # relinked.
        changed = filled(
            edited(
                exported,
                {
                    ("2.2", 3): "上线推广与运营",
                    ("1.1", 7): "2026-12-04",
                    ("2.1.2", 4): "frank",
                    ("1.2", 8): None,
                },
            ),
            [],
            drop=("1.3",),
        )
        changed = edited(changed, {("1.1", 9): None})
        done = await importing(chat, changed)
        assert change_lines(done, "zh") == [
            "~ 1.1 用户调研：截止 2026-12-05 → 2026-12-04",
            "~ 1.2 产品设计：依赖 1.1 → （空）",
            "~ 2.1.2 接口实现：负责人 erin → frank",
            "~ 2.2 上线推广与运营：标题 上线推广 → 上线推广与运营",
            "? 1.3 验收准备：表中没有，保留（加 --delete-missing 才删除）",
            "~ 🏁 #1 设计评审通过：任务 1.1, 1.2 → 1.2",
        ]
        tasks = await tasks_by_code(chat)
        assert tasks["2.2"].title == "上线推广与运营" and tasks["1.1"].due_date == date(2026, 12, 4)
        assert tasks["2.1.2"].owner_member_id == (await members_by_user(chat))["frank"].id
        assert "1.3" in tasks and ("1.2", "1.1") not in await dependency_codes(chat)

        # A loop only through a kept task (1.3 after 2.2) is refused by the plan services midway:
        # the transaction rolls back whole.
        before = await fingerprint(chat)
        with pytest.raises(UserFacingError) as refusal:
            await importing(chat, edited(changed, {("2", 8): "1"}))
        assert refusal.value.key == "plan.dependency_cycle" and await fingerprint(chat) == before

        deleted = await importing(chat, changed, delete_missing=True)
        assert change_lines(deleted, "zh") == ["- 1.3 验收准备：表中没有，删除"]
        assert "1.3" not in await tasks_by_code(chat)
        assert sheet_plan(changed) == await current(chat)


async def test_problems_in_the_sheet_change_nothing(engine: AsyncEngine) -> None:
    async with chat_runtime(engine, now=NOW) as chat:
        for user, line, expected in PEOPLE:
            await said(chat, user, line, expected)
        template = write_template("zh", [])
        assert not (await importing(chat, filled(template, ROWS[:3]))).errors
        before = await fingerprint(chat)

        strangers = filled(
            template, [*ROWS[:3], ("任务", "1.4", "法务审核", "zoe", "法务", None, "12-10", None, None)]
        )
        refused = await importing(chat, strangers)
        assert error_lines(refused.errors, "zh") == [
            "项目计划 第 6 行：没有部门「法务」（现有部门：研发、市场、运营）"
        ]
        assert refused.unknown_people == ["zoe"]
        no_due = filled(
            template, [*ROWS[:3], ("任务", "1.4", "法务审核", "carol", None, None, None, None, "签约")]
        )
        assert error_lines((await importing(chat, no_due)).errors, "zh") == [
            "项目计划 第 6 行：新里程碑「签约」的任务都没有截止日期，无法定里程碑日期"
        ]
        unknown = filled(
            template, [*ROWS[:3], ("任务", "1.4", "法务审核", "zoe", None, None, "12-10", None, None)]
        )
        assert (await importing(chat, unknown)).unknown_people == ["zoe"]
        assert await fingerprint(chat) == before

        # Accepted by the PM: the task comes without an owner, and an existing one keeps its owner.
        kept = edited(unknown, {("1.1", 4): "zoe"})
        done = await importing(chat, kept, allow_unassigned=True)
        assert change_lines(done, "zh") == ["+ 1.4 法务审核"]
        tasks = await tasks_by_code(chat)
        assert tasks["1.4"].owner_member_id is None
        assert tasks["1.1"].owner_member_id == (await members_by_user(chat))["carol"].id
        assert tasks["1.4"].due_date == TODAY + timedelta(days=13)


def test_a_workbook_that_would_unpack_too_large_is_refused_unread() -> None:
    """A zip bomb: a few hundred KB that would unpack past the bound is no workbook; the same
    template with a small extra part still reads."""
    template = write_template("zh", ["研发"])

    def with_part(size: int) -> bytes:
        out = io.BytesIO(template)
        with zipfile.ZipFile(out, "a", compression=zipfile.ZIP_DEFLATED) as archive:
            archive.writestr("xl/padding.bin", bytes(size))
        return out.getvalue()

    bomb = with_part(MAX_UNPACKED_BYTES)
    assert len(bomb) < 200_000
    with pytest.raises(ValueError, match="not an xlsx workbook"):
        read_workbook(bomb, max_rows=10)
    assert "项目计划" in read_workbook(with_part(1000), max_rows=10)
