"""Reading a free-text standup reply: the three answers, a resource request, per-task progress and
blockers. Pure.

People answer the prompt the way they write in chat: Chinese, English or both, full-width or not,
with section labels (`昨天：`, `Today:`, `卡点：`) or without, on one line or several. The rules:

* Sections. A label starts a section at the beginning of a line or clause (after `，。；,;!?` or a
  sentence-ending `.`), optionally after a bullet (`-`, `1.`, `1、`) or inside `【】`/`[]`. Labels
  need a colon, except the time words 昨天/昨日/今天/今日/yesterday/today, which also work as the
  first word of a clause ("昨天把接口写完了"). Text before the first label counts as yesterday.
  The fourth section, a resource request, is only ever opened by its label (需协调资源/需要支持/
  求助/资源需求/need/help/resources ...: see `_LABEL_WORDS`). Without any label, lines answer the
  questions in order (two lines: yesterday, today; three: + blockers); a lone line, or more than
  three, is yesterday. Lines that only report task progress, and a lone "无"/"none", are set
  aside first so they do not shift the others.
* Task codes. Only codes of the project's tasks count (`known_codes`), so "12.1 上线" is a date
  when there is no task 12.1. A code glued to a letter or digit (`v2.1`, `2.1.9`), followed by a
  unit (`2.1版本`, `2.1 version`, `1.5天`, `2.1%`) or, for a one-level code, not written `任务3`,
  `task 3` or `#3` (plain integers are everywhere in prose) is not a task code. Codes joined by
  `、 , / 和 and` share what follows or precedes them ("1.1、1.2 完成" finishes both).
* Progress. A percent after a code sets that task: `1.1 80%`, `任务2.1完成80%`, `2.1：８０％`,
  `2.1 进度到 80%`, `2.1 from 50% to 80%`, also with a few words between (`2.1 后端接口 80%`) unless
  they make it the rest or a target (`2.1 还差 20%`, `2.1 预计周五 90%`, `2.1 30% left`). A done
  word finishes it: right after the code (`2.1 done`, `2.1 完成`, `2.1和2.2都完成了`), ending the
  clause a few words later (`2.1 后端接口 完成`, not `2.1 部分完成`/`2.1 没完成`/`2.1 明天完成`), or
  before it (`完成了 2.1`, `finished 2.1`, `Done: 2.1`, not `计划完成 2.1`). "2.1 完成接口" and
  "2.1 完成了一半" finished a part of it: no progress. Nothing in the today section is progress
  (that is the plan). The last value given for a task wins.
* Blockers. A code in the blockers section is blocked, unless it follows 等/waiting for/depends on
  (then it is what the blocked work waits for); so is a code followed by blocked/stuck/卡住/受阻
  anywhere, or preceded by 卡在/stuck on. The blocker text is what follows the code. "无/没有/暂无/
  none/n/a" as the blockers answer, or "没有卡点"/"no blockers" anywhere, means no blocker.
* Resource requests. The `needs` section is what the person asks the project for ("需协调资源：
  需要测试服务器 2台"); "无/none/不需要" there means no request. A code in it is the task the
  request is for (`need_code`), neither progress nor a blocker.
* Titles. Given the sender's own open tasks, a title that a percent or a done word follows, or a
  done word precedes, stands for its code (`问卷设计 done`, `完成了问卷设计`, `finished the survey
  design`), and a code followed by its own title reads as the code (`3.1 问卷设计 80%`). A title two
  of those tasks share is not read: they are asked which (`which`).
* Not understood. Nothing that looks like progress is dropped without a word. In the yesterday
  section (where progress is reported; unlabelled text counts there), a clause that names a task or
  holds a percent (percent words included, "八成"), but in which no task it names got progress, a
  blocker or a question (`unclear`, `which`), is quoted back as typed (`unread`): "80%",
  "接口写了 60%", "2.1 部分完成", "2.1 还差 20%". A code of no task followed by what would be
  progress or a blocker ("9.9 50%", "Blocked on 9.9: …") is `no_such_task`. The today section is the
  plan and the blockers section says what blocks: neither is complained about, nor is plain prose
  (no code, no percent), which is just its section's text.
* Same as yesterday. `same_as_before` is true when the whole reply, phone noise aside, is 同上 /
  同昨天 / 和昨天一样 / same as yesterday / same: the caller carries the last plan over.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Collection, Iterator, Mapping
from dataclasses import dataclass, field
from functools import partial
from typing import Literal

Section = Literal["yesterday", "today", "blockers", "needs"]
SECTIONS: tuple[Section, ...] = ("yesterday", "today", "blockers", "needs")
MAX_TEXT = 4000


@dataclass(frozen=True)
class StandupParse:
    yesterday: str = ""
    today: str = ""
    blockers: str = ""
    needs: str = ""  # a resource request, as written ("" when there is none)
    need_code: str | None = None  # the task the request names, if any
    progress: tuple[tuple[str, int], ...] = ()  # (code, percent) in order of first mention
    blocked: tuple[tuple[str, str], ...] = ()  # (code, what blocks it; may be "")
    no_blocker: bool = False
    labels: frozenset[Section] = frozenset()  # the sections a label opened (the others were inferred)
    # (code, what was said) where the progress is unclear: several percents, none the task's own.
    unclear: tuple[tuple[str, str], ...] = ()
    # (title, codes) where a task title written instead of a code names several of the sender's tasks.
    which: tuple[tuple[str, tuple[str, ...]], ...] = ()
    # What looks like progress but set none, as typed, with a code it names ("" if none): shown back.
    unread: tuple[tuple[str, str], ...] = ()
    # (code, what was said, as typed) where a percent, a done word or a blocker follows a code of no task.
    no_such_task: tuple[tuple[str, str], ...] = ()

    @property
    def recognised(self) -> bool:
        """Whether the text reads as a standup at all, rather than any chat line."""
        said = self.progress or self.blocked or self.unclear or self.which or self.no_such_task
        return bool(self.labels or said) or self.no_blocker

    def section(self, name: Section) -> str:
        return {
            "yesterday": self.yesterday,
            "today": self.today,
            "blockers": self.blockers,
            "needs": self.needs,
        }[name]


# --- normalisation and clauses --------------------------------------------------------------------

_INVISIBLE = str.maketrans({"\u200b": " ", "\ufeff": " ", "\u2060": " ", "\t": " "})
_IME_DOT = re.compile(r"(?<=\d)。(?=\d)")  # `2。1` typed with a Chinese IME
_CLAUSE_END = re.compile(r"[,;。!?]|\.(?=\s|$)")
_BULLET = re.compile(r"\s*(?:[-*•·>]+\s*|\d{1,2}[、)]\s*|\d{1,2}\.\s+|\(\d{1,2}\)\s*)?")
_STRIP = " ,;。!?.:-、"


# Phone noise: @mentions at the start of a line, a signature line ("-- 张三", "—— Tom").
_MENTIONS = re.compile(r"^(?:@\S+\s*)+")
_SIGNATURE = re.compile(r"^(?:--|—+|~+)\s*\S{1,20}$")
_SPACES = re.compile(r"\s+")


@dataclass(frozen=True)
class _Typed:
    """A normalised line and, per character, the span of the typed text it came from, so that what
    the bot could not read is quoted as typed (`「写了八十％」`, not `「写了80%」`)."""

    text: str
    at: tuple[tuple[int, int], ...]

    def map(self, char: Callable[[str], str]) -> _Typed:
        """Each character replaced by one character."""
        return _Typed("".join(map(char, self.text)), self.at)

    def sub(self, pattern: re.Pattern[str], repl: Callable[[re.Match[str]], str] | str) -> _Typed:
        text: list[str] = []
        at: list[tuple[int, int]] = []
        last = 0
        for match in pattern.finditer(self.text):
            if match.end() == match.start():
                continue
            new = repl if isinstance(repl, str) else repl(match)
            text.append(self.text[last : match.start()])
            at += self.at[last : match.start()]
            text.append(new)
            at += [(self.at[match.start()][0], self.at[match.end() - 1][1])] * len(new)
            last = match.end()
        return _Typed("".join(text) + self.text[last:], tuple(at) + self.at[last:])

    def strip(self) -> _Typed:
        start = len(self.text) - len(self.text.lstrip())
        end = len(self.text.rstrip())
        return _Typed(self.text[start:end], self.at[start:end])

    def typed(self, raw: str, start: int, end: int) -> str:
        """What the person typed for `text[start:end]`, without the separators around it."""
        while start < end and self.text[start] in _STRIP:
            start += 1
        while end > start and self.text[end - 1] in _STRIP:
            end -= 1
        return raw[self.at[start][0] : self.at[end - 1][1]].strip() if end > start else ""


def _denoised(line: _Typed) -> _Typed:
    # Emoji and other pictographs (Unicode "So") say nothing a parser can use.
    line = line.map(lambda char: " " if unicodedata.category(char) == "So" else char)
    return line.strip().sub(_MENTIONS, "").sub(_SPACES, " ").strip()


# Percents in words: "45 percent", "百分之六十", "八十%", "六成", "七成半".
_CN_DIGITS = {
    "零": 0,
    "一": 1,
    "二": 2,
    "两": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}
_CN_NUMBER = r"[零一二两三四五六七八九十百]{1,4}"
_PERCENT_WORDS = re.compile(
    rf"(?P<num>\d{{1,3}})\s*(?:percent|per\s*cent|pct)(?![a-z])"
    rf"|百分之(?P<cn_pct>{_CN_NUMBER}|\d{{1,3}})"
    rf"|(?<![零一二两三四五六七八九十百])(?P<cn>{_CN_NUMBER})\s*%"
    rf"|(?<![零一二两三四五六七八九十百A-Za-z0-9])(?P<tenths>[一二两三四五六七八九十])成(?P<half>半)?(?![\u4e00-\u9fff])",
    re.I,
)


def _cn_number(text: str) -> int | None:
    """0-100 written in Chinese numerals ("六十", "八十五", "十", "一百"), else None."""
    if text == "一百" or text == "百":
        return 100
    if text in _CN_DIGITS:
        return _CN_DIGITS[text]
    tens, _, units = text.partition("十")
    if "十" not in text or (tens and tens not in _CN_DIGITS) or (units and units not in _CN_DIGITS):
        return None
    return (_CN_DIGITS[tens] if tens else 1) * 10 + (_CN_DIGITS[units] if units else 0)


def _percent_word(match: re.Match[str]) -> str:
    if match["num"]:
        return f"{match['num']}%"
    if raw := match["cn_pct"]:
        value = int(raw) if raw.isdigit() else _cn_number(raw)
    elif match["cn"]:
        value = _cn_number(match["cn"])
    else:
        tenths = _cn_number(match["tenths"])
        value = tenths * 10 + (5 if match["half"] else 0) if tenths else None
    return match[0] if value is None else f"{value}%"


def _typed_lines(raw: str) -> list[_Typed]:
    """NFKC (`：８０％` -> `:80%`), whitespace runs -> one space, line breaks kept, empty lines,
    emoji, leading @mentions and a signature line dropped."""
    chars: list[str] = []
    at: list[tuple[int, int]] = []
    for index, char in enumerate(raw):  # character by character, to know where each came from
        for normal in unicodedata.normalize("NFKC", char):
            chars.append(normal)
            at.append((index, index + 1))
    text = _Typed("".join(chars), tuple(at)).sub(_IME_DOT, ".").map(lambda char: char.translate(_INVISIBLE))
    lines, offset = [], 0
    for piece in text.text.splitlines(keepends=True):
        content = piece.splitlines()[0]  # without the line break
        line = _Typed(content, text.at[offset : offset + len(content)])
        offset += len(piece)
        lines.append(_denoised(line).sub(_PERCENT_WORDS, _percent_word))
    return [line for line in lines if line.text and not _SIGNATURE.match(line.text)]


def _has_cjk(text: str) -> bool:
    return any("\u4e00" <= char <= "\u9fff" for char in text)


_SUFFIX = (
    r"(?:'s)?(?:\s*(?:完成|计划|安排|工作|进展|进度|事项|情况|目标|plans?|work|progress|items?|goals?))?"
    r"(?:\s*[/&、和与及]\s*[^\s:/]{1,10})?"  # "卡点/风险：", "Blockers/risks:"
)
_LABEL_WORDS: dict[Section, str] = {
    "yesterday": r"昨天|昨日|yesterday|done|did|completed|finished|已完成|完成|进展|进度",
    "today": r"今天|今日|today|plans?|todo|to do|next|计划|待办",
    "blockers": (
        r"遇到卡点|卡点|阻塞|问题|风险|困难|blockers?|blocked|blocking|impediments?|issues?|problems?|risks?"
    ),
    "needs": (
        r"需协调资源|需要协调资源|需协调|需要协调|需要支持|需支持|需要帮助|求助|资源需求|需要资源|"
        r"need help|help needed|needs?|help|resources?"
    ),
}
_LABELS: tuple[tuple[Section, re.Pattern[str]], ...] = (
    *(
        (
            name,
            re.compile(
                rf"[\[【]?(?:{words}){_SUFFIX}[\]】]?\s*:\s*|[\[【](?:{words}){_SUFFIX}[\]】]\s*", re.I
            ),
        )
        for name, words in _LABEL_WORDS.items()
    ),
    # The time words need no colon: "今天继续联调", "Yesterday I fixed the build".
    ("yesterday", re.compile(r"(?:昨天|昨日|yesterday(?:'s)?(?![a-z]))\s*", re.I)),
    ("today", re.compile(r"(?:今天|今日|today(?:'s)?(?![a-z]))\s*", re.I)),
)


@dataclass
class _Clause:
    line: int
    begin: int  # where the clause starts in its line
    start: int  # where its content starts (after a bullet and a label)
    end: int
    section: Section | None  # None: before any label
    label: bool  # the clause opens a section


# A label with a colon also opens a section in the middle of a clause, after a space or a symbol:
# "昨天：整理需求 今天：写方案 卡点：无", "Yesterday: drafted questions today: send survey".
_MID_LABEL = re.compile(rf"(?<![\w@])(?:{'|'.join(_LABEL_WORDS.values())}){_SUFFIX}\s*:(?!//)", re.I)
# "卡点：无 2.1 80%": the "no blocker" answer ends there; what follows is no blocker.
_NONE_THEN = re.compile(r"(?<=:)\s*(?:无|没有|暂无|none|nothing|n/a)(?=\s+\S)", re.I)


def _ends(line: str) -> list[tuple[int, int]]:
    """(where a clause ends, where the next one begins) in one line."""
    # "1. 昨天：..." is a numbered line, not a sentence ending in "1".
    ends = {m.start(): m.end() for m in _CLAUSE_END.finditer(line) if not line[: m.start()].isdigit()}
    for match in _MID_LABEL.finditer(line):
        ends.setdefault(match.start(), match.start())
    for match in _NONE_THEN.finditer(line):
        ends.setdefault(match.end(), match.end())
    for match in _NO_BLOCKER_AFTER_SPACE.finditer(line):  # "2.1 80% 暂无卡点"
        ends.setdefault(match.start(), match.start())
    return sorted(ends.items())


def _clauses(lines: list[str]) -> list[_Clause]:
    clauses: list[_Clause] = []
    current: Section | None = None
    for number, line in enumerate(lines):
        begin = 0
        for end, after in [*_ends(line), (len(line), len(line))]:
            if end > begin:
                clause = _clause(line, number, begin, end, current)
                current = clause.section
                if current == "blockers" and _says_no_blocker(_content(lines, clause), current):
                    current = "yesterday"  # "卡点：无" then "2.1 80%": progress, not a blocker
                if current == "needs" and _says_no_need(_content(lines, clause)):
                    current = "yesterday"  # "需协调资源：无" then "2.1 80%": the same
                clauses.append(clause)
            begin = max(begin, after)
    return clauses


def _clause(line: str, number: int, begin: int, end: int, current: Section | None) -> _Clause:
    bullet = _BULLET.match(line, begin, end)
    start = bullet.end() if bullet else begin
    for section, pattern in _LABELS:
        if label := pattern.match(line, start, end):
            return _Clause(number, begin, label.end(), end, section, label=True)
    return _Clause(number, begin, start, end, current, label=False)


def _content(lines: list[str], clause: _Clause) -> str:
    return lines[clause.line][clause.start : clause.end].strip()


# --- "no blocker" ---------------------------------------------------------------------------------

_NONE_WORD = r"(?:无|没有|暂无|暂时没有|目前没有|没|none|no|nope|nothing|nil|n/?a|-|/)"
_NO_BLOCKER_PHRASE = (
    r"(?:暂|暂时|目前|今天)?(?:无|没有|没)(?:任何|什么)?(?:卡点|阻塞|问题|困难|风险|需协调的?(?:事项|问题)?)"
    r"|(?:卡点|阻塞|问题|blockers?|issues?)\s*:?\s*"
    + _NONE_WORD
    + r"|no\s+(?:blockers?|blocking\s+issues?|issues?|impediments?|problems?)|nothing\s+blocking(?:\s+me)?"
)
_END = rf"[{re.escape(_STRIP)}]*"
# Anywhere: only phrases that say what there is none of. As the blockers answer: "无" is enough.
_NO_BLOCKER_ANYWHERE = re.compile(rf"(?:{_NO_BLOCKER_PHRASE}){_END}", re.I)
_NO_BLOCKER_ANSWER = re.compile(rf"(?:{_NONE_WORD}|{_NO_BLOCKER_PHRASE}){_END}", re.I)


_NO_BLOCKER_AFTER_SPACE = re.compile(rf"(?<=\s)(?:{_NO_BLOCKER_PHRASE}){_END}$", re.I)


def _says_no_blocker(content: str, section: Section | None) -> bool:
    pattern = _NO_BLOCKER_ANSWER if section == "blockers" else _NO_BLOCKER_ANYWHERE
    return bool(content) and pattern.fullmatch(content) is not None


# "需协调资源：无", "need: none", "不需要", "no need": the answer to the request question is no request.
_NO_NEED = re.compile(
    rf"(?:{_NONE_WORD}|(?:暂|暂时|目前)?(?:无|没有|不需要|不用)(?:需求|需要|资源|支持|帮助|协调)?"
    rf"|no\s+(?:needs?|requests?|help\s+needed)|nothing\s+needed|not\s+needed){_END}",
    re.I,
)


def _says_no_need(content: str) -> bool:
    return bool(content) and _NO_NEED.fullmatch(content) is not None


# --- task codes, progress and blockers ------------------------------------------------------------

_GLUED_UNIT = r"版本|版|号|日|月|年|万|千|亿|元|块|倍|个|天|小时|分钟|点|周|次"
_SPACED_UNIT = r"版本|版|version|release|days?|hours?|weeks?|times"
_CODE = re.compile(
    r"(?<![A-Za-z0-9.])(?:(?P<prefix>任务|task|#)\s*)?(?P<code>[1-9][0-9]*(?:\.[1-9][0-9]*){0,2})"
    rf"(?![A-Za-z0-9%]|\.\d|{_GLUED_UNIT}|\s+(?:{_SPACED_UNIT})(?![a-z]))",
    re.I,
)
_LIST_GAP = re.compile(r"\s*(?:[,、/&]|和|及|与|跟|以及|and)?\s*", re.I)

# The filler is atomic: its words overlap ("已完成" = "已" + "完成"), and backtracking over them
# would take exponential time on a long run of them without a percent.
_PERCENT_TAIL = re.compile(
    r"(?>(?:\s|[:=~\-→>(]|进度|进展|完成度|已完成|完成了|完成|做到了|做到|推进到|推进至|达到|到了|到|至|为|是|已|约|大约|的|从|由|"
    r"目前|现在|当前|is|at|now|currently|progress|done|about|from|to)*)"
    r"(?:\d{1,3}\s*%\s*(?:→|->|>|~|到|至|to)\s*)?(?<![\d.])(?P<pct>\d{1,3})\s*%",
    re.I,
)
# "2.1 后端接口 80%", "1.1 接口写完 60%": a few words (the title, what was done) before the percent,
# unless they say it is what remains, a target or what it waits for ("2.1 还差 20%", "2.1 预计周五
# 90%", "2.1 等运维部署完成").
_PERCENT_AFTER_WORDS = re.compile(r"(?P<gap>[^\d%,;。!?.]{1,24}?)(?P<pct>\d{1,3})\s*%")
_NOT_PROGRESS = re.compile(
    r"还差|差了|相差|剩|还有|还要|预计|计划|争取|目标|打算|明天|下周|周[一二三四五六日]|等|待|需要|依赖|"
    r"\b(?:left|remaining|to go|target|plan|planned|will|expect\w*|by|next|wait\w*|until|after|once)\b",
    re.I,
)
_DONE_WORD = r"(?>完成了|完成|做完了|做完|搞定了|搞定|完工了|完工|done|finished|completed|complete|closed)"
# After the code: "2.1 完成", "2.1 is done"; not "2.1 完成接口" or "2.1 完成了一半" (part of it).
_DONE_TAIL = re.compile(
    r"\s*(?:[:\-]\s*)?(?:(?:已经|已|都|全部|均|is|are|was|were|all)\s*)?"
    rf"{_DONE_WORD}(?![a-z])(?=$|[^\u4e00-\u9fff]|[了啦啊呀哈喽咯])",
    re.I,
)
# "2.1 后端接口 完成": a few words between the code and a done word at the end of the clause, unless
# they say it is not (all) done or not yet ("2.1 接口没完成", "2.1 部分完成", "2.1 明天完成").
_DONE_AFTER_WORDS = re.compile(
    rf"(?P<gap>[^\d%,;。!?.]{{1,16}}?)\s*{_DONE_WORD}(?![a-z])\s*(?:了|啦)?\s*$",
    re.I,
)
_PARTLY = re.compile(
    r"没|未|不|部分|一半|基本|大部分|\b(?:not|partly|partially|half|mostly|almost|nearly)\b", re.I
)
_REMAINING = re.compile(r"\s*(?:left|remaining|to go|剩余|未完成)", re.I)
# Before the code: "完成了 2.1", "finished 2.1", or the label "Done: 2.1".
_DONE_BEFORE = re.compile(
    r"(?:完成了|完成|做完了|做完|搞定了|搞定|finished|completed|complete|done(?:\s+with)?|closed|wrapped\s+up)"
    r"\s*:?\s*(?:the\s+)?$",
    re.I,
)
# "完成了 2.1" finishes 2.1 only if nothing but a particle follows: "完成了 2.1 的接口" is a part of it.
_DONE_AFTER = re.compile(r"\s*(?:了|啦|也|都|already|yesterday|today|昨天|今天|上午|下午|晚上)?\s*", re.I)
_PLAN_BEFORE = re.compile(
    r"(?:计划|准备|将|要|争取|预计|打算|希望|会|plan(?:ning)?\s+to|will|going\s+to|aim\s+to|try\s+to|"
    r"expect\s+to|hope\s+to|need\s+to|to)\s*$",
    re.I,
)
_BLOCKED_TAIL = re.compile(
    r"\s*(?:[:\-]\s*)?(?:(?:is|was|are|被|还|仍|仍然|一直|目前|现在)\s*)?"
    r"(?>blocked|stuck|卡住了|卡住|卡在|卡着|受阻|被阻塞|阻塞了|阻塞|卡壳了|卡壳)"
    r"(?!\s*:\s*(?:无|没有|暂无|none|nothing|n/a|no)(?![a-z]))",  # "Plan: 2.2 Blocked: none"
    re.I,
)
_BLOCKED_BEFORE = re.compile(r"(?:卡在|卡住在|stuck\s+(?:on|at|with))\s*$", re.I)
_WAITING_BEFORE = re.compile(
    r"(?:等|等待|等着|依赖|需要|需|取决于|waiting\s+(?:for|on)|wait\s+for|depends?\s+on|blocked\s+(?:by|on)|"
    r"pending)\s*$",
    re.I,
)
# What may stand between the progress items of a line that says nothing else.
_FILLER = re.compile(r"[\s,;。!?.:、/&()\-]|和|及|与|都|also|and", re.I)


@dataclass(frozen=True)
class _Group:
    """Task codes written together (`1.1、1.2`), as found in one line."""

    start: int
    end: int
    codes: tuple[str, ...]


def _groups(line: str, known: frozenset[str], titles: Mapping[str, str]) -> Iterator[_Group]:
    """`titles`: code -> casefolded title of the sender's own tasks; "3.1 问卷设计" reads as the code."""
    codes: list[str] = []
    start = end = 0
    for match in _CODE.finditer(line):
        code = match["code"]
        if code not in known or ("." not in code and match["prefix"] is None) or match.start() < end:
            continue
        if codes and _LIST_GAP.fullmatch(line, end, match.start()):
            codes.append(code)
        else:
            if codes:
                yield _Group(start, end, tuple(dict.fromkeys(codes)))
            codes, start = [code], match.start()
        end = match.end()
        title = titles.get(code, "")
        at = end + len(line[end:]) - len(line[end:].lstrip())
        if title and line[at : at + len(title)].casefold() == title:
            end = at + len(title)
    if codes:
        yield _Group(start, end, tuple(dict.fromkeys(codes)))


