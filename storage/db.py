"""Engine, URL handling and the one-transaction-per-unit-of-work session scope."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

_ASYNC_DRIVERS = {"sqlite": "sqlite+aiosqlite", "postgresql": "postgresql+asyncpg"}


def async_url(url: str) -> str:
    """Map the configured URL onto an async driver (`sqlite://` -> aiosqlite, `postgresql://` -> asyncpg)."""
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend not in _ASYNC_DRIVERS:
        raise ValueError(f"unsupported database {backend!r}: use sqlite or postgresql")
    if parsed.drivername in {"postgresql+asyncpg", "postgresql+psycopg", "sqlite+aiosqlite"}:
        return parsed.render_as_string(hide_password=False)
    return parsed.set(drivername=_ASYNC_DRIVERS[backend]).render_as_string(hide_password=False)


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


# How long a transaction waits for SQLite's write lock before "database is locked" (every
# transaction takes it first: BEGIN IMMEDIATE).
SQLITE_BUSY_TIMEOUT_MS = 5_000


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # Foreign keys are off by default in SQLite; WAL lets the API read while the worker writes.
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.close()
    dbapi_connection.isolation_level = None  # we issue BEGIN ourselves (see _begin_immediate)


# Execution option of a connection whose statements run outside any transaction (SQLite only).
_NO_TRANSACTION = "crosstrack_no_transaction"


def _begin_immediate(connection: Any) -> None:
    if connection.get_execution_options().get(_NO_TRANSACTION):
        return  # a read that must not wait for (or take) the write lock
    # Take SQLite's write lock when the transaction starts: a transaction that reads and then
    # writes would otherwise fail with "database is locked" (no waiting) when another one writes
    # first. pysqlite's own implicit BEGIN is switched off in _sqlite_pragmas for this.
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def create_engine(url: str, **kwargs: Any) -> AsyncEngine:
    # hide_parameters: statements in logs and errors never show values (user text, robot secrets).
    engine = create_async_engine(
        async_url(url), pool_pre_ping=not is_sqlite(url), hide_parameters=True, **kwargs
    )
    if is_sqlite(url):
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        event.listen(engine.sync_engine, "begin", _begin_immediate)
    return engine


async def database_answers(engine: AsyncEngine) -> bool:
    """`SELECT 1` outside any transaction: on SQLite it neither takes nor waits for the write lock
    that every transaction here takes (WAL readers never wait for the writer)."""
    async with engine.connect() as connection:
        connection = await connection.execution_options(**{_NO_TRANSACTION: True})
        return await connection.scalar(text("SELECT 1")) == 1


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


@asynccontextmanager
async def unit_of_work(factory: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    """One transaction: committed when the block ends normally, rolled back on any exception."""
    async with factory() as session, session.begin():
        yield session
