"""The `crosstrack` command line, run in-process against a temporary SQLite database."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from bot.cli import app
from bot.settings import get_settings
from storage.models import Base


@pytest.fixture
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """CROSSTRACK_DATABASE_URL pointing at a fresh file, with the cached settings reset around the test."""
    path = tmp_path / "cli.db"
    monkeypatch.setenv("CROSSTRACK_DATABASE_URL", f"sqlite:///{path}")
    get_settings.cache_clear()
    yield path
    get_settings.cache_clear()


def run(*args: str, input: str | None = None) -> Result:
    result = CliRunner().invoke(app, list(args), input=input)
    assert result.exit_code == 0, (result.output, result.exception)
    return result


def test_help_lists_the_commands() -> None:
    output = run("--help").output
    for command in ("serve", "shell", "migrate"):
        assert command in output


def test_version() -> None:
    assert run("--version").output.startswith("crosstrack ")


def test_migrate_creates_the_schema(database: Path) -> None:
    assert "database is up to date" in run("migrate").output
    with sqlite3.connect(database) as connection:
        tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert set(Base.metadata.tables) | {"alembic_version"} <= tables
    # Running it again is a no-op.
    run("migrate")


def test_shell_talks_to_the_bot_and_switches_user_and_chat(database: Path) -> None:
    lines = [
        "/项目 新建 Demo",
        "",
        "/项目 信息",
        ":as bob",
        "/项目 负责人 @carol",
        ":as alice",
        "/项目 负责人 @carol",
        ":chat elsewhere",
        "/项目 信息",
        ":nonsense",
        ":quit",
        "/项目 信息",  # never read
    ]
    output = run("shell", input="\n".join(lines) + "\n").output
    assert "项目「Demo」已创建" in output
    assert "【📁 Demo（编号 1）】" in output and "项目经理：@alice" in output
    assert "只有项目经理" in output  # bob is refused
    assert "@carol" in output.split("只有项目经理", 1)[1]  # alice may appoint
    assert "这个群还没有关联项目" in output  # the other chat is not bound
    assert ":as NAME" in output  # an unknown shell command shows the shell's help
    assert output.count("【📁 Demo") == 1  # nothing after :quit
    assert "alice@team>" not in output  # no prompt when stdin is not a terminal


def test_shell_p2p_follows_the_user(database: Path) -> None:
    output = run(
        "shell", "--as", "bob", "--p2p", input="/项目 新建 Solo\n/项目 信息\n:as carol\n/项目 信息\n"
    ).output
    assert "项目「Solo」已创建" in output
    # carol has her own 1:1 chat with the bot and no project.
    assert output.rstrip().splitlines()[-1].startswith("你还不在任何项目里")


def test_shell_ends_at_end_of_input(database: Path) -> None:
    output = run("shell", "--as", "dora", "--chat", "ops", input="/project new Ops\n").output
    assert "Ops" in output
    with sqlite3.connect(database) as connection:
        assert connection.execute("SELECT chat_id FROM chat_bindings").fetchall() == [("ops",)]
        assert connection.execute("SELECT platform_user_id, role FROM members").fetchall() == [("dora", "pm")]
