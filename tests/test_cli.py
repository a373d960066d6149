"""The `crosstrack` command line, run in-process against a temporary SQLite database."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import respx
import time_machine
from typer.testing import CliRunner, Result

from adapters.feishu.client import message_uuid
from adapters.models import Text
from bot.cli import JOB_NAMES, app
from bot.jobs.context import JobContext, Recipient
from bot.settings import get_settings
from scheduler.jobs import INSTANCE_JOBS_BY_NAME, JOBS_BY_NAME, Job
from storage.models import Base
from tests.samples import load


@pytest.fixture
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """CROSSTRACK_DATABASE_URL pointing at a fresh file, with the cached settings reset around the test."""
    path = tmp_path / "cli.db"
    monkeypatch.setenv("CROSSTRACK_DATABASE_URL", f"sqlite:///{path}")
    get_settings.cache_clear()
    yield path
    get_settings.cache_clear()


def run(*args: str, input: str | None = None) -> Result:
    result = CliRunner().invoke(app, list(args), input=input)
    assert result.exit_code == 0, (result.output, result.exception)
    return result


def test_help_lists_the_commands() -> None:
    output = run("--help").output
    for command in ("serve", "shell", "migrate", "scheduler", "run-job"):
        assert command in output


def test_version() -> None:
    assert run("--version").output.startswith("crosstrack ")


def test_migrate_creates_the_schema(database: Path) -> None:
    assert "database is up to date" in run("migrate").output
    with sqlite3.connect(database) as connection:
        tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert set(Base.metadata.tables) | {"alembic_version"} <= tables
    # Running it again is a no-op.
    run("migrate")


def test_shell_talks_to_the_bot_and_switches_user_and_chat(database: Path) -> None:
    lines = [
        "/项目 新建 Demo",
        "",
        "/项目 信息",
        ":as bob",
        "/项目 负责人 @carol",
        ":as alice",
        "/项目 负责人 @carol",
        ":chat elsewhere",
        "/项目 信息",
        ":nonsense",
        ":quit",
        "/项目 信息",  # never read
    ]
    output = run("shell", input="\n".join(lines) + "\n").output
    assert "项目「Demo」已创建" in output
    assert "【📁 Demo（编号 1）】" in output and "项目经理：@alice" in output
    assert "只有项目经理" in output  # bob is refused
    assert "@carol" in output.split("只有项目经理", 1)[1]  # alice may appoint
    assert "这个群还没有关联项目" in output  # the other chat is not bound
    assert ":as NAME" in output  # an unknown shell command shows the shell's help
    assert output.count("【📁 Demo") == 1  # nothing after :quit
    assert "alice@team>" not in output  # no prompt when stdin is not a terminal


def test_shell_p2p_follows_the_user(database: Path) -> None:
    output = run(
        "shell", "--as", "bob", "--p2p", input="/项目 新建 Solo\n/项目 信息\n:as carol\n/项目 信息\n"
    ).output
    assert "项目「Solo」已创建" in output
    # carol has her own 1:1 chat with the bot and no project.
    assert output.rstrip().splitlines()[-1].startswith("你还不在任何项目里")


def test_shell_ends_at_end_of_input(database: Path) -> None:
    output = run("shell", "--as", "dora", "--chat", "ops", input="/project new Ops\n").output
    assert "Ops" in output
    with sqlite3.connect(database) as connection:
        assert connection.execute("SELECT chat_id FROM chat_bindings").fetchall() == [("ops",)]
        assert connection.execute("SELECT platform_user_id, role FROM members").fetchall() == [("dora", "pm")]


# --- run-job ----------------------------------------------------------------------------------------

FEISHU = "https://feishu.test"


def test_run_job_help_names_every_job() -> None:
    assert JOB_NAMES.split(", ") == [*JOBS_BY_NAME, *INSTANCE_JOBS_BY_NAME]
    assert "standup-prompt" in run("run-job", "--help").output


def test_run_job_refuses_an_unknown_job(database: Path) -> None:
    result = CliRunner().invoke(app, ["run-job", "standup"])
    assert result.exit_code == 2
    assert "unknown job 'standup'" in result.output


@pytest.fixture
def greeter(database: Path, monkeypatch: pytest.MonkeyPatch) -> list[tuple[datetime, date, list[str]]]:
    """A project made in the shell (timezone Asia/Shanghai), a Feishu app, and in place of the real
    standup-prompt a job that greets one chat; returns when it ran, for which business day, and the
    shared-table writers it was given."""
    run("shell", input="/project new Demo\n")
    seen: list[tuple[datetime, date, list[str]]] = []

    async def greet(ctx: JobContext) -> None:
        seen.append((ctx.now, ctx.business_date, sorted(ctx.tables)))
        await ctx.send(Recipient("feishu", "oc_team"), Text(f"早上好 {ctx.business_date}"))

    monkeypatch.setitem(JOBS_BY_NAME, "standup-prompt", Job("standup-prompt", greet, lambda *_: None))
    for name, value in {
        "APP_ID": "cli_test",
        "APP_SECRET": "app-secret-123",
        "VERIFICATION_TOKEN": "vt-test-123",
        "ENCRYPT_KEY": "ek-test-123",
        "DOMAIN": FEISHU,
    }.items():
        monkeypatch.setenv(f"CROSSTRACK_FEISHU_{name}", value)
    monkeypatch.setenv("CROSSTRACK_TIMEZONE", "UTC")  # the server's; the project keeps Asia/Shanghai
    get_settings.cache_clear()
    return seen


@pytest.fixture
def feishu() -> Iterator[respx.MockRouter]:
    with respx.mock(base_url=FEISHU, assert_all_called=False) as api:
        api.post("/open-apis/auth/v3/tenant_access_token/internal").respond(
            json=load("feishu", "tenant_access_token_internal_response")
        )
        api.post("/open-apis/im/v1/messages", name="send").respond(
            json={"code": 0, "msg": "success", "data": {"message_id": "om_1"}}
        )
        yield api


def test_run_job_runs_as_if_at_the_time_delivers_and_never_sends_twice(
    greeter: list[tuple[datetime, date, list[str]]], feishu: respx.MockRouter
) -> None:
    # No offset: the server's timezone (UTC here). 20:00 UTC is already the 26th in Shanghai.
    output = run("run-job", "standup-prompt", "--at", "2026-11-25T20:00").output
    assert output == "standup-prompt project 1 (2026-11-26): done; messages: 1 sent\n"
    assert greeter == [(datetime(2026, 11, 25, 20, 0, tzinfo=UTC), date(2026, 11, 26), ["feishu"])]
    body = json.loads(feishu["send"].calls.last.request.content)
    assert body["receive_id"] == "oc_team" and "早上好 2026-11-26" in body["content"]
    assert body["uuid"] == message_uuid("standup-prompt:1:chat:oc_team:2026-11-26")

    # The same business day again, given with an offset: it runs, but sends nothing new.
    output = run("run-job", "standup-prompt", "--project", "1", "--at", "2026-11-26T09:00+08:00").output
    assert output == "standup-prompt project 1 (2026-11-26): done, nothing new to send\n"
    assert feishu["send"].call_count == 1
    assert greeter[1][:2] == (datetime(2026, 11, 26, 1, 0, tzinfo=UTC), date(2026, 11, 26))


def test_run_job_reports_a_failed_job_and_an_unknown_project(
    greeter: list[tuple[datetime, date, list[str]]], monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(ctx: JobContext) -> None:
        raise RuntimeError("boom")

    monkeypatch.setitem(JOBS_BY_NAME, "risk-scan", Job("risk-scan", broken, lambda *_: None))
    result = CliRunner().invoke(app, ["run-job", "risk-scan", "--at", "2026-11-25T03:00+08:00"])
    assert result.exit_code == 1
    assert result.output.startswith("risk-scan project 1 (2026-11-25): failed")

    result = CliRunner().invoke(app, ["run-job", "risk-scan", "--project", "7"])
    assert (result.exit_code, result.output) == (1, "no project 7\n")

    result = CliRunner().invoke(app, ["run-job", "risk-scan", "--at", "yesterday"])
    assert result.exit_code == 2 and "not an ISO date-time" in result.output


@time_machine.travel(datetime(2026, 11, 25, 9, 40, tzinfo=ZoneInfo("Asia/Shanghai")), tick=False)
def test_shell_runs_a_job_and_shows_who_got_what(database: Path) -> None:
    lines = [
        "/项目 新建 Demo",
        "/阶段 添加 1 开发",
        "/任务 添加 1.1 接口 @carol 截止=明天",
        ":run standup-prompt",
    ]
    output = run("shell", input="\n".join([*lines, ":run standup-prompt", ":run nope"]) + "\n").output
    assert "[standup-prompt project 1: done]" in output
    assert output.count("→ @carol (private)") == 1  # the second run sends nothing new
    assert "1.1 接口 · 0% · 截止 11-26" in output
    assert "no job 'nope'" in output


def test_run_job_prune_deletes_what_is_past_the_retention(database: Path) -> None:
    run("migrate")
    with sqlite3.connect(database) as connection:
        for event_id, received in (
            ("old", "2020-01-01 00:00:00.000000"),
            ("new", "2999-01-01 00:00:00.000000"),
        ):
            connection.execute(
                "INSERT INTO inbound_events (platform, event_id, payload, status, attempts, received_at) "
                "VALUES ('shell', ?, '{}', 'done', 1, ?)",
                (event_id, received),
            )
    output = run("run-job", "prune").output
    assert output.startswith("prune: 1 inbound_events, 0 outbox, 0 job_runs")
    with sqlite3.connect(database) as connection:
        assert [row[0] for row in connection.execute("SELECT event_id FROM inbound_events")] == ["new"]


# --- a database that cannot be opened ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("sqlite:////nonexistent/dir/x.db", "sqlite:////nonexistent/dir/x.db"),
        # Nothing listens on port 1: an unreachable PostgreSQL, its password masked.
        ("postgresql://bob:s3cret@127.0.0.1:1/db", "postgresql://bob:***@127.0.0.1:1/db"),
    ],
)
@pytest.mark.parametrize(
    "command", [["serve"], ["migrate"], ["shell"], ["run-job", "risk-scan"], ["scheduler"]]
)
def test_a_database_that_cannot_be_opened_is_one_line_and_exit_2(
    url: str, shown: str, command: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CROSSTRACK_DATABASE_URL", url)
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(app, command, input="")
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 2, (result.output, result.exception)
    assert isinstance(result.exception, SystemExit)  # no traceback
    (line,) = result.output.splitlines()
    assert line.startswith(f"cannot open the database {shown}: ")
    assert "s3cret" not in result.output


# --- run-job and :run for projects made in the shell ------------------------------------------------


@time_machine.travel(datetime(2026, 11, 25, 9, 40, tzinfo=ZoneInfo("Asia/Shanghai")), tick=False)
def test_run_job_prints_shell_messages_instead_of_failing_them(database: Path) -> None:
    run("shell", input="/项目 新建 Demo\n/阶段 添加 1 开发\n/任务 添加 1.1 接口 @carol 截止=明天\n")
    output = run("run-job", "standup-prompt", "--at", "2026-11-25T09:40+08:00").output
    assert output.startswith("standup-prompt project 1 (2026-11-25): done; messages: 1 sent\n")
    assert "→ @carol (private)\n" in output and "1.1 接口 · 0% · 截止 11-26" in output
    with sqlite3.connect(database) as connection:
        prompts = "SELECT status FROM outbox WHERE idempotency_key LIKE 'standup-prompt:%'"
        assert connection.execute(prompts).fetchall() == [("sent",)]


@time_machine.travel(datetime(2026, 11, 28, 9, 40, tzinfo=ZoneInfo("Asia/Shanghai")), tick=False)
def test_a_job_on_a_day_off_says_so(database: Path) -> None:
    run("shell", input="/项目 新建 Demo\n/阶段 添加 1 开发\n/任务 添加 1.1 接口 @carol 截止=12-10\n")
    # 2026-11-28 is a Saturday.
    output = run("run-job", "standup-prompt").output
    assert output == "standup-prompt project 1 (2026-11-28): 2026-11-28 is not a workday, nothing is due\n"

    lines = [
        ":run standup-prompt",
        ":run standup-prompt --at 2026-11-27T09:40",
        ":run standup-prompt --at soon",
    ]
    output = run("shell", input="\n".join(lines) + "\n").output
    assert "[standup-prompt project 1: 2026-11-28 is not a workday, nothing is due]" in output
    # No offset: CROSSTRACK_TIMEZONE (Asia/Shanghai by default); a Friday, so carol is asked.
    assert "[standup-prompt project 1: done]" in output and output.count("→ @carol (private)") == 1
    assert "'soon' is not an ISO date-time" in output


# --- Excel: template, import, export ---------------------------------------------------------------

PLAN_ROWS = [
    ("", "1", "设计", None, None, "12-01", "12-20", None, None),
    ("", "1.1", "调研", "erin", "研发", "12-01", "12-05", None, "评审"),
    ("", "1.2", "原型", "bob", None, "12-06", "12-15", "1.1", None),
]


def plan_workbook(
    source: Path, target: Path, rows: list[tuple[object, ...]], *, rename: str | None = None
) -> Path:
    """`source` with `rows` appended to its plan sheet (renamed to `rename` when given), saved as `target`."""
    from openpyxl import load_workbook

    book = load_workbook(source)
    sheet = book["项目计划"]
    for row in rows:
        sheet.append(list(row))
    if rename is not None:
        sheet.title = rename
    book.save(target)
    return target


def plan_rows(database: Path) -> list[tuple[object, ...]]:
    """Everything an import may write, to prove a refused one wrote nothing."""
    tables = ("tasks", "task_dependencies", "raci_assignments", "milestones", "milestone_tasks", "audit_log")
    with sqlite3.connect(database) as connection:
        return [row for table in tables for row in connection.execute(f"SELECT * FROM {table} ORDER BY 1")]


@time_machine.travel(datetime(2026, 11, 25, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai")), tick=False)
def test_template_import_export_from_the_command_line(database: Path, tmp_path: Path) -> None:
    from openpyxl import load_workbook

    run("shell", input="/项目 新建 Demo\n/部门 添加 研发 @bob\n/成员 添加 @erin 研发\n/项目 负责人 @carol\n")
    template = tmp_path / "plan.xlsx"
    assert run("template", str(template), "--project", "1").output == f"已写出模板：{template}\n"
    book = load_workbook(template)
    assert book.sheetnames == ["项目章程", "责任矩阵(RACI)", "项目计划", "风险登记册", "周进度报告"]
    plan = book["项目计划"]
    assert plan.freeze_panes == "A2" and plan.column_dimensions["C"].width == 30
    assert [v.formula1 for v in plan.data_validations.dataValidation] == ['"研发"']
    assert [v.formula1 for v in book["风险登记册"].data_validations.dataValidation] == ['"高,中,低"']
    assert plan["A2"].value == "示例"  # the example row, skipped on import
    english = tmp_path / "en.xlsx"
    run("template", str(english), "--locale", "en")
    assert load_workbook(english).sheetnames == [
        "Charter",
        "RACI",
        "Plan",
        "Risk register",
        "Weekly progress",
    ]

    filled = plan_workbook(template, tmp_path / "filled.xlsx", PLAN_ROWS)
    # Two PMs (alice, carol): say whose import it is; bob is no PM.
    result = CliRunner().invoke(app, ["import", str(filled), "--project", "1"])
    assert result.exit_code == 1 and "有多位项目经理" in result.output
    result = CliRunner().invoke(app, ["import", str(filled), "--project", "1", "--as", "bob"])
    assert result.exit_code == 1 and "bob 不是项目 1 的项目经理" in result.output
    # Shown, then declined: nothing changes.
    before = plan_rows(database)
    result = run("import", str(filled), "--project", "1", "--as", "alice", input="n\n")
    assert (
        "将要修改 4 项：\n+ 1 设计\n+ 1.1 调研\n+ 1.2 原型\n+ 🏁 评审（截止 2026-12-05）：1.1\n"
        in result.output
    )
    assert result.output.endswith("已取消，什么都没改。\n") and plan_rows(database) == before
    result = run("import", str(filled), "--project", "1", "--as", "alice", input="y\n")
    assert result.output.endswith("✅ 已导入到项目 1：4 项修改（可在审计日志中查看）。\n")
    with sqlite3.connect(database) as connection:
        assert connection.execute("SELECT code, title FROM tasks ORDER BY code").fetchall() == [
            ("1", "设计"),
            ("1.1", "调研"),
            ("1.2", "原型"),
        ]
        actors = {
            row[0]
            for row in connection.execute("SELECT actor_user_id FROM audit_log WHERE action LIKE 'task%'")
        }
    assert actors == {"alice"}

    exported = tmp_path / "export.xlsx"
    assert run("export", str(exported), "--project", "1").output == f"已导出项目 1：{exported}\n"
    before = plan_rows(database)
    assert run("import", str(exported), "--project", "1", "--as", "carol").output == "没有要新增或修改的。\n"
    # A row left out is listed and kept.
    book = load_workbook(exported)
    book["项目计划"].delete_rows(4)  # 1.2
    book.save(shorter := tmp_path / "shorter.xlsx")
    assert run("import", str(shorter), "--project", "1", "--as", "carol").output == (
        "? 1.2 原型：表中没有，保留（加 --delete-missing 才删除）\n没有要新增或修改的。\n"
    )
    assert plan_rows(database) == before


@time_machine.travel(datetime(2026, 11, 25, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai")), tick=False)
def test_a_malformed_workbook_is_refused_row_by_row_and_changes_nothing(
    database: Path, tmp_path: Path
) -> None:
    run("shell", input="/项目 新建 Demo\n/部门 添加 研发 @bob\n/成员 添加 @erin 研发\n")
    template = tmp_path / "plan.xlsx"
    run("template", str(template))
    run("import", str(plan_workbook(template, tmp_path / "ok.xlsx", PLAN_ROWS)), "--project", "1", "--yes")
    before = plan_rows(database)

    def refused(path: Path, *flags: str) -> str:
        result = CliRunner().invoke(app, ["import", str(path), "--project", "1", "--yes", *flags])
        assert result.exit_code == 1, result.output
        assert plan_rows(database) == before
        return result.output

    wrong_sheet = plan_workbook(template, tmp_path / "a.xlsx", PLAN_ROWS, rename="计划表")
    assert refused(wrong_sheet).splitlines()[1:] == [
        "计划表：未知的工作表「计划表」（认识的工作表：项目章程、责任矩阵(RACI)、项目计划、风险登记册、行动项、周进度报告）",
        "项目计划：缺少工作表「项目计划」",
    ]
    from openpyxl import load_workbook

    book = load_workbook(template)
    book["项目计划"].delete_cols(7)  # 截止
    book.save(no_due := tmp_path / "b.xlsx")
    assert "项目计划 第 1 行：缺少列「截止」" in refused(no_due)

    bad = [
        *PLAN_ROWS[:2],
        ("", "1.2", "原型", "bob", None, "12-06", "下下周", "1.3", None),
        ("", "1.3", "评审", "bob", None, None, None, "1.2", None),
    ]
    output = refused(plan_workbook(template, tmp_path / "c.xlsx", bad))
    assert output.splitlines() == [
        "工作簿有 1 个问题，什么都没改：",
        "项目计划 第 5 行：截止「下下周」日期无法识别，可以写 2026-12-01 或 12-01",
    ]
    looped = [*PLAN_ROWS[:2], ("", "1.2", "原型", "bob", None, None, None, "1.3", None), bad[3]]
    assert refused(plan_workbook(template, tmp_path / "d.xlsx", looped)).splitlines()[1] == (
        "项目计划 第 5 行：依赖成环：1.2 → 1.3 → 1.2"
    )
    missing_dep = [*PLAN_ROWS[:2], ("", "1.2", "原型", "bob", None, None, None, "2.9", None)]
    assert "项目计划 第 5 行：依赖 2.9 不存在" in refused(
        plan_workbook(template, tmp_path / "e.xlsx", missing_dep)
    )
    stranger = [*PLAN_ROWS[:2], ("", "1.2", "原型", "zoe", None, None, None, None, None)]
    assert refused(plan_workbook(template, tmp_path / "f.xlsx", stranger)).startswith("不认识的人：zoe。")
    text = tmp_path / "plan.csv"
    text.write_text("编号,标题\n1,设计\n")
    assert refused(text) == f"{text} 不是 Excel 工作簿（.xlsx）\n"
    import zipfile

    broken = tmp_path / "broken.xlsx"  # a zip, but not a workbook inside
    with zipfile.ZipFile(broken, "w") as archive:
        archive.writestr("xl/workbook.xml", "<not-xml")
    assert refused(broken) == f"{broken} 不是 Excel 工作簿（.xlsx）\n"
    result = CliRunner().invoke(app, ["import", str(wrong_sheet), "--project", "7", "--yes"])
    assert (result.exit_code, result.output) == (1, "导入被拒绝：没有编号为 7 的项目。\n")


@time_machine.travel(datetime(2026, 11, 25, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai")), tick=False)
def test_an_english_project_gets_an_english_workbook(
    database: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from openpyxl import load_workbook

    monkeypatch.setenv("CROSSTRACK_LOCALE", "en")
    get_settings.cache_clear()
    run("shell", input="/project new Ops\n")
    template = tmp_path / "plan.xlsx"
    assert run("template", str(template), "--project", "1").output == f"Template written: {template}\n"
    book = load_workbook(template)
    assert book.sheetnames == ["Charter", "RACI", "Plan", "Risk register", "Weekly progress"]
    plan = book["Plan"]
    assert [cell.value for cell in plan[1]] == [
        "Level",
        "Code",
        "Title",
        "Owner",
        "Department",
        "Start",
        "Due",
        "Depends on",
        "Milestones",
    ]
    assert plan["A2"].value == "Example"
    plan.append(["", "1", "Build", None, None, None, "12-20", None, None])
    plan.append(["", "1.1", "API", "alice", None, None, "12-24", None, None])
    book.save(template)
    output = CliRunner().invoke(app, ["import", str(template), "--project", "1", "--yes"]).output
    assert output.splitlines() == [
        "2 changes to make:",
        "+ 1 Build",
        "+ 1.1 API",
        "✅ Imported into project 1: 2 changes (see the audit log).",
    ]
