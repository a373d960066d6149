"""Logging as `crosstrack serve` configures it: one structured line per inbound event and per job run
(JSON with CROSSTRACK_LOG_FORMAT=json), and no credential in any record even at DEBUG, across a
scenario that uses them all: signed DingTalk callbacks, API access tokens, session webhooks, and a
custom robot's webhook URL and secret set with /config webhook and used by the weekly report."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.logs import configure_logging
from bot.main import build_job_runner
from scheduler.jobs import JOBS_BY_NAME
from storage.models import ReportWebhook
from tests.samples import load
from tests.scenario import dingtalk
from tests.scenario.dingtalk import dingtalk_organisation

ROBOT_TOKEN = "a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90"
ROBOT_URL = f"{dingtalk.OAPI_DOMAIN}/robot/send?access_token={ROBOT_TOKEN}"
ROBOT_SECRET = "SEC0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcd"
SECRETS = (dingtalk.APP_SECRET, dingtalk.ACCESS_TOKEN, ROBOT_TOKEN, ROBOT_SECRET)


@pytest.fixture
def json_logging(caplog: pytest.LogCaptureFixture) -> Iterator[io.StringIO]:
    """The CLI's logging at DEBUG, JSON lines into a buffer; pytest's capture handler kept on the root,
    and the HTTP libraries' loggers at DEBUG too (the CLI quiets httpx: here its URLs must be redacted)."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    output = io.StringIO()
    configure_logging(logging.DEBUG, "json", output, force=True)
    root.addHandler(caplog.handler)
    for name in ("httpx", "httpcore", "websockets", "uvicorn"):
        caplog.set_level(logging.DEBUG, logger=name)
    yield output
    root.handlers[:] = handlers
    root.setLevel(level)


async def test_structured_lines_and_no_secret_in_any_record(
    engine: AsyncEngine,
    json_logging: io.StringIO,
    caplog: pytest.LogCaptureFixture,
) -> None:
    async with dingtalk_organisation(engine) as org:
        robot = org.api.router.post(url__startswith=f"{dingtalk.OAPI_DOMAIN}/robot/send?").respond(
            json=load("dingtalk", "custom_robot_send_success_response")
        )
        for sender, text, chat_type in (
            ("alice", "/项目 新建 新品发布", "group"),
            ("alice", f"/设置 群机器人 {ROBOT_URL} {ROBOT_SECRET}", "p2p"),
            ("mallory", "/项目 信息", "group"),
        ):
            response = await org.deliver(org.message(sender, text, chat_type=chat_type))
            assert response.status_code == 200
            await org.runtime.settle()
        forged = await org.client.post(
            "/webhooks/dingtalk",
            content=json.dumps(org.message("mallory", "/项目 信息")).encode(),
            headers=org.signed_headers(secret="not-the-secret"),
        )
        assert forged.status_code == 401
        async with org.runtime.factory() as session:
            assert await session.scalar(select(func.count()).select_from(ReportWebhook)) == 1

        now = org.runtime.clock()
        runner = build_job_runner(org.runtime.factory, lambda: now, org.runtime.outbox, org.runtime.senders)
        [outcome] = await runner.run_job(JOBS_BY_NAME["weekly-report"], at=now)
        assert outcome.status == "done"
        await org.runtime.settle()
        assert robot.called  # the robot's URL and secret were really used

    records = caplog.records
    events = [r for r in records if r.name == "bot.metrics" and getattr(r, "outcome", None) == "processed"]
    assert [(r.platform, r.command) for r in events] == [  # type: ignore[attr-defined]
        ("dingtalk", "project new"),
        ("dingtalk", "config"),
        ("dingtalk", "project info"),
    ]
    assert all(r.event_id and isinstance(r.duration_ms, float) for r in events)  # type: ignore[attr-defined]
    [job] = [r for r in records if getattr(r, "job", None) == "weekly-report"]
    assert job.outcome == "done" and job.project == 1  # type: ignore[attr-defined]

    # The JSON lines carry the same fields as keys.
    lines = [json.loads(line) for line in json_logging.getvalue().splitlines()]
    assert {"event_id", "platform", "project", "command", "outcome", "duration_ms"} <= {
        key for line in lines if line.get("name") == "bot.metrics" for key in line
    }

    assert any(r.name.startswith("httpx") for r in records)  # library loggers were captured too
    everything = "\n".join(
        [f"{r.getMessage()} {r.__dict__} {r.exc_text or ''}" for r in records]
        + [json.dumps(line, ensure_ascii=False) for line in lines]
    )
    for secret in SECRETS:
        at = everything.find(secret)
        assert at < 0, everything[max(0, at - 1500) : at + 100]
