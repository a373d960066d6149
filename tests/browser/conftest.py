"""Page tests in a real browser: the app runs under uvicorn on a free 127.0.0.1 port (in a thread of
the test process), and Playwright drives the machine's Chromium (Debian's `chromium` package; it
never downloads a browser of its own). One browser per test session (per xdist worker), one seeded
app per test module.

Every page is opened in a context that lets requests reach the app and nothing else: a request to
any other host is aborted and recorded, and a test that saw one fails, so a page that would load an
asset from the internet (or, on an intranet, silently not load it) cannot pass.

The tests are async on the session's event loop (the browser lives there): Playwright's sync API
would leave its loop marked as running in the worker's thread, which breaks every async test that
runs after it in the same worker."""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import pytest_asyncio
import uvicorn
from fastapi import FastAPI
from playwright.async_api import Browser, ConsoleMessage, Page, Request, Response, Route, async_playwright

CHROMIUM = Path("/usr/bin/chromium")
# Chromium's own connections (updates, sync, safe browsing ...) go nowhere on this machine; these
# keep it from trying. --no-sandbox: CI runs as root, where Chromium's sandbox will not start.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
REQUIRE_BROWSER = "CROSSTRACK_REQUIRE_BROWSER"
SERVER_START_SECONDS = 10.0
WAIT_MS = 10_000  # for any one page action: far more than a page here needs, on a busy machine


@pytest.fixture(scope="session")
def chromium() -> Path:
    """The machine's Chromium; the page tests skip without it, or fail if it is required."""
    if not CHROMIUM.exists():
        reason = f"page tests need Chromium at {CHROMIUM} (apt-get install chromium)"
        if os.environ.get(REQUIRE_BROWSER) == "1":
            pytest.fail(f"{reason}; {REQUIRE_BROWSER}=1 requires them to run")
        pytest.skip(reason)
    return CHROMIUM


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def browser(chromium: Path) -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=str(chromium), headless=True, args=CHROMIUM_ARGS
        )
        yield launched
        await launched.close()


def free_socket() -> socket.socket:
    """A listening-ready socket on a free 127.0.0.1 port, bound now so that the port is known (and
    can go into the app's settings) before the app exists."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


def base_url(sock: socket.socket) -> str:
    return f"http://127.0.0.1:{sock.getsockname()[1]}"


@contextmanager
def serving(app: FastAPI, sock: socket.socket) -> Iterator[str]:
    """`app` served by uvicorn on `sock` in a background thread (its own event loop, lifespan
    included) until the block ends; its base URL."""
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + SERVER_START_SECONDS
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the app did not start under uvicorn")
        time.sleep(0.02)
    try:
        yield base_url(sock)
    finally:
        server.should_exit = True
        thread.join(SERVER_START_SECONDS)
        sock.close()


class MovableClock:
    """The served app's clock: frozen, and moved by a test (from its own thread; a read is atomic)."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Watched:
    """What a page did: console errors, uncaught script errors, requests that failed or were
    answered with an error, and requests to any host but the app's (blocked)."""

    page: Page
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    blocked: list[str] = field(default_factory=list)

    def assert_clean(self) -> None:
        assert self.console_errors == [], self.console_errors
        assert self.page_errors == [], self.page_errors
        assert self.failed == [], self.failed
        assert self.blocked == [], self.blocked


@asynccontextmanager
async def watched_page(browser: Browser, app_url: str, **context_options: Any) -> AsyncIterator[Watched]:
    """A fresh browser context and page that may only reach `app_url`'s host and port; fails the
    test at the end if the page tried any other."""
    app = urlsplit(app_url)
    context = await browser.new_context(**context_options)
    context.set_default_timeout(WAIT_MS)
    page = await context.new_page()
    watched = Watched(page)

    async def only_the_app(route: Route) -> None:
        target = urlsplit(route.request.url)
        if (target.scheme, target.netloc) == (app.scheme, app.netloc):
            await route.continue_()
        else:
            watched.blocked.append(route.request.url)
            await route.abort("blockedbyclient")

    def console(message: ConsoleMessage) -> None:
        if message.type == "error":
            watched.console_errors.append(f"{message.text} ({message.location.get('url')})")

    def answered(response: Response) -> None:
        if response.status >= 400:
            watched.failed.append(f"{response.status} {response.url}")

    def failed(request: Request) -> None:
        if request.url not in watched.blocked:
            watched.failed.append(f"{request.failure} {request.url}")

    await context.route("**/*", only_the_app)
    page.on("console", console)
    page.on("pageerror", lambda error: watched.page_errors.append(str(error)))
    page.on("response", answered)
    page.on("requestfailed", failed)
    try:
        yield watched
    finally:
        await context.close()
        # Also when the test failed otherwise: a blocked asset is the likely reason.
        if watched.blocked:
            raise AssertionError(f"the page tried to reach other hosts: {watched.blocked}")
