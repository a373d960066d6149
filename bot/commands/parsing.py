"""Pure parsers that turn chat-command argument text into typed values.

No I/O and no clock (`today` is always a parameter). Every function raises only `ArgError` for
bad input; its `key` is an i18n catalog key and its `params` fill the message, so the caller can
answer politely in zh or en.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import MAXYEAR, MINYEAR, date, timedelta
from types import MappingProxyType
from typing import Literal

from adapters.models import MENTION_TOKEN

BAD_DATE = "arg.bad_date"
BAD_PERCENT = "arg.bad_percent"
BAD_CODE = "arg.bad_code"
UNKNOWN_OPTION = "arg.unknown_option"
DUPLICATE_OPTION = "arg.duplicate_option"
MISSING = "arg.missing"  # raised by handlers for an absent required argument; parsers here never do
BAD_LEVEL = "arg.bad_level"
BAD_STATUS = "arg.bad_status"
UNKNOWN_MENTION = "arg.unknown_mention"
UNBALANCED_QUOTE = "arg.unbalanced_quote"
DATE_OUT_OF_RANGE = "arg.date_out_of_range"
TOO_LONG = "arg.too_long"
OPTION_WITHOUT_VALUE = "arg.option_without_value"

ARG_ERROR_KEYS: tuple[str, ...] = (
    BAD_DATE,
    BAD_PERCENT,
    BAD_CODE,
    UNKNOWN_OPTION,
    DUPLICATE_OPTION,
    MISSING,
    BAD_LEVEL,
    BAD_STATUS,
    UNKNOWN_MENTION,
    UNBALANCED_QUOTE,
    DATE_OUT_OF_RANGE,
    TOO_LONG,
    OPTION_WITHOUT_VALUE,
)

# Limits on what a member may type, so one message cannot store megabytes (or overflow a column).
TITLE_LIMIT = 100  # task, phase and milestone titles; department and meeting names
TEXT_LIMIT = 500  # notes, blockers, risks, mitigations, action items
# A standup names several tasks over several lines: room for a real one, not for a pasted document.
STANDUP_LIMIT = 2000
CHARTER_LIMIT = 2000  # one charter field (background, goal, deliverables, scope)
YEARS_AWAY = 10  # every date typed is within this many years of today, either way
MAX_ID_DIGITS = 9  # numbers typed as ids (R3, A3, milestone 2) fit a 32-bit integer column

RiskLevel = Literal["high", "medium", "low"]
RiskStatus = Literal["open", "mitigated", "closed"]


class ArgError(Exception):
    """Bad argument text; `key` is one of ARG_ERROR_KEYS, `params` fill its message."""

    def __init__(self, key: str, params: Mapping[str, str] | None = None) -> None:
        self.key = key
        self.params: dict[str, str] = dict(params or {})
        super().__init__(key, self.params)

    def __str__(self) -> str:
        return f"{self.key} {self.params}"


# --- normalisation and tokens --------------------------------------------------------------------

# Zero-width characters sneak in when text is pasted from documents; they act as separators.
_INVISIBLE = str.maketrans({"\u200b": " ", "\ufeff": " ", "\u2060": " "})
# C0/C1 control characters other than tab and line breaks: nothing a person types, and PostgreSQL
# refuses NUL in text.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def clean(text: str) -> str:
    """`text` without control characters (tab and line breaks are kept)."""
    return _CONTROL.sub("", text)


def tidy(text: str) -> str:
    """`text` as typed, less control characters, with zero-width characters as spaces: what is stored."""
    return clean(text).translate(_INVISIBLE)


def normalize(text: str) -> str:
    """NFKC (full-width `８０％，：＝` and U+3000 become ASCII), `、` -> `,`, whitespace runs -> one space,
    control characters removed.

    Chinese characters and Chinese quotes are kept. Idempotent.
    """
    text = unicodedata.normalize("NFKC", tidy(text)).replace("、", ",")
    return " ".join(text.split())


def bounded(text: str, limit: int) -> str:
    """`text` if it has at most `limit` characters, else ArgError("arg.too_long")."""
    if len(text) > limit:
        raise ArgError(TOO_LONG, {"limit": str(limit), "length": str(len(text))})
    return text


# Opening quote -> its closing quote. A stray closing quote outside quotes is a literal character.
_QUOTES: Mapping[str, str] = MappingProxyType({'"': '"', "＂": "＂", "“": "”", "「": "」", "『": "』"})


@dataclass(frozen=True)
class _Token:
    text: str  # quotes removed
    quoted_at: int | None  # offset in `text` where the first quoted part starts; None if none
    start: int = 0  # where the token stands in the scanned text
    end: int = 0


def _scan(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    parts: list[str] = []
    length = 0
    quoted_at: int | None = None
    started = False
    start = i = 0
    while i < len(text):
        char = text[i]
        if char.isspace():
            if started:
                tokens.append(_Token("".join(parts), quoted_at, start, i))
                parts, length, quoted_at, started = [], 0, None, False
            i += 1
            continue
        if not started:
            start, started = i, True
        # A mention is atomic: a quote character inside a user id must not open a quote.
        mention = MENTION_TOKEN.match(text, i)
        closing = _QUOTES.get(char)
        if mention:
            piece, i = mention.group(), mention.end()
        elif closing is not None:
            end = text.find(closing, i + 1)
            if end < 0:
                raise ArgError(UNBALANCED_QUOTE, {"quote": char})
            if quoted_at is None:
                quoted_at = length
            piece, i = text[i + 1 : end], end + 1
        else:
            piece, i = char, i + 1
        parts.append(piece)
        length += len(piece)
    if started:
        tokens.append(_Token("".join(parts), quoted_at, start, len(text)))
    return tokens


def tokenize(text: str) -> list[str]:
    """Split on whitespace; `"..."`, `“...”`, `「...」` and `『...』` group words into one token.

    Quotes may start mid-token (`title="a b"` -> `title=a b`) and are removed; `""` gives an empty
    token. An unclosed opening quote raises ArgError("arg.unbalanced_quote", {"quote": q}).
    Does not normalise: call `normalize` first (parse_args does) so full-width `＂` counts.
    """
    return [token.text for token in _scan(text)]


# --- parse_args ------------------------------------------------------------------------------------

_ALIAS_GROUPS: Mapping[str, tuple[str, ...]] = {
    "start": ("start", "开始", "开始日期"),
    # One word for the date something ends, wherever a date is set: `结束` and `截止` mean the same.
    "due": ("due", "end", "截止", "截止日期", "到期", "结束", "结束日期"),
    "after": ("after", "依赖", "前置"),
    "dept": ("dept", "部门"),
    "title": ("title", "标题"),
    "tasks": ("tasks", "任务"),
    "mitigation": ("mitigation", "缓解", "措施", "应对"),
    "owner": ("owner", "负责人"),
    "level": ("level", "等级", "级别"),
    "text": ("text", "内容", "描述"),
    "meeting": ("meeting", "会议"),
    "people": ("people", "人力", "人员"),
    "budget": ("budget", "预算"),
    "other": ("other", "其他", "其它"),
    "R": ("r",),
    "A": ("a",),
    "C": ("c",),
    "I": ("i",),
}
END_WORDS: tuple[str, ...] = _ALIAS_GROUPS["due"]
OPTION_ALIASES: Mapping[str, str] = MappingProxyType(
    {alias: key for key, aliases in _ALIAS_GROUPS.items() for alias in aliases}
)
"""Lower-cased alias -> canonical option key (R/A/C/I upper-case, the rest lower-case English)."""

_ASCII_WORD = re.compile(r"[A-Za-z][A-Za-z0-9_-]*")
_OPTION_SYNTAX = re.compile(r"([^=:]+)([=:])(.*)", re.DOTALL)
_MENTION_LIST = re.compile(rf"(?:{MENTION_TOKEN.pattern}[,\s]*)+")


def _canonical_key(key: str) -> str:
    lowered = key.lower()
    return OPTION_ALIASES.get(lowered, lowered if key.isascii() else key)


def _mention_ids(text: str) -> tuple[str, ...]:
    """Ids of `text` if it is nothing but mention tokens (glued, or separated by commas/spaces)."""
    if not _MENTION_LIST.fullmatch(text):
        return ()
    return tuple(match[1] for match in MENTION_TOKEN.finditer(text))


@dataclass(frozen=True)
class _Item:
    index: int  # token position, to report mentions in text order
    text: str  # normalised: what the parser reads
    mention_ids: tuple[str, ...]  # non-empty iff the item is a standalone mention
    typed: str  # as typed: what is stored
    start: int  # where `typed` stands in the scanned text; -1 if it cannot be cut from there
    end: int


@dataclass
class _Segment:
    """The rest text or one option's value, with the tokens it has absorbed so far."""

    items: list[_Item]
    free_text: bool  # absorbs every following non-option token
    date: bool = False  # the value of a date option

    def absorbs(self, item: _Item) -> bool:
        if self.free_text:
            return True
        value = " ".join(part.text for part in self.items)
        # `截止 Dec 31`, `due=next fri`: a date typed as two words continues without quotes.
        if self.date and len(self.items) == 1 and _two_word_date(f"{value} {item.text}"):
            return True
        # `after=1.1, 1.2` and `C=<at:c> <at:d>`: a list value typed with spaces continues.
        return value.endswith(",") or bool(item.mention_ids and _mention_ids(value))

    def take_trailing_mentions(self) -> list[_Item]:
        """Split off the standalone mentions that end a text segment (`desc <at:owner>`)."""
        if self.items[0].mention_ids:
            return []
        cut = len(self.items)
        while self.items[cut - 1].mention_ids:
            cut -= 1
        trailing, self.items = self.items[cut:], self.items[:cut]
        return trailing

    def text(self) -> str:
        """The segment normalised, its pieces joined by single spaces."""
        return " ".join(item.text for item in self.items if item.text).strip()

    def typed_text(self, typed: str) -> str:
        """The segment as typed (`typed`: the scanned text), spacing included, never starting or
        ending with a space; quoted pieces, which cannot be cut from it, are joined by single spaces."""
        if all(item.start >= 0 for item in self.items):
            return typed[self.items[0].start : self.items[-1].end].strip()
        return " ".join(item.typed for item in self.items if item.typed).strip()


