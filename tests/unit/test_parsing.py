"""Known answers for the chat-argument parsers, Chinese and full-width input included."""

from __future__ import annotations

import pickle
from collections.abc import Callable
from datetime import date

import pytest

from bot.commands.parsing import (
    ARG_ERROR_KEYS,
    OPTION_ALIASES,
    ArgError,
    Args,
    code_level,
    normalize,
    parent_code,
    parse_args,
    parse_code_list,
    parse_date,
    parse_level,
    parse_mention,
    parse_mention_list,
    parse_percent,
    parse_risk_status,
    parse_wbs_code,
    tokenize,
)

WED = date(2026, 11, 25)  # a Wednesday
SUN = date(2026, 11, 29)


def test_arg_error_keys_are_unique_i18n_keys() -> None:
    assert len(set(ARG_ERROR_KEYS)) == len(ARG_ERROR_KEYS)
    assert all(key.startswith("arg.") for key in ARG_ERROR_KEYS)


def test_arg_error_carries_key_and_params_and_pickles() -> None:
    error = ArgError("arg.bad_date", {"value": "31-02"})
    assert (error.key, error.params) == ("arg.bad_date", {"value": "31-02"})
    copy = pickle.loads(pickle.dumps(error))
    assert (copy.key, copy.params) == (error.key, error.params)
    assert ArgError("arg.missing").params == {}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("８０％", "80%"),
        ("a，b：c＝d", "a,b:c=d"),
        ("1.1、1.2", "1.1,1.2"),
        ("\u3000 a \t\n b\u3000", "a b"),
        ("后端接口\u200b负责人", "后端接口 负责人"),
        ("ＡＢＣ　１２３", "ABC 123"),
        ("“引号”「保留」", "“引号”「保留」"),
        ("", ""),
    ],
)
def test_normalize(text: str, expected: str) -> None:
    assert normalize(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a b  c", ["a", "b", "c"]),
        ('"a b" c', ["a b", "c"]),
        ("“后端 接口” 1.1", ["后端 接口", "1.1"]),
        ("「设计 评审」", ["设计 评审"]),
        ('title="a b" x', ["title=a b", "x"]),
        ('say "" now', ["say", "", "now"]),
        ('“a "b” c', ['a "b', "c"]),
        ("stray” closer」", ["stray”", "closer」"]),
        ('<at:a"b> c', ['<at:a"b>', "c"]),
        ("", []),
    ],
)
def test_tokenize(text: str, expected: list[str]) -> None:
    assert tokenize(text) == expected


@pytest.mark.parametrize(("text", "quote"), [('a "b', '"'), ("“未闭合", "“"), ("「x", "「"), ("a”b“c", "“")])
def test_tokenize_unbalanced_quote(text: str, quote: str) -> None:
    with pytest.raises(ArgError) as caught:
        tokenize(text)
    assert (caught.value.key, caught.value.params) == ("arg.unbalanced_quote", {"quote": quote})


TASK_OPTIONS = ("dept", "start", "due", "after")
RACI = ("R", "A", "C", "I")


