"""The `crosstrack` command line (typer)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path
from typing import TYPE_CHECKING, Annotated
from zoneinfo import ZoneInfo

import typer

from bot.settings import Settings, get_settings

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

    from adapters.shell import ShellSender
    from bot.domain.plan_sheet import Locale, Plan
    from scheduler.jobs import Job
    from scheduler.runner import JobOutcome
    from storage.models import Project

# The help text is main()'s docstring.
app = typer.Typer(no_args_is_help=True)

RUN_USAGE = "usage: :run JOB [--at ISO-DATETIME]"
SHELL_HELP = """shell commands:
  :as NAME     speak as user NAME
  :chat NAME   go to group chat NAME
  :p2p         go to your 1:1 chat with the bot
  :run JOB [--at ISO-DATETIME]
               run a scheduled job now (or as if at that time) for every project (standup-prompt,
               standup-remind, standup-summary, risk-scan, weekly-report, calendar-check) and show
               what it sent
  :quit        leave (or Ctrl-D)
Anything else is sent to the bot; @NAME mentions a user."""


def _configure_logging(level: int = logging.INFO) -> None:
    from bot.logs import configure_logging

    configure_logging(level, get_settings().log_format)


def _show_version(value: bool) -> None:
    if value:
        typer.echo(f"crosstrack {version('crosstrack')}")
        raise typer.Exit()


@app.callback()
def main(
    _version: bool = typer.Option(
        False, "--version", callback=_show_version, is_eager=True, help="Show the version and exit."
    ),
) -> None:
    """crosstrack: cross-department project tracking in Feishu and DingTalk chats."""


def _upgrade(database_url: str) -> None:
    """Migrate the database, or say in one line which database cannot be opened and exit 2."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError, SQLAlchemyError

    from storage.migrate import upgrade

    try:
        shown = make_url(database_url).render_as_string(hide_password=True)
    except ArgumentError:
        typer.echo("CROSSTRACK_DATABASE_URL is not a database URL", err=True)
        raise typer.Exit(2) from None
    try:
        upgrade(database_url)
    except (SQLAlchemyError, OSError) as error:
        # The driver's own message, first line only (the URL we show has its password masked).
        cause = getattr(error, "orig", None) or error.__cause__ or error
        reason = str(cause).strip().splitlines()[0] if str(cause).strip() else type(cause).__name__
        typer.echo(f"cannot open the database {shown}: {reason}", err=True)
        raise typer.Exit(2) from None


@app.command()
def migrate() -> None:
    """Upgrade the database to the latest schema."""
    _configure_logging()
    _upgrade(get_settings().database_url)
    typer.echo("database is up to date")


LEADER_CHECK_HELP = "Seconds between leadership checks: how soon a standby scheduler takes over."
# Job names, for the help text (scheduler.jobs is imported only when a command needs it).
JOB_NAMES = "standup-prompt, standup-remind, standup-summary, risk-scan, weekly-report, calendar-check, prune"
# The jobs that do nothing on a day off (due only on workdays in scheduler/jobs.py).
WORKDAY_JOBS = frozenset({"standup-prompt", "standup-remind", "standup-summary", "risk-scan"})
# How long `run-job` keeps retrying delivery before leaving the rest to the running sender.
RUN_JOB_DELIVERY_SECONDS = 60.0


@app.command()
def serve(
    host: str | None = typer.Option(None, help="Bind address (default CROSSTRACK_HOST or 127.0.0.1)."),
    port: int | None = typer.Option(None, help="Port (default CROSSTRACK_PORT or 8000)."),
    scheduler: bool = typer.Option(
        True, "--scheduler/--no-scheduler", help="Also run the job scheduler (off for API-only replicas)."
    ),
    leader_check: float = typer.Option(5.0, "--leader-check", help=LEADER_CHECK_HELP),
) -> None:
    """Apply migrations, then serve the webhooks, the JSON API, the outbox sender and the scheduler."""
    import uvicorn

    from bot.http_limits import uvicorn_options
    from bot.main import create_app

    _configure_logging()
    settings = get_settings()
    _upgrade(settings.database_url)
    app = create_app(settings, scheduler=scheduler, leader_check_seconds=leader_check)
    uvicorn.run(
        app,
        host=host or settings.host,
        port=port or settings.port,
        log_config=None,
        **uvicorn_options(settings.max_concurrent_requests),
    )