def _spaced_option(tokens: list[_Token], index: int, accepted: Collection[str]) -> tuple[str, str] | None:
    """(key, value) for `截止 12-31` or `截止: 12-31`: an unquoted accepted option word whose value is
    the next token; None if `tokens[index]` is no such word.

    An option word with nothing after it is ambiguous (a title word, or a forgotten value), so it is
    refused rather than guessed."""
    token = tokens[index]
    key = token.text.removesuffix(":")
    if token.quoted_at is not None or not key or _canonical_key(key) not in accepted:
        return None
    if index + 1 == len(tokens):
        raise ArgError(OPTION_WITHOUT_VALUE, {"option": key})
    return _canonical_key(key), tokens[index + 1].text


def _option(token: _Token, accepted: Collection[str]) -> tuple[str, str] | None:
    """(canonical key, value) if the token is an accepted option, None if it is plain text."""
    match = _OPTION_SYNTAX.fullmatch(token.text)
    if match is None:
        return None
    key, separator, value = match.groups()
    if token.quoted_at is not None and token.quoted_at <= len(key):
        return None  # a quoted `"a=b"` is literal text
    canonical = _canonical_key(key)
    # `key:` only for this command's own keys so notes like "http://x" or "plan A:x" stay text;
    # an empty `key:` is prose ("原因:") while an empty `key=` means "set to empty".
    if canonical in accepted and (separator == "=" or value):
        return canonical, value
    if separator == "=" and (_ASCII_WORD.fullmatch(key) or key.lower() in OPTION_ALIASES):
        raise ArgError(UNKNOWN_OPTION, {"option": key})
    return None


