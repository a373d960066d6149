"""Pure readers of typed text shared by chat commands and imported files: normalisation, dates and
WBS codes. No I/O and no clock (`today` is always a parameter); bad input raises only `ArgError`,
whose `key` is an i18n catalogue key and whose `params` fill the message.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from datetime import MAXYEAR, MINYEAR, date, timedelta
from types import MappingProxyType

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

YEARS_AWAY = 10  # every date typed is within this many years of today, either way


class ArgError(Exception):
    """Bad argument text; `key` is one of ARG_ERROR_KEYS, `params` fill its message."""

    def __init__(self, key: str, params: Mapping[str, str] | None = None) -> None:
        self.key = key
        self.params: dict[str, str] = dict(params or {})
        super().__init__(key, self.params)

    def __str__(self) -> str:
        return f"{self.key} {self.params}"


# --- normalisation -----------------------------------------------------------------------------

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


def two_word_date(text: str) -> bool:
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