def _clause_at(clauses: list[_Clause], offset: int) -> _Clause:
    """The clause (of one line) that holds `offset`; codes never sit on a clause separator."""
    return next(c for c in clauses if c.begin <= offset < c.end)


@dataclass
class _Scan:
    progress: dict[str, int] = field(default_factory=dict)
    blocked: dict[str, str] = field(default_factory=dict)
    spans: dict[int, list[tuple[int, int]]] = field(default_factory=dict)  # line -> progress items
    # code -> (line, start, end) of what was said (several percents)
    unclear: dict[str, tuple[int, int, int]] = field(default_factory=dict)
    said: dict[str, tuple[int, int, int]] = field(default_factory=dict)  # code -> its progress or blocker

    def touched(self) -> set[str]:
        return {*self.progress, *self.blocked, *self.unclear}


def _progress_at(line: str, clause: _Clause, group: _Group, end: int) -> tuple[int, int, int] | None:
    """(percent, span start, span end) of what the text around the code group says, if anything;
    `end` is where the clause of the group's last code ends."""
    if (percent := _PERCENT_TAIL.match(line, group.end)) and int(percent["pct"]) <= 100:
        if _REMAINING.match(line, percent.end()):
            return None  # "2.1 about 30% left"
        return int(percent["pct"]), group.start, percent.end()
    if done := _DONE_TAIL.match(line, group.end):
        return 100, group.start, done.end()
    words = _PERCENT_AFTER_WORDS.match(line, group.end, end)
    if words and int(words["pct"]) <= 100 and not _NOT_PROGRESS.search(words["gap"]):
        return int(words["pct"]), group.start, words.end()
    words = _DONE_AFTER_WORDS.match(line, group.end, end)
    if words and not _NOT_PROGRESS.search(words["gap"]) and not _PARTLY.search(words["gap"]):
        return 100, group.start, words.end()
    lead = line[clause.begin : group.start]  # with the label, for "Done: 2.1"
    before = _DONE_BEFORE.search(lead)
    if (
        before
        and not _PLAN_BEFORE.search(lead[: before.start()])
        and _DONE_AFTER.fullmatch(line, group.end, end)
    ):
        return 100, clause.begin + before.start(), group.end
    return None


