"""The migrations match the models and run both ways: upgrade, check, downgrade, upgrade again.

Sync tests on purpose: storage.migrate runs Alembic, whose env.py calls asyncio.run itself.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import inspect, text
from sqlalchemy.engine import make_url

from storage import migrate
from storage.db import create_engine
from storage.models import Base
from tests.conftest import POSTGRES_URL, SKIP_POSTGRES, WORKER

# One per xdist worker, so parallel workers never drop each other's.
SCRATCH_DATABASE = f"crosstrack_migrations_{WORKER or 'main'}"


async def _admin(database_url: str, *statements: str) -> None:
    # CREATE/DROP DATABASE cannot run inside a transaction.
    engine = create_engine(database_url, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as connection:
            for statement in statements:
                await connection.execute(text(statement))
    finally:
        await engine.dispose()


@pytest.fixture
def scratch_postgres() -> Iterator[str]:
    """A database of its own, so the shared test database's schema is never touched."""
    if not POSTGRES_URL:
        pytest.skip(SKIP_POSTGRES)
    admin_url = make_url(POSTGRES_URL).set(database="postgres").render_as_string(hide_password=False)
    drop = f"DROP DATABASE IF EXISTS {SCRATCH_DATABASE} WITH (FORCE)"
    asyncio.run(_admin(admin_url, drop, f"CREATE DATABASE {SCRATCH_DATABASE}"))
    yield make_url(POSTGRES_URL).set(database=SCRATCH_DATABASE).render_as_string(hide_password=False)
    asyncio.run(_admin(admin_url, drop))


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def scratch_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "postgres":
        return str(request.getfixturevalue("scratch_postgres"))
    return f"sqlite:///{tmp_path / 'migrations.db'}"


def tables(database_url: str) -> set[str]:
    async def read() -> set[str]:
        engine = create_engine(database_url)
        try:
            async with engine.connect() as connection:
                return set(await connection.run_sync(lambda sync: inspect(sync).get_table_names()))
        finally:
            await engine.dispose()

    return asyncio.run(read())


def test_upgrade_check_downgrade_upgrade(scratch_url: str) -> None:
    schema = set(Base.metadata.tables) | {"alembic_version"}

    migrate.upgrade(scratch_url, "head")
    assert tables(scratch_url) == schema
    migrate.check(scratch_url)  # raises if the models have changes no migration covers

    migrate.downgrade(scratch_url, "base")
    assert tables(scratch_url) <= {"alembic_version"}

    migrate.upgrade(scratch_url, "head")
    assert tables(scratch_url) == schema
    migrate.check(scratch_url)
