"""The Excel plan in chat: a PM sends the filled-in workbook and confirms `/import`; `/export` sends
the project's workbook as a file.

A file message is handed to `/import` (bot/dispatcher.py), so only a PM of the chat's project (in a
1:1 chat, the project it is about) gets a file read: anyone else is refused before anything is
downloaded. The workbook is checked whole (bot/domain/plan_sheet.py) off the event loop; a workbook
with problems is answered row by row and nothing is kept. A good one is kept as a pending import
(bot/services/pending_imports.py) and its preview shown; `/import` applies it in the command's one
transaction, as one change that `/undo` reverts. The chat import never deletes: a task left out of
the sheet is kept (the CLI's `--delete-missing` does that).
"""

from __future__ import annotations

import asyncio
import re
from datetime import date

from adapters.base import DownloadError
from adapters.models import MENTION_TOKEN, File, Reply, Text
from bot.commands.common import actor_of
from bot.commands.context import CommandContext
from bot.commands.parsing import normalize
from bot.commands.registry import Router
from bot.domain.plan_sheet import MAX_ROWS, InvalidWorkbook, Locale, Plan, SheetError, read_plan
from bot.errors import UsageError, UserFacingError
from bot.permissions import acting
from bot.render.xlsx import change_lines, error_lines, read_workbook
from bot.services import pending_imports, plan_import
from bot.services import plan as plan_service
from bot.services.plan_import import Preview
from storage.models import Member, PendingImport

router = Router("workbook", title="help.section.workbook")

ZIP_MAGIC = b"PK\x03\x04"  # an .xlsx is a zip archive
MAX_LINES = 30  # lines of a preview or of problems shown in one reply; the rest are counted
_CANCEL = frozenset({"cancel", "取消", "放弃"})
_UNASSIGNED = frozenset({"unassigned", "无负责人", "不指派"})
_MAP = ("map", "映射", "对应")
# `张三=@李四`, `张三 = 李四`, `张三：李四` (normalised: full-width `＝` and `：` are ASCII by now).
_PAIR = re.compile(r"(?P<name>[^=:]+?)\s*[=:]\s*(?P<member>\S.*)")


def _locale(ctx: CommandContext) -> Locale:
    return "en" if ctx.locale == "en" else "zh"


def _capped(ctx: CommandContext, lines: list[str]) -> list[str]:
    if len(lines) <= MAX_LINES:
        return lines
    return [*lines[:MAX_LINES], ctx.t("import.more", count=len(lines) - MAX_LINES)]


def _problems(ctx: CommandContext, errors: list[SheetError], name: str) -> list[Reply]:
    lines = error_lines(errors, _locale(ctx))
    header = ctx.t("import.errors_header", name=name, count=len(lines))
    return [Text("\n".join([header, *_capped(ctx, lines)]))]