# "2.1 80%", "2.1：80%": the percent said of the task, with nothing between.
_STATED_PERCENT = re.compile(r"\s*:?\s*(?P<pct>\d{1,3})\s*%")
# "3.1 55" ending its clause: a percent without the sign.
_BARE_NUMBER = re.compile(r"\s*:?\s*(?P<pct>\d{1,3})\s*$")


def _stated_percent(line: str, group: _Group, end: int) -> tuple[int, int, int] | None:
    stated = _STATED_PERCENT.match(line, group.end, end)
    if stated is None or int(stated["pct"]) > 100 or _REMAINING.match(line, stated.end()):
        return None
    return int(stated["pct"]), group.start, stated.end()


def _bare_number(line: str, group: _Group, end: int) -> tuple[int, int, int] | None:
    bare = _BARE_NUMBER.match(line, group.end, end)
    if bare is None or int(bare["pct"]) > 100:
        return None
    return int(bare["pct"]), group.start, bare.end()


# "Blocked on 3.3: vendor": the clause opens with it, the task follows.
_BLOCKED_ON = re.compile(r"\s*blocked\s+(?:on|at|with)\s*", re.I)
# "waiting for the design (2.2)", "waiting for legal sign-off on 2.2", "在等数据（1.3）": what is
# awaited, then the task it holds up at the end of the clause ("waiting for 2.1" waits for 2.1).
_WAITING_START = re.compile(
    r"\s*(?:still\s+|还在|在|一直在)?(?:waiting|wait)\s+(?:for|on)\b|\s*(?:还在|在|一直在)?等", re.I
)
_HELD_TASK = re.compile(r"(?:\(|\bon|\bfor)\s*$", re.I)


