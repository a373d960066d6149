"""The `crosstrack` command line (typer)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
from dataclasses import dataclass
from importlib.metadata import version

import typer

from bot.settings import Settings, get_settings

# The help text is main()'s docstring.
app = typer.Typer(no_args_is_help=True)

SHELL_HELP = """shell commands:
  :as NAME     speak as user NAME
  :chat NAME   go to group chat NAME
  :p2p         go to your 1:1 chat with the bot
  :quit        leave (or Ctrl-D)
Anything else is sent to the bot; @NAME mentions a user."""


def _configure_logging(level: int = logging.INFO) -> None:
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")


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


@app.command()
def migrate() -> None:
    """Upgrade the database to the latest schema."""
    from storage.migrate import upgrade

    _configure_logging()
    upgrade(get_settings().database_url)
    typer.echo("database is up to date")


@app.command()
def serve(
    host: str | None = typer.Option(None, help="Bind address (default CROSSTRACK_HOST or 127.0.0.1)."),
    port: int | None = typer.Option(None, help="Port (default CROSSTRACK_PORT or 8000)."),
) -> None:
    """Apply migrations, then serve the webhooks and the JSON API."""
    import uvicorn

    from bot.main import create_app
    from storage.migrate import upgrade

    _configure_logging()
    settings = get_settings()
    upgrade(settings.database_url)
    uvicorn.run(create_app(settings), host=host or settings.host, port=port or settings.port, log_config=None)


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
                if line.startswith(":"):
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

    from storage.migrate import upgrade

    # Only warnings: INFO lines would drown the conversation.
    _configure_logging(logging.WARNING)
    settings = get_settings()
    upgrade(settings.database_url)
    interactive = sys.stdin.isatty()
    if interactive:
        with contextlib.suppress(ImportError):
            import readline  # noqa: F401 - line editing and history for input()
        database = make_url(settings.database_url).render_as_string(hide_password=True)
        typer.echo(f"crosstrack shell on {database}; :help lists the shell commands")
    _run_shell(settings, _Where(user, chat, p2p), interactive=interactive)


if __name__ == "__main__":
    app()
