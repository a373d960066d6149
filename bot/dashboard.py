"""The web dashboard's routes: `GET /d/{token}` answers a personal link (see /dashboard) with the
project's read-only page, or a refusal that does not say why; `GET /d/assets/cjk.otf` the font.

Every answer carries strict headers: the token is in the URL, so no Referer may carry it away
and nothing may be cached; the page loads nothing but itself (its style and script run by nonce).
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Callable
from datetime import datetime

from fastapi import APIRouter
from fastapi.responses import FileResponse, HTMLResponse
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.render import dashboard as page
from bot.render.charts import FONT_FILE
from bot.services import dashboard
from bot.settings import Settings


def headers(nonce: str) -> dict[str, str]:
    return {
        "Content-Security-Policy": (
            f"default-src 'none'; style-src 'nonce-{nonce}'; script-src 'nonce-{nonce}'; font-src 'self'; "
            "form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
        ),
        "Referrer-Policy": "no-referrer",
        "Cache-Control": "no-store",
        "X-Frame-Options": "DENY",
        "X-Content-Type-Options": "nosniff",
    }


def build_router(
    settings: Settings, factory: async_sessionmaker[AsyncSession], clock: Callable[[], datetime]
) -> APIRouter:
    router = APIRouter(include_in_schema=False)
    links = dashboard.Links.from_settings(settings)

    @router.get("/d/assets/cjk.otf")
    async def font() -> FileResponse:
        """The bundled CJK font, the page's last fallback: a browser on a machine without Chinese
        fonts fetches it (once, then from its cache) instead of drawing boxes."""
        return FileResponse(
            FONT_FILE, media_type="font/otf", headers={"Cache-Control": "public, max-age=604800, immutable"}
        )

    @router.get("/d/{token}", response_class=HTMLResponse)
    async def board(token: str, dept: str | None = None, owner: str | None = None) -> HTMLResponse:
        nonce = secrets.token_urlsafe(16)
        if links is None:
            html = await asyncio.to_thread(page.refused, settings.locale, nonce=nonce)
            return HTMLResponse(html, status_code=404, headers=headers(nonce))
        now = clock()
        async with factory() as session:
            opened = await dashboard.open_link(session, links, token, now)
            if opened is None:
                html = await asyncio.to_thread(page.refused, settings.locale, nonce=nonce)
                return HTMLResponse(html, status_code=403, headers=headers(nonce))
            project, member = opened
            gathered = await dashboard.gather(session, project, member, now)
        filters = page.Filters.parse(dept, owner, gathered.snapshot)
        html = await asyncio.to_thread(page.page, gathered, filters, nonce=nonce)
        return HTMLResponse(html, headers=headers(nonce))

    return router