def _waits_for_task(line: str, clause: _Clause, group: _Group, before: str) -> bool:
    if line[group.end : clause.end].strip(_STRIP + ")"):
        return False
    wait = _WAITING_START.match(before)
    held = _HELD_TASK.search(before, wait.end()) if wait else None
    return held is not None and bool(before[wait.end() if wait else 0 : held.start()].strip(_STRIP))


def _blocker_at(line: str, clause: _Clause, group: _Group, progress_end: int) -> str | None:
    """What blocks the group's tasks, if the text says they are blocked ("" when it does not say what)."""
    before = line[clause.start : group.start]
    if tail := _BLOCKED_TAIL.match(line, group.end):
        return line[tail.end() :].strip(_STRIP)
    if _BLOCKED_BEFORE.search(before):
        return line.strip(_STRIP)  # "卡在 2.2 上了，需要运维协助": the whole line says it
    if _BLOCKED_ON.fullmatch(before):
        return line[group.end :].strip(_STRIP)
    if _waits_for_task(line, clause, group, before):
        return before.strip(_STRIP + "(")
    if clause.section != "blockers" or _WAITING_BEFORE.search(before):
        return None
    if before.strip(_STRIP):
        return line[clause.start : clause.end].strip(_STRIP)
    return line[max(group.end, progress_end) : clause.end].strip(_STRIP)


