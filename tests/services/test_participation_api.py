"""GET /api/projects/{id}/participation over HTTP into the app, on the project seeded by
tests/services/test_participation.py (National Day 2026)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.main import create_app
from bot.settings import Settings
from tests.services.test_api import AUTH, TOKEN
from tests.services.test_participation import seed

NOW = datetime(2026, 10, 12, 4, 0, tzinfo=UTC)  # Monday 10-12, 12:00 in Shanghai: its standup is over


@asynccontextmanager
async def client_at(database_url: str, now: datetime = NOW) -> AsyncIterator[httpx.AsyncClient]:
    settings = Settings(database_url=database_url, api_token=TOKEN, _env_file=None)  # type: ignore[call-arg]
    app = create_app(settings, senders={}, clock=lambda: now)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client,
    ):
        yield client


async def test_participation_per_member_and_department(engine: AsyncEngine, database_url: str) -> None:
    pid = await seed(engine)
    async with client_at(database_url) as client:
        response = await client.get(
            f"/api/projects/{pid}/participation?since=2026-09-28&until=2026-10-11", headers=AUTH
        )
    assert response.status_code == 200
    body = response.json()
    assert (body["since"], body["until"], len(body["days"])) == ("2026-09-28", "2026-10-11", 14)
    members = {m["name"]: m for m in body["members"]}
    assert [m["name"] for m in body["members"]] == ["bob", "carol", "dan", "kim"]
    kim = members["kim"]["rates"]
    assert kim == {
        "asked": 6,
        "answered": 5,
        "response_rate": 5 / 6,
        "median_reply_minutes": 60,
        "due": 0,
        "on_time": 0,
        "on_time_rate": None,
        "late_days_avg": None,
        "streak": 5,
    }
    # carol: missed 09-29, then on leave until 10-09 (the holidays off), her task finished by 10-10
    assert members["carol"]["marks"] == ["answered", "missed"] + ["leave"] + ["off"] * 7 + ["leave"] * 2 + [
        "off",
        "off",
    ]
    assert members["bob"]["rates"]["late_days_avg"] == 1.0
    departments = {d["name"]: d["rates"] for d in body["departments"]}
    assert list(departments) == ["研发", "市场"]
    assert (
        departments["研发"]["asked"],
        departments["研发"]["answered"],
        departments["研发"]["on_time_rate"],
    ) == (
        8,
        7,
        0.5,
    )


async def test_the_default_window_is_four_weeks_to_today(engine: AsyncEngine, database_url: str) -> None:
    pid = await seed(engine)
    async with client_at(database_url) as client:
        body = (await client.get(f"/api/projects/{pid}/participation", headers=AUTH)).json()
        only_until = (
            await client.get(f"/api/projects/{pid}/participation?until=2026-10-11", headers=AUTH)
        ).json()
    assert (body["since"], body["until"], len(body["days"])) == ("2026-09-15", "2026-10-12", 28)
    assert (only_until["since"], only_until["until"]) == ("2026-09-14", "2026-10-11")
    bob = next(m for m in body["members"] if m["name"] == "bob")
    assert bob["marks"][-1] == "off"  # today: no prompt went out (none seeded)


async def test_bad_windows_are_refused(engine: AsyncEngine, database_url: str) -> None:
    pid = await seed(engine)
    base = f"/api/projects/{pid}/participation"
    async with client_at(database_url) as client:
        backwards = await client.get(f"{base}?since=2026-10-11&until=2026-09-28", headers=AUTH)
        too_long = await client.get(f"{base}?since=2025-10-01&until=2026-10-11", headers=AUTH)
        year = await client.get(f"{base}?since=2025-10-12&until=2026-10-11", headers=AUTH)
        not_a_date = await client.get(f"{base}?since=2026-13-01", headers=AUTH)
        far = await client.get(f"{base}?since=1990-01-01&until=1990-01-02", headers=AUTH)
        missing = await client.get("/api/projects/42/participation", headers=AUTH)
        no_token = await client.get(base)
    assert (backwards.status_code, backwards.json()) == (
        422,
        {"error": "since 2026-10-11 is after until 2026-09-28"},
    )
    assert (too_long.status_code, too_long.json()) == (422, {"error": "at most 366 days at a time"})
    assert year.status_code == 200 and len(year.json()["days"]) == 365
    assert not_a_date.status_code == 422
    assert (far.status_code, far.json()) == (422, {"error": "1990-01-01 is more than 10 years from today"})
    assert (missing.status_code, missing.json()) == (404, {"error": "project 42 not found"})
    assert no_token.status_code == 401