_DATE_OPTIONS = frozenset({"start", "due"})
# Options whose value is stored as typed; the others' values are read by the parser, so normalised.
_TEXT_OPTIONS = frozenset({"title", "text", "mitigation", "meeting", "people", "budget", "other"})
_TYPED_OPTION = re.compile(r"[^=:＝：]+[=:＝：](.*)", re.DOTALL)


def _typed_item(index: int, token: _Token, typed: _Token) -> _Item:
    """A word or mention token: read normalised (`token`), kept as typed."""
    ids = _mention_ids(token.text) if token.quoted_at is None else ()
    cut = token.quoted_at is None
    return _Item(index, token.text, ids, typed.text, typed.start if cut else -1, typed.end)


def _typed_value(index: int, value: str, typed: _Token) -> _Item:
    """The value of a `key=value` token: read normalised (`value`), kept as typed when it can be found."""
    match = _TYPED_OPTION.fullmatch(typed.text)
    if match is None or normalize(match[1]) != normalize(value):
        return _Item(index, value, _mention_ids(value), value, -1, -1)
    cut = typed.quoted_at is None
    start = typed.start + match.start(1)
    return _Item(index, value, _mention_ids(value), match[1], start if cut else -1, typed.end)


@dataclass(frozen=True)
class Args:
    positional: tuple[str, ...] = ()
    options: dict[str, str] = field(default_factory=dict)
    mentions: tuple[str, ...] = ()
    rest: str = ""


