"""Database fixtures: every DB-backed test runs on SQLite and, when CROSSTRACK_TEST_POSTGRES_URL is
set, on PostgreSQL too; both schemas come from the real Alembic migrations."""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from sqlalchemy import make_url, text
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.db import create_engine
from storage.migrate import upgrade
from storage.models import Base

POSTGRES_URL = os.environ.get("CROSSTRACK_TEST_POSTGRES_URL")
# Under pytest-xdist each worker gets a database of its own (`<name>_gw0`, ...), made on first use.
WORKER = os.environ.get("PYTEST_XDIST_WORKER")
SKIP_POSTGRES = "PostgreSQL tests need CROSSTRACK_TEST_POSTGRES_URL (see README); .ci/run sets it"


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One migrated SQLite file, copied for each test (faster than migrating every time)."""
    path = tmp_path_factory.mktemp("db") / "template.db"
    upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def postgres_migrated() -> Iterator[str]:
    if not POSTGRES_URL:
        pytest.skip(SKIP_POSTGRES)

    url = make_url(POSTGRES_URL)
    if WORKER:
        url = url.set(database=f"{url.database}_{WORKER}")

    async def create_database() -> None:
        admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
        async with admin.connect() as connection:
            exists = await connection.scalar(
                text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": url.database}
            )
            if not exists:
                await connection.execute(text(f'CREATE DATABASE "{url.database}"'))
        await admin.dispose()

    async def reset() -> None:
        if WORKER:
            await create_database()
        engine = create_engine(url_text)
        async with engine.begin() as connection:
            await connection.execute(text("DROP SCHEMA public CASCADE"))
            await connection.execute(text("CREATE SCHEMA public"))
        await engine.dispose()

    url_text = url.render_as_string(hide_password=False)
    asyncio.run(reset())
    upgrade(url_text)
    yield url_text


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "postgres":
        return str(request.getfixturevalue("postgres_migrated"))
    copy = tmp_path / "test.db"
    shutil.copy(request.getfixturevalue("sqlite_template"), copy)
    return f"sqlite:///{copy}"


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(database_url)
    if engine.dialect.name == "postgresql":
        tables = ", ".join(table.name for table in Base.metadata.sorted_tables)
        async with engine.begin() as connection:
            await connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    yield engine
    await engine.dispose()


@pytest.fixture(params=["feishu", "dingtalk"])
def platform(request: pytest.FixtureRequest) -> str:
    """The chat platform a scenario runs on (tests/harness.py): each such test runs once per platform."""
    return str(request.param)


@pytest.fixture(autouse=True)
def generous_command_rate_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    """Scenarios send dozens of commands within one frozen minute; the per-user limit has its own
    tests (tests/services/test_input_bounds.py), which remove this."""
    monkeypatch.setenv("CROSSTRACK_COMMAND_RATE_LIMIT", "100000")