_PERCENT_SIGN = re.compile(r"\d{1,3}\s*%")
# "50% to 80%", "80% (was 60%)": one value and where it came from.
_FROM_TO = re.compile(r"%\s*(?:→|->|>|~|到|至|to)\s*\d|\b(?:was|from)\s*\d|原来|之前|此前|上次|从", re.I)


def _several_percents(said: str) -> bool:
    """ "1.2 接口60%，文档20%": percents of parts, none of them the task's own (unlike "50% to 80%")."""
    return len(_PERCENT_SIGN.findall(said)) >= 2 and not _FROM_TO.search(said)


def _scan(
    lines: list[str], clauses: list[_Clause], known: frozenset[str], titles: Mapping[str, str]
) -> _Scan:
    scan = _Scan()
    for number, line in enumerate(lines):
        in_line = [clause for clause in clauses if clause.line == number]
        groups = list(_groups(line, known, titles))
        for index, group in enumerate(groups):
            clause = _clause_at(in_line, group.start)
            end = _clause_at(in_line, group.end - 1).end
            if clause.section == "needs":
                found = None  # "需协调资源：2.1 需要测试服务器": the task the request is for
            elif clause.section == "today":
                found = _stated_percent(line, group, end)  # "今天：2.1 80%", not "今天：2.1 到 80%"
            else:
                found = _progress_at(line, clause, group, end) or _bare_number(line, group, end)
            said_end = groups[index + 1].start if index + 1 < len(groups) else len(line)
            if found is not None and _several_percents(line[group.start : said_end]):
                for code in group.codes:
                    scan.unclear[code] = (number, group.start, said_end)
                found = None
            if found is not None:
                value, span_start, span_end = found
                for code in group.codes:
                    scan.progress[code] = value  # the last value wins, in order of first mention
                    scan.said[code] = (number, span_start, span_end)
                scan.spans.setdefault(number, []).append((span_start, span_end))
            blocker = _blocker_at(line, clause, group, found[2] if found else group.end)
            if blocker is not None:
                for code in group.codes:
                    scan.blocked[code] = blocker
                    scan.said.setdefault(code, (number, clause.start, clause.end))
    return scan