@app.command("scheduler")
def scheduler_command(
    leader_check: float = typer.Option(5.0, "--leader-check", help=LEADER_CHECK_HELP),
) -> None:
    """Apply migrations, then run the job scheduler and the outbox sender, without HTTP."""
    import signal

    from bot.main import run_scheduler

    _configure_logging()
    settings = get_settings()
    _upgrade(settings.database_url)

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        await run_scheduler(settings, stop, leader_check_seconds=leader_check)

    asyncio.run(main())


@app.command("run-job")
def run_job(
    job: str = typer.Argument(..., help=f"One of: {JOB_NAMES}."),
    project: int | None = typer.Option(None, "--project", help="Only this project (default: all active)."),
    at: str | None = typer.Option(
        None,
        "--at",
        help="Run as if at this ISO date-time, e.g. 2026-11-25T09:30 (no offset: CROSSTRACK_TIMEZONE). "
        "Default: now.",
    ),
) -> None:
    """Run one job once, due or not, and deliver what it queued; what was already sent is not sent again."""
    from scheduler.jobs import INSTANCE_JOBS_BY_NAME, JOBS_BY_NAME

    chosen = JOBS_BY_NAME.get(job)
    names = [*JOBS_BY_NAME, *INSTANCE_JOBS_BY_NAME]
    if chosen is None and job not in INSTANCE_JOBS_BY_NAME:
        raise typer.BadParameter(f"unknown job {job!r}; one of: {', '.join(names)}", param_hint="JOB")
    _configure_logging(logging.WARNING)
    settings = get_settings()
    when = _parse_at(at, settings)
    _upgrade(settings.database_url)
    if chosen is None:  # an instance job (prune): not per project, sends nothing
        done = asyncio.run(_run_instance_job(settings, job, when))
        typer.echo(f"{job}: " + ("failed, see the log" if done is None else _counts(done)))
        if done is None:
            raise typer.Exit(1)
        return
    lines, ok = asyncio.run(_run_job(settings, chosen, when, project))
    for line in lines:
        typer.echo(line)
    if not ok:
        raise typer.Exit(1)


async def _run_instance_job(settings: Settings, name: str, at: datetime) -> dict[str, int] | None:
    from bot.jobs.prune import Housekeeping
    from bot.runtime import utcnow
    from scheduler.jobs import INSTANCE_JOBS_BY_NAME
    from scheduler.runner import JobRunner
    from storage.db import create_engine, session_factory

    engine = create_engine(settings.database_url)
    try:
        runner = JobRunner(session_factory(engine), utcnow, housekeeping=Housekeeping.from_settings(settings))
        return await runner.run_instance_job(INSTANCE_JOBS_BY_NAME[name], at=at)
    finally:
        await engine.dispose()


def _counts(done: dict[str, int]) -> str:
    return ", ".join(f"{count} {what}" for what, count in done.items())


def _parse_at(value: str | None, settings: Settings, *, now: datetime | None = None) -> datetime:
    if value is None:
        return now or datetime.now(UTC)
    try:
        when = datetime.fromisoformat(value)
    except ValueError as exc:
        raise typer.BadParameter(f"{value!r} is not an ISO date-time", param_hint="--at") from exc
    if when.tzinfo is None:
        when = when.replace(tzinfo=settings.tz)
    return when.astimezone(UTC)