@pytest.mark.parametrize(
    ("text", "options", "max_positional", "expected"),
    [
        (
            "2.1 80 waiting on design review",
            (),
            2,
            Args(positional=("2.1", "80"), rest="waiting on design review"),
        ),
        ("2.1 ８０％  等待　设计评审", (), 2, Args(positional=("2.1", "80%"), rest="等待　设计评审")),
        ("2.1 80", (), 2, Args(positional=("2.1", "80"))),
        (
            "1.1 后端接口 <at:ou_1> dept=研发 start=12-01 due=12-10 after=1.0",
            TASK_OPTIONS,
            None,
            Args(
                positional=("1.1", "后端接口"),
                options={"dept": "研发", "start": "12-01", "due": "12-10", "after": "1.0"},
                mentions=("ou_1",),
            ),
        ),
        (
            "1.1 后端接口 <at:ou_1> 部门=研发 开始：12-01 截止日期=12-10 依赖=1.1、1.2",
            TASK_OPTIONS,
            1,
            Args(
                positional=("1.1",),
                options={"dept": "研发", "start": "12-01", "due": "12-10", "after": "1.1,1.2"},
                mentions=("ou_1",),
                rest="后端接口",
            ),
        ),
        (
            "1.1 R=<at:a> A=<at:b> C=<at:c>,<at:d> I=<at:e>",
            RACI,
            None,
            Args(
                positional=("1.1",),
                options={"R": "<at:a>", "A": "<at:b>", "C": "<at:c>,<at:d>", "I": "<at:e>"},
            ),
        ),
        (
            "1.1 r=<at:a> c=<at:c> <at:d>，<at:f> i：<at:e>",
            RACI,
            None,
            Args(positional=("1.1",), options={"R": "<at:a>", "C": "<at:c> <at:d>,<at:f>", "I": "<at:e>"}),
        ),
        (
            "high 服务器容量不足 <at:ou_2> mitigation=扩容两台",
            ("mitigation", "due"),
            1,
            Args(
                positional=("high",),
                options={"mitigation": "扩容两台"},
                mentions=("ou_2",),
                rest="服务器容量不足",
            ),
        ),
        (
            "high server capacity low <at:bob> mitigation=add nodes due=fri",
            ("mitigation", "due"),
            1,
            Args(
                positional=("high",),
                options={"mitigation": "add nodes", "due": "fri"},
                mentions=("bob",),
                rest="server capacity low",
            ),
        ),
        (
            "高 容量 措施=先 扩容 <at:ou_3>",
            ("mitigation",),
            1,
            Args(positional=("高",), options={"mitigation": "先 扩容"}, mentions=("ou_3",), rest="容量"),
        ),
        (
            "2.1 80 waiting on <at:bob> review",
            (),
            2,
            Args(positional=("2.1", "80"), rest="waiting on <at:bob> review"),
        ),
        (
            "<at:a> 1.1 <at:b> 后端 <at:c><at:a>",
            (),
            1,
            Args(positional=("1.1",), mentions=("a", "b", "c"), rest="后端"),
        ),
        (
            "1.1 after=1.1, 1.2 标题",
            ("after",),
            None,
            Args(positional=("1.1", "标题"), options={"after": "1.1, 1.2"}),
        ),
        (
            "1.1 dept=研发 后端 接口",
            ("dept",),
            1,
            Args(positional=("1.1",), options={"dept": "研发"}, rest="后端 接口"),
        ),
        (
            '1.1 title="后端 接口 v2" "x=y" "<at:z>" ratio 3:1 http://x 原因:',
            ("title",),
            None,
            Args(
                positional=("1.1", "x=y", "<at:z>", "ratio", "3:1", "http://x", "原因:"),
                options={"title": "后端 接口 v2"},
            ),
        ),
        ("1.1 after= due=a=b:c", ("after", "due"), None, Args(("1.1",), {"after": "", "due": "a=b:c"})),
        ("备注=很重要 plan A:x", (), None, Args(positional=("备注=很重要", "plan", "A:x"))),
        ("", (), 2, Args()),
        ("a b c", (), 0, Args(rest="a b c")),
    ],
)
def test_parse_args(text: str, options: tuple[str, ...], max_positional: int | None, expected: Args) -> None:
    assert parse_args(text, options=options, max_positional=max_positional) == expected


@pytest.mark.parametrize(
    ("text", "options", "key", "params"),
    [
        ("1.1 foo=bar", TASK_OPTIONS, "arg.unknown_option", {"option": "foo"}),
        ("2.1 80 note 截止=12-01", (), "arg.unknown_option", {"option": "截止"}),
        ("1.1 R=<at:a>", ("C",), "arg.unknown_option", {"option": "R"}),
        ("due=12-01 截止=12-02", ("due",), "arg.duplicate_option", {"option": "due"}),
        ('1.1 "open', (), "arg.unbalanced_quote", {"quote": '"'}),
    ],
)
def test_parse_args_errors(text: str, options: tuple[str, ...], key: str, params: dict[str, str]) -> None:
    with pytest.raises(ArgError) as caught:
        parse_args(text, options=options)
    assert (caught.value.key, caught.value.params) == (key, params)


@pytest.mark.parametrize(
    ("alias", "canonical"),
    [
        ("开始日期", "start"),
        ("结束", "due"),
        ("到期", "due"),
        ("前置", "after"),
        ("部门", "dept"),
        ("标题", "title"),
        ("任务", "tasks"),
        ("应对", "mitigation"),
        ("负责人", "owner"),
        ("a", "A"),
    ],
)
def test_option_aliases(alias: str, canonical: str) -> None:
    assert OPTION_ALIASES[alias] == canonical
    assert parse_args(f"{alias.upper()}=x", options=(canonical,)).options == {canonical: "x"}


