"""The web dashboard in Chromium, opened the way a member opens it: the plan of
tests/services/test_plan_commands.py is built by really signed Feishu webhooks, bob sends /看板 in the
group and the link is read from the private message the fake Feishu API received. The same database
is then served by the real app under uvicorn, and the page must load clean (no console error, no
failed request, nothing from another host), draw every task of the plan, show a task's details,
filter by department, fit a phone, and refuse expired, forged and revoked links without a word of
the project."""

from __future__ import annotations

import re
import shutil
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import pytest_asyncio
from playwright.async_api import Browser, Page
from sqlalchemy import select

from bot.domain import dashboard_link
from bot.main import create_app
from bot.render.i18n import t
from bot.settings import Settings
from storage.db import create_engine
from storage.models import Department, Member, Project, Task
from tests.browser.conftest import MovableClock, base_url, free_socket, serving, watched_page
from tests.harness import Chat, chat_runtime
from tests.services.test_plan_commands import build_plan

pytestmark = [pytest.mark.browser, pytest.mark.asyncio(loop_scope="session")]

NOW = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)
SECRET = "browser-tests-dashboard-secret-0123456789"
PROJECT = "新品发布"
# The plan's tasks of 研发: erin's and frank's (phases have no department).
RD_TASKS = {"1.2", "2.1", "2.1.1", "2.1.2"}
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}


@dataclass(frozen=True)
class TaskFacts:
    title: str
    owner: str  # the owner's name as the dashboard shows members
    start: str
    due: str


@dataclass(frozen=True)
class Board:
    link: str  # bob's link, as sent to him
    revoked: str  # erin's link, sent before she revoked her links
    tasks: dict[str, TaskFacts]  # every task of the plan by WBS code
    departments: dict[str, int]  # id by name
    project_id: int
    bob_id: int
    clock: MovableClock


async def private_link(chat: Chat, user: str, app_url: str) -> str:
    """`user` sends /看板 in the group; the link the bot sent them privately."""
    await chat.post(user, "/看板")
    await chat.runtime.settle()
    private = [sent.text for sent in chat.sent() if sent.kind == "user" and sent.target == user]
    assert len(private) == 1, private
    found = re.search(re.escape(app_url) + r"/d/[A-Za-z0-9_-]+", private[0])
    assert found is not None, private[0]
    return found[0]


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def board(
    chromium: Path, sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Board]:
    """The seeded app, served; `chromium` first, so that nothing is built when the tests skip."""
    sock = free_socket()  # the port is known now: links point at the app that will serve them
    app_url = base_url(sock)
    database = tmp_path_factory.mktemp("dashboard") / "app.db"
    shutil.copy(sqlite_template, database)
    database_url = f"sqlite:///{database}"
    engine = create_engine(database_url)
    try:
        with pytest.MonkeyPatch.context() as env:  # as an admin switches the dashboard on
            env.setenv("CROSSTRACK_PUBLIC_URL", app_url)
            env.setenv("CROSSTRACK_DASHBOARD_SECRET", SECRET)
            env.setenv("CROSSTRACK_COMMAND_RATE_LIMIT", "100000")  # the plan is typed in one minute
            async with chat_runtime(engine, platform="feishu", now=NOW) as chat:
                await build_plan(chat)
                link = await private_link(chat, "bob", app_url)
                revoked = await private_link(chat, "erin", app_url)
                assert "失效" in await chat.one("erin", "/看板 撤销")
        async with engine.connect() as connection:
            project_id = (await connection.execute(select(Project.id))).scalar_one()
            departments = {d.name: d.id for d in await connection.execute(select(Department))}
            members = list(await connection.execute(select(Member)))
            rows = list(await connection.execute(select(Task)))
        names = {m.id: m.display_name or m.platform_user_id for m in members}  # as the page names them
        bob_id = next(m.id for m in members if m.platform_user_id == "bob")
        tasks = {
            task.code: TaskFacts(
                task.title,
                names.get(task.owner_member_id, ""),
                task.start_date.isoformat() if task.start_date else "",
                task.due_date.isoformat() if task.due_date else "",
            )
            for task in rows
        }
        assert {task.code for task in rows if task.department_id == departments["研发"]} == RD_TASKS
    finally:
        await engine.dispose()

    clock = MovableClock(NOW)
    settings = Settings(  # type: ignore[call-arg]
        database_url=database_url, public_url=app_url, dashboard_secret=SECRET, _env_file=None
    )
    with serving(create_app(settings, senders={}, clock=clock), sock):
        yield Board(link, revoked, tasks, departments, project_id, bob_id, clock)


async def task_codes(page: Page) -> list[str]:
    codes = await page.locator("g.task").evaluate_all("gs => gs.map(g => g.dataset.code)")
    return [str(code) for code in codes]


async def test_the_gantt_shows_every_task_of_the_plan(browser: Browser, board: Board) -> None:
    async with watched_page(browser, board.link) as watched:
        page = watched.page
        response = await page.goto(board.link)
        assert response is not None and response.status == 200
        await page.wait_for_load_state("networkidle")
        codes = await task_codes(page)
        assert sorted(codes) == sorted(board.tasks), codes
        assert len(codes) == len(board.tasks) == 8
        for code, facts in board.tasks.items():
            label = (await page.locator(f'g.task[data-code="{code}"] text').text_content() or "").strip()
            assert label.startswith(f"{code} ") and facts.title[:4] in label, (code, label)
        assert PROJECT in await page.locator("body").inner_text()
        watched.assert_clean()


