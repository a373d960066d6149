"""Option words after a space or colon, text kept as typed, dates, times and "did you mean"."""

from __future__ import annotations

from datetime import date

import pytest

from bot.commands.all import build_registry
from bot.commands.parsing import ArgError, looks_like_standup, parse_args, read_date
from bot.services.settings import read_clock_time

TASK = {"dept", "start", "due", "after", "owner"}
WED = date(2026, 11, 25)


@pytest.mark.parametrize(
    ("text", "options", "rest"),
    [
        ("2.12 联调 截止 12-31", {"due": "12-31"}, "联调"),
        ("2.12 联调 截止: 12-31", {"due": "12-31"}, "联调"),
        ("2.12 联调 截止：12-31", {"due": "12-31"}, "联调"),
        ("2.12 联调 截止＝12-31", {"due": "12-31"}, "联调"),
        ("2.12 review due 12-31 owner <at:b>", {"due": "12-31", "owner": "<at:b>"}, "review"),
        ("2.12 「联调 截止」", {}, "联调 截止"),
        # A date typed as two words needs no quotes, wherever the option stands.
        ("2.12 截止 Dec 31", {"due": "Dec 31"}, ""),
        ("2.12 due=Dec 31 review", {"due": "Dec 31"}, "review"),
        ("2.12 截止 31 dec 联调", {"due": "31 dec"}, "联调"),
        ("2.12 开始 next mon 截止 Dec 31", {"start": "next mon", "due": "Dec 31"}, ""),
        ("2.12 截止 12-31 31", {"due": "12-31"}, "31"),  # a one-word date takes no second word
        ("2.12 截止 dec 联调", {"due": "dec"}, "联调"),  # no month-day: read_date refuses "dec"
        ("2.12 owner=<at:b> Dec 31", {"owner": "<at:b>"}, "Dec 31"),  # only date options continue
    ],
)
def test_an_option_word_takes_the_next_token(text: str, options: dict[str, str], rest: str) -> None:
    parsed = parse_args(text, options=TASK, max_positional=1)
    assert (parsed.options, parsed.rest) == (options, rest)


def test_an_option_word_without_a_value_is_refused() -> None:
    with pytest.raises(ArgError) as caught:
        parse_args("2.12 联调 截止", options=TASK, max_positional=1)
    assert caught.value.key == "arg.option_without_value"


@pytest.mark.parametrize("text", ["2.12 @", "2.12 联调 @ owner=<at:b>", "@"])
def test_a_bare_at_is_refused(text: str) -> None:
    with pytest.raises(ArgError) as caught:
        parse_args(text, options=TASK, max_positional=1)
    assert caught.value.key == "arg.unknown_mention"


def test_free_text_and_text_options_are_kept_as_typed() -> None:
    text = "１.２ ＡＰＩ　联调（二期） 缓解：扩容，限流"
    parsed = parse_args(text, options={"mitigation"}, max_positional=1)
    assert parsed.positional == ("1.2",)
    assert (parsed.rest, parsed.options) == ("ＡＰＩ　联调（二期）", {"mitigation": "扩容，限流"})


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Dec 31", date(2026, 12, 31)),
        ("december 31st", date(2026, 12, 31)),
        ("31 Dec", date(2026, 12, 31)),
        ("jan 5", date(2027, 1, 5)),
        ("next friday", date(2026, 12, 4)),
        ("20261228", date(2026, 12, 28)),
        ("昨天", date(2026, 11, 24)),
        ("前天", date(2026, 11, 23)),
        ("yesterday", date(2026, 11, 24)),
    ],
)
def test_more_dates_people_type(value: str, expected: date) -> None:
    assert read_date(value, today=WED) == expected


@pytest.mark.parametrize("value", ["Foo 31", "20261332", "Dec 32"])
def test_dates_that_are_not(value: str) -> None:
    with pytest.raises(ArgError):
        read_date(value, today=WED)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("18:00", (18, 0)),
        ("９：３０", (9, 30)),
        ("6pm", (18, 0)),
        ("12am", (0, 0)),
        ("12pm", (12, 0)),
        ("6:30 am", (6, 30)),
        ("9点", (9, 0)),
        ("9点半", (9, 30)),
        ("9点15分", (9, 15)),
        ("下午6点", (18, 0)),
        ("9", None),
        ("13pm", None),
        ("24:00", None),
        ("9点61", None),
    ],
)
def test_clock_times(value: str, expected: tuple[int, int] | None) -> None:
    assert read_clock_time(value) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("昨天: 写接口 今天: 联调 卡点: 无", True),
        ("yesterday: api today: tests", True),
        ("今天: 联调", False),
        ("/进度 1.1 50%", False),
    ],
)
def test_looks_like_standup(text: str, expected: bool) -> None:
    assert looks_like_standup(text) is expected


@pytest.mark.parametrize(
    ("word", "guess"), [("进读", "进度"), ("progres", "progress"), ("risks", "risks"), ("xyzzy", None)]
)
def test_suggest(word: str, guess: str | None) -> None:
    assert build_registry().suggest(word) == guess


def test_subcommands_of_a_group_word() -> None:
    names = {spec.name for spec in build_registry().subcommands("项目")}
    assert {"project new", "project use"} <= names
