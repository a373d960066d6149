"""Property tests: the parsers accept any text and fail only with ArgError."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from functools import partial
from typing import TypeVar

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

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
    read_date,
    tokenize,
)

# Deterministic and small enough for every CI run; no example database written into the repo.
fast = settings(max_examples=200, derandomize=True, database=None, deadline=None)

_FRAGMENTS = st.sampled_from(
    [
        "1", "1.2", "2.1.3", "80", "８０％", "100%", "12-01", "2026-02-30", "下周一", "周五", "next mon",
        "due=", "截止=", "R=", "c:", "after=1.1,1.2", "x=y", "=", ":", ",", "、", "，", "：", "＝",
        '"', "“", "”", "「", "」", "『", "』", "<at:ou_1>", "<at:a>,<at:b>", "<at:", ">", "@bob",
        "high", "高", "closed", "已缓解", "后端接口", "服务器容量不足", "\u3000", "\u200b", "  ",
        "http://x", "3:1",
    ]
)  # fmt: skip
_CHARS = st.characters(
    categories=("L", "N", "P", "S", "Zs"), include_characters='=:,<>"“”「」、，：＝％　'
) | st.characters(min_codepoint=0xFF01, max_codepoint=0xFF5E)
_TOKENS = _FRAGMENTS | st.text(_CHARS, max_size=6)
COMMANDISH = st.lists(_TOKENS, max_size=12).flatmap(
    lambda parts: st.sampled_from([" ", "", "\u3000"]).map(lambda sep: sep.join(parts))
)
ANY_TEXT = st.text() | COMMANDISH

_OPTION_SETS = st.sets(st.sampled_from([*sorted(set(OPTION_ALIASES.values())), "note", "r", "截止"]))


T = TypeVar("T")


def _value_or_arg_error(function: Callable[[], T]) -> T | None:
    try:
        return function()
    except ArgError as error:
        assert error.key in ARG_ERROR_KEYS
        assert all(isinstance(k, str) and isinstance(v, str) for k, v in error.params.items())
        return None


@fast
@given(ANY_TEXT)
def test_normalize_is_idempotent_and_spaced(text: str) -> None:
    once = normalize(text)
    assert normalize(once) == once
    assert once == once.strip()
    assert "  " not in once


@fast
@given(ANY_TEXT)
def test_tokenize_returns_strings_or_arg_error(text: str) -> None:
    tokens = _value_or_arg_error(lambda: tokenize(text))
    assert tokens is None or all(isinstance(token, str) for token in tokens)


@fast
@given(ANY_TEXT, _OPTION_SETS, st.none() | st.integers(min_value=0, max_value=4))
def test_parse_args_returns_args_or_arg_error(
    text: str, options: set[str], max_positional: int | None
) -> None:
    args = _value_or_arg_error(lambda: parse_args(text, options=options, max_positional=max_positional))
    if args is None:
        return
    assert isinstance(args, Args)
    assert all(isinstance(value, str) for value in (*args.positional, *args.mentions, *args.options.values()))
    if max_positional is not None:
        assert len(args.positional) <= max_positional
    else:
        assert args.rest == ""
    assert args.rest == args.rest.strip()
    assert len(set(args.mentions)) == len(args.mentions)
    accepted = {OPTION_ALIASES.get(key.lower(), key.lower() if key.isascii() else key) for key in options}
    assert set(args.options) <= accepted


@fast
@given(ANY_TEXT, st.dates())
def test_parse_date_returns_date_or_arg_error(text: str, today: date) -> None:
    result = _value_or_arg_error(lambda: parse_date(text, today=today))
    assert result is None or isinstance(result, date)


@fast
@given(st.dates(), st.dates(), st.sampled_from(["-", "/", "."]))
def test_read_date_round_trips_full_dates(day: date, today: date, separator: str) -> None:
    assert read_date(day.isoformat().replace("-", separator), today=today) == day
    assert read_date(f"{day.year:04d}年{day.month}月{day.day}日", today=today) == day


@fast
@given(st.dates(), st.dates(min_value=date(11, 1, 1), max_value=date(9989, 12, 31)))
def test_parse_date_accepts_exactly_the_dates_within_ten_years(day: date, today: date) -> None:
    result = _value_or_arg_error(lambda: parse_date(day.isoformat(), today=today))
    if abs((day - today).days) <= 3650 - 3:  # clear of the edge, whatever the leap days
        assert result == day
    elif abs((day - today).days) > 3653:
        assert result is None


def test_far_dates_are_refused_with_their_own_message() -> None:
    with pytest.raises(ArgError) as refused:
        parse_date("9999-12-31", today=date(2026, 11, 25))
    assert refused.value.key == "arg.date_out_of_range"
    assert parse_date("2036-11-25", today=date(2026, 11, 25)) == date(2036, 11, 25)
    with pytest.raises(ArgError):
        parse_date("2016-11-24", today=date(2026, 11, 25))


@fast
@given(ANY_TEXT)
def test_normalize_removes_control_characters(text: str) -> None:
    assert not any(ord(char) < 32 or 127 <= ord(char) < 160 for char in normalize(text))


@fast
@given(st.dates(min_value=date(1, 1, 1), max_value=date(9998, 12, 31)), st.dates())
def test_month_day_lands_within_the_window(today: date, day: date) -> None:
    result = _value_or_arg_error(lambda: parse_date(f"{day.month}-{day.day}", today=today))
    if result is None:
        assert (day.month, day.day) == (2, 29)
        return
    assert isinstance(result, date)
    assert (result.month, result.day) == (day.month, day.day)
    assert result.year in (today.year, today.year + 1)
    assert (today - result).days <= 183


@fast
@given(ANY_TEXT)
def test_parse_percent_stays_in_range(text: str) -> None:
    result = _value_or_arg_error(lambda: parse_percent(text))
    assert result is None or (isinstance(result, int) and 0 <= result <= 100)


@fast
@given(st.integers(min_value=0, max_value=100), st.sampled_from(["", "%", "％", ".0"]))
def test_parse_percent_reads_whole_percents(number: int, suffix: str) -> None:
    assert parse_percent(f"{number}{suffix}") == number


@fast
@given(ANY_TEXT)
def test_wbs_functions_return_or_arg_error(text: str) -> None:
    code = _value_or_arg_error(lambda: parse_wbs_code(text))
    if code is None:
        return
    assert isinstance(code, str)
    assert parse_wbs_code(code) == code
    level = code_level(code)
    parent = parent_code(code)
    assert 1 <= level <= 3
    assert (parent is None) == (level == 1)


@fast
@given(st.lists(st.integers(min_value=1, max_value=9999), min_size=1, max_size=3))
def test_wbs_canonical_code_is_a_fixed_point(parts: list[int]) -> None:
    code = ".".join(map(str, parts))
    assert parse_wbs_code(code) == code
    assert code_level(code) == len(parts)
    assert parent_code(code) == (".".join(map(str, parts[:-1])) or None)


@fast
@given(ANY_TEXT)
def test_list_parsers_return_unique_tuples_or_arg_error(text: str) -> None:
    for function in (parse_code_list, parse_mention_list):
        result = _value_or_arg_error(partial(function, text))
        assert result is None or (
            isinstance(result, tuple)
            and all(isinstance(item, str) for item in result)
            and len(set(result)) == len(result)
        )


@fast
@given(ANY_TEXT)
def test_parse_mention_never_raises(text: str) -> None:
    result = parse_mention(text)
    assert result is None or (isinstance(result, str) and f"<at:{result}>" == text.strip())


@fast
@given(ANY_TEXT)
def test_enum_parsers_return_known_values_or_arg_error(text: str) -> None:
    assert _value_or_arg_error(lambda: parse_level(text)) in (None, "high", "medium", "low")
    assert _value_or_arg_error(lambda: parse_risk_status(text)) in (None, "open", "mitigated", "closed")