@pytest.mark.parametrize("word", ["end", "END", "结束", "结束日期", "due", "截止", "截止日期", "到期"])
def test_end_and_due_are_one_option(word: str) -> None:
    """One vocabulary wherever a date is set: `结束` and `截止` (end, due) are the same option, in every
    form, so giving both is a duplicate rather than two dates."""
    assert parse_args(f"1 标题 {word}=12-20", options={"due"}, max_positional=1).options == {"due": "12-20"}
    assert parse_args(f"{word} 12-20", options={"due"}).options == {"due": "12-20"}
    with pytest.raises(ArgError) as caught:
        parse_args(f"{word}=12-20 截止=12-21", options={"due"})
    assert caught.value.key == "arg.duplicate_option"
    assert OPTION_ALIASES[word.lower()] == "due"


@pytest.mark.parametrize(
    ("value", "today", "expected"),
    [
        ("2026-12-01", WED, date(2026, 12, 1)),
        ("2026/1/5", WED, date(2026, 1, 5)),
        ("2026.12.31", WED, date(2026, 12, 31)),
        ("２０２６－１２－０１", WED, date(2026, 12, 1)),
        ("2026年12月1日", WED, date(2026, 12, 1)),
        ("2027年1月5号", WED, date(2027, 1, 5)),
        ("12月1日", WED, date(2026, 12, 1)),
        ("12月1号", WED, date(2026, 12, 1)),
        ("12-01", WED, date(2026, 12, 1)),
        ("12/1", WED, date(2026, 12, 1)),
        ("01-05", WED, date(2027, 1, 5)),  # late November: January means next year
        ("1月5日", WED, date(2027, 1, 5)),
        ("06-01", WED, date(2026, 6, 1)),  # within six months back: this year
        ("05-26", WED, date(2026, 5, 26)),  # 183 days back is still this year ...
        ("05-25", WED, date(2027, 5, 25)),  # ... 184 days back is next year
        ("02-29", date(2027, 6, 1), date(2028, 2, 29)),
        ("today", WED, WED),
        ("今天", WED, WED),
        ("Tomorrow", WED, date(2026, 11, 26)),
        ("明天", WED, date(2026, 11, 26)),
        ("后天", WED, date(2026, 11, 27)),
        ("周五", WED, date(2026, 11, 27)),
        ("星期三", WED, WED),  # today is that weekday: today
        ("wed", WED, WED),
        ("mon", WED, date(2026, 11, 30)),
        ("Friday", WED, date(2026, 11, 27)),
        ("周日", WED, date(2026, 11, 29)),
        ("周天", WED, date(2026, 11, 29)),
        ("星期天", WED, date(2026, 11, 29)),
        ("礼拜一", WED, date(2026, 11, 30)),
        ("下周一", WED, date(2026, 11, 30)),
        ("下周三", WED, date(2026, 12, 2)),
        ("下个星期五", WED, date(2026, 12, 4)),
        ("下礼拜天", WED, date(2026, 12, 6)),
        ("next mon", WED, date(2026, 11, 30)),
        ("NEXT FRIDAY", WED, date(2026, 12, 4)),
        ("下周一", SUN, date(2026, 11, 30)),  # weeks start on Monday
        ("本周一", WED, date(2026, 11, 23)),
        ("this fri", WED, date(2026, 11, 27)),
        ("+3d", WED, date(2026, 11, 28)),
        ("+2w", WED, date(2026, 12, 9)),
        ("3天后", WED, date(2026, 11, 28)),
        ("２周后", WED, date(2026, 12, 9)),
    ],
)
def test_parse_date(value: str, today: date, expected: date) -> None:
    assert parse_date(value, today=today) == expected


@pytest.mark.parametrize(
    ("value", "today"),
    [
        ("2026-02-30", WED),
        ("2026-13-01", WED),
        ("2026-12/01", WED),
        ("02-30", WED),
        ("02-29", WED),  # neither 2026 nor 2027 has one
        ("31-02", WED),
        ("十二月一日", WED),
        ("周八", WED),
        ("next", WED),
        ("tomorrow", date.max),
        ("", WED),
        ("12-01-2026", WED),
    ],
)
def test_parse_date_rejects(value: str, today: date) -> None:
    with pytest.raises(ArgError) as caught:
        parse_date(value, today=today)
    assert (caught.value.key, caught.value.params) == ("arg.bad_date", {"value": value})


@pytest.mark.parametrize(
    ("value", "expected"),
    [("80", 80), ("80%", 80), ("８０％", 80), ("80 %", 80), ("80.0", 80), ("0", 0), ("100", 100), (" 5 ", 5)],
)
def test_parse_percent(value: str, expected: int) -> None:
    assert parse_percent(value) == expected