def parse_args(text: str, *, options: Collection[str], max_positional: int | None = None) -> Args:
    """Split command arguments into positionals, options, standalone mentions and free text.

    The text is normalised and tokenised (see `tokenize`), then every token is classified:

    * Option: `key=value`, or `key:value` with a non-empty value. `key` is matched case-insensitively
      through OPTION_ALIASES (`截止=` is `due`, `r=` is `R`) against `options` (canonicalised the
      same way). An unaccepted `word=` (ASCII word or known alias) raises "arg.unknown_option"; any
      other `=`/`:` token, and `key:` for a key this command does not accept, is plain text, as is
      a token whose key part was quoted. The value is kept verbatim (may hold `=`, `:`, commas,
      mention tokens). A key given twice raises "arg.duplicate_option".
    * Mention: an unquoted token made only of `<at:ID>` tokens (glued or comma-separated).
    * Word: anything else.

    Words fill `positional` in order until `max_positional` are read (never, if None; so `rest` is
    then ""). The first word after that starts the free text, `rest`: the tokens up to the next
    option (or the end) joined by single spaces, quotes removed. Options are recognised wherever
    they stand, with these value rules:

    * An option after the free text has started opens a trailing options section: its value runs
      up to the next option (`... mitigation=add nodes` -> "add nodes"), so free text must come
      before trailing options and a note cannot resume after them.
    * Any other option value is one token, continued by the next token while it ends with a comma
      (`after=1.1, 1.2`) or, for a mention-only value, by further mention tokens
      (`C=<at:c> <at:d>`). Words after such an option are positionals or free text as usual.

    `mentions` holds, in text order and without repeats, the ids of mention tokens outside the
    free text and option values, plus those ending the free text or a trailing text value
    (`desc <at:owner> due=...` -> owner is a mention, not part of desc). A mention between two
    words of free text belongs to the sentence and stays in `rest` only ("waiting on <at:bob> review").
    """
    accepted = {_canonical_key(key) for key in options}
    positional: list[str] = []
    mention_items: list[_Item] = []
    values: dict[str, _Segment] = {}
    rest: _Segment | None = None
    current: _Segment | None = None  # the segment that may absorb the next token
    # The parser reads normalised tokens; what it keeps (free text, option values) is cut as typed.
    typed = tidy(text)
    typed_tokens = _scan(typed)
    tokens = [replace(token, text=normalize(token.text)) for token in typed_tokens]
    value_at = -1  # the index of a token already read as the value of the option word before it
    for index, token in enumerate(tokens):
        if index == value_at:
            continue
        if token.text == "@":
            raise ArgError(UNKNOWN_MENTION, {"value": "@"})  # an @ that picked nobody
        option = _option(token, accepted)
        if option is not None:
            first = _typed_value(index, option[1], typed_tokens[index])
        elif (option := _spaced_option(tokens, index, accepted)) is not None:
            value_at = index + 1
            first = _typed_item(value_at, tokens[value_at], typed_tokens[value_at])
        if option is not None:
            key = option[0]
            if key in values:
                raise ArgError(DUPLICATE_OPTION, {"option": key})
            current = values[key] = _Segment([first], free_text=rest is not None, date=key in _DATE_OPTIONS)
            continue
        item = _typed_item(index, token, typed_tokens[index])
        ids = item.mention_ids
        if current is not None and current.absorbs(item):
            current.items.append(item)
            continue
        current = None
        if ids:
            mention_items.append(item)
        elif max_positional is not None and len(positional) >= max_positional:
            current = rest = _Segment([item], free_text=True)
        else:
            positional.append(item.text)
    for segment in (*values.values(), *((rest,) if rest else ())):
        mention_items.extend(segment.take_trailing_mentions())
    mention_items.sort(key=lambda item: item.index)
    mentions = dict.fromkeys(user_id for item in mention_items for user_id in item.mention_ids)
    return Args(
        positional=tuple(positional),
        options={
            key: segment.typed_text(typed) if key in _TEXT_OPTIONS else segment.text()
            for key, segment in values.items()
        },
        mentions=tuple(mentions),
        rest=rest.typed_text(typed) if rest else "",
    )