async def _run_job(
    settings: Settings, job: Job, at: datetime, project_id: int | None
) -> tuple[list[str], bool]:
    """Run the job, then deliver what it queued; one line per project, and whether all went well."""
    from sqlalchemy import func, select

    from adapters.shell import PLATFORM, ShellSender
    from bot.main import build_job_runner, build_senders
    from bot.runtime import utcnow
    from scheduler.outbox import OutboxWorker
    from storage.db import create_engine, session_factory
    from storage.models import OutboxMessage

    engine = create_engine(settings.database_url)
    factory = session_factory(engine)
    # Projects made in `crosstrack shell` have shell chats: their messages are printed, not failed.
    shell = ShellSender()
    senders = {**build_senders(settings), PLATFORM: shell}
    outbox = OutboxWorker(factory, senders, utcnow)
    try:
        async with factory() as session:
            before = await session.scalar(select(func.max(OutboxMessage.id))) or 0
        try:
            runner = build_job_runner(factory, utcnow, outbox, senders)
            outcomes = await runner.run_job(job, at=at, project_id=project_id)
        except LookupError as exc:
            return [str(exc)], False
        queued: dict[int, list[int]] = {}
        async with factory() as session:
            for outcome in outcomes:
                # JobContext.send keys every message "<job>:<project id>:...".
                prefix = f"{job.name}:{outcome.project_id}:"
                mine = OutboxMessage.idempotency_key.startswith(prefix, autoescape=True)
                query = select(OutboxMessage.id).where(OutboxMessage.id > before, mine)
                queued[outcome.project_id] = list(await session.scalars(query))
        every_id = [row_id for ids in queued.values() for row_id in ids]
        statuses = await outbox.deliver(every_id, wait_seconds=RUN_JOB_DELIVERY_SECONDS) if every_id else {}
        lines = []
        for outcome in outcomes:
            counts = Counter(statuses[row_id] for row_id in queued[outcome.project_id])
            lines.append(_outcome_line(outcome, counts, await _is_workday(factory, outcome)))
        lines += _shown(shell)
        ok = all(outcome.status == "done" for outcome in outcomes) and "failed" not in statuses.values()
        return lines or ["no active project"], ok
    finally:
        for sender in senders.values():
            close = getattr(sender, "aclose", None)
            if close is not None:
                await close()
        await engine.dispose()


async def _is_workday(factory: async_sessionmaker[AsyncSession], outcome: JobOutcome) -> bool:
    """False when the job only works on workdays (scheduler/jobs.py) and its day is a day off."""
    from bot.services import calendar as calendar_service

    if outcome.job not in WORKDAY_JOBS:
        return True
    async with factory() as session:
        calendar = await calendar_service.for_project(session, outcome.project_id)
    return calendar.is_workday(outcome.business_date)


def _shown(sender: ShellSender) -> list[str]:
    """What the shell sender "sent", as the shell's `:run` shows it: recipient, then the message."""
    from adapters.shell import render

    lines = []
    for sent in sender.sent:
        to = f"@{sent.chat_id} (private)" if sent.extra.get("to") == "user" else sent.chat_id
        lines.append(f"→ {to}\n{render(sent.content)}")
    sender.sent.clear()
    return lines


def _status(outcome: JobOutcome, workday: bool) -> str:
    if outcome.status == "done" and not workday:
        # The daily jobs skip days off: "done" would read as if the job had done its work.
        return f"{outcome.business_date} is not a workday, nothing is due"
    return outcome.status


def _outcome_line(outcome: JobOutcome, statuses: Counter[str], workday: bool = True) -> str:
    status = _status(outcome, workday)
    line = f"{outcome.job} project {outcome.project_id} ({outcome.business_date}): {status}"
    if outcome.status == "failed":
        return f"{line}, see the log"
    if status != outcome.status:  # a day off: nothing was due
        return line
    if not statuses:
        return f"{line}, nothing new to send"
    counts = [f"{statuses['sent']} sent"]
    if statuses["pending"]:
        counts.append(f"{statuses['pending']} still queued (the running sender retries them)")
    if statuses["failed"]:
        counts.append(f"{statuses['failed']} failed, see the log")
    return f"{line}; messages: {', '.join(counts)}"


@dataclass
class _Where:
    """Who is typing, and in which chat."""

    user: str
    chat: str
    p2p: bool

    @property
    def chat_id(self) -> str:
        # Each user has their own 1:1 chat with the bot.
        return f"p2p-{self.user}" if self.p2p else self.chat

    @property
    def prompt(self) -> str:
        return f"{self.user}@{self.chat_id}> "


def _read_line(prompt: str) -> str | None:
    try:
        return input(prompt)
    except EOFError:
        return None


