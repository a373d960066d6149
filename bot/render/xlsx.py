"""Excel workbooks (openpyxl): the blank plan template, a project's export, and reading a workbook
back into plain cell values for bot/domain/plan_sheet.py.

Sheet and plan column names come from the domain (they are the file format the import reads); the
other sheets' labels are here. Every sheet has a frozen header row and set column widths.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Sequence
from datetime import date, datetime
from typing import TYPE_CHECKING

from openpyxl import Workbook, load_workbook
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from bot.domain.plan_sheet import (
    EXAMPLE,
    LIST_SEPARATOR,
    PLAN_COLUMNS,
    SHEETS,
    TEMPLATE_SHEETS,
    Cell,
    Locale,
    Plan,
    SheetError,
    SheetKey,
    level_name,
)
from bot.render.i18n import t

if TYPE_CHECKING:
    from bot.api import ProjectOut, ReportSummaryOut
    from bot.services.plan_import import Preview

MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# Excel refuses a list validation whose formula is longer than this.
_LIST_FORMULA_LIMIT = 255
_DATE_FORMAT = "yyyy-mm-dd"
_HEADER_FONT = Font(bold=True)
_HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
_EXAMPLE_FONT = Font(italic=True, color="808080")

# (label, width) per column of each sheet other than the plan.
_COLUMNS: dict[SheetKey, dict[Locale, tuple[tuple[str, int], ...]]] = {
    "charter": {
        "zh": (("项目", 16), ("内容", 80)),
        "en": (("Item", 16), ("Content", 80)),
    },
    "raci": {
        "zh": (("编号", 10), ("标题", 30), ("R 执行", 20), ("A 负责", 20), ("C 咨询", 24), ("I 知会", 24)),
        "en": (
            ("Code", 10),
            ("Title", 30),
            ("R Responsible", 20),
            ("A Accountable", 20),
            ("C Consulted", 24),
            ("I Informed", 24),
        ),
    },
    "risks": {
        "zh": (("编号", 8), ("描述", 40), ("等级", 8), ("负责人", 14), ("应对措施", 40), ("状态", 10)),
        "en": (
            ("No.", 8),
            ("Description", 40),
            ("Level", 8),
            ("Owner", 14),
            ("Mitigation", 40),
            ("Status", 10),
        ),
    },
    "actions": {
        "zh": (("编号", 8), ("事项", 40), ("负责人", 14), ("截止", 12), ("状态", 10), ("来源会议", 20)),
        "en": (("No.", 8), ("Action", 40), ("Owner", 14), ("Due", 12), ("Status", 10), ("Meeting", 20)),
    },
    "weekly": {
        "zh": (
            ("周开始", 12),
            ("周结束", 12),
            ("实际 %", 10),
            ("计划 %", 10),
            ("状态", 10),
            ("生成时间", 20),
        ),
        "en": (
            ("Week start", 12),
            ("Week end", 12),
            ("Actual %", 10),
            ("Planned %", 10),
            ("State", 10),
            ("Generated", 20),
        ),
    },
}
_PLAN_WIDTHS = {
    "level": 8,
    "code": 10,
    "title": 30,
    "owner": 14,
    "department": 12,
    "start": 12,
    "due": 12,
    "after": 14,
    "milestones": 24,
}
# The export's plan also shows progress and status: the import does not read them.
_PLAN_EXTRA: dict[Locale, tuple[tuple[str, int], ...]] = {
    "zh": (("进度 %", 8), ("状态", 10)),
    "en": (("Progress %", 10), ("Status", 12)),
}
_CHARTER_LABELS: dict[Locale, tuple[str, ...]] = {
    "zh": ("项目名称", "背景", "目标", "交付物", "范围内", "范围外", "开始", "结束"),
    "en": ("Name", "Background", "Goal", "Deliverables", "In scope", "Out of scope", "Start", "End"),
}
_LEVELS = ("high", "medium", "low")
_EXAMPLE_PLAN: dict[Locale, tuple[Cell, ...]] = {
    "zh": ("1.1", "用户调研", "张三", "市场", date(2026, 12, 1), date(2026, 12, 5), "", "需求评审"),
    "en": (
        "1.1",
        "User research",
        "Jane",
        "Marketing",
        date(2026, 12, 1),
        date(2026, 12, 5),
        "",
        "Spec review",
    ),
}


def _append(sheet: Worksheet, values: Sequence[object]) -> None:
    """Add a row. Typed text stays text: openpyxl would store "=..." as a formula, which Excel runs
    when the file is opened (a title like `=HYPERLINK(...)` must not become a live link)."""
    sheet.append(list(values))
    for cell in sheet[sheet.max_row]:
        if isinstance(cell.value, str) and cell.value.startswith("="):
            cell.data_type = "s"


def _sheet(book: Workbook, key: SheetKey, locale: Locale, columns: Sequence[tuple[str, int]]) -> Worksheet:
    sheet = book.create_sheet(SHEETS[key][locale])
    _append(sheet, [label for label, _ in columns])
    for index, (_, width) in enumerate(columns, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
        cell = sheet.cell(row=1, column=index)
        cell.font, cell.fill = _HEADER_FONT, _HEADER_FILL
    sheet.freeze_panes = "A2"
    return sheet


def _plan_sheet(book: Workbook, locale: Locale, *, extra: bool) -> Worksheet:
    columns = [(names[locale], _PLAN_WIDTHS[key]) for key, names in PLAN_COLUMNS.items()]
    sheet = _sheet(book, "plan", locale, [*columns, *(_PLAN_EXTRA[locale] if extra else ())])
    # Codes stay text as typed: as numbers, 1.10 would read as 1.1.
    for key in ("code", "after"):
        letter = get_column_letter(list(PLAN_COLUMNS).index(key) + 1)  # type: ignore[arg-type]
        sheet.column_dimensions[letter].number_format = "@"
    return sheet


def _list_validation(sheet: Worksheet, column: int, values: Sequence[str]) -> None:
    """A drop-down of `values` on the column below the header (skipped when Excel could not hold it:
    too long a list, or a value with a comma or a quote in it)."""
    usable = [v for v in values if v and not set(v) & set(',"')]
    formula = '"' + ",".join(usable) + '"'
    if not usable or len(formula) > _LIST_FORMULA_LIMIT:
        return
    validation = DataValidation(type="list", formula1=formula, allow_blank=True)
    letter = get_column_letter(column)
    validation.add(f"{letter}2:{letter}1048576")
    sheet.add_data_validation(validation)


def _finish(book: Workbook) -> bytes:
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _new_book() -> Workbook:
    book = Workbook()
    book.remove(book.active)  # type: ignore[arg-type]
    return book


def _dates(sheet: Worksheet, columns: Sequence[int]) -> None:
    for row in sheet.iter_rows(min_row=2):
        for index in columns:
            if isinstance(row[index - 1].value, date):
                row[index - 1].number_format = _DATE_FORMAT


def write_template(locale: Locale, departments: Sequence[str]) -> bytes:
    """The blank workbook: every template sheet with its headers, drop-downs for the departments
    and the risk levels, and one example row (marked in the level column, so the import skips it)."""
    book = _new_book()
    for key in TEMPLATE_SHEETS:
        if key == "plan":
            sheet = _plan_sheet(book, locale, extra=False)
            _append(sheet, [EXAMPLE[locale], *_EXAMPLE_PLAN[locale]])
            for cell in sheet[2]:
                cell.font = _EXAMPLE_FONT
            _dates(sheet, (6, 7))
            _list_validation(sheet, list(PLAN_COLUMNS).index("department") + 1, departments)
            continue
        sheet = _sheet(book, key, locale, _COLUMNS[key][locale])
        if key == "charter":
            for label in _CHARTER_LABELS[locale]:
                _append(sheet, [label, ""])
        elif key == "risks":
            _list_validation(sheet, 3, [t(locale, f"track.level.{level}") for level in _LEVELS])
    return _finish(book)


def _names(names: Sequence[str]) -> str | None:
    return LIST_SEPARATOR["names"].join(names) or None


def write_export(
    project: ProjectOut, plan: Plan, reports: Sequence[ReportSummaryOut], locale: Locale
) -> bytes:
    """A project as a workbook: the charter, the RACI (R, A, C, I), the plan as the import reads it
    (each task's own dates, not its children's span) with progress and status, the risks, the action
    items and one row per stored weekly report."""
    book = _new_book()
    charter = project.charter
    sheet = _sheet(book, "charter", locale, _COLUMNS["charter"][locale])
    values = (project.name, charter.background, charter.goal, charter.deliverables)
    for label, value in zip(
        _CHARTER_LABELS[locale],
        (*values, charter.scope_in, charter.scope_out, charter.start, charter.end),
        strict=True,
    ):
        _append(sheet, [label, value])
    _dates(sheet, (2,))

    sheet = _sheet(book, "raci", locale, _COLUMNS["raci"][locale])
    titles = {task.code: task.title for task in project.tasks}
    for code, roles in project.raci.items():
        _append(
            sheet, [code, titles[code], _names(roles.R), _names(roles.A), _names(roles.C), _names(roles.I)]
        )

    sheet = _plan_sheet(book, locale, extra=True)
    effective = {task.code: task for task in project.tasks}
    for row in plan.rows:
        task = effective[row.code]
        _append(
            sheet,
            [
                level_name(row.code, locale),
                row.code,
                row.title,
                row.owner,
                row.department,
                row.start,
                row.due,
                LIST_SEPARATOR["codes"].join(row.after),
                _names(row.milestones),
                task.progress,
                t(locale, f"track.task_status.{task.status}"),
            ],
        )
    _dates(sheet, (6, 7))
    _list_validation(sheet, list(PLAN_COLUMNS).index("department") + 1, [d.name for d in project.departments])

    sheet = _sheet(book, "risks", locale, _COLUMNS["risks"][locale])
    for risk in project.risks:
        _append(
            sheet,
            [
                f"R{risk.number}",
                risk.description,
                t(locale, f"track.level.{risk.level}"),
                risk.owner,
                risk.mitigation,
                t(locale, f"track.risk_status.{risk.status}"),
            ],
        )

    sheet = _sheet(book, "actions", locale, _COLUMNS["actions"][locale])
    for action in project.actions:
        status = t(locale, f"xlsx.action.{action.status}")
        _append(
            sheet, [f"A{action.number}", action.text, action.owner, action.due, status, action.source_meeting]
        )
    _dates(sheet, (4,))

    sheet = _sheet(book, "weekly", locale, _COLUMNS["weekly"][locale])
    for report in sorted(reports, key=lambda r: r.week_start):
        state = t(locale, f"overview.state.{report.state}") if report.state else None
        generated = report.generated_at.replace(tzinfo=None, microsecond=0)
        _append(sheet, [report.week_start, report.week_end, report.actual, report.expected, state, generated])
    _dates(sheet, (1, 2))
    return _finish(book)


def _plain(value: object) -> bool:
    return isinstance(value, str | int | float | date | datetime) and not isinstance(value, bool)


MAX_UNPACKED_BYTES = 64 * 1024 * 1024  # a 2,000-row plan unpacks to a few MB


def read_workbook(data: bytes, *, max_rows: int) -> dict[str, list[tuple[Cell, ...]]]:
    """Each sheet's rows of plain cell values (a formula as the value Excel last computed): the
    header and at most `max_rows` rows under it, so a huge sheet costs no more than one row too
    many. ValueError when `data` is not a readable xlsx workbook, or would unpack to more than
    MAX_UNPACKED_BYTES."""
    try:
        # openpyxl reads a sheet's shared strings whole, so a small file that unpacks to gigabytes
        # (a zip bomb) is refused by its declared sizes first; zipfile never unpacks past them.
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            if sum(entry.file_size for entry in archive.infolist()) > MAX_UNPACKED_BYTES:
                raise ValueError("the workbook unpacks too large")
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as error:  # a broken file fails in many ways (zip, XML, openpyxl's own)
        raise ValueError("not an xlsx workbook") from error
    try:
        sheets: dict[str, list[tuple[Cell, ...]]] = {}
        for sheet in book.worksheets:
            rows = []
            for values in sheet.iter_rows(values_only=True, max_row=max_rows + 1):
                # Booleans and errors are no plan value: read as empty, then refused where required.
                rows.append(tuple(v if _plain(v) else None for v in values))
            sheets[sheet.title] = rows
        return sheets
    except Exception as error:  # read-only sheets are parsed lazily, row by row
        raise ValueError("not an xlsx workbook") from error
    finally:
        book.close()


# -- the import's messages ---------------------------------------------------------------------------


def error_lines(errors: Sequence[SheetError], locale: Locale) -> list[str]:
    """Each problem as `项目计划 第 7 行：依赖 2.9 不存在`."""
    lines = []
    for error in errors:
        text = t(locale, error.key, **error.params)
        if error.row is None:
            lines.append(t(locale, "xlsx.at_sheet", sheet=error.sheet, text=text))
        else:
            lines.append(t(locale, "xlsx.at_row", sheet=error.sheet, row=error.row, text=text))
    return lines


def _value(value: object, locale: Locale) -> str:
    if isinstance(value, tuple):
        value = LIST_SEPARATOR["codes"].join(value)
    if value is None or value == "":
        return t(locale, "xlsx.empty")
    return value.isoformat() if isinstance(value, date) else str(value)


def change_lines(preview: Preview, locale: Locale, *, chat: bool = False) -> list[str]:
    """One line per task added, edited, kept or deleted and per milestone added or relinked (a
    kept task's line says how to delete it: in `chat`, there is no way)."""
    lines = []
    for change in preview.tasks:
        key = f"xlsx.change_{change.kind}" + ("_chat" if chat and change.kind == "missing" else "")
        if change.kind != "edit":
            lines.append(t(locale, key, code=change.code, title=change.title))
            continue
        fields = "；" if locale == "zh" else "; "
        described = fields.join(
            t(
                locale,
                "xlsx.change_field",
                field=PLAN_COLUMNS[column][locale],
                old=_value(old, locale),
                new=_value(new, locale),
            )
            for column, old, new in change.fields
        )
        lines.append(t(locale, key, code=change.code, title=change.title, fields=described))
    for milestone in preview.milestones:
        if milestone.number is None:
            due = _value(milestone.due, locale)
            codes = _value(milestone.new, locale)
            lines.append(t(locale, "xlsx.milestone_add", title=milestone.title, due=due, codes=codes))
        else:
            old, new = _value(milestone.old, locale), _value(milestone.new, locale)
            lines.append(
                t(
                    locale,
                    "xlsx.milestone_links",
                    number=milestone.number,
                    title=milestone.title,
                    old=old,
                    new=new,
                )
            )
    return lines