# --- standups typed without /站会 ------------------------------------------------------------------

_STANDUP_LABEL = re.compile(r"(昨天|今天|卡点|阻塞|yesterday|today|blockers?)\s*:", re.IGNORECASE)


def looks_like_standup(text: str) -> bool:
    """Normalised `text` has at least two distinct standup labels (`昨天: ... 今天: ...`)."""
    return len({label.lower() for label in _STANDUP_LABEL.findall(text)}) >= 2


# --- dates -----------------------------------------------------------------------------------------

# A year-less month-day further back than this means next year's ("01-05" typed in late November).
_PAST_WINDOW_DAYS = 183

_FULL_DATES = (
    re.compile(r"(?P<y>[0-9]{4})(?P<sep>[-/.])(?P<m>[0-9]{1,2})(?P=sep)(?P<d>[0-9]{1,2})"),
    re.compile(r"(?P<y>[0-9]{4})年(?P<m>[0-9]{1,2})月(?P<d>[0-9]{1,2})[日号]?"),
)
_MONTH_DAYS = (
    re.compile(r"(?P<m>[0-9]{1,2})[-/.](?P<d>[0-9]{1,2})"),
    re.compile(r"(?P<m>[0-9]{1,2})月(?P<d>[0-9]{1,2})[日号]?"),
)
_COMPACT_DATE = re.compile(r"(?P<y>[0-9]{4})(?P<m>[0-9]{2})(?P<d>[0-9]{2})")
_EN_MONTH_DAY = re.compile(
    r"(?P<mon>[a-z]{3,9})\.? ?(?P<d>[0-9]{1,2})(?:st|nd|rd|th)?|(?P<d2>[0-9]{1,2}) (?P<mon2>[a-z]{3,9})"
)
_EN_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_OFFSET = re.compile(r"\+?([0-9]{1,4}) ?(d|w|天后|周后|个?星期后)")
_EN_WEEKDAY = re.compile(r"(?:(next|this)[ _-]?)?([a-z]+)")
_CN_WEEKDAY = re.compile(r"(下个?|本|这个?)?(?:周|星期|礼拜)([一二三四五六日天])")

_RELATIVE_DAYS: Mapping[str, int] = MappingProxyType(
    {
        **{"yesterday": -1, "昨天": -1, "昨日": -1, "前天": -2},
        **{"today": 0, "今天": 0, "今日": 0, "tomorrow": 1, "明天": 1, "明日": 1, "后天": 2, "大后天": 3},
    }
)
_EN_WEEKDAYS: Mapping[str, int] = MappingProxyType(
    {
        name: number
        for number, names in enumerate(
            (
                ("mon", "monday"),
                ("tue", "tues", "tuesday"),
                ("wed", "wednesday"),
                ("thu", "thur", "thurs", "thursday"),
                ("fri", "friday"),
                ("sat", "saturday"),
                ("sun", "sunday"),
            )
        )
        for name in names
    }
)
_CN_WEEKDAYS = "一二三四五六日"


