"""The Excel plan in chat, through really signed webhooks and the fake platform APIs on Feishu and
DingTalk, SQLite and PostgreSQL: a PM sends a workbook (a file message, downloaded from the
platform), sees the preview and confirms `/import`; problems come back per sheet and row and change
nothing; only a PM's file is downloaded at all, and only up to the size cap; `/export` is an uploaded
file and a file message naming it, whose bytes import back as "nothing to change".

The harness clock is 2026-11-25 10:00 in Shanghai."""

from __future__ import annotations

import io
from datetime import UTC, datetime

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.codec import event_from_json, event_to_json, reply_from_json, reply_to_json
from adapters.dingtalk.robot_webhook import body_of as robot_body
from adapters.models import ChatRef, File, FileRef, InboundMessage, OutboundMessage, UserRef
from bot.domain.plan_sheet import Cell
from bot.render.xlsx import write_template
from storage.models import Member, PendingImport, Task
from tests.harness import FILE_TEXT, Chat, alternating, chat_runtime
from tests.services.test_plan_import import edited, filled

SETUP = ("/项目 新建 新品发布", "/部门 添加 研发 @bob", "/阶段 添加 1 开发 开始=12-01 结束=12-31")
ROWS: list[tuple[Cell, ...]] = [
    ("阶段", "1", "开发", None, None, "2026-12-01", "2026-12-31", None, None),
    ("任务", "1.1", "接口", "bob", "研发", "2026-12-01", "2026-12-10", None, None),
    ("任务", "1.2", "联调", "张三", None, "2026-12-11", "2026-12-20", "1.1", "提测"),
]


async def set_up(chat: Chat) -> None:
    for line in SETUP:
        assert await chat.say("alice", line)


async def tasks(chat: Chat) -> dict[str, tuple[str, str | None, str | None]]:
    """code -> (title, owner's user id, due date)."""
    async with chat.runtime.factory() as session:
        people = {m.id: m.platform_user_id for m in await session.scalars(select(Member))}
        return {
            task.code: (task.title, people.get(task.owner_member_id or 0), str(task.due_date))
            for task in await session.scalars(select(Task).order_by(Task.id))
        }


async def pending_count(chat: Chat) -> int:
    async with chat.runtime.factory() as session:
        return int(await session.scalar(select(func.count()).select_from(PendingImport)) or 0)


async def exported(chat: Chat, user: str = "alice") -> tuple[str, bytes]:
    await chat.post(user, "/导出")
    await chat.runtime.settle()
    [sent] = chat.sent()
    assert sent.text == FILE_TEXT and sent.file is not None
    return sent.file


