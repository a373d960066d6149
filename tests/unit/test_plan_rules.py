"""Pure parts of the plan feature: its catalog, its command table and the small rules in the service."""

from __future__ import annotations

from datetime import date
from typing import get_args

import pytest

from bot.commands import charter
from bot.commands import plan as plan_commands
from bot.commands.all import build_registry
from bot.domain import wbs
from bot.errors import UserFacingError
from bot.render.catalog import plan as plan_catalog
from bot.render.i18n import CATALOG, placeholders
from bot.services import plan
from storage.models import Task


def test_plan_catalog_has_same_keys_and_placeholders_in_both_languages() -> None:
    zh, en = plan_catalog.STRINGS["zh"], plan_catalog.STRINGS["en"]
    assert zh.keys() == en.keys()
    assert {key for key in zh if placeholders(zh[key]) != placeholders(en[key])} == set()


def test_every_key_the_commands_build_exists() -> None:
    keys = set(CATALOG["zh"]) & set(CATALOG["en"])
    for router in (charter.router, plan_commands.router):
        assert router.title in keys
        for spec in router.commands:
            assert {spec.usage_key, spec.summary_key, spec.who} <= keys, spec.name
    built = {f"plan.member_{outcome}" for outcome in get_args(plan.MemberOutcome)}
    built |= {f"plan.label.{name}" for name in get_args(plan.ChangeField)}
    built |= {f"plan.raci_role.{role}" for role in plan.RACI_ROLES}
    built |= {f"charter.{kind}.{field}" for kind in ("label", "word") for field in plan.CHARTER_FIELDS}
    assert built <= keys


def test_charter_words_cover_every_field() -> None:
    assert set(charter.FIELD_WORDS.values()) == set(plan.CHARTER_FIELDS)
    # The word each language shows in its hints is one the command accepts.
    for locale in ("zh", "en"):
        for field in plan.CHARTER_FIELDS:
            assert charter.FIELD_WORDS[CATALOG[locale][f"charter.word.{field}"]] == field


def test_commands_register_without_clashes_and_with_both_languages() -> None:
    registry = build_registry()
    for line, name in [
        ("/章程 目标 x", "charter"),
        ("部门添加 研发", "dept add"),
        ("/部门 负责人 研发 <at:b>", "dept head"),
        ("/部门列表", "depts"),
        ("/成员 添加 <at:b>", "member add"),
        ("/成员列表", "members"),
        ("/阶段 添加 1 x", "phase add"),
        ("/任务 添加 1.1 x", "task add"),
        ("/任务 修改 1.1 截止=明天", "task edit"),
        ("/任务 删除 1.1", "task delete"),
        ("/任务列表", "tasks"),
        ("/责任 1.1", "raci"),
        ("/里程碑 添加 x 截止=明天", "milestone add"),
        ("/里程碑 完成 1", "milestone done"),
        ("/里程碑列表", "milestones"),
        ("/部门 删除 x", "dept delete"),
        ("/部门 改名 x y", "dept rename"),
        ("/部门 合并 x", "dept"),
        ("/成员 移除 <at:b>", "member remove"),
        ("/成员 调动 <at:b> 市场", "member move"),
        ("/阶段 修改 1 结束=明天", "phase edit"),
        ("/阶段 删除 1 确认", "phase delete"),
        ("/项目 负责人 移除 <at:b>", "project pm remove"),
        ("/项目 负责人 <at:b>", "project pm"),
        ("/task rename 1.1", "task"),
    ]:
        match = registry.match(line)
        assert match is not None and match.spec.name == name, line


@pytest.mark.parametrize(
    ("code", "other", "family"),
    [
        ("1", "1.2", True),
        ("1.2.3", "1", True),
        ("1.2", "1.2.3", True),
        ("1.2", "1.3", False),
        ("1", "10.1", False),
    ],
)
def test_is_family(code: str, other: str, family: bool) -> None:
    assert wbs.is_family(code, other) is family
    assert wbs.is_family(other, code) is family


def test_dates_must_not_run_backwards() -> None:
    plan.check_dates(date(2026, 12, 1), date(2026, 12, 1))
    plan.check_dates(None, date(2026, 12, 1))
    with pytest.raises(UserFacingError) as refused:
        plan.check_dates(date(2026, 12, 2), date(2026, 12, 1))
    assert refused.value.params == {"start": "2026-12-02", "due": "2026-12-01"}


def test_length_limit_reports_both_numbers() -> None:
    plan.check_length("x" * 5, 5)
    with pytest.raises(UserFacingError) as refused:
        plan.check_length("x" * 6, 5)
    assert refused.value.params == {"max": 5, "length": 6}


@pytest.mark.parametrize(
    ("start", "due", "outside"),
    [
        (date(2026, 12, 1), date(2026, 12, 20), False),
        (date(2026, 11, 30), None, True),
        (None, date(2026, 12, 21), True),
        (None, None, False),
    ],
)
def test_outside_parent_window(start: date | None, due: date | None, outside: bool) -> None:
    parent = Task(code="1", start_date=date(2026, 12, 1), due_date=date(2026, 12, 20))
    assert plan.outside(parent, start, due) is outside
    assert plan.outside(Task(code="1"), start, due) is False  # a parent without dates bounds nothing