def _shell_command(line: str, where: _Where) -> bool:
    """Apply a `:command` line to `where`; False when it asks to leave."""
    command, _, arg = line[1:].partition(" ")
    arg = arg.strip()
    if command == "quit":
        return False
    if command == "as" and arg:
        where.user = arg.lstrip("@")
    elif command == "chat" and arg:
        where.chat, where.p2p = arg, False
    elif command == "p2p":
        where.p2p = True
    else:
        typer.echo(SHELL_HELP)
    return True


def _run_shell(settings: Settings, where: _Where, *, interactive: bool) -> None:
    from adapters.shell import PLATFORM, ShellSender, message
    from bot.commands.all import build_registry
    from bot.runtime import Runtime
    from storage.db import create_engine

    engine = create_engine(settings.database_url)
    sender = ShellSender()
    runtime = Runtime(settings, engine, build_registry(), {PLATFORM: sender})

    async def say(line: str) -> None:
        chat_type = "p2p" if where.p2p else "group"
        inbound = message(line, user=where.user, chat=where.chat_id, now=runtime.clock(), chat_type=chat_type)
        await runtime.accept([inbound])
        # No outbox loop: the line is processed and its replies "sent" before the next prompt.
        await runtime.settle()

    async def run_job(args: str) -> None:
        """`:run JOB [--at ISO-DATETIME]`: the job as the scheduler would run it then (default now),
        its messages shown with their recipient."""
        from scheduler.jobs import JOBS_BY_NAME
        from scheduler.runner import JobRunner

        name, _, at = args.partition(" ")
        at = at.strip()
        job = JOBS_BY_NAME.get(name)
        if job is None:
            typer.echo(
                f"no job {name!r}; jobs: {', '.join(JOBS_BY_NAME)}; usage: :run JOB [--at ISO-DATETIME]"
            )
            return
        if at and not at.startswith("--at"):
            typer.echo("usage: :run JOB [--at ISO-DATETIME]")
            return
        try:
            when = _parse_at(at.removeprefix("--at").strip(" =") or None, settings, now=runtime.clock())
        except typer.BadParameter as error:
            typer.echo(error.message)
            return
        for outcome in await JobRunner(runtime.factory, runtime.clock).run_job(job, at=when):
            status = _status(outcome, await _is_workday(runtime.factory, outcome))
            typer.echo(f"[{job.name} project {outcome.project_id}: {status}]")
        await runtime.settle()
        for line in _shown(sender):
            typer.echo(line)

    async def close() -> None:
        await runtime.stop()
        await engine.dispose()

    # One loop for the whole session, but stdin is read between runs, outside it: a read blocked in a
    # thread would keep Ctrl-C from ending the program until another line arrived.
    with asyncio.Runner() as runner:
        runner.run(runtime.start(run_outbox=False))
        try:
            while (line := _read_line(where.prompt if interactive else "")) is not None:
                line = line.strip()
                if line.startswith(":run"):
                    runner.run(run_job(line[len(":run") :].strip()))
                elif line.startswith(":"):
                    if not _shell_command(line, where):
                        return
                elif line:
                    runner.run(say(line))
                    for reply in sender.take():
                        typer.echo(reply)
            if interactive:
                typer.echo()  # EOF: leave the terminal's next prompt on a line of its own
        finally:
            runner.run(close())


@app.command()
def shell(
    user: str = typer.Option("alice", "--as", help="The user you type as (switch with `:as NAME`)."),
    chat: str = typer.Option("team", "--chat", help="The group chat you type in (switch with `:chat NAME`)."),
    p2p: bool = typer.Option(False, "--p2p", help="Start in your 1:1 chat with the bot instead."),
) -> None:
    """Try the bot in this terminal: typed lines go through the real dispatcher as chat messages."""
    from sqlalchemy.engine import make_url

    # Only warnings: INFO lines would drown the conversation.
    _configure_logging(logging.WARNING)
    settings = get_settings()
    _upgrade(settings.database_url)
    interactive = sys.stdin.isatty()
    if interactive:
        with contextlib.suppress(ImportError):
            import readline  # noqa: F401 - line editing and history for input()
        database = make_url(settings.database_url).render_as_string(hide_password=True)
        typer.echo(f"crosstrack shell on {database}; :help lists the shell commands")
    _run_shell(settings, _Where(user, chat, p2p), interactive=interactive)