# --- sections -------------------------------------------------------------------------------------


def _progress_only(line: str, spans: list[tuple[int, int]]) -> bool:
    if not spans:
        return False
    rest = list(line)
    for start, end in spans:
        rest[start:end] = [" "] * (end - start)
    bullet = _BULLET.match(line)  # "• 2.2 搞定", "2) 2.2 done"
    return not _FILLER.sub("", "".join(rest)[bullet.end() if bullet else 0 :])


def _by_position(
    lines: list[str], clauses: list[_Clause], known: frozenset[str], titles: Mapping[str, str]
) -> None:
    """An unlabelled reply: its lines answer yesterday, today, blockers in order. Lines that only
    report progress are yesterday's (leading ones together answer it); a lone "无" answers blockers."""
    spans = _scan(lines, clauses, known, titles).spans
    answers: list[list[int]] = []
    sections: dict[int, Section] = {}
    for number, line in enumerate(lines):
        contents = [_content(lines, c) for c in clauses if c.line == number]
        if all(_says_no_blocker(content, "blockers") or not content for content in contents):
            sections[number] = "blockers"
        elif _progress_only(line, spans.get(number, [])):
            sections[number] = "yesterday"
            if not answers:
                answers.append([])
            if len(answers) == 1:
                answers[0].append(number)
        else:
            answers.append([number])
    in_order = 2 <= len(answers) <= 3  # otherwise one answer, or a list of what was done
    for index, numbers in enumerate(answers):
        sections.update(dict.fromkeys(numbers, SECTIONS[index] if in_order else "yesterday"))
    for clause in clauses:
        clause.section = sections[clause.line]


