"""A button's command filled from the card's inputs: what is missing is said, not sent."""

from __future__ import annotations

from adapters.models import ActionGroup, Button, Field
from bot.card_clicks import fill
from bot.domain.standup import parse_standup
from bot.render.actions import standup_group
from storage.models import Task

DUE = Button("📅 改期", "/任务 修改 2.1 截止={due}")
BLOCKED = Button("⛔ 卡住了", "/卡点 2.1 {reason}")
LATE = ActionGroup(
    "2.1",
    (Button("✅ 完成", "/完成 2.1"), DUE, BLOCKED),
    (Field("due", "新的截止日期", "date"), Field("reason", "卡在哪里？")),
)


def test_required_inputs_fill_their_placeholders() -> None:
    assert fill(DUE, LATE, {"due": "2026-12-09", "reason": "ignored"}) == (
        "/任务 修改 2.1 截止=2026-12-09",
        [],
    )
    assert fill(LATE.buttons[0], LATE, {}) == ("/完成 2.1", [])


def test_an_empty_required_input_is_missing_and_nothing_is_cleared_by_accident() -> None:
    assert fill(DUE, LATE, {"due": "  "}) == ("/任务 修改 2.1 截止=", ["新的截止日期"])


def test_values_are_inserted_as_given_never_read_as_placeholders() -> None:
    command, missing = fill(BLOCKED, LATE, {"reason": "等 {due}\n联调 环境"})
    assert (command, missing) == ("/卡点 2.1 等 {due} 联调 环境", [])


def test_the_standup_form_builds_one_reply_the_standup_parser_understands() -> None:
    tasks = [Task(code="2.1", title="后端接口", progress=20), Task(code="2.3", title="联调", progress=0)]
    group = standup_group("zh", tasks)
    submit, on_track = group.buttons
    command, missing = fill(submit, group, {"t0": "80%", "t1": "50%", "blockers": "等测试环境"})
    assert (command, missing) == ("/站会 2.1 80%；2.3 50%；卡点：等测试环境；", [])
    parsed = parse_standup(command.removeprefix("/站会 "), ["2.1", "2.3"])
    assert parsed.progress == (("2.1", 80), ("2.3", 50)) and parsed.blockers == "等测试环境"
    assert fill(submit, group, {"t1": "100%"}) == ("/站会 2.3 100%；", [])
    # Nothing chosen at all: not sent (the labels say what to fill in).
    assert fill(submit, group, {})[1] == ["2.1 后端接口", "2.3 联调", "卡点（没有可不填）"]
    assert parse_standup(on_track.command.removeprefix("/站会 "), []).no_blocker


def test_the_english_standup_form() -> None:
    group = standup_group("en", [Task(code="1.1", title="API", progress=0)])
    command, _ = fill(group.buttons[0], group, {"t0": "30%", "blockers": "waiting for ops"})
    assert command == "/standup 1.1 30%; Blockers: waiting for ops;"
    parsed = parse_standup(command.removeprefix("/standup "), ["1.1"])
    assert parsed.progress == (("1.1", 30),) and parsed.blockers == "waiting for ops"
