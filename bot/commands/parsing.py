"""Pure parsers that turn chat-command argument text into typed values.

No I/O and no clock (`today` is always a parameter). Every function raises only `ArgError` for
bad input; its `key` is an i18n catalog key and its `params` fill the message, so the caller can
answer politely in zh or en.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Literal

from adapters.models import MENTION_TOKEN

# The readers imported plan files share live in the domain; commands still import them from here.
from bot.domain.text import (  # noqa: F401
    ARG_ERROR_KEYS,
    BAD_LEVEL,
    BAD_PERCENT,
    BAD_STATUS,
    DUPLICATE_OPTION,
    OPTION_WITHOUT_VALUE,
    TOO_LONG,
    UNBALANCED_QUOTE,
    UNKNOWN_MENTION,
    UNKNOWN_OPTION,
    YEARS_AWAY,
    ArgError,
    check_near,
    clean,
    normalize,
    parse_date,
    parse_wbs_code,
    read_date,
    tidy,
    two_word_date,
)

# Limits on what a member may type, so one message cannot store megabytes (or overflow a column).
TITLE_LIMIT = 100  # task, phase and milestone titles; department and meeting names
TEXT_LIMIT = 500  # notes, blockers, risks, mitigations, action items
# A standup names several tasks over several lines: room for a real one, not for a pasted document.
STANDUP_LIMIT = 2000
CHARTER_LIMIT = 2000  # one charter field (background, goal, deliverables, scope)
MAX_ID_DIGITS = 9  # numbers typed as ids (R3, A3, milestone 2) fit a 32-bit integer column

RiskLevel = Literal["high", "medium", "low"]
RiskStatus = Literal["open", "mitigated", "closed"]


# --- tokens --------------------------------------------------------------------


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
        if self.date and len(self.items) == 1 and two_word_date(f"{value} {item.text}"):
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


# --- numbers, codes, mentions, enums ----------------------------------------------------------------

_PERCENT = re.compile(r"([0-9]{1,3})(?:\.0+)?")


def parse_percent(value: str) -> int:
    """`80`, `80%`, `80 %`, `８０％`, `80.0` -> 80. Real fractions (`80.5`) are rejected rather
    than rounded, since progress is whole percent. Outside 0..100 -> ArgError("arg.bad_percent")."""
    match = _PERCENT.fullmatch(normalize(value).removesuffix("%").rstrip())
    if match is None or int(match[1]) > 100:
        raise ArgError(BAD_PERCENT, {"value": value})
    return int(match[1])


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