async def test_a_pm_imports_a_workbook_maps_a_name_confirms_and_re_imports(
    engine: AsyncEngine, platform: str
) -> None:
    async with chat_runtime(engine, platform=platform) as chat:
        await set_up(chat)
        name, data = await exported(chat)
        assert name == "新品发布-2026-11-25.xlsx"
        sheet = load_workbook(io.BytesIO(data))["项目计划"]
        assert [row[1:3] for row in sheet.iter_rows(min_row=2, values_only=True)] == [("1", "开发")]
        # Round trip: the exported workbook changes nothing, and nothing is kept for /import.
        [same] = await chat.send_file("alice", name, data)
        assert "与项目计划一致" in same and await pending_count(chat) == 0

        before = await tasks(chat)
        [preview] = await chat.send_file("alice", "计划.xlsx", filled(write_template("zh", ["研发"]), ROWS))
        assert preview.splitlines() == [
            "📥 计划.xlsx：导入将修改 3 项（现在还没改）：",
            "+ 1.1 接口",
            "+ 1.2 联调",
            "+ 🏁 提测（截止 2026-12-20）：1.2",
            "不认识的负责人：张三。"
            "用 /导入 映射 张三=@李四 对应到成员，或 /导入 无负责人 让这些任务先不指派。",
            "回复 /导入 应用（30 分钟内有效；/导入 取消 放弃）。",
        ]
        assert await tasks(chat) == before and len(chat.downloads()) == 2
        [refused] = await chat.say("alice", "/导入")
        assert "还有不认识的负责人：张三" in refused and await tasks(chat) == before

        # Forgiving in form: spaces and a full-width ＝ around the names.
        mapped, again = await chat.say("alice", "/导入 映射 张三 ＝ @bob")
        assert mapped == "已把表中的「张三」对应到 @bob。"
        assert "不认识" not in again and "+ 1.2 联调" in again
        [applied] = await chat.say("alice", "/导入")
        assert applied.startswith("✅ 已导入 计划.xlsx：3 项修改")
        assert await tasks(chat) == {
            "1": ("开发", None, "2026-12-31"),
            "1.1": ("接口", "bob", "2026-12-10"),
            "1.2": ("联调", "bob", "2026-12-20"),
        }
        assert await pending_count(chat) == 0

        # A re-import by WBS code shows exactly the one change, and needs the PM's /import.
        name, data = await exported(chat)
        [one] = await chat.send_file("alice", name, edited(data, {("1.1", 7): "2026-12-12"}))
        assert one.splitlines()[:2] == [
            f"📥 {name}：导入将修改 1 项（现在还没改）：",
            "~ 1.1 接口：截止 2026-12-10 → 2026-12-12",
        ]
        assert (await tasks(chat))["1.1"][2] == "2026-12-10"
        # The plan moves on before the PM confirms: /import shows what it would do now, and waits.
        assert await chat.say("alice", "/任务 修改 1.2 截止=12-22")
        [moved] = await chat.say("alice", "/导入")
        assert moved.splitlines()[:3] == [
            f"📥 {name}：预览之后项目计划有了变动，现在导入将修改 2 项（还没改）：",
            "~ 1.1 接口：截止 2026-12-10 → 2026-12-12",
            "~ 1.2 联调：截止 2026-12-22 → 2026-12-20",
        ]
        assert [due for _, _, due in (await tasks(chat)).values()] == [
            "2026-12-31",
            "2026-12-10",
            "2026-12-22",
        ]
        await chat.say("alice", "/导入")
        assert [due for _, _, due in (await tasks(chat)).values()] == [
            "2026-12-31",
            "2026-12-12",
            "2026-12-20",
        ]
        # The import was one change: /undo takes it back whole.
        assert "撤销" in (await chat.say("alice", "/撤销"))[0]
        assert [due for _, _, due in (await tasks(chat)).values()] == [
            "2026-12-31",
            "2026-12-10",
            "2026-12-22",
        ]

        # A pending import can be dropped.
        await chat.send_file("alice", name, edited(data, {("1.1", 7): "2026-12-12"}))
        assert await chat.say("alice", "/导入 取消") == [f"已放弃导入 {name}，什么都没改。"]
        assert "没有待导入的计划表" in (await chat.say("alice", "/导入"))[0]
        assert (await tasks(chat))["1.1"][2] == "2026-12-10"


MALFORMED: list[tuple[str, dict[tuple[str, int], Cell] | None, str]] = [
    ("bad date", {("1.1", 7): "2026-02-30"}, "项目计划 第 4 行：截止「2026-02-30」日期无法识别"),
    ("missing dependency", {("1.1", 8): "2.9"}, "项目计划 第 4 行：依赖 2.9 不存在"),
    ("dependency loop", {("1.1", 8): "1.2"}, "依赖成环"),
    ("missing column", None, "项目计划 第 1 行：缺少列「截止」"),
    ("wrong sheet", None, "未知的工作表「Sheet1」"),
]


def malformed(case: str, changes: dict[tuple[str, int], Cell] | None) -> bytes:
    good = filled(write_template("zh", ["研发"]), ROWS[:3])
    if changes is not None:
        return edited(good, changes)
    book = load_workbook(io.BytesIO(good))
    if case == "missing column":
        book["项目计划"].delete_cols(7)
    else:
        book.create_sheet("Sheet1")
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