def _first_code(
    lines: list[str],
    clauses: list[_Clause],
    known: frozenset[str],
    titles: Mapping[str, str],
    section: Section,
) -> str | None:
    """The first task code written in `section`, if any."""
    for number, line in enumerate(lines):
        in_line = [clause for clause in clauses if clause.line == number]
        for group in _groups(line, known, titles):
            if _clause_at(in_line, group.start).section == section:
                return group.codes[0]
    return None


def join_answers(pieces: list[str]) -> str:
    """Pieces of one answer as one line: "；" between them in Chinese text, "; " otherwise."""
    pieces = [piece for piece in pieces if piece]
    return ("；" if any(_has_cjk(piece) for piece in pieces) else "; ").join(pieces)


def parse_standup(
    text: str, known_codes: Collection[str], titles: Mapping[str, str] | None = None
) -> StandupParse:
    """Understand one standup reply; `known_codes` are the project's task codes, `titles` (code ->
    title) the sender's own open tasks, whose titles may stand for their codes. Only the first
    MAX_TEXT characters are read: a standup is a few lines, and this keeps the work bounded."""
    raw = text[:MAX_TEXT]
    typed, own, which = _titled(_typed_lines(raw), titles or {})
    lines = [line.text for line in typed]
    known = frozenset(known_codes)
    clauses = _clauses(lines)
    labels = frozenset(clause.section for clause in clauses if clause.label and clause.section)
    if labels:
        for clause in clauses:
            clause.section = clause.section or "yesterday"
    else:
        _by_position(lines, clauses, known, own)
    scan = _scan(lines, clauses, known, own)
    no_blocker = False
    # Each section's text; a run of clauses of one line is kept whole, with its own punctuation.
    pieces: dict[Section, list[tuple[int, int, int]]] = {name: [] for name in SECTIONS}
    previous: _Clause | None = None  # the clause kept just before, whose run this one may extend
    for clause in clauses:
        content, section = _content(lines, clause), clause.section
        assert section is not None  # every clause has one by now
        if section == "needs" and _says_no_need(content):
            previous = None
        elif _says_no_blocker(content, section):
            no_blocker, previous = True, None
        elif not content.strip(_STRIP):
            previous = None
        else:
            bucket = pieces[section]
            if previous and previous.line == clause.line and previous.section == section and not clause.label:
                bucket[-1] = (clause.line, bucket[-1][1], clause.end)
            else:
                bucket.append((clause.line, clause.start, clause.end))
            previous = clause
    sections = {
        name: join_answers([lines[line][start:end].strip(_STRIP) for line, start, end in pieces[name]])
        for name in SECTIONS
    }
    blocked = tuple(scan.blocked.items())

    def as_typed(line: int, start: int, end: int) -> str:
        return typed[line].typed(raw, start, end)

    unread, no_such_task = _unread(lines, clauses, scan, known, own, which)
    return StandupParse(
        yesterday=sections["yesterday"],
        today=sections["today"],
        blockers=sections["blockers"],
        needs=sections["needs"],
        need_code=_first_code(lines, clauses, known, own, "needs"),
        progress=tuple(scan.progress.items()),
        blocked=blocked,
        no_blocker=no_blocker and not sections["blockers"] and not blocked,
        labels=labels,
        unclear=tuple((code, as_typed(*where)) for code, where in scan.unclear.items()),
        which=tuple(which.items()),
        unread=tuple((as_typed(*where), code) for where, code in unread),
        no_such_task=tuple((code, as_typed(*where)) for code, where in no_such_task.items()),
    )