async def test_a_task_shows_its_owner_and_dates(browser: Browser, board: Board) -> None:
    async with watched_page(browser, board.link) as watched:
        page = watched.page
        await page.goto(board.link)
        task = page.locator('g.task[data-code="1.2"]')
        await task.hover()  # a desktop browser shows the row's <title> as its tooltip
        title = await task.locator("title").text_content()
        facts = board.tasks["1.2"]
        assert title is not None
        for shown in (facts.title, facts.owner, facts.start, facts.due):
            assert shown in title, (shown, title)
        # A phone has no hover: a tap shows the same text above the chart.
        await task.click()
        assert await page.locator("#tip").inner_text() == title
        watched.assert_clean()


async def test_choosing_a_department_narrows_the_gantt(browser: Browser, board: Board) -> None:
    async with watched_page(browser, board.link) as watched:
        page = watched.page
        await page.goto(board.link)
        await page.select_option("select[name=dept]", label="研发")
        async with page.expect_navigation():
            await page.locator("form.filters button[type=submit]").click()
        assert f"dept={board.departments['研发']}" in page.url
        codes = await task_codes(page)
        assert set(codes) == RD_TASKS and len(codes) == len(RD_TASKS), codes
        departments = await page.locator("g.task").evaluate_all("gs => gs.map(g => g.dataset.dept)")
        assert set(departments) == {str(board.departments["研发"])}
        # The form keeps the choice, and "all" brings every task back.
        assert await page.locator("select[name=dept] option:checked").inner_text() == "研发"
        await page.select_option("select[name=dept]", value="")
        async with page.expect_navigation():
            await page.locator("form.filters button[type=submit]").click()
        assert sorted(await task_codes(page)) == sorted(board.tasks)
        watched.assert_clean()


async def test_choosing_an_owner_narrows_the_gantt_to_their_tasks(browser: Browser, board: Board) -> None:
    frank = {code for code, facts in board.tasks.items() if facts.owner == "frank"}
    assert frank == {"2.1", "2.1.1"}  # the plan's
    async with watched_page(browser, board.link) as watched:
        page = watched.page
        await page.goto(board.link)
        await page.select_option("select[name=owner]", label="frank")
        async with page.expect_navigation():
            await page.locator("form.filters button[type=submit]").click()
        codes = await task_codes(page)
        assert set(codes) == frank and len(codes) == len(frank), codes
        watched.assert_clean()


def _forged_with_another_key(board: Board) -> str:
    link = dashboard_link.Link(board.project_id, board.bob_id, NOW + timedelta(days=7), 0)
    token = dashboard_link.sign(b"not-the-server-key-0123456789abcdef", link)
    return board.link.rsplit("/", 1)[0] + "/" + token


def _tampered(board: Board) -> str:
    """bob's link with one character of its signed part changed."""
    cut = len(board.link) - 30
    changed = "A" if board.link[cut] != "A" else "B"
    return board.link[:cut] + changed + board.link[cut + 1 :]


@pytest.mark.parametrize("case", ["expired", "tampered", "another key", "revoked"])
async def test_a_bad_link_gets_the_refusal_and_no_project_data(
    browser: Browser, board: Board, case: str
) -> None:
    url = {
        "expired": board.link,
        "tampered": _tampered(board),
        "another key": _forged_with_another_key(board),
        "revoked": board.revoked,
    }[case]
    if case == "expired":
        board.clock.now = NOW + timedelta(days=7, seconds=1)  # the link was good for 7 days
    try:
        async with watched_page(browser, board.link) as watched:
            page = watched.page
            response = await page.goto(url)
            assert response is not None and response.status == 403
            text = await page.locator("body").inner_text()
            assert t("zh", "dashboard.refused.title") in text
            assert PROJECT not in text and PROJECT not in await page.content()
            for facts in board.tasks.values():
                assert facts.title not in text
            assert await page.locator("svg, g.task, form").count() == 0
            assert watched.page_errors == []
    finally:
        board.clock.now = NOW
    if case == "expired":  # it was the time: back to today, the same link opens again
        async with watched_page(browser, board.link) as watched:
            response = await watched.page.goto(board.link)
            assert response is not None and response.status == 200


async def test_a_phone_scrolls_only_the_gantt_sideways(browser: Browser, board: Board) -> None:
    async with watched_page(browser, board.link, **PHONE) as watched:
        page = watched.page
        await page.goto(board.link)
        await page.wait_for_load_state("networkidle")
        widths = await page.evaluate(
            """() => {
                const root = document.documentElement;
                const box = document.querySelector(".gantt");
                // Elements sticking out of the screen, except inside a box that scrolls by itself.
                const outside = [...document.body.querySelectorAll("*")]
                    .filter(el => !el.closest(".scroll"))
                    .filter(el => el.getBoundingClientRect().right > root.clientWidth + 1)
                    .map(el => el.tagName + "." + el.className);
                return {page: root.scrollWidth, screen: root.clientWidth, box: box.scrollWidth,
                        boxView: box.clientWidth, overflow: getComputedStyle(box).overflowX, outside};
            }"""
        )
        assert widths["screen"] == 390, widths
        assert widths["page"] <= widths["screen"], widths
        assert widths["outside"] == [], widths
        # The chart is wider than the phone, and scrolls inside its own box.
        assert widths["box"] > widths["boxView"] and widths["overflow"] == "auto", widths
        watched.assert_clean()