# --- Excel: template, export, import -------------------------------------------------------------

PROJECT_HELP = "The project's id (see `/项目 信息`, `/project info`)."


def _locale(value: str) -> Locale:
    if value not in ("zh", "en"):
        raise typer.BadParameter("zh or en", param_hint="--locale")
    return "zh" if value == "zh" else "en"


def _project_locale(project: Project) -> Locale:
    return "en" if project.locale == "en" else "zh"


def _session(settings: Settings) -> tuple[AsyncEngine, async_sessionmaker[AsyncSession]]:
    from storage.db import create_engine, session_factory

    engine = create_engine(settings.database_url)
    return engine, session_factory(engine)


async def _load_project(session: AsyncSession, project_id: int) -> Project:
    from bot.errors import UserFacingError
    from storage.models import Project

    project = await session.get(Project, project_id)
    if project is None:
        raise UserFacingError("xlsx.no_project", project=project_id)
    return project


def _fail(locale: Locale, key: str, **params: object) -> typer.Exit:
    from bot.render.i18n import t

    typer.echo(t(locale, key, **params), err=True)
    return typer.Exit(1)


@app.command()
def template(
    path: Annotated[Path, typer.Argument(help="Where to write the .xlsx file.", dir_okay=False)],
    locale: str | None = typer.Option(None, "--locale", help="zh or en (default: the project's, else zh)."),
    project: int | None = typer.Option(
        None, "--project", help="Offer this project's departments. " + PROJECT_HELP
    ),
) -> None:
    """Write the blank plan template: charter, RACI, plan, risk register and weekly progress sheets."""
    from bot.errors import UserFacingError
    from bot.render.i18n import t
    from bot.render.xlsx import write_template
    from bot.services import plan as plan_service

    chosen = _locale(locale or "zh")
    departments: list[str] = []
    if project is not None:
        settings = get_settings()
        _upgrade(settings.database_url)

        async def read() -> tuple[Locale, list[str]]:
            engine, factory = _session(settings)
            try:
                async with factory() as session:
                    found = await _load_project(session, project)
                    names = [d.name for d in await plan_service.departments(session, found.id)]
                    return (chosen if locale else _project_locale(found)), names
            finally:
                await engine.dispose()

        try:
            chosen, departments = asyncio.run(read())
        except UserFacingError as error:
            raise _fail(chosen, error.key, **error.params) from None
    path.write_bytes(write_template(chosen, departments))
    typer.echo(t(chosen, "xlsx.template_written", path=str(path)))


@app.command()
def export(
    path: Annotated[Path, typer.Argument(help="Where to write the .xlsx file.", dir_okay=False)],
    project: int = typer.Option(..., "--project", help=PROJECT_HELP),
) -> None:
    """Export a project as a workbook: charter, RACI, plan, risks, action items, weekly history."""
    from bot.api import export_workbook
    from bot.errors import UserFacingError
    from bot.render.i18n import t

    settings = get_settings()
    _upgrade(settings.database_url)

    async def build() -> tuple[Locale, bytes]:
        engine, factory = _session(settings)
        try:
            async with factory() as session:
                found = await _load_project(session, project)
                return _project_locale(found), await export_workbook(session, found)
        finally:
            await engine.dispose()

    try:
        locale, data = asyncio.run(build())
    except UserFacingError as error:
        raise _fail("zh", error.key, **error.params) from None
    path.write_bytes(data)
    typer.echo(t(locale, "xlsx.export_written", project=project, path=str(path)))


