"""Database fixtures: every DB-backed test runs on SQLite and, when CROSSTRACK_TEST_POSTGRES_URL is
set, on PostgreSQL too; both schemas come from the real Alembic migrations."""

from __future__ import annotations

import asyncio
import os
import shutil
import zlib
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


ALL_COMBINATIONS = os.environ.get("CROSSTRACK_TEST_ALL_COMBINATIONS") == "1"
_PAIRED_IDS = frozenset({"sqlite", "postgres", "feishu", "dingtalk"})


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """With PostgreSQL on, a test that takes a platform and a database does not run on all four
    pairs. A plain scenario runs twice: each platform on one database, the pairing alternating from
    test to test. A table test's row (its other parameters; the platform may be one of them, see
    tests.harness.alternating) runs once, the rows taking the pairs in turn. So every test and every
    table still covers both platforms and both databases. Neither platform code nor SQL depends on
    the other, and all four runs of everything kept the suite well over its 10-minute budget;
    CROSSTRACK_TEST_ALL_COMBINATIONS=1 runs them all."""
    if not POSTGRES_URL or ALL_COMBINATIONS:
        return
    kept: list[pytest.Item] = []
    dropped: list[pytest.Item] = []
    for item in items:
        params = getattr(getattr(item, "callspec", None), "params", {})
        platform = params.get("platform", params.get("on"))
        if platform not in ("feishu", "dingtalk") or "database_url" not in params:
            kept.append(item)
            continue
        # The row as pytest names it (ids are the same in every xdist worker; reprs may not be).
        row = [part for part in item.name.partition("[")[2][:-1].split("-") if part not in _PAIRED_IDS]
        turn = zlib.crc32(f"{item.path}::{item.originalname}{row}".encode())  # type: ignore[attr-defined]
        on_sqlite = params["database_url"] == "sqlite"
        if "platform" in params and not row:
            # A plain scenario: Feishu on one database, DingTalk on the other.
            keep = on_sqlite == ((platform == "feishu") != bool(turn % 2))
        else:
            # A table row: one platform (its own, or the one its turn gives) on one database.
            by_turn = ("feishu", "dingtalk")[turn // 2 % 2]
            keep = on_sqlite == bool(turn % 2) and ("platform" not in params or platform == by_turn)
        (kept if keep else dropped).append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept


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