def _shifted(today: date, days: int, value: str) -> date:
    try:
        return today + timedelta(days=days)
    except OverflowError:
        raise ArgError(BAD_DATE, {"value": value}) from None


def _weekday(today: date, weekday: int, weeks_ahead: int | None, value: str) -> date:
    """`weeks_ahead` None: the next such day on or after today; 0/1: in this/next Monday-week."""
    if weeks_ahead is None:
        return _shifted(today, (weekday - today.weekday()) % 7, value)
    return _shifted(today, 7 * weeks_ahead - today.weekday() + weekday, value)


def _month_day(month: int, day: int, today: date, value: str) -> date:
    for year in (today.year, today.year + 1):
        try:
            candidate = date(year, month, day)
        except ValueError:
            continue  # 02-29 outside a leap year, or year 10000
        if (today - candidate).days <= _PAST_WINDOW_DAYS:
            return candidate
    raise ArgError(BAD_DATE, {"value": value})


def _two_word_date(text: str) -> bool:
    """Whether `text` is a date of two words `read_date` reads: `Dec 31`, `31 Dec`, `next fri`."""
    text = text.lower()
    if (match := _EN_MONTH_DAY.fullmatch(text)) and _en_month(match["mon"] or match["mon2"]):
        return " " in text
    match = _EN_WEEKDAY.fullmatch(text)
    return bool(match and match[1] and match[2] in _EN_WEEKDAYS and " " in text)


def _en_month(word: str) -> int | None:
    """1..12 for `dec`, `december`, `sept`; None if `word` names no month."""
    for number, prefix in enumerate(_EN_MONTHS, start=1):
        if word.startswith(prefix) and (word == prefix or word in _EN_MONTH_NAMES):
            return number
    return None


_EN_MONTH_NAMES = frozenset(
    {"january", "february", "march", "april", "june", "july", "august", "sept", "september"}
    | {"october", "november", "december"}
)


def _years_from(today: date, years: int) -> date:
    year = min(max(today.year + years, MINYEAR), MAXYEAR)
    try:
        return today.replace(year=year)
    except ValueError:  # Feb 29 in a year without one
        return today.replace(year=year, day=28)


def check_near(day: date, *, today: date, value: str) -> date:
    """`day` if it is within YEARS_AWAY years of `today`, else ArgError("arg.date_out_of_range").

    Far dates are typing mistakes, and every day of a plan costs work when it is scanned."""
    if not _years_from(today, -YEARS_AWAY) <= day <= _years_from(today, YEARS_AWAY):
        raise ArgError(DATE_OUT_OF_RANGE, {"value": value, "years": str(YEARS_AWAY)})
    return day


def parse_date(value: str, *, today: date) -> date:
    """A date typed in chat (see `read_date`), refused unless within YEARS_AWAY years of `today`."""
    return check_near(read_date(value, today=today), today=today, value=value)


