"""The migrations match the models and run both ways: upgrade, check, downgrade, upgrade again.

Sync tests on purpose: storage.migrate runs Alembic, whose env.py calls asyncio.run itself.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import insert, inspect, text
from sqlalchemy.engine import make_url

from bot.settings import get_settings
from storage import migrate
from storage.db import create_engine
from storage.models import Base, InboundEventRecord, OutboxMessage
from storage.secretbox import SecretBox
from tests.conftest import POSTGRES_URL, SKIP_POSTGRES, WORKER
from tests.scenario import SECRET_KEY

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


# --- 0006: report webhook credentials encrypted at rest -------------------------------------------------

AT = datetime(2026, 11, 20, tzinfo=UTC)
URL = "https://oapi.dingtalk.com/robot/send?access_token=a1b2c3d4e5f60718293a4b5c6d7e8f90"
SECRET = "SEC0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcd"
_PLAIN_WEBHOOKS = sa.table(
    "report_webhooks",
    *(sa.column(name) for name in ("project_id", "platform", "url", "secret", "created_at", "updated_at")),
)

_CHARTER = ("background", "goal", "deliverables", "scope_in", "scope_out")
# The columns 0005 has (the model's has later ones, e.g. 0007's join_policy).
_PROJECTS_0005 = sa.table(
    "projects",
    *(
        sa.column(name)
        for name in ("id", "name", *_CHARTER, "timezone", "locale", "status", "created_at", "updated_at")
    ),
)


# A project row as 0005 stored it (its own columns, not today's model's).
_A_0005_PROJECT = insert(_PROJECTS_0005).values(
    **dict.fromkeys(_CHARTER, ""),
    name="p",
    timezone="Asia/Shanghai",
    locale="zh",
    status="active",
    created_at=AT,
    updated_at=AT,
)


async def _seed_plaintext(database_url: str) -> None:
    """What 0005 stored: a binding in plain text, a queued and a sent report carrying it, and the
    command that set it."""
    engine = create_engine(database_url)
    extra = {"to": "chat", "url": URL, "secret": SECRET}
    try:
        async with engine.begin() as connection:
            await connection.execute(_A_0005_PROJECT)
            await connection.execute(
                insert(_PLAIN_WEBHOOKS).values(
                    project_id=1,
                    platform="dingtalk-webhook",
                    url=URL,
                    secret=SECRET,
                    created_at=AT,
                    updated_at=AT,
                )
            )
            for key, status in (("queued", "pending"), ("sent", "sent")):
                await connection.execute(
                    insert(OutboxMessage.__table__).values(
                        idempotency_key=key,
                        platform="dingtalk-webhook",
                        chat_id="webhook:1",
                        status=status,
                        payload={"content": {}, "extra": extra},
                        attempts=0,
                        next_attempt_at=AT,
                        created_at=AT,
                    )
                )
            await connection.execute(
                insert(InboundEventRecord.__table__).values(
                    platform="shell",
                    event_id="e1",
                    message_id="m1",
                    status="done",
                    attempts=1,
                    received_at=AT,
                    payload={"kind": "message", "text": f"/设置 群机器人 {URL} {SECRET}"},
                )
            )
    finally:
        await engine.dispose()


async def _rows(database_url: str, table: str) -> list[dict[str, Any]]:
    engine = create_engine(database_url)
    try:
        async with engine.connect() as connection:
            # report_webhooks, projects and members by their columns in the database (the model's are the
            # head's); JSON decoded.
            query = (
                sa.text(f"SELECT * FROM {table}")
                if table in ("report_webhooks", "projects", "members")
                else sa.select(Base.metadata.tables[table])
            )
            result = await connection.execute(query)
            return [dict(row) for row in result.mappings()]
    finally:
        await engine.dispose()


def _dump(database_url: str) -> str:
    return json.dumps(
        {table: asyncio.run(_rows(database_url, table)) for table in Base.metadata.tables},
        default=str,
        ensure_ascii=False,
    )


@pytest.fixture
def secret_key(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[str | None], None]]:
    """Sets CROSSTRACK_SECRET_KEY (None: unsets it) for the migrations, which read the settings."""

    def set_key(key: str | None) -> None:
        if key is None:
            monkeypatch.delenv("CROSSTRACK_SECRET_KEY", raising=False)
        else:
            monkeypatch.setenv("CROSSTRACK_SECRET_KEY", key)
        get_settings.cache_clear()

    yield set_key
    get_settings.cache_clear()


def test_0006_encrypts_plaintext_webhooks_only_with_a_key_and_round_trips(
    scratch_url: str, secret_key: Callable[[str | None], None]
) -> None:
    migrate.upgrade(scratch_url, "0005")
    asyncio.run(_seed_plaintext(scratch_url))
    secret_key(None)
    with pytest.raises(RuntimeError, match="set CROSSTRACK_SECRET_KEY"):
        migrate.upgrade(scratch_url, "head")
    assert SECRET in _dump_0005(scratch_url)  # refused before changing anything

    secret_key(SECRET_KEY)
    migrate.upgrade(scratch_url, "head")
    migrate.check(scratch_url)
    dump = _dump(scratch_url)
    assert SECRET not in dump and "a1b2c3d4e5f60718293a4b5c6d7e8f90" not in dump
    box = SecretBox([SECRET_KEY])
    [webhook] = asyncio.run(_rows(scratch_url, "report_webhooks"))
    assert (box.open(webhook["url_sealed"]), box.open(webhook["secret_sealed"])) == (URL, SECRET)
    assert webhook["url_digest"] == box.digest(URL) and webhook["url_shown"].endswith(
        "access_token=a1b2…8f90"
    )
    queued, sent = sorted(asyncio.run(_rows(scratch_url, "outbox")), key=lambda row: row["idempotency_key"])
    assert box.open(queued["payload"]["extra"]["sealed_secret"]) == SECRET
    assert sent["payload"]["extra"] == {"to": "chat"}
    [event] = asyncio.run(_rows(scratch_url, "inbound_events"))
    assert (
        event["payload"]["text"]
        == "/设置 群机器人 oapi.dingtalk.com/robot/send?access_token=a1b2…8f90 [redacted]"
    )

    migrate.downgrade(scratch_url, "0005")
    [webhook] = asyncio.run(_rows(scratch_url, "report_webhooks"))
    assert (webhook["url"], webhook["secret"]) == (URL, SECRET)
    queued, _ = sorted(asyncio.run(_rows(scratch_url, "outbox")), key=lambda row: row["idempotency_key"])
    assert queued["payload"]["extra"] == {"to": "chat", "url": URL, "secret": SECRET}
    migrate.upgrade(scratch_url, "head")
    migrate.check(scratch_url)


def _dump_0005(database_url: str) -> str:
    return json.dumps(asyncio.run(_rows(database_url, "report_webhooks")), default=str)


# --- 0007: projects.join_policy -----------------------------------------------------------------------


async def _seed(database_url: str, *statements: sa.Executable) -> None:
    """Rows written as an older schema has them, in one transaction."""
    engine = create_engine(database_url)
    try:
        async with engine.begin() as connection:
            for statement in statements:
                await connection.execute(statement)
    finally:
        await engine.dispose()


def test_0007_existing_projects_join_automatically_and_round_trip(scratch_url: str) -> None:
    migrate.upgrade(scratch_url, "0006")
    asyncio.run(_seed(scratch_url, _A_0005_PROJECT))
    migrate.upgrade(scratch_url, "head")
    migrate.check(scratch_url)
    [project] = asyncio.run(_rows(scratch_url, "projects"))
    assert project["join_policy"] == "auto"  # what happened before the setting existed
    migrate.downgrade(scratch_url, "0006")
    [project] = asyncio.run(_rows(scratch_url, "projects"))
    assert "join_policy" not in project and project["name"] == "p"
    migrate.upgrade(scratch_url, "head")
    migrate.check(scratch_url)


# --- 0014: members.dashboard_generation ---------------------------------------------------------------

_MEMBERS_0013 = sa.table(
    "members",
    *(
        sa.column(name)
        for name in ("project_id", "platform", "platform_user_id", "display_name", "role", "created_at")
    ),
)


def test_0014_existing_members_start_at_generation_0_and_round_trip(scratch_url: str) -> None:
    wang = insert(_MEMBERS_0013).values(
        project_id=sa.select(_PROJECTS_0005.c.id).scalar_subquery(),
        platform="feishu",
        platform_user_id="ou_1",
        display_name="Wang",
        role="pm",
        created_at=AT,
    )
    migrate.upgrade(scratch_url, "0013")
    asyncio.run(_seed(scratch_url, _A_0005_PROJECT, wang))
    migrate.upgrade(scratch_url, "head")
    migrate.check(scratch_url)
    [member] = asyncio.run(_rows(scratch_url, "members"))
    assert member["dashboard_generation"] == 0  # links issued from now on open until revoked
    migrate.downgrade(scratch_url, "0013")
    [member] = asyncio.run(_rows(scratch_url, "members"))
    assert "dashboard_generation" not in member and member["display_name"] == "Wang"
    migrate.upgrade(scratch_url, "head")
    migrate.check(scratch_url)
