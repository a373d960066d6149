"""The Excel plan as plain values: sheet and column names (zh and en), and the rules that turn the
cells of a workbook into a validated plan, or into every problem found, each with its sheet and row.

Pure: cells come in as the values a spreadsheet reader gives (str, int, float, date, datetime or
None), `today` is a parameter, and nothing here touches the database or a file. Whether a person or
a department exists is the service's question (bot/services/plan_import.py). Dates and codes are
read as chat reads them (bot/commands/parsing.py: pure, `today` a parameter), so a sheet accepts
what a command does.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any, Final, Literal

from bot.domain import wbs
from bot.domain.text import ArgError, clean, parse_date, parse_wbs_code

Locale = Literal["zh", "en"]
SheetKey = Literal["charter", "raci", "plan", "risks", "actions", "weekly"]

# Each sheet's name in zh and en; a workbook in either language (or mixed) is read.
SHEETS: Final[dict[SheetKey, dict[Locale, str]]] = {
    "charter": {"zh": "项目章程", "en": "Charter"},
    "raci": {"zh": "责任矩阵(RACI)", "en": "RACI"},
    "plan": {"zh": "项目计划", "en": "Plan"},
    "risks": {"zh": "风险登记册", "en": "Risk register"},
    "actions": {"zh": "行动项", "en": "Action items"},
    "weekly": {"zh": "周进度报告", "en": "Weekly progress"},
}
# The sheets the blank template has (actions come only with an export).
TEMPLATE_SHEETS: Final[tuple[SheetKey, ...]] = ("charter", "raci", "plan", "risks", "weekly")

PlanColumn = Literal["level", "code", "title", "owner", "department", "start", "due", "after", "milestones"]
PLAN_COLUMNS: Final[dict[PlanColumn, dict[Locale, str]]] = {
    "level": {"zh": "层级", "en": "Level"},
    "code": {"zh": "编号", "en": "Code"},
    "title": {"zh": "标题", "en": "Title"},
    "owner": {"zh": "负责人", "en": "Owner"},
    "department": {"zh": "部门", "en": "Department"},
    "start": {"zh": "开始", "en": "Start"},
    "due": {"zh": "截止", "en": "Due"},
    "after": {"zh": "依赖", "en": "Depends on"},
    "milestones": {"zh": "里程碑", "en": "Milestones"},
}
# The level column only helps the reader (a code's level is its number of parts), so it may be missing.
REQUIRED_COLUMNS: Final[tuple[PlanColumn, ...]] = tuple(c for c in PLAN_COLUMNS if c != "level")
LEVEL_NAMES: Final[dict[Locale, tuple[str, str, str]]] = {
    "zh": ("阶段", "任务", "子任务"),
    "en": ("Phase", "Task", "Subtask"),
}
# A row whose level cell says this is the template's example: shown to the filler, never imported.
EXAMPLE: Final[dict[Locale, str]] = {"zh": "示例", "en": "Example"}

TITLE_LIMIT = 300  # Task.title, Milestone.title
NAME_LIMIT = 200  # Member.display_name (a department's is 100: the service refuses a longer unknown one)
LIST_LIMIT = 1000  # the depends-on and milestones cells
MAX_ROWS = 2000  # a plan longer than this is a mistake, and every row costs work to check
# Separators of the depends-on and milestones cells: commas (ASCII and full-width), 、, semicolons,
# line breaks. The export writes "、" for milestones and ", " for codes.
_SEPARATORS = str.maketrans(dict.fromkeys("，、;；\n", ","))
LIST_SEPARATOR: Final[dict[Literal["codes", "names"], str]] = {"codes": ", ", "names": "、"}

Cell = str | int | float | date | datetime | None


@dataclass(frozen=True)
class SheetError:
    """One problem: `row` is the spreadsheet's row number (None: the sheet as a whole); `key` is a
    catalogue key and `params` fill it."""

    sheet: str
    row: int | None
    key: str
    params: Mapping[str, str] = field(default_factory=dict)


class InvalidWorkbook(Exception):
    def __init__(self, errors: Sequence[SheetError]) -> None:
        super().__init__(f"{len(errors)} problems")
        self.errors = list(errors)


@dataclass(frozen=True)
class PlanRow:
    """One phase, task or subtask as the sheet states it; `row` (where it was read) is not part of
    its value, so a plan read back from an export equals the plan it was written from."""

    code: str
    title: str
    owner: str | None = None
    department: str | None = None
    start: date | None = None
    due: date | None = None
    after: tuple[str, ...] = ()  # in WBS order
    milestones: tuple[str, ...] = ()  # titles, sorted
    row: int = field(default=0, compare=False)


@dataclass(frozen=True)
class Plan:
    rows: tuple[PlanRow, ...]  # in WBS order
    sheet: str = field(default=SHEETS["plan"]["zh"], compare=False)  # where it was read, for errors

    def by_code(self) -> dict[str, PlanRow]:
        return {row.code: row for row in self.rows}

    def milestone_links(self) -> dict[str, list[str]]:
        """Milestone title -> the codes linked to it, in WBS order."""
        links: dict[str, list[str]] = {}
        for row in self.rows:
            for title in row.milestones:
                links.setdefault(title, []).append(row.code)
        return links

    def with_owners(self, names: Mapping[str, str]) -> Plan:
        """The plan with each owner written as one of `names` (a name -> the name to use instead)."""
        rows = tuple(replace(row, owner=names.get(row.owner or "", row.owner)) for row in self.rows)
        return Plan(rows, sheet=self.sheet)

    def to_json(self) -> dict[str, object]:
        """The plan as plain JSON (dates as ISO strings), for keeping a previewed import."""
        return {
            "sheet": self.sheet,
            "rows": [
                {
                    **{name: getattr(row, name) for name in ("code", "title", "owner", "department", "row")},
                    "start": row.start.isoformat() if row.start else None,
                    "due": row.due.isoformat() if row.due else None,
                    "after": list(row.after),
                    "milestones": list(row.milestones),
                }
                for row in self.rows
            ],
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Plan:
        def day(value: str | None) -> date | None:
            return date.fromisoformat(value) if value else None

        rows = tuple(
            PlanRow(
                code=row["code"],
                title=row["title"],
                owner=row["owner"],
                department=row["department"],
                start=day(row["start"]),
                due=day(row["due"]),
                after=tuple(row["after"]),
                milestones=tuple(row["milestones"]),
                row=row["row"],
            )
            for row in data["rows"]
        )
        return cls(rows, sheet=data["sheet"])

    def due_of(self, codes: Sequence[str]) -> date | None:
        """The latest effective due date of `codes` (a parent's spans its children)."""
        rolled = wbs.rollup(wbs.Node(r.code, r.start, r.due, 0, "not_started") for r in self.rows)
        dues = [rolled[code].due for code in codes if rolled[code].due is not None]
        return max(d for d in dues if d is not None) if dues else None


def level_name(code: str, locale: Locale) -> str:
    return LEVEL_NAMES[locale][min(code.count("."), 2)]


def sheet_key(name: str) -> SheetKey | None:
    folded = name.strip().casefold()
    return next(
        (key for key, names in SHEETS.items() if folded in {n.casefold() for n in names.values()}), None
    )


def _text(value: Cell) -> str:
    """A cell as text: numbers without a trailing `.0`, dates as ISO, surrounding space removed."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, datetime):
        value = value.date()
    if isinstance(value, date):
        return value.isoformat()
    return clean(str(value)).strip()


def _header(cells: Sequence[Cell]) -> dict[PlanColumn, int]:
    """Column -> index, for the columns whose header names one (in either language)."""
    names = {name.casefold(): column for column, both in PLAN_COLUMNS.items() for name in both.values()}
    found: dict[PlanColumn, int] = {}
    for index, cell in enumerate(cells):
        column = names.get(_text(cell).casefold())
        if column is not None and column not in found:
            found[column] = index
    return found


class _RowReader:
    """Reads one row's cells, collecting its problems instead of stopping at the first."""

    def __init__(self, sheet: str, row: int, cells: Sequence[Cell], columns: Mapping[PlanColumn, int]):
        self.sheet, self.row, self.cells, self.columns = sheet, row, cells, columns
        self.errors: list[SheetError] = []

    def fail(self, key: str, **params: str) -> None:
        self.errors.append(SheetError(self.sheet, self.row, key, params))

    def cell(self, column: PlanColumn) -> Cell:
        index = self.columns[column]
        return self.cells[index] if index < len(self.cells) else None

    def text(self, column: PlanColumn, limit: int) -> str | None:
        text = _text(self.cell(column))
        if len(text) > limit:
            self.fail(
                "xlsx.too_long", column=PLAN_COLUMNS[column]["zh"], max=str(limit), length=str(len(text))
            )
            return None
        return text or None

    def code(self, value: str) -> str | None:
        try:
            return parse_wbs_code(value)
        except ArgError:
            self.fail("xlsx.bad_code", value=value)
            return None

    def day(self, column: PlanColumn, today: date) -> date | None:
        value = self.cell(column)
        if isinstance(value, datetime):
            value = value.date()
        text = _text(value)
        if not text:
            return None
        try:
            return parse_date(text, today=today)
        except ArgError as error:
            key = "xlsx.date_far" if error.key == "arg.date_out_of_range" else "xlsx.bad_date"
            self.fail(key, column=PLAN_COLUMNS[column]["zh"], value=text)
            return None

    def items(self, column: PlanColumn) -> list[str]:
        text = self.text(column, LIST_LIMIT) or ""
        return [item.strip() for item in text.translate(_SEPARATORS).split(",") if item.strip()]


def _read_row(
    sheet: str, row: int, cells: Sequence[Cell], columns: Mapping[PlanColumn, int], today: date
) -> tuple[PlanRow | None, list[SheetError]]:
    """The row as a PlanRow, or its problems (every one found, so the PM fixes them in one go)."""
    reader = _RowReader(sheet, row, cells, columns)
    raw_code = reader.text("code", 40)
    code = reader.code(raw_code) if raw_code else None
    if raw_code is None and not reader.errors:
        reader.fail("xlsx.code_missing")
    title = reader.text("title", TITLE_LIMIT)
    if title is None and code is not None and not reader.errors:
        reader.fail("xlsx.title_missing", code=code)
    owner = reader.text("owner", NAME_LIMIT)
    department = reader.text("department", NAME_LIMIT)
    start, due = reader.day("start", today), reader.day("due", today)
    if start is not None and due is not None and due < start:
        reader.fail("xlsx.start_after_due", start=start.isoformat(), due=due.isoformat())
    after = [dep for item in reader.items("after") if (dep := reader.code(item)) is not None]
    milestones = reader.items("milestones")
    for name in milestones:
        if len(name) > TITLE_LIMIT:
            reader.fail(
                "xlsx.too_long",
                column=PLAN_COLUMNS["milestones"]["zh"],
                max=str(TITLE_LIMIT),
                length=str(len(name)),
            )
    if reader.errors or code is None or title is None:
        return None, reader.errors
    return (
        PlanRow(
            code=code,
            title=title,
            owner=owner,
            department=department,
            start=start,
            due=due,
            after=tuple(sorted(set(after), key=wbs.code_key)),
            milestones=tuple(sorted(set(milestones))),
            row=row,
        ),
        [],
    )


def _is_blank(cells: Sequence[Cell]) -> bool:
    return all(_text(cell) == "" for cell in cells)


def _is_example(cells: Sequence[Cell], columns: Mapping[PlanColumn, int]) -> bool:
    index = columns.get("level")
    return index is not None and index < len(cells) and _text(cells[index]) in EXAMPLE.values()


def _code_of(cells: Sequence[Cell], columns: Mapping[PlanColumn, int]) -> str | None:
    index = columns["code"]
    try:
        return parse_wbs_code(_text(cells[index])) if index < len(cells) else None
    except ArgError:
        return None


def _check_plan(sheet: str, rows: list[PlanRow], refused: set[str]) -> list[SheetError]:
    """The rules between rows: unique codes, parents present, dependencies present and loop-free.
    `refused` are the codes of rows refused for their own problems: present, so not missing."""
    errors: list[SheetError] = []
    first: dict[str, int] = {}
    for row in rows:
        if row.code in first:
            errors.append(
                SheetError(
                    sheet, row.row, "xlsx.duplicate_code", {"code": row.code, "first": str(first[row.code])}
                )
            )
        else:
            first[row.code] = row.row
    for row in rows:
        parent = wbs.parent_of(row.code)
        if parent is not None and parent not in first and parent not in refused:
            errors.append(
                SheetError(sheet, row.row, "xlsx.parent_missing", {"code": row.code, "parent": parent})
            )
        for dep in row.after:
            if dep == row.code:
                errors.append(SheetError(sheet, row.row, "xlsx.dep_self", {"code": row.code}))
            elif wbs.is_family(row.code, dep):
                errors.append(SheetError(sheet, row.row, "xlsx.dep_family", {"code": row.code, "other": dep}))
            elif dep not in first and dep not in refused:
                errors.append(SheetError(sheet, row.row, "xlsx.dep_missing", {"code": row.code, "dep": dep}))
    if errors:
        return errors
    # One loop is enough to fix (and each loop would otherwise be named once per task on it).
    graph = {row.code: set(row.after) for row in rows if row.after}
    for row in rows:
        if row.after and (path := wbs.find_cycle(graph, row.code, row.after, first)) is not None:
            return [SheetError(sheet, row.row, "xlsx.dep_cycle", {"path": " → ".join(path)})]
    return []


def read_plan(sheets: Mapping[str, Sequence[Sequence[Cell]]], *, today: date) -> Plan:
    """The plan in a workbook's sheets (name -> rows of cells, the first row the header), or
    InvalidWorkbook with every problem found. Known sheets other than the plan are accepted and not
    read: the import changes the plan only."""
    errors = [
        SheetError(
            name,
            None,
            "xlsx.unknown_sheet",
            {"name": name, "known": "、".join(n["zh"] for n in SHEETS.values())},
        )
        for name in sheets
        if sheet_key(name) is None
    ]
    plan_sheets = [name for name in sheets if sheet_key(name) == "plan"]
    if not plan_sheets:
        errors.append(
            SheetError(SHEETS["plan"]["zh"], None, "xlsx.no_plan_sheet", {"name": SHEETS["plan"]["zh"]})
        )
    elif len(plan_sheets) > 1:
        errors.append(
            SheetError(plan_sheets[1], None, "xlsx.two_plan_sheets", {"names": "、".join(plan_sheets)})
        )
    if errors:
        raise InvalidWorkbook(errors)
    name = plan_sheets[0]
    cells = sheets[name]
    columns = _header(cells[0]) if cells else {}
    missing = [PLAN_COLUMNS[column]["zh"] for column in REQUIRED_COLUMNS if column not in columns]
    if missing:
        raise InvalidWorkbook([SheetError(name, 1, "xlsx.missing_column", {"column": c}) for c in missing])
    if len(cells) - 1 > MAX_ROWS:
        raise InvalidWorkbook([SheetError(name, None, "xlsx.too_many_rows", {"max": str(MAX_ROWS)})])
    rows: list[PlanRow] = []
    refused: set[str] = set()
    for number, row_cells in enumerate(cells[1:], start=2):
        if _is_blank(row_cells) or _is_example(row_cells, columns):
            continue
        row, problems = _read_row(name, number, row_cells, columns, today)
        errors.extend(problems)
        if row is not None:
            rows.append(row)
        elif code := _code_of(row_cells, columns):
            refused.add(code)
    errors.extend(_check_plan(name, rows, refused))
    if errors:
        raise InvalidWorkbook(sorted(errors, key=lambda e: e.row or 0))
    return Plan(tuple(sorted(rows, key=lambda r: wbs.code_key(r.code))), sheet=name)