def read_date(value: str, *, today: date) -> date:
    """A calendar date from the forms people type in chat.

    * `YYYY-MM-DD`, `YYYY/MM/DD`, `YYYY.MM.DD` (one separator throughout), `YYYY年M月D日` (日/号
      optional); month and day may have one or two digits.
    * Year-less `M月D日`/`M月D号`, `MM-DD`, `M/D`, `M.D`, `M月D`: this year, or next year when this
      year's date is more than 183 days before `today` (on 2026-11-25, "01-05" is 2027-01-05 but
      "06-01" is 2026-06-01). Feb 29 falls to the next year that has it within that window.
    * `20261228` (eight digits, year first); `Dec 31`, `december 31st`, `31 Dec` (year as above).
    * `yesterday`, `昨天/昨日`, `前天`, `today/tomorrow`, `今天/今日`, `明天/明日`, `后天`, `大后天`.
    * Weekdays `mon..sun`, `monday..sunday` (also tue(s), thu(r)(s)), `周一..周日`, `周天`,
      `星期一..星期日/星期天`, `礼拜一..礼拜日/礼拜天`: the next such day on or after `today`
      (today itself if it matches).
    * `next mon`/`下周一`/`下个星期一`: that weekday in the next calendar week (weeks start on Monday,
      so on a Sunday "下周一" is tomorrow); `this fri`/`本周五`/`这周五`: in the current week, even
      if already past.
    * Offsets `+3d`/`3d`, `+2w`, `3天后`, `2周后`/`2个星期后` (ASCII or full-width digits).

    Chinese numerals in dates ("十二月一日") are not understood. Anything else, or a date that
    does not exist (2026-02-30), raises ArgError("arg.bad_date", {"value": value}).
    """
    text = normalize(value).lower()
    if text in _RELATIVE_DAYS:
        return _shifted(today, _RELATIVE_DAYS[text], value)
    for pattern in _FULL_DATES:
        if match := pattern.fullmatch(text):
            try:
                return date(int(match["y"]), int(match["m"]), int(match["d"]))
            except ValueError:
                raise ArgError(BAD_DATE, {"value": value}) from None
    if match := _COMPACT_DATE.fullmatch(text):
        try:
            return date(int(match["y"]), int(match["m"]), int(match["d"]))
        except ValueError:
            raise ArgError(BAD_DATE, {"value": value}) from None
    for pattern in _MONTH_DAYS:
        if match := pattern.fullmatch(text):
            return _month_day(int(match["m"]), int(match["d"]), today, value)
    if (match := _EN_MONTH_DAY.fullmatch(text)) and (month := _en_month(match["mon"] or match["mon2"])):
        return _month_day(month, int(match["d"] or match["d2"]), today, value)
    if match := _OFFSET.fullmatch(text):
        return _shifted(today, int(match[1]) * (1 if match[2] in ("d", "天后") else 7), value)
    if (match := _EN_WEEKDAY.fullmatch(text)) and match[2] in _EN_WEEKDAYS:
        weeks_ahead = None if match[1] is None else int(match[1] == "next")
        return _weekday(today, _EN_WEEKDAYS[match[2]], weeks_ahead, value)
    if match := _CN_WEEKDAY.fullmatch(text):
        weeks_ahead = None if match[1] is None else int(match[1].startswith("下"))
        return _weekday(today, _CN_WEEKDAYS.index(match[2].replace("天", "日")), weeks_ahead, value)
    raise ArgError(BAD_DATE, {"value": value})


# --- numbers, codes, mentions, enums ----------------------------------------------------------------

_PERCENT = re.compile(r"([0-9]{1,3})(?:\.0+)?")


def parse_percent(value: str) -> int:
    """`80`, `80%`, `80 %`, `８０％`, `80.0` -> 80. Real fractions (`80.5`) are rejected rather
    than rounded, since progress is whole percent. Outside 0..100 -> ArgError("arg.bad_percent")."""
    match = _PERCENT.fullmatch(normalize(value).removesuffix("%").rstrip())
    if match is None or int(match[1]) > 100:
        raise ArgError(BAD_PERCENT, {"value": value})
    return int(match[1])


# At most 9999 items a level, so a code fits its column (Task.code, 32 characters).
_WBS_CODE = re.compile(r"[1-9][0-9]{0,3}(?:\.[1-9][0-9]{0,3}){0,2}")


def parse_wbs_code(value: str) -> str:
    """`1`, `1.2`, `1.2.3` (1-3 levels of integers 1-9999, no leading zeros) -> canonical code.

    Full-width digits and the ideographic full stop (`１。２`, from a Chinese IME) are accepted.
    Anything else (`0`, `01`, `1.`, `1.2.3.4`) -> ArgError("arg.bad_code", {"value": value}).
    """
    code = normalize(value).replace("。", ".")
    if not _WBS_CODE.fullmatch(code):
        raise ArgError(BAD_CODE, {"value": value})
    return code


def parent_code(code: str) -> str | None:
    """`1.2.3` -> `1.2`; a top-level code has no parent."""
    parent, _, _ = parse_wbs_code(code).rpartition(".")
    return parent or None


def code_level(code: str) -> int:
    """`1` -> 1, `1.2` -> 2, `1.2.3` -> 3."""
    return parse_wbs_code(code).count(".") + 1


def _unique(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(values))