@app.command("import")
def import_command(
    path: Annotated[Path, typer.Argument(help="The filled-in .xlsx file.", exists=True, dir_okay=False)],
    project: int = typer.Option(..., "--project", help=PROJECT_HELP),
    yes: bool = typer.Option(False, "--yes", help="Apply without asking."),
    user: str | None = typer.Option(None, "--as", help="The PM's user id (needed when there are several)."),
    delete_missing: bool = typer.Option(
        False,
        "--delete-missing",
        help="Delete the project's tasks that the sheet leaves out (default: keep).",
    ),
    allow_unassigned: bool = typer.Option(
        False, "--allow-unassigned", help="Import although some owners are not members: their tasks get none."
    ),
) -> None:
    """Import the plan sheet: checked whole first (errors per sheet and row, nothing half-imported),
    matched by WBS code, the changes shown and applied on confirmation as the PM."""
    from bot.domain.plan_sheet import MAX_ROWS, InvalidWorkbook, read_plan
    from bot.errors import UserFacingError
    from bot.render.i18n import t
    from bot.render.xlsx import read_workbook

    settings = get_settings()
    try:
        sheets = read_workbook(path.read_bytes(), max_rows=MAX_ROWS + 1)
    except ValueError:
        raise _fail("zh", "xlsx.not_workbook", path=str(path)) from None
    _upgrade(settings.database_url)

    async def check() -> tuple[Locale, Plan, list[str], int]:
        """The sheet's plan, the change lines (kept tasks too) and the number of changes, or
        typer.Exit with the reasons."""
        from bot.render.xlsx import change_lines, error_lines
        from bot.services import plan_import

        engine, factory = _session(settings)
        try:
            async with factory() as session:
                found = await _load_project(session, project)
                locale = _project_locale(found)
                today = datetime.now(UTC).astimezone(ZoneInfo(found.timezone)).date()
                try:
                    plan = read_plan(sheets, today=today)
                except InvalidWorkbook as error:
                    _echo_errors(locale, error_lines(error.errors, locale))
                    raise typer.Exit(1) from None
                await plan_import.acting_pm(session, found, user)
                preview = await plan_import.preview(session, found, plan, delete_missing=delete_missing)
                if preview.errors:
                    _echo_errors(locale, error_lines(preview.errors, locale))
                    raise typer.Exit(1)
                if preview.unknown_people:
                    names = "、".join(preview.unknown_people)
                    if not allow_unassigned:
                        raise _fail(locale, "xlsx.unknown_people", names=names)
                    typer.echo(t(locale, "xlsx.unassigned", names=names))
                return locale, plan, change_lines(preview, locale), preview.count
        finally:
            await engine.dispose()

    async def apply(plan: Plan) -> int:
        from bot.services import plan_import
        from bot.services.audit import Actor

        engine, factory = _session(settings)
        try:
            async with factory() as session:
                found = await _load_project(session, project)
                pm = await plan_import.acting_pm(session, found, user)
                actor = Actor(pm.platform, pm.platform_user_id, pm.display_name)
                done = await plan_import.apply(
                    session,
                    found,
                    plan,
                    actor=actor,
                    now=datetime.now(UTC),
                    delete_missing=delete_missing,
                    allow_unassigned=allow_unassigned,
                )
                if done.errors or (done.unknown_people and not allow_unassigned):
                    await session.rollback()
                    return -1  # the project changed since the check: run the import again
                await session.commit()
                return done.count
        finally:
            await engine.dispose()

    locale: Locale = "zh"
    try:
        locale, plan, lines, changes = asyncio.run(check())
        if changes:
            typer.echo(t(locale, "xlsx.changes_header", count=changes))
        for line in lines:  # kept tasks are listed even when nothing changes
            typer.echo(line)
        if not changes:
            typer.echo(t(locale, "xlsx.no_changes"))
            return
        if not yes and not typer.confirm(t(locale, "xlsx.confirm"), default=False):
            typer.echo(t(locale, "xlsx.cancelled"))
            return
        count = asyncio.run(apply(plan))
    except UserFacingError as error:
        raise _fail(locale, "xlsx.refused", text=t(locale, error.key, **error.params)) from None
    if count < 0:
        raise _fail(locale, "xlsx.changed_meanwhile")
    typer.echo(t(locale, "xlsx.applied", project=project, count=count))


def _echo_errors(locale: Locale, lines: list[str]) -> None:
    from bot.render.i18n import t

    typer.echo(t(locale, "xlsx.errors_header", count=len(lines)), err=True)
    for line in lines:
        typer.echo(line, err=True)


if __name__ == "__main__":
    app()