def _preview(ctx: CommandContext, preview: Preview, name: str, *, header_key: str) -> list[Reply]:
    """What the import would change, the unknown names, and the one next step."""
    lines = [ctx.t(header_key, name=name, count=preview.count)]
    lines += _capped(ctx, change_lines(preview, _locale(ctx), chat=True))
    if preview.unknown_people:
        lines.append(ctx.t("import.unknown", names="、".join(preview.unknown_people)))
    lines.append(ctx.t("import.next", minutes=int(pending_imports.EXPIRES.total_seconds() // 60)))
    return [Text("\n".join(lines))]


def _read(data: bytes, today: date) -> Plan:
    """The workbook's plan (CPU work: run off the event loop); ValueError when it is no workbook,
    InvalidWorkbook with its problems."""
    return read_plan(read_workbook(data, max_rows=MAX_ROWS + 1), today=today)


async def _received(ctx: CommandContext) -> list[Reply]:
    """A file from a PM: fetched (bounded), read, and previewed; kept only when it can be applied."""
    project = ctx.require_project()
    file = ctx.message.file
    assert file is not None
    if not file.name.lower().endswith(".xlsx"):
        raise UserFacingError("import.not_xlsx", name=file.name)
    if ctx.downloader is None:
        raise UserFacingError("import.no_downloads")
    try:
        data = await ctx.downloader.download(ctx.message, max_bytes=pending_imports.MAX_FILE_BYTES)
    except DownloadError as error:
        if error.too_large:
            raise UserFacingError(
                "import.too_large", name=file.name, max=pending_imports.MAX_FILE_BYTES // (1024 * 1024)
            ) from error
        raise UserFacingError("import.download_failed", name=file.name) from error
    if not data.startswith(ZIP_MAGIC):
        raise UserFacingError("import.not_workbook", name=file.name)
    try:
        plan = await asyncio.to_thread(_read, data, ctx.today)
    except ValueError as error:
        raise UserFacingError("import.not_workbook", name=file.name) from error
    except InvalidWorkbook as invalid:
        return _problems(ctx, invalid.errors, file.name)
    preview = await plan_import.preview(ctx.session, project, plan, delete_missing=False)
    if preview.errors:
        return _problems(ctx, preview.errors, file.name)
    if preview.count == 0 and not preview.unknown_people:
        return [Text(ctx.t("import.nothing_to_change", name=file.name))]
    await pending_imports.keep(
        ctx.session,
        project=project,
        user=ctx.message.sender,
        file_name=file.name,
        data=data,
        plan=plan,
        preview=preview,
        now=ctx.now,
    )
    return _preview(ctx, preview, file.name, header_key="import.preview_header")


async def _pending(ctx: CommandContext) -> PendingImport:
    found = await pending_imports.current(ctx.session, ctx.require_project(), ctx.message.sender, ctx.now)
    if found is None:
        raise UserFacingError("import.nothing_pending")
    return found


async def _member_for(ctx: CommandContext, written: str) -> Member:
    """The member `written` means: an @mention, else a display name (exact, then ignoring case)."""
    members = await plan_service.project_members(ctx.session, ctx.require_project().id)
    mentioned = MENTION_TOKEN.fullmatch(written)
    if mentioned is not None:
        found = [m for m in members if m.platform_user_id == mentioned[1]]
    else:
        found = [m for m in members if m.display_name == written] or [
            m for m in members if m.display_name.casefold() == written.casefold()
        ]
    if not found:
        raise UserFacingError("import.map_no_member", name=written)
    if len(found) > 1:
        raise UserFacingError("import.map_ambiguous", name=written)
    return found[0]


async def _map(ctx: CommandContext, args: str) -> list[Reply]:
    pending = await _pending(ctx)
    pair = _PAIR.fullmatch(args)
    if pair is None:
        raise UsageError("import.map_usage")
    name, written = pair["name"].strip(), pair["member"].strip()
    if name not in pending_imports.owners(pending):
        raise UserFacingError("import.map_not_in_sheet", name=name)
    member = await _member_for(ctx, written)
    pending.mapping = {**pending.mapping, name: member.platform_user_id}
    preview = await plan_import.preview(
        ctx.session, ctx.require_project(), pending_imports.plan_of(pending), delete_missing=False
    )
    if preview.errors:
        return _problems(ctx, preview.errors, pending.file_name)
    pending.shown = pending_imports.digest(preview)
    mapped = ctx.t("import.mapped", name=name, member=f"<at:{member.platform_user_id}>")
    return [Text(mapped), *_preview(ctx, preview, pending.file_name, header_key="import.preview_header")]


async def _apply(ctx: CommandContext, *, unassigned: bool) -> list[Reply]:
    project = ctx.require_project()
    pending = await _pending(ctx)
    plan = pending_imports.plan_of(pending)
    preview = await plan_import.preview(ctx.session, project, plan, delete_missing=False)
    if preview.errors:
        return _problems(ctx, preview.errors, pending.file_name)
    shown = pending_imports.digest(preview)
    if shown != pending.shown:
        # The project moved on since the PM's preview: they confirm what would happen now.
        pending.shown = shown
        return _preview(ctx, preview, pending.file_name, header_key="import.changed_meanwhile")
    if preview.unknown_people and not unassigned:
        raise UserFacingError("import.unknown_refused", names="、".join(preview.unknown_people))
    done = await plan_import.apply(
        ctx.session, project, plan, actor=actor_of(ctx), now=ctx.now, allow_unassigned=unassigned
    )
    if done.errors:  # cannot be: checked above in this transaction
        raise UserFacingError("xlsx.changed_meanwhile")
    await pending_imports.drop(ctx.session, pending)
    lines = [ctx.t("import.applied", name=pending.file_name, count=done.count)]
    if done.unknown_people:
        lines.append(ctx.t("xlsx.unassigned", names="、".join(done.unknown_people)))
    return [Text("\n".join([*lines, *_capped(ctx, change_lines(done, _locale(ctx), chat=True))]))]


@router.command("import", "导入", usage="usage.import", summary="summary.import", who="who.pm")
async def import_command(ctx: CommandContext, args: str) -> list[Reply]:
    acting(ctx)
    if ctx.message.file is not None:
        return await _received(ctx)
    text = normalize(args)
    word, _, rest = text.partition(" ")
    if word.lower() in _MAP:
        return await _map(ctx, rest.strip())
    if rest:
        raise UsageError()
    if word.lower() in _CANCEL:
        pending = await _pending(ctx)
        await pending_imports.drop(ctx.session, pending)
        return [Text(ctx.t("import.cancelled", name=pending.file_name))]
    if word and word.lower() not in _UNASSIGNED:
        raise UsageError()
    return await _apply(ctx, unassigned=bool(word))


_UNSAFE_NAME = re.compile(r"[^\w\-]+")


@router.command("export", "导出", usage="usage.export", summary="summary.export", who="who.joined")
async def export(ctx: CommandContext, args: str) -> list[Reply]:
    """The workbook the API serves (`GET /api/projects/{id}/export.xlsx`), as a file in the chat."""
    from bot.api import export_workbook  # the API's own builder; bot.api is heavy to import at start

    if normalize(args):
        raise UsageError()
    project = ctx.require_project()
    data = await export_workbook(ctx.session, project)
    stem = _UNSAFE_NAME.sub("_", project.name).strip("_")[:60] or f"project-{project.id}"
    name = f"{stem}-{ctx.today.isoformat()}.xlsx"
    return [File(data, name, ctx.t("export.in_words", name=name, id=project.id))]