def parse_code_list(value: str) -> tuple[str, ...]:
    """`1.1,1.2`, `1.1、1.2`, `1.1, 1.2` or `1.1 1.2` -> codes in order without repeats.

    Empty items are skipped, so an empty value is `()` (e.g. `after=` clears dependencies); an
    invalid item raises ArgError("arg.bad_code", {"value": item}).
    """
    items = re.split(r"[,\s]+", normalize(value))
    return _unique(parse_wbs_code(item) for item in items if item)


def parse_mention(token: str) -> str | None:
    """The user id of a token that is exactly one `<at:ID>`, else None."""
    match = MENTION_TOKEN.fullmatch(token.strip())
    return match[1] if match else None


def unreported_mentions_as_text(text: str, reported: Collection[str]) -> str:
    """`text` with every `<at:ID>` whose ID is not in `reported` (the platform's own list of who the
    message mentions) made plain text: typed by hand, it must never act as a mention. Its `<` becomes
    `‹`, which `normalize` keeps (a full-width `＜` would turn back into `<`)."""
    return MENTION_TOKEN.sub(lambda match: match[0] if match[1] in reported else "‹" + match[0][1:], text)


def parse_mention_list(value: str) -> tuple[str, ...]:
    """`<at:a>,<at:b>`, `<at:a> <at:b>`, `<at:a>、<at:b>` or glued -> ids in order without repeats.

    An empty value is `()`; any other text raises ArgError("arg.unknown_mention", {"value": text})
    with the first offending piece, e.g. a name typed without the @ picker.
    """
    # split() with the id group alternates gap, id, gap, ...; every gap must be a separator.
    pieces = MENTION_TOKEN.split(normalize(value))
    for gap in pieces[::2]:
        if stray := gap.strip(" ,"):
            raise ArgError(UNKNOWN_MENTION, {"value": stray})
    return _unique(pieces[1::2])


def parse_people_or_names(value: str) -> tuple[tuple[Literal["user", "name"], str], ...]:
    """`<at:a>,研发、<at:b>` -> (("user", "a"), ("name", "研发"), ("user", "b")): mentions and
    names (a department standing for its head) in order without repeats; names end at commas and
    spaces. A name starting with `@` was typed without the @ picker: ArgError("arg.unknown_mention")."""
    found: list[tuple[Literal["user", "name"], str]] = []
    for index, piece in enumerate(MENTION_TOKEN.split(normalize(value))):
        if index % 2:
            found.append(("user", piece))
            continue
        for name in re.split(r"[,\s]+", piece):
            if name.startswith("@"):
                raise ArgError(UNKNOWN_MENTION, {"value": name})
            if name:
                found.append(("name", name))
    return tuple(dict.fromkeys(found))


_LEVELS: Mapping[str, RiskLevel] = MappingProxyType(
    {
        **dict.fromkeys(("high", "h", "高", "高风险", "高危"), "high"),
        **dict.fromkeys(("medium", "med", "m", "中", "中等", "中风险"), "medium"),
        **dict.fromkeys(("low", "l", "低", "低风险"), "low"),
    }
)
_STATUSES: Mapping[str, RiskStatus] = MappingProxyType(
    {
        **dict.fromkeys(("open", "reopen", "未缓解", "打开", "开放", "重新打开"), "open"),
        **dict.fromkeys(("mitigated", "mitigate", "已缓解", "缓解"), "mitigated"),
        **dict.fromkeys(("closed", "close", "关闭", "已关闭"), "closed"),
    }
)


def parse_level(value: str) -> RiskLevel:
    """high/h/高/高风险/高危, medium/med/m/中/中等/中风险, low/l/低/低风险 (any case)."""
    level = _LEVELS.get(normalize(value).lower())
    if level is None:
        raise ArgError(BAD_LEVEL, {"value": value})
    return level


def parse_risk_status(value: str) -> RiskStatus:
    """open/reopen/未缓解/打开/开放/重新打开, mitigated/mitigate/已缓解/缓解, closed/close/关闭/已关闭."""
    status = _STATUSES.get(normalize(value).lower())
    if status is None:
        raise ArgError(BAD_STATUS, {"value": value})
    return status