@pytest.mark.parametrize(("case", "changes", "problem", "platform"), alternating(MALFORMED))
async def test_a_malformed_workbook_is_answered_row_by_row_and_changes_nothing(
    engine: AsyncEngine, case: str, changes: dict[tuple[str, int], Cell] | None, problem: str, platform: str
) -> None:
    async with chat_runtime(engine, platform=platform) as chat:
        await set_up(chat)
        before = await tasks(chat)
        [reply] = await chat.send_file("alice", "计划.xlsx", malformed(case, changes))
        assert reply.startswith("计划.xlsx 有") and "什么都没存" in reply, reply
        assert problem in reply, reply
        assert await tasks(chat) == before and await pending_count(chat) == 0
        assert "没有待导入的计划表" in (await chat.say("alice", "/导入"))[0]


async def test_only_a_pms_workbook_is_downloaded_and_only_up_to_the_cap(
    engine: AsyncEngine, platform: str
) -> None:
    async with chat_runtime(engine, platform=platform) as chat:
        await set_up(chat)
        workbook = filled(write_template("zh", ["研发"]), ROWS[:2])
        [refused] = await chat.send_file("bob", "计划.xlsx", workbook)  # a member, not the PM
        assert "项目经理" in refused
        [stranger] = await chat.send_file("zoe", "计划.xlsx", workbook)
        assert "项目经理" in stranger
        assert chat.downloads() == [] and await pending_count(chat) == 0
        # Not a workbook by name: refused before any download in a 1:1 chat; ignored in a group.
        assert await chat.send_file("alice", "notes.pdf", b"%PDF-1.4") == []
        [p2p] = await chat.send_file("alice", "notes.pdf", b"%PDF-1.4", chat="p2p-alice", chat_type="p2p")
        assert "只能导入 Excel 工作簿（.xlsx）" in p2p and chat.downloads() == []
        # A workbook by name that is no zip, and one over the cap: downloaded, refused, nothing kept.
        [fake] = await chat.send_file("alice", "计划.xlsx", b"not a zip at all")
        assert "不是有效的 .xlsx 工作簿" in fake
        [big] = await chat.send_file("alice", "大.xlsx", b"PK\x03\x04" + b"\0" * (5 * 1024 * 1024))
        assert "大.xlsx 太大：最多 5 MB" in big
        assert len(chat.downloads()) == 2 and await pending_count(chat) == 0
        assert list(await tasks(chat)) == ["1"]
        # In the PM's 1:1 chat, about the project it is about; confirmed there as well.
        [preview] = await chat.send_file("alice", "计划.xlsx", workbook, chat="p2p-alice", chat_type="p2p")
        assert "新品发布" in preview.splitlines()[0] and "导入将修改 1 项" in preview
        [applied] = await chat.say("alice", "/导入", chat="p2p-alice", chat_type="p2p")
        assert "✅ 已导入 计划.xlsx：1 项修改" in applied and list(await tasks(chat)) == ["1", "1.1"]


def test_a_file_and_a_file_message_survive_the_codec() -> None:
    file = File(b"PK\x03\x04data", "计划.xlsx", "计划表")
    assert reply_from_json(reply_to_json(file)) == file
    message = InboundMessage(
        "feishu",
        "e1",
        "om_1",
        ChatRef("feishu", "oc_1"),
        UserRef("feishu", "ou_1"),
        "",
        datetime(2026, 11, 25, tzinfo=UTC),
        message_type="file",
        file=FileRef("file_v2_1", "计划.xlsx"),
    )
    assert event_from_json(event_to_json(message)) == message
    # A custom group robot cannot carry a file: it says so in words.
    body = robot_body(OutboundMessage("dingtalk", "robot", file, "k1"))
    assert body["msgtype"] == "text" and body["text"]["content"] == "📎 计划表"