@pytest.mark.parametrize("value", ["101", "-1", "80.5", "1e2", "%", "", "八十", "80%%", "1000", "٨٠"])
def test_parse_percent_rejects(value: str) -> None:
    with pytest.raises(ArgError) as caught:
        parse_percent(value)
    assert (caught.value.key, caught.value.params) == ("arg.bad_percent", {"value": value})


@pytest.mark.parametrize(
    ("value", "code", "parent", "level"),
    [
        ("1", "1", None, 1),
        ("1.2", "1.2", "1", 2),
        ("10.20.3", "10.20.3", "10.20", 3),
        ("１．２", "1.2", "1", 2),
        ("2。1", "2.1", "2", 2),
        (" 3.4 ", "3.4", "3", 2),
    ],
)
def test_wbs_codes(value: str, code: str, parent: str | None, level: int) -> None:
    assert parse_wbs_code(value) == code
    assert parent_code(value) == parent
    assert code_level(value) == level


@pytest.mark.parametrize(
    "value", ["0", "01", "1.0", "1.02", "1.", ".1", "1..2", "1.2.3.4", "a", "", "1 2", "-1"]
)
def test_wbs_code_rejects(value: str) -> None:
    for function in (parse_wbs_code, parent_code, code_level):
        with pytest.raises(ArgError) as caught:
            function(value)
        assert (caught.value.key, caught.value.params) == ("arg.bad_code", {"value": value})


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("1.1,1.2", ("1.1", "1.2")),
        ("1.1、1.2", ("1.1", "1.2")),
        ("1.1，1.2, 1.1 2", ("1.1", "1.2", "2")),
        ("1.1,", ("1.1",)),
        ("", ()),
    ],
)
def test_parse_code_list(value: str, expected: tuple[str, ...]) -> None:
    assert parse_code_list(value) == expected


def test_parse_code_list_names_the_bad_item() -> None:
    with pytest.raises(ArgError) as caught:
        parse_code_list("1.1,1.0")
    assert (caught.value.key, caught.value.params) == ("arg.bad_code", {"value": "1.0"})


@pytest.mark.parametrize(
    ("token", "expected"),
    [("<at:ou_1>", "ou_1"), (" <at:ou_1> ", "ou_1"), ("<at:a><at:b>", None), ("@bob", None), ("", None)],
)
def test_parse_mention(token: str, expected: str | None) -> None:
    assert parse_mention(token) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("<at:a>,<at:b>", ("a", "b")),
        ("<at:a> <at:b>", ("a", "b")),
        ("<at:a>、<at:b>，<at:c>", ("a", "b", "c")),
        ("<at:a><at:b><at:a>", ("a", "b")),
        ("", ()),
    ],
)
def test_parse_mention_list(value: str, expected: tuple[str, ...]) -> None:
    assert parse_mention_list(value) == expected


@pytest.mark.parametrize(
    ("value", "stray"), [("<at:a>, bob", "bob"), ("张三", "张三"), ("<at:a>x<at:b>", "x")]
)
def test_parse_mention_list_rejects(value: str, stray: str) -> None:
    with pytest.raises(ArgError) as caught:
        parse_mention_list(value)
    assert (caught.value.key, caught.value.params) == ("arg.unknown_mention", {"value": stray})


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("high", "high"),
        ("H", "high"),
        ("高", "high"),
        ("高风险", "high"),
        ("Medium", "medium"),
        ("m", "medium"),
        ("中", "medium"),
        ("low", "low"),
        ("低风险", "low"),
        ("ｌｏｗ", "low"),
    ],
)
def test_parse_level(value: str, expected: str) -> None:
    assert parse_level(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("open", "open"),
        ("未缓解", "open"),
        ("打开", "open"),
        ("开放", "open"),
        ("Mitigated", "mitigated"),
        ("已缓解", "mitigated"),
        ("缓解", "mitigated"),
        ("closed", "closed"),
        ("关闭", "closed"),
        ("已关闭", "closed"),
    ],
)
def test_parse_risk_status(value: str, expected: str) -> None:
    assert parse_risk_status(value) == expected


@pytest.mark.parametrize(
    ("function", "value", "key"),
    [
        (parse_level, "severe", "arg.bad_level"),
        (parse_level, "", "arg.bad_level"),
        (parse_risk_status, "pending", "arg.bad_status"),
        (parse_risk_status, "高", "arg.bad_status"),
    ],
)
def test_enum_rejects(function: Callable[[str], str], value: str, key: str) -> None:
    with pytest.raises(ArgError) as caught:
        function(value)
    assert (caught.value.key, caught.value.params) == (key, {"value": value})
