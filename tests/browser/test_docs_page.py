"""/docs in Chromium: Swagger UI, served from the app itself, renders every operation of the API with
no console error, no failed request and no request to any other host."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.async_api import Browser

from bot.main import create_app
from bot.settings import Settings
from tests.browser.conftest import free_socket, serving, watched_page

pytestmark = [pytest.mark.browser, pytest.mark.asyncio(loop_scope="session")]

HTTP_METHODS = {"get", "put", "post", "delete", "patch", "head", "options", "trace"}


@dataclass(frozen=True)
class Served:
    url: str
    operations: set[tuple[str, str]]  # (method, path) of every operation in the API's document


@pytest.fixture(scope="module")
def served(sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    database = tmp_path_factory.mktemp("docs") / "app.db"
    shutil.copy(sqlite_template, database)
    settings = Settings(database_url=f"sqlite:///{database}", _env_file=None)  # type: ignore[call-arg]
    app = create_app(settings, senders={})
    operations = {
        (method.upper(), path)
        for path, item in app.openapi()["paths"].items()
        for method in item
        if method in HTTP_METHODS
    }
    assert ("GET", "/api/projects/{project_id}") in operations
    with serving(app, free_socket()) as url:
        yield Served(url, operations)


async def test_swagger_ui_shows_every_operation(browser: Browser, served: Served) -> None:
    async with watched_page(browser, served.url) as watched:
        page = watched.page
        await page.goto(f"{served.url}/docs")
        await page.wait_for_selector(".opblock")
        summaries = page.locator(".opblock-summary")
        shown = set()
        for index in range(await summaries.count()):
            summary = summaries.nth(index)
            method = await summary.locator(".opblock-summary-method").inner_text()
            path = await summary.locator(".opblock-summary-path").get_attribute("data-path")
            shown.add((method.strip().upper(), path))
        assert "crosstrack" in await page.locator(".info .title").inner_text()
        await page.wait_for_load_state("networkidle")
        watched.assert_clean()
    assert shown == served.operations
