"""Which of several scheduler processes fires the jobs: the one holding a lock that dies with it.

PostgreSQL: a session advisory lock on a dedicated connection, released by the server the moment
that connection ends (the process died, or the network dropped it). SQLite: an exclusive flock on
`<db file>.scheduler.lock`, released by the OS when the process dies. Leadership only saves work:
job_runs claims keep a job from running twice even if two processes tick at once, e.g. while a
leader whose connection was cut has not noticed yet."""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import logging
import os
from pathlib import Path
from typing import IO, Protocol

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.pool import NullPool

from storage.db import create_engine, is_sqlite

log = logging.getLogger(__name__)

# Arbitrary, the same in every crosstrack process: b"crosstrk" as a 64-bit integer. Advisory locks
# are per database, so deployments sharing a server do not collide.
ADVISORY_LOCK_KEY = 0x63726F737374726B
# A lock check that takes longer than this counts as a dead connection.
CHECK_TIMEOUT_SECONDS = 5.0


class Leadership(Protocol):
    async def check(self) -> bool:
        """Keep the lock, or try to take it; True while this process holds it."""
        ...

    async def release(self) -> None: ...


class AdvisoryLock:
    """PostgreSQL: pg_try_advisory_lock on a connection of our own, outside the pool, kept open."""

    def __init__(self, url: str, *, key: int = ADVISORY_LOCK_KEY) -> None:
        # NullPool: closing the connection really ends the session, and so releases the lock; a
        # pooled connection would carry the lock back into the pool. Autocommit: never sit idle in
        # a transaction for hours.
        self._engine = create_engine(url, poolclass=NullPool, isolation_level="AUTOCOMMIT")
        self._key = key
        self._connection: AsyncConnection | None = None
        self._held = False

    async def check(self) -> bool:
        try:
            async with asyncio.timeout(CHECK_TIMEOUT_SECONDS):
                if self._connection is None:
                    self._connection = await self._engine.connect()
                if self._held:
                    # The lock lives exactly as long as this session: if the session answers, it is ours.
                    await self._connection.execute(text("SELECT 1"))
                else:
                    query = text("SELECT pg_try_advisory_lock(:key)")
                    self._held = bool(await self._connection.scalar(query, {"key": self._key}))
        except (OSError, TimeoutError, SQLAlchemyError) as error:
            if self._held:
                log.warning("scheduler lock connection lost: %r", error)
            await self._close()
            return False
        return self._held

    async def release(self) -> None:
        await self._close()
        await self._engine.dispose()

    async def _close(self) -> None:
        self._held = False
        connection, self._connection = self._connection, None
        if connection is not None:
            with contextlib.suppress(Exception):
                async with asyncio.timeout(CHECK_TIMEOUT_SECONDS):
                    await connection.close()


class FileLock:
    """SQLite: a non-blocking exclusive flock. flock (unlike fcntl's record locks) belongs to the
    open file, so two schedulers in one process exclude each other as two processes do."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._file: IO[str] | None = None

    async def check(self) -> bool:
        if self._file is None:
            self._file = self._try_lock()
        return self._file is not None

    def _try_lock(self) -> IO[str] | None:
        file = self._path.open("a+", encoding="utf-8")
        try:
            fcntl.flock(file.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:  # held by another scheduler
            file.close()
            return None
        file.truncate(0)
        file.write(f"{os.getpid()}\n")  # for an operator wondering which process leads
        file.flush()
        return file

    async def release(self) -> None:
        file, self._file = self._file, None
        if file is not None:
            fcntl.flock(file.fileno(), fcntl.LOCK_UN)
            file.close()


def leadership_for(database_url: str) -> Leadership:
    if is_sqlite(database_url):
        database = make_url(database_url).database
        if not database or database == ":memory:":
            raise ValueError("the scheduler needs a database file or PostgreSQL, not an in-memory SQLite")
        return FileLock(Path(f"{database}.scheduler.lock"))
    return AdvisoryLock(database_url)
