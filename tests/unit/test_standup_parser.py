"""The standup reply parser on replies as people really write them (zh, en, mixed, full-width,
labelled or not, with and without task codes)."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.domain.standup import StandupParse, parse_standup

# The project's task codes; 12.1 is deliberately not one of them (it is a date: Dec 1).
KNOWN = {"1", "1.1", "1.2", "1.3", "2", "2.1", "2.2", "2.3", "2.1.1", "2.1.2", "3", "3.1"}


@dataclass(frozen=True)
class Case:
    text: str
    y: str = ""
    t: str = ""
    b: str = ""
    progress: dict[str, int] = field(default_factory=dict)
    blocked: dict[str, str] = field(default_factory=dict)
    none: bool = False
    n: str = ""  # the resource request


CASES: list[Case] = [
    # --- Chinese, labelled -------------------------------------------------------------------------
    Case("昨天：完成登录接口\n今天：联调支付\n卡点：无", y="完成登录接口", t="联调支付", none=True),
    Case(
        "昨日：1.1 80%\n今日：继续1.1\n卡点：等设计稿",
        y="1.1 80%",
        t="继续1.1",
        b="等设计稿",
        progress={"1.1": 80},
    ),
    Case(
        "【昨日】2.1 完成\n【今日】2.2 开始开发\n【卡点】无",
        y="2.1 完成",
        t="2.2 开始开发",
        progress={"2.1": 100},
        none=True,
    ),
    Case(
        "昨天：任务2.1完成80%；今天：写单元测试；阻塞：没有",
        y="任务2.1完成80%",
        t="写单元测试",
        progress={"2.1": 80},
        none=True,
    ),
    Case(
        "昨日完成：2.1、2.2\n今日计划：2.3\n需协调：无",  # no resource request; blockers not answered
        y="2.1、2.2",
        t="2.3",
        progress={"2.1": 100, "2.2": 100},
    ),
    Case(
        "昨天把 2.1 的接口写完了，今天继续联调 2.2。卡点：2.2 等后端接口",
        y="把 2.1 的接口写完了",
        t="继续联调 2.2",
        b="2.2 等后端接口",
        blocked={"2.2": "等后端接口"},
    ),
    Case("问题：2.1 联调环境不稳定", b="2.1 联调环境不稳定", blocked={"2.1": "联调环境不稳定"}),
    Case("卡点：等 2.1 接口", b="等 2.1 接口"),  # 2.1 is what the work waits for, not blocked itself
    Case("卡点：1.2 等 2.1 接口", b="1.2 等 2.1 接口", blocked={"1.2": "等 2.1 接口"}),
    Case("卡点：2.1 等运维部署完成", b="2.1 等运维部署完成", blocked={"2.1": "等运维部署完成"}),
    Case("2.1 waiting until QA is done", y="2.1 waiting until QA is done"),
    Case("卡点/风险：1.2 需求还没定", b="1.2 需求还没定", blocked={"1.2": "需求还没定"}),
    Case(
        "1. 昨天：2.1 ５０％\n2. 今天：2.1 到 80%\n3. 卡点：无",
        y="2.1 50%",
        t="2.1 到 80%",  # the plan, not progress
        progress={"2.1": 50},
        none=True,
    ),
    Case("- 昨日：修复登录 bug\n- 今日：2.2 联调\n- 阻塞：无", y="修复登录 bug", t="2.2 联调", none=True),
    Case(
        "昨天：\n- 完成 1.1\n- 修复 bug\n今天：\n- 1.2 联调\n卡点：\n- 无",
        y="完成 1.1；修复 bug",
        t="1.2 联调",
        progress={"1.1": 100},
        none=True,
    ),
    Case(
        "今天继续 2.1，卡点：2.1 等 UI 稿",
        t="继续 2.1",
        b="2.1 等 UI 稿",
        blocked={"2.1": "等 UI 稿"},
    ),
    Case("昨天：2.1 done\n今天：2.2 done", y="2.1 done", t="2.2 done", progress={"2.1": 100}),
    Case(
        "卡点：1.1、1.2 都在等测试环境",
        b="1.1、1.2 都在等测试环境",
        blocked={"1.1": "都在等测试环境", "1.2": "都在等测试环境"},
    ),
    Case("阻塞：无。今天：2.2 联调", t="2.2 联调", none=True),
    Case("昨天整理需求文档，今天评审", y="整理需求文档", t="评审"),
    Case("卡点：暂时没有", none=True),
    Case("今日：2.1 推进到 90%\n昨日：2.1 70%", y="2.1 70%", t="2.1 推进到 90%", progress={"2.1": 70}),
    Case("今天计划完成 2.2", t="计划完成 2.2"),
    # --- Chinese, unlabelled -----------------------------------------------------------------------
    Case("1.1 80%", y="1.1 80%", progress={"1.1": 80}),
    Case("任务2.1完成80%", y="任务2.1完成80%", progress={"2.1": 80}),
    Case("2.1：８０％", y="2.1:80%", progress={"2.1": 80}),
    Case("2.1 完成", y="2.1 完成", progress={"2.1": 100}),
    Case("2.1 已完成", y="2.1 已完成", progress={"2.1": 100}),
    Case("2.1 已经做完了", y="2.1 已经做完了", progress={"2.1": 100}),
    Case("2.1：完成", y="2.1:完成", progress={"2.1": 100}),
    Case("2.1和2.2都完成了", y="2.1和2.2都完成了", progress={"2.1": 100, "2.2": 100}),
    Case("1.1、1.2 完成", y="1.1、1.2 完成", progress={"1.1": 100, "1.2": 100}),
    Case("1.1 80%\n1.2 完成", y="1.1 80%；1.2 完成", progress={"1.1": 80, "1.2": 100}),
    Case("完成了1.1\n开始1.2\n无", y="完成了1.1", t="开始1.2", progress={"1.1": 100}, none=True),
    Case("写完接口\n联调\n等设计稿", y="写完接口", t="联调", b="等设计稿"),
    Case("写完接口\n1.1 80%\n联调", y="写完接口；1.1 80%", t="联调", progress={"1.1": 80}),
    Case(
        "接口自测\n联调 2.2\n2.2 等测试账号",
        y="接口自测",
        t="联调 2.2",
        b="2.2 等测试账号",
        blocked={"2.2": "等测试账号"},
    ),
    Case("2.1 没完成，还差 20%", y="2.1 没完成,还差 20%"),
    Case("2.1 完成了一半", y="2.1 完成了一半"),
    Case("2.1 完成接口开发", y="2.1 完成接口开发"),  # a part of 2.1 was finished, not all of it
    Case("完成了 2.1 的接口部分", y="完成了 2.1 的接口部分"),
    Case("计划完成 2.2", y="计划完成 2.2"),
    Case("2.1 进度到 60%，2.2 开始", y="2.1 进度到 60%,2.2 开始", progress={"2.1": 60}),
    Case("2.1 进度从 50% 到 80%", y="2.1 进度从 50% 到 80%", progress={"2.1": 80}),
    Case("2.1（80%）联调中", y="2.1(80%)联调中", progress={"2.1": 80}),
    Case("2.2 完成度 70%", y="2.2 完成度 70%", progress={"2.2": 70}),
    Case("2.1.1 完成，2.1.2 50%", y="2.1.1 完成,2.1.2 50%", progress={"2.1.1": 100, "2.1.2": 50}),
    Case("2.1 ８０％，2.2 ３０％", y="2.1 80%,2.2 30%", progress={"2.1": 80, "2.2": 30}),
    Case("2．1 完成", y="2.1 完成", progress={"2.1": 100}),
    Case("2。1 完成", y="2.1 完成", progress={"2.1": 100}),
    Case("2.1 80%，后来改成 2.1 90%", y="2.1 80%,后来改成 2.1 90%", progress={"2.1": 90}),
    Case("2.1 80 %", y="2.1 80 %", progress={"2.1": 80}),
    Case("2.1 后端接口 80%", y="2.1 后端接口 80%", progress={"2.1": 80}),
    Case(
        "1.1 接口写完 60%，1.2 评审 完成",
        y="1.1 接口写完 60%,1.2 评审 完成",
        progress={"1.1": 60, "1.2": 100},
    ),
    Case("2.1 还差 20%", y="2.1 还差 20%"),
    Case("2.1 预计周五 90%", y="2.1 预计周五 90%"),
    Case("2.1 API integration 70%", y="2.1 API integration 70%", progress={"2.1": 70}),
    Case("2.1 about 30% left", y="2.1 about 30% left"),
    Case("2.1 后端接口 完成", y="2.1 后端接口 完成", progress={"2.1": 100}),
    Case("2.1 接口已完成。2.2 页面部分完成", y="2.1 接口已完成。2.2 页面部分完成", progress={"2.1": 100}),
    Case("2.1 接口没完成", y="2.1 接口没完成"),
    Case("2.1 明天完成", y="2.1 明天完成"),
    Case("2.2 login page done", y="2.2 login page done", progress={"2.2": 100}),
    Case("2.2 almost done", y="2.2 almost done"),
    Case("2.1 卡住了，等接口", y="2.1 卡住了,等接口", blocked={"2.1": "等接口"}),
    Case("2.1 卡在第三方审核", y="2.1 卡在第三方审核", blocked={"2.1": "第三方审核"}),
    Case(
        "卡在2.2上了，需要运维协助", y="卡在2.2上了,需要运维协助", blocked={"2.2": "卡在2.2上了,需要运维协助"}
    ),
    Case("任务3 完成", y="任务3 完成", progress={"3": 100}),
    Case("#2.2 done", y="#2.2 done", progress={"2.2": 100}),
    Case("1.1 done 1.2 50%", y="1.1 done 1.2 50%", progress={"1.1": 100, "1.2": 50}),
    Case("1.1 1.2 done", y="1.1 1.2 done", progress={"1.1": 100, "1.2": 100}),
    # --- numbers that are not task codes --------------------------------------------------------------
    Case("12.1 上线", y="12.1 上线"),
    Case("v2.1 发布了", y="v2.1 发布了"),
    Case("2.1版本发布了", y="2.1版本发布了"),
    Case("2.1 version released", y="2.1 version released"),
    Case("修了 3 个 bug，下午3点开会", y="修了 3 个 bug,下午3点开会"),
    Case("下午3点开会，3.1 完成", y="下午3点开会,3.1 完成", progress={"3.1": 100}),
    Case("估计还要 1.5 天，2.1 120%", y="估计还要 1.5 天,2.1 120%"),
    Case("2.1 80.5%", y="2.1 80.5%"),
    Case("9.9 完成", y="9.9 完成"),
    # --- English -------------------------------------------------------------------------------------
    Case(
        "Yesterday: 1.1 done\nToday: start 1.2\nBlockers: none",
        y="1.1 done",
        t="start 1.2",
        progress={"1.1": 100},
        none=True,
    ),
    Case(
        "Yesterday I finished 2.1. Today I'll work on 2.2. No blockers.",
        y="I finished 2.1",
        t="I'll work on 2.2",
        progress={"2.1": 100},
        none=True,
    ),
    Case(
        "Done: 2.1, 2.2\nPlan: 2.3\nIssues: n/a",
        y="2.1, 2.2",
        t="2.3",
        progress={"2.1": 100, "2.2": 100},
        none=True,
    ),
    Case("2.1 is 80% done, 2.2 at 30%", y="2.1 is 80% done, 2.2 at 30%", progress={"2.1": 80, "2.2": 30}),
    Case("task 2.1 - 60%", y="task 2.1 - 60%", progress={"2.1": 60}),
    Case("2.1 from 50% to 80%", y="2.1 from 50% to 80%", progress={"2.1": 80}),
    Case(
        "2.1: blocked by design review",
        y="2.1: blocked by design review",
        blocked={"2.1": "by design review"},
    ),
    Case(
        "stuck on 2.2, waiting for API keys",
        y="stuck on 2.2, waiting for API keys",
        blocked={"2.2": "stuck on 2.2, waiting for API keys"},
    ),
    Case("Blockers: waiting on 2.1 from backend", b="waiting on 2.1 from backend"),
    Case("Blocker: 2.2 needs test env", b="2.2 needs test env", blocked={"2.2": "needs test env"}),
    Case("today: finish 2.2", t="finish 2.2"),
    Case("will finish 2.2 today", y="will finish 2.2 today"),
    Case("Fixed login bug\nWorking on 2.2\nNone", y="Fixed login bug", t="Working on 2.2", none=True),
    Case(
        "finished 2.1 and 2.2 yesterday",
        y="finished 2.1 and 2.2 yesterday",
        progress={"2.1": 100, "2.2": 100},
    ),
    Case("2.1 not done yet", y="2.1 not done yet"),
    Case("Yesterday: 1.1 80% (was 60%)", y="1.1 80% (was 60%)", progress={"1.1": 80}),
    Case("no blockers", none=True),
    Case("Today's plan: 2.3 review", t="2.3 review"),
    # --- mixed ----------------------------------------------------------------------------------------
    Case(
        "昨天 finished 2.1，今天 start 2.2，blocker: none",
        y="finished 2.1",
        t="start 2.2",
        progress={"2.1": 100},
        none=True,
    ),
    Case("2.1 done，今天做2.2，无卡点", y="2.1 done", t="做2.2", progress={"2.1": 100}, none=True),
    Case(
        "Yesterday：2.1 完成80%\nToday：2.2\n卡点：暂无",
        y="2.1 完成80%",
        t="2.2",
        progress={"2.1": 80},
        none=True,
    ),
    # --- no codes, or nothing a standup says ----------------------------------------------------------
    Case("无", none=True),
    Case("没有卡点", none=True),
    Case("卡点无", none=True),
    Case("写完接口，无卡点，联调", y="写完接口；联调", none=True),
    Case("在开会", y="在开会"),
    # --- resource requests ---------------------------------------------------------------------------
    Case(
        "昨天：联调\n今天：压测\n需协调资源：需要测试服务器 2台", y="联调", t="压测", n="需要测试服务器 2台"
    ),
    Case("卡点：无；需要支持：运维开通权限", none=True, n="运维开通权限"),
    Case("Today: load test. Need: a test server", t="load test", n="a test server"),
    Case("help needed: none\nblockers: none", none=True),
]


def _actual(parse: StandupParse) -> Case:
    return Case(
        "",
        y=parse.yesterday,
        t=parse.today,
        b=parse.blockers,
        progress=dict(parse.progress),
        blocked=dict(parse.blocked),
        none=parse.no_blocker,
        n=parse.needs,
    )


def test_the_table_is_big_enough() -> None:
    assert len(CASES) >= 60
    assert len({case.text for case in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[case.text for case in CASES])
def test_reply(case: Case) -> None:
    expected = Case("", case.y, case.t, case.b, case.progress, case.blocked, case.none, case.n)
    assert _actual(parse_standup(case.text, KNOWN)) == expected


def test_only_known_codes_count() -> None:
    assert parse_standup("12.1 完成", {"12.1"}).progress == (("12.1", 100),)
    assert parse_standup("12.1 完成", {"1.1"}).progress == ()


def test_progress_is_listed_in_order_of_first_mention_with_the_last_value() -> None:
    parse = parse_standup("2.2 10%，1.1 完成，2.2 40%", KNOWN)
    assert parse.progress == (("2.2", 40), ("1.1", 100))


@pytest.mark.parametrize(
    ("text", "recognised"),
    [
        ("你好", False),
        ("在吗？", False),
        ("好的，谢谢", False),
        ("接口写完了", False),
        ("今天联调", True),
        ("2.1 80%", True),
        ("无", True),
        ("Yesterday: docs", True),
        ("2.1 blocked", True),
    ],
)
def test_recognised_tells_a_standup_from_chat(text: str, recognised: bool) -> None:
    assert parse_standup(text, KNOWN).recognised is recognised


def test_labels_name_the_sections_a_label_opened() -> None:
    assert parse_standup("2.1 90%，卡点：2.1 等设计稿", KNOWN).labels == {"blockers"}
    assert parse_standup("写接口\n联调\n无", KNOWN).labels == frozenset()
    # A label with a colon opens a section in the middle of a line too (issue 9).
    assert parse_standup("【今日】评审 Yesterday: docs", KNOWN).labels == {"today", "yesterday"}
    assert parse_standup("昨天：联调 需协调资源：服务器", KNOWN).labels == {"yesterday", "needs"}


def test_empty_text_gives_an_empty_parse() -> None:
    assert parse_standup(" \n\u3000\n", KNOWN) == StandupParse()


PIECES = st.sampled_from(
    [
        "1.1",
        "2.1",
        "2.1.1",
        "12.1",
        "任务",
        "task ",
        "80%",
        "８０％",
        "120%",
        "完成",
        "done",
        "已",
        "了",
        "卡点：",
        "昨天",
        "今天：",
        "Blockers:",
        "无",
        "none",
        "等",
        "blocked",
        "，",
        "。",
        ". ",
        "、",
        "\n",
        " ",
        "和",
        "v",
        "版本",
    ]
)


@settings(max_examples=300, deadline=None, derandomize=True)
@given(st.lists(st.one_of(PIECES, st.text(max_size=6)), max_size=20))
def test_any_text_parses_to_known_codes_and_valid_percents(parts: list[str]) -> None:
    parse = parse_standup("".join(parts), KNOWN)
    assert all(code in KNOWN and 0 <= value <= 100 for code, value in parse.progress)
    assert all(code in KNOWN for code, _ in parse.blocked)
    assert not (parse.no_blocker and (parse.blockers or parse.blocked))