# --- what looks like progress but set none ----------------------------------------------------------


def _unread(
    lines: list[str],
    clauses: list[_Clause],
    scan: _Scan,
    known: frozenset[str],
    titles: Mapping[str, str],
    which: Mapping[str, tuple[str, ...]],
) -> tuple[list[tuple[tuple[int, int, int], str]], dict[str, tuple[int, int, int]]]:
    """The yesterday clauses that name a task or a percent but set no progress, blocked nothing and
    asked nothing ((line, start, end), a code they name or ""), and the codes of no task that a
    percent, a done word or a blocker follows, with where."""
    # The same reading with every code-like number as a task: what would have applied to it.
    candidates = {match["code"] for line in lines for match in _CODE.finditer(line)} - known
    guessed = _scan(lines, clauses, known | candidates, titles)
    no_such_task = {
        code: where for code, where in (*guessed.said.items(), *guessed.unclear.items()) if code in candidates
    }
    touched = scan.touched()
    unread = []
    for clause in clauses:
        line = lines[clause.line]
        content = line[clause.start : clause.end]
        if clause.section != "yesterday" or any(title in content for title in which):
            continue
        groups = [g for g in _groups(line, known, titles) if clause.begin <= g.start < clause.end]
        named = [code for group in groups for code in group.codes]
        if any(code in touched for code in named):
            continue
        rest = list(line)
        for number, start, end in (*no_such_task.values(), *scan.unclear.values()):
            if number == clause.line:
                rest[start:end] = [" "] * (end - start)
        if named or _PERCENT_SIGN.search("".join(rest), clause.start, clause.end):
            unread.append(((clause.line, clause.start, clause.end), named[0] if named else ""))
    return unread, no_such_task


# --- "same as yesterday" ----------------------------------------------------------------------------

_SAME = re.compile(
    r"同上|同昨天|同昨日|和昨天一样|跟昨天一样|与昨天相同|和昨天相同|"
    r"same(?:\s+as\s+(?:yesterday|before|last\s+time))?",
    re.I,
)


def same_as_before(text: str) -> bool:
    """Whether the whole reply says "same as yesterday" (`同上`, `同昨天`, `same as yesterday`...),
    with nothing else but phone noise (emoji, @mentions, punctuation)."""
    lines = _typed_lines(text[:MAX_TEXT])
    said = " ".join(line.text for line in lines).strip(_STRIP + "~")
    return _SAME.fullmatch(said) is not None


# --- task titles instead of codes -----------------------------------------------------------------

# Shorter titles ("UI", "QA") would match inside ordinary words.
MIN_TITLE = 2
MIN_LATIN_TITLE = 4
# Percent words are digits by now ("六成" -> "60%").
_TITLE_PROGRESS_AFTER = re.compile(rf"\s*:?\s*(?:\d{{1,3}}\s*%|{_DONE_WORD}(?![a-z]))", re.I)


def _titled(
    lines: list[_Typed], titles: Mapping[str, str]
) -> tuple[list[_Typed], dict[str, str], dict[str, tuple[str, ...]]]:
    """The lines with each title of the sender's own open tasks (`titles`: code -> title) that a
    percent or a done word follows, or a done word precedes, preceded by its code ("问卷设计 done"
    -> "3.1 问卷设计 done", "finished the survey design" -> "finished the 3.1 survey design"); the
    casefolded title of each such code; and the titles that name more than one of the tasks (left as
    they are, with those codes: the person is asked which). The longest title wins where titles
    overlap."""
    by_title: dict[str, list[str]] = {}
    for code, title in titles.items():
        title = " ".join(unicodedata.normalize("NFKC", title).split())
        if len(title) >= (MIN_TITLE if _has_cjk(title) else MIN_LATIN_TITLE):
            by_title.setdefault(title.casefold(), []).append(code)
    if not by_title:
        return lines, {}, {}
    pattern = re.compile(
        "|".join(re.escape(title) for title in sorted(by_title, key=len, reverse=True)), re.I
    )
    ambiguous: dict[str, tuple[str, ...]] = {}

    def coded(line: str, match: re.Match[str]) -> str:
        codes = by_title[match[0].casefold()]
        if len(codes) > 1:
            ambiguous[match[0]] = tuple(codes)
            return match[0]
        before = line[max(0, match.start() - 12) : match.start()]
        if re.search(rf"(?<![\d.]){re.escape(codes[0])}\s*$", before):
            return match[0]  # "2.1 后端接口 80%": the code is already there
        lead = line[: match.start()]
        done = _DONE_BEFORE.search(lead)
        if _TITLE_PROGRESS_AFTER.match(line, match.end()) or (
            done and not _PLAN_BEFORE.search(lead[: done.start()])
        ):
            return f" {codes[0]} {match[0]}"
        return match[0]  # a title in passing ("继续测试") is no update

    found = [line.sub(pattern, partial(coded, line.text)).sub(_SPACES, " ").strip() for line in lines]
    own = {codes[0]: title for title, codes in by_title.items() if len(codes) == 1}
    return found, own, ambiguous
